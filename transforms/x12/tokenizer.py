"""Split an X12 file into segments.

Delimiters come from the ISA segment: the element separator is its 4th character, the component
separator is ISA16 and the segment terminator is the first non-blank character after ISA16 (or a
newline when the next segment id follows the newline directly). ISA11 is the repetition
separator in 005010. Files without an envelope may start at ``ST`` (or ``GS``): the element
separator is then the character after the segment id and the terminator is detected from the
first segment; the component separator defaults to ``:``.

The whole text is split on the terminator once; each segment is stripped of surrounding blanks
(indentation, CR/LF) and empty segments are dropped. A segment's number is its 1-based position
among the non-empty segments of the file (lineage: ``source_row``). Several interchanges may
follow each other; one whose ISA declares other delimiters starts a new :class:`Block`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass

from transforms.errors import InputFileError
from transforms.x12.segments import segment_location

#: Characters stripped around segments (blanks, CR/LF, BOM, NUL padding, DOS end-of-file).
BLANKS = " \t\r\n\x0b\x0c\ufeff\x00\x1a"
_strip = operator.methodcaller("strip", BLANKS)
_ISA_MAX_LEN = 200  # an ISA is 106 characters; unpadded ones are shorter

#: The longest segment accepted, in characters (after the blanks around it are stripped). Real
#: 835/837 segments are a few dozen to a few hundred characters: the longest element of these
#: guides is 264 characters (MSG01) and a segment has at most a few dozen elements, so even an
#: unusual segment stays under 10 KiB. 64 KiB leaves ample room for padded or oddly written files
#: while a file whose terminator is lost (everything after it one segment) or a crafted
#: multi-megabyte segment is refused before any element of it is read. Error code
#: ``segment_too_long``; the whole file is quarantined.
MAX_SEGMENT_LENGTH = 64 * 1024


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    segment: str  # "\n" when the newline is the terminator
    repetition: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """Segments ``segments[start:end]`` share these delimiters."""

    start: int
    end: int
    delimiters: Delimiters


@dataclass(frozen=True, slots=True)
class Tokens:
    segments: list[str]  # stripped, non-empty; segment number = index + 1
    blocks: list[Block]
    has_envelope: bool  # the file starts with ISA
    bom: str | None  # "utf-8" / "utf-16": the file starts with a byte-order mark
    crlf: bool

    def elements(self) -> Iterator[tuple[int, list[str], Delimiters]]:
        """(segment number, elements with the segment id first, delimiters) for every segment."""
        segs = self.segments
        for blk in self.blocks:
            sep = blk.delimiters.element
            for i in range(blk.start, blk.end):
                yield i + 1, segs[i].split(sep), blk.delimiters


def decode(data: bytes | str) -> tuple[str, str | None]:
    """Text of the file and its byte-order mark, if any (``"utf-8"``, ``"utf-16"``).

    Bytes that are not UTF-8 are read as Latin-1: X12 text is ASCII, nothing fails to decode.
    """
    bom = None
    if isinstance(data, str):
        text = data
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        bom = "utf-16"
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            bom = None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    if text[:1] == "\ufeff":
        return text[1:], bom or "utf-8"
    return text, bom


def _bad(
    file_name: str, expected: str, code: str, location: str | None = "segment 1 (ISA)"
) -> InputFileError:
    return InputFileError(file_name, location, expected, code=code)


def _is_delim(c: str) -> bool:
    return len(c) == 1 and not c.isalnum() and c not in BLANKS


def _terminator_after(text: str, j: int, file_name: str, where: str) -> str:
    """The terminator starting at text[j]: a punctuation character, or a newline directly
    followed (after blanks) by the next segment id."""
    n = len(text)
    if j >= n:
        raise _bad(file_name, "more segments after the first one", "truncated", where)
    c = text[j]
    if c not in BLANKS:
        if c.isalnum():
            raise _bad(file_name, "a segment terminator", "malformed_isa", where)
        return c
    k = j
    saw_newline = False
    while k < n and text[k] in BLANKS:
        if text[k] in "\r\n":
            saw_newline = True
        k += 1
    if k >= n:
        raise _bad(file_name, "more segments after the first one", "truncated", where)
    c = text[k]
    if c.isalnum():
        if saw_newline:
            return "\n"
        raise _bad(file_name, "a segment terminator", "malformed_isa", where)
    return c


def isa_delimiters(text: str, pos: int, file_name: str, seg_no: int = 1) -> Delimiters:
    """Delimiters declared by the ISA starting at ``text[pos]``."""
    where = f"segment {seg_no} (ISA)"
    el = text[pos + 3 : pos + 4]
    if not _is_delim(el):
        raise _bad(
            file_name,
            "an element separator as the 4th character of ISA",
            "malformed_isa",
            where,
        )
    i = pos + 3
    for _ in range(15):
        i = text.find(el, i + 1)
        if i < 0 or i - pos > _ISA_MAX_LEN:
            raise _bad(
                file_name, "an ISA segment with 16 elements", "malformed_isa", where
            )
    comp = text[i + 1 : i + 2]
    if not _is_delim(comp) or comp == el:
        raise _bad(file_name, "a component separator in ISA16", "malformed_isa", where)
    term = _terminator_after(text, i + 2, file_name, where)
    if term in (el, comp):
        raise _bad(
            file_name,
            "distinct element, component and segment delimiters",
            "malformed_isa",
            where,
        )
    parts = text[pos:i].split(el)
    rep = None
    if len(parts) > 12:
        r = parts[11]
        if (
            parts[12].strip() >= "00501"
            and len(r) == 1
            and _is_delim(r)
            and r not in (el, comp, term)
        ):
            rep = r
    return Delimiters(el, comp, term, rep)


def _detect_no_envelope(text: str, pos: int, file_name: str) -> Delimiters:
    where = "segment 1"
    el = text[pos + 2 : pos + 3]
    if not _is_delim(el):
        raise _bad(
            file_name, "an X12 file (starting with ISA, GS or ST)", "not_x12", None
        )
    n = len(text)
    k = pos + 3
    while k < n:
        c = text[k]
        if c.isalnum() or c == el or c in " -._":
            k += 1
            continue
        break
    term = _terminator_after(text, k, file_name, where)
    if term == el:
        raise _bad(file_name, "a segment terminator", "not_x12", where)
    comp = ":"
    if comp in (el, term):
        comp = next(c for c in (">", "^", "\\", "|", "!") if c not in (el, term))
    return Delimiters(el, comp, term, None)


def _segment_start(text: str, p: int, term: str) -> bool:
    """Whether ``text[p]`` begins a segment (preceded by a terminator or the start of text)."""
    k = p - 1
    saw_newline = False
    while k >= 0 and text[k] in BLANKS:
        if text[k] in "\r\n":
            saw_newline = True
        k -= 1
    if k < 0:
        return True
    return text[k] == term or (term == "\n" and saw_newline)


def _split(text: str, d: Delimiters) -> list[str]:
    if d.segment == "\n":
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        parts = text.split("\n")
    else:
        if "\n" in text:
            text = text.replace("\n", "")
        if "\r" in text:
            text = text.replace("\r", "")
        parts = text.split(d.segment)
    if _needs_strip(text, d.segment):
        return list(filter(None, map(_strip, parts)))
    return list(
        filter(None, parts)
    )  # nothing to strip: spare a pass over every segment


def _needs_strip(text: str, term: str) -> bool:
    """Whether some segment may start or end with a blank (the usual file has none)."""
    if f" {term}" in text or f"{term} " in text or text[:1] == " " or text[-1:] == " ":
        return True
    return any(c in text for c in _RARE_BLANKS if c != term)


_RARE_BLANKS = tuple(c for c in BLANKS if c not in " \r\n")


def check_segment_lengths(segments: list[str], blocks: list[Block], file_name: str) -> None:
    """InputFileError ``segment_too_long`` naming the first segment longer than
    :data:`MAX_SEGMENT_LENGTH`."""
    if not segments or max(map(len, segments)) <= MAX_SEGMENT_LENGTH:
        return
    i = next(i for i, s in enumerate(segments) if len(s) > MAX_SEGMENT_LENGTH)
    el = next(b.delimiters.element for b in blocks if b.start <= i < b.end)
    seg_id = segments[i][:4].split(el, 1)[0]
    raise InputFileError(
        file_name,
        segment_location(i + 1, seg_id),
        f"a segment of at most {MAX_SEGMENT_LENGTH:,} characters (this one has {len(segments[i]):,}; "
        "real segments have a few hundred at most: a lost segment terminator?)",
        code="segment_too_long",
    )


def tokenize(data: bytes | str, file_name: str) -> Tokens:
    """Segments and delimiters of an X12 file. Raises InputFileError (``empty_file``,
    ``not_x12``, ``malformed_isa``, ``truncated``, ``segment_too_long``) when the file cannot be
    split."""
    text, bom = decode(data)
    n = len(text)
    start = 0
    while start < n and text[start] in BLANKS:
        start += 1
    if start >= n:
        raise InputFileError(
            file_name, None, "an X12 file, found an empty file", code="empty_file"
        )
    crlf = "\r\n" in text[:4096]
    head = text[start : start + 3]
    if head == "ISA":
        d = isa_delimiters(text, start, file_name)
        cuts: list[tuple[int, Delimiters]] = [(start, d)]
        p = text.find("ISA", start + 3)
        while p >= 0:
            if _segment_start(text, p, d.segment):
                try:
                    d2 = isa_delimiters(text, p, file_name)
                except InputFileError:
                    d2 = d  # a damaged ISA: the parser reports it with its segment number
                if d2 != d:
                    cuts.append((p, d2))
                    d = d2
            p = text.find("ISA", p + 3)
        segments: list[str] = []
        blocks: list[Block] = []
        for idx, (a, dl) in enumerate(cuts):
            b = cuts[idx + 1][0] if idx + 1 < len(cuts) else n
            segs = _split(text[a:b], dl)
            blocks.append(Block(len(segments), len(segments) + len(segs), dl))
            segments.extend(segs)
        check_segment_lengths(segments, blocks, file_name)
        return Tokens(segments, blocks, True, bom, crlf)
    if head[:2] in ("ST", "GS"):
        d = _detect_no_envelope(text, start, file_name)
        segments = _split(text[start:], d)
        blocks = [Block(0, len(segments), d)]
        check_segment_lengths(segments, blocks, file_name)
        return Tokens(segments, blocks, False, bom, crlf)
    raise InputFileError(
        file_name, None, "an X12 file (starting with ISA, GS or ST)", code="not_x12"
    )
