"""Text encodings of landed files: what can be read unambiguously is converted to UTF-8 first.

The parsers read UTF-8 (X12 also reads Latin-1). A file that is not UTF-8 is converted, in
chunks (bounded memory whatever its size), to a UTF-8 copy in a temporary folder, under the same
name, and parsed from there; the manifest keeps the original file (its path and sha256). Each
conversion is a finding:

* a UTF-16 or UTF-32 file (byte-order mark, or UTF-16 without one: every other byte NUL in its
  first kilobytes): ``encoding_converted``;
* a CSV that is not valid UTF-8: read as Windows-1252 when it holds bytes 0x80-0x9F (which are
  control characters in Latin-1 and letters and signs in Windows-1252), else as Latin-1:
  ``encoding_converted``;
* NUL bytes, which no text column should hold: removed, ``nul_bytes_removed`` (a warning with
  their count and first offset).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from transforms.errors import InputFileError
from transforms.ingest.records import Finding

CHUNK = 1 << 20
_C1 = re.compile(rb"[\x80-\x9f]")


def _bom(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _binary(head: bytes) -> bool:
    """More than a tenth of the first bytes are control characters other than tab and line ends
    (NUL included): a binary file, not text in some encoding."""
    if not head:
        return False
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    return controls > 0.1 * len(head)


def _scan(path: Path) -> tuple[bool, int, int, bool]:
    """(valid UTF-8, NUL count, first NUL offset, bytes 0x80-0x9F present) in one chunked pass."""
    dec = codecs.getincrementaldecoder("utf-8")()
    valid, nuls, first, c1 = True, 0, -1, False
    offset = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            n = chunk.count(0)
            if n and first < 0:
                first = offset + chunk.index(0)
            nuls += n
            if valid:
                try:
                    dec.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
            if not valid and not c1 and _C1.search(chunk):  # only asked of a file that is not UTF-8
                c1 = True
            offset += len(chunk)
    if valid:
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return valid, nuls, first, c1


def _transcode(src: Path, dst: Path, encoding: str) -> int:
    """Write ``src`` decoded from ``encoding`` as UTF-8 to ``dst``, without NUL characters; returns
    how many NULs were dropped."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    dropped = 0
    with open(src, "rb") as f, open(dst, "w", encoding="utf-8", newline="") as out:
        try:
            while chunk := f.read(CHUNK):
                text = dec.decode(chunk)
                dropped += text.count("\0")
                out.write(text.replace("\0", ""))
            text = dec.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise InputFileError(src.name, f"byte {f.tell() - len(chunk) + e.start}",
                                 f"text in one encoding (read as {encoding}: an invalid sequence)", "bad_encoding") from None
        dropped += text.count("\0")
        out.write(text.replace("\0", ""))
    return dropped


def to_utf8(path: Path, workdir: Path, is_x12) -> tuple[Path, list[Finding]]:
    """The path to parse (``path`` itself when it is UTF-8 text without NUL bytes, else a UTF-8
    copy in ``workdir``) and the findings saying what was converted. ``is_x12(head)`` tells X12
    content (read as bytes by its parser: Latin-1 needs no conversion) from CSV."""
    with open(path, "rb") as f:
        head = f.read(4096)
    encoding = _bom(head) or _utf16_without_bom(head)
    if encoding is None and _binary(head):
        return path, []  # not text: the sniffer says what it is not
    findings: list[Finding] = []
    if encoding is None:
        valid, nuls, first, c1 = _scan(path)
        if not nuls and (valid or is_x12(head)):
            return path, []  # UTF-8, or X12 (its parser reads Latin-1 bytes as they are)
        if not valid and not is_x12(head):
            encoding = "cp1252" if c1 else "latin-1"
        if nuls:
            findings.append(Finding("warning", "nul_bytes_removed", f"byte {first}",
                                    f"{nuls} NUL byte(s) removed (no text value holds one)"))
        encoding = encoding or ("utf-8" if valid else "latin-1")
    if encoding not in ("utf-8",):
        findings.insert(0, Finding("info", "encoding_converted", "file",
                                   f"read as {encoding.upper()} and converted to UTF-8 (not UTF-8 as written)"))
    workdir.mkdir(parents=True, exist_ok=True)
    dst = workdir / path.name
    try:
        dropped = _transcode(path, dst, encoding)
    except InputFileError:
        if encoding != "cp1252":
            raise
        encoding = "latin-1"  # a byte Windows-1252 leaves undefined (0x81, 0x8D ...): Latin-1 reads every byte
        findings[0] = Finding("info", "encoding_converted", "file", "read as LATIN-1 and converted to UTF-8 (not UTF-8 as written)")
        dropped = _transcode(path, dst, encoding)
    if dropped and not any(f.code == "nul_bytes_removed" for f in findings):
        findings.append(Finding("warning", "nul_bytes_removed", "file", f"{dropped} NUL character(s) removed"))
    return dst, findings
