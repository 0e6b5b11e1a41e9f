"""Load a batch of landed files into the warehouse: all of it in one transaction.

1. Every file is hashed; a file whose sha256 is already in ``audit.file_manifest`` is skipped
   (loading the same file twice changes nothing).
2. Every new file is parsed *outside* the warehouse. A file that cannot be read is quarantined
   whole, with the error naming the file, the place in it and what was expected.
3. One transaction writes the rows of every readable file, the manifest, the quarantine
   records and the load findings. A crash before COMMIT leaves the warehouse as it was. The
   transaction is written by a second thread while the next files are parsed (DuckDB works
   without Python's lock, so an INSERT and a parse run on both cores).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import queue
import stat
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from transforms.errors import InputFileError
from transforms.ingest import csv_canonical, encoding, mapping, sniff
from transforms.ingest.records import ParsedFile
from transforms.warehouse import ensure_schema, raw_columns

log = logging.getLogger(__name__)

# Documentation and metadata that may sit beside data files (the generator writes ground_truth.json)
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "README.md", "NOTICE.md", "ground_truth.json"}


@dataclass
class FileOutcome:
    path: Path
    sha256: str
    file_id: str
    status: str  # loaded | skipped | quarantined
    kind: str = "unknown"
    rows_read: int = 0
    rows_loaded: int = 0
    error: InputFileError | None = None
    n_findings: int = 0
    previously_quarantined: bool = False  # skipped because this content was quarantined before


@dataclass
class BatchResult:
    batch_id: str
    files: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)


DATA_SUFFIXES = {".835", ".837", ".csv", ".edi", ".txt", ".x12", ".era", ".dat"}


@dataclass(frozen=True)
class SkippedPath:
    path: str  # relative to the landing folder
    reason: str  # symlink_outside_landing | dangling_symlink | not_a_regular_file | folder_named_like_a_file


def scan(landing: Path) -> tuple[list[Path], list[SkippedPath]]:
    """The regular, non-hidden files below the landing folder (stable order), and what was passed
    over and why. Nothing outside the landing folder is read: a symbolic link is followed only
    when it stays inside it, and folder links are not walked into. FIFOs, sockets and devices are
    never opened (reading a FIFO would block the run)."""
    if not landing.exists():
        return [], []
    root = landing.resolve()
    files: list[Path] = []
    skipped: list[SkippedPath] = []
    for dirpath, dirnames, filenames in os.walk(landing, followlinks=False):
        base = Path(dirpath)
        rel_dir = base.relative_to(landing)
        if any(part.startswith(".") for part in rel_dir.parts):
            dirnames[:] = []
            continue
        for d in list(dirnames):
            p = base / d
            if d.startswith("."):
                dirnames.remove(d)
            elif p.is_symlink():
                dirnames.remove(d)  # os.walk does not enter it; say so
                skipped.append(SkippedPath(str(p.relative_to(landing)), "symlink_to_a_folder"))
            elif Path(d).suffix.lower() in DATA_SUFFIXES:
                skipped.append(SkippedPath(str(p.relative_to(landing)), "folder_named_like_a_file"))
        for name in filenames:
            if name.startswith(".") or name in IGNORED_NAMES:
                continue
            p = base / name
            rel = str(p.relative_to(landing))
            if p.is_symlink():
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    skipped.append(SkippedPath(rel, "dangling_symlink"))
                    continue
                if not target.is_relative_to(root):
                    skipped.append(SkippedPath(rel, "symlink_outside_landing"))
                    continue
            try:
                mode = p.stat().st_mode
            except OSError:
                skipped.append(SkippedPath(rel, "unreadable"))
                continue
            if not stat.S_ISREG(mode):
                skipped.append(SkippedPath(rel, "not_a_regular_file"))
                continue
            files.append(p)
    return sorted(files), sorted(skipped, key=lambda s: s.path)


def discover(landing: Path) -> list[Path]:
    """Every regular, non-hidden file below the landing folder, in a stable order (see :func:`scan`)."""
    return scan(landing)[0]


def record_skipped(con: duckdb.DuckDBPyConnection, skipped: list[SkippedPath], batch_id: str | None = None) -> None:
    """What a scan passed over, for the auditor (audit.skipped_paths: first and last time seen)."""
    ensure_schema(con)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for s in skipped:
        con.execute(
            """INSERT INTO audit.skipped_paths VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (path, reason) DO UPDATE SET last_seen = excluded.last_seen, batch_id = excluded.batch_id""",
            [s.path, s.reason, now, now, batch_id])


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def max_x12_bytes() -> int:
    """The largest X12 file read (it is parsed in memory, about 3x its size at the peak): the
    setting DENIALS_MAX_X12_MB, 512 by default."""
    raw = os.environ.get("DENIALS_MAX_X12_MB", "").strip()
    try:
        return int(raw) * 2**20 if raw else 512 * 2**20
    except ValueError:
        from transforms.errors import ConfigError

        raise ConfigError(f"DENIALS_MAX_X12_MB={raw!r}: expected a whole number of megabytes") from None


def parse_file(path: Path, file_id: str, hash_member_id, mappings_dir: Path | None = None) -> ParsedFile:
    """Parse one file into raw-table rows, or raise InputFileError. A file that is not UTF-8
    (UTF-16, a Latin-1 CSV, NUL bytes) is parsed from a UTF-8 copy (transforms/ingest/encoding.py)."""
    if path.stat().st_size == 0:
        raise InputFileError(path.name, None, "a non-empty file", "empty_file")
    with tempfile.TemporaryDirectory(prefix="denials-utf8-") as tmp:
        text, findings = encoding.to_utf8(path, Path(tmp), sniff.looks_like_x12)
        pf = _parse_utf8(text, file_id, hash_member_id, mappings_dir)
    if findings:
        pf.findings[:0] = findings
    return pf


def _parse_utf8(path: Path, file_id: str, hash_member_id, mappings_dir: Path | None) -> ParsedFile:
    kind, spec = sniff.sniff(path)
    if kind == sniff.X12:
        from transforms import x12

        limit = max_x12_bytes()
        size = path.stat().st_size
        if size > limit:  # an X12 file is parsed in memory: refused before it is read
            raise InputFileError(
                path.name, None,
                f"an X12 file of at most {limit // 2**20:,} MB (this one is {size / 2**20:,.0f} MB: split it by "
                "interchange, or raise DENIALS_MAX_X12_MB)", "file_too_large")
        return x12.parse_x12(path.read_bytes(), path.name, file_id, hash_member_id, arrow=True)
    if kind == sniff.CSV and spec is not None:
        return csv_canonical.parse_canonical_csv(path, spec, file_id, hash_member_id)
    if kind == sniff.CSV:
        header = csv_canonical.read_header(path) or []
        m = mapping.find_mapping(header, mappings_dir or mapping.DEFAULT_MAPPINGS_DIR)
        if m is not None:
            return mapping.parse_mapped_csv(path, m, file_id, hash_member_id)
        closest = csv_canonical.closest_spec(header)
        if closest is not None:  # names the canonical columns that are missing
            return csv_canonical.parse_canonical_csv(path, closest, file_id, hash_member_id)
        raise InputFileError(
            path.name,
            "line 1 (header)",
            "the header of a canonical CSV (docs/data-formats.md) or of an export with a mapping file (mappings/)",
            "unrecognised_csv",
        )
    raise InputFileError(path.name, None, "an X12 835/837 file or a CSV file with a header row", "unrecognised_file")


def load_batch(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    hash_member_id,
    now: dt.datetime | None = None,
    mappings_dir: Path | None = None,
) -> BatchResult:
    ensure_schema(con)
    from transforms.ingest.phi import check_warehouse_key

    check_warehouse_key(con, hash_member_id)  # another key would give every member a second hash: refused
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result = BatchResult(batch_id=now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8])
    known = dict(con.execute("SELECT sha256, status FROM audit.file_manifest").fetchall())
    # a file still at the path, size and modification time the manifest recorded for it is that
    # content: not read again (the landing folder keeps every week's files; a changed file has a
    # new size or time, and is hashed)
    recorded = {(p, size, received): digest for p, size, received, digest in con.execute(
        "SELECT file_path, size_bytes, received_at, sha256 FROM audit.file_manifest").fetchall()}

    writer: _BatchWriter | None = None  # started with the first file to write
    seen: set[str] = set()
    try:
        for path in paths:
            st = path.stat()
            digest = recorded.get((str(path), st.st_size, _modified(st))) or sha256_of(path)
            out = FileOutcome(path=path, sha256=digest, file_id=digest[:16], status="skipped")
            if digest in known or digest in seen:
                out.previously_quarantined = known.get(digest) == "quarantined"
                result.files.append(out)
                log.info("skipped %s: this content was %s before", path.name,
                         "quarantined" if out.previously_quarantined else "loaded")
                continue
            seen.add(digest)
            try:
                pf = parse_file(path, out.file_id, hash_member_id, mappings_dir)
            except InputFileError as e:
                out.status, out.error = "quarantined", e
                out.kind = _kind_guess(path)
                log.warning("quarantined %s: %s", path.name, e)
                pf = None
            else:
                out.status, out.kind = "loaded", pf.kind
                out.rows_read, out.rows_loaded, out.n_findings = pf.rows_read, pf.rows_loaded(), len(pf.findings)
            result.files.append(out)
            if writer is None:
                writer = _BatchWriter(con, result.batch_id, now)
            writer.add(out, pf)
            del pf
            if writer.failed:
                break
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.commit([
            len(result.files), result.count("loaded"), result.count("skipped"), result.count("quarantined"),
        ])
    return result


# rows of a raw table gathered before they are inserted: one INSERT for the rows of many small files,
# and little left to insert once the last file is parsed (a larger buffer leaves more to insert
# after the last parse)
FLUSH_ROWS = 250_000


class _BatchWriter:
    """The batch's one transaction, written while the next files are parsed.

    A thread owns the connection from BEGIN to COMMIT or ROLLBACK (the caller does not use it
    meanwhile): it takes the parsed files in order and inserts the rows of a raw table once
    ``FLUSH_ROWS`` of them have gathered (rows of many files in one INSERT), the rest, the manifest,
    quarantine records and findings at the end. Each table's rows go in in file order, as when
    the whole batch was written after parsing. An error in the thread rolls the transaction
    back and is raised again by :meth:`commit`; :meth:`abort` rolls back when parsing fails.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_id: str, now: dt.datetime):
        self._con, self._batch_id, self._now = con, batch_id, now
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def add(self, out: FileOutcome, pf: ParsedFile | None) -> None:
        self._queue.put(("file", out, pf))

    def commit(self, counts: list[int]) -> None:
        self._queue.put(("commit", counts, None))
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self._queue.put(("abort", None, None))
        self._thread.join()

    def _run(self) -> None:
        con = self._con
        begun = ended = False
        try:
            con.execute("BEGIN TRANSACTION")
            begun = True
            pending: dict[str, list[pa.Table]] = {}
            n_pending: dict[str, int] = {}
            manifest, quarantine, findings = [], [], []
            while True:
                # ("file", FileOutcome, ParsedFile | None), ("commit", counts of files, None) or ("abort", None, None)
                what, out, pf = self._queue.get()
                if what != "file":
                    break
                for table in _file_rows(out, pf, self._batch_id, self._now, pending, manifest, quarantine, findings):
                    n_pending[table] = n_pending.get(table, 0) + pending[table][-1].num_rows
                    if n_pending[table] >= FLUSH_ROWS:
                        _insert(con, table, pa.concat_tables(pending.pop(table)))
                        n_pending[table] = 0
                del out, pf
            ended = True
            if what == "abort":
                con.execute("ROLLBACK")
                return
            counts = out
            for table in list(pending):
                _insert(con, table, pa.concat_tables(pending.pop(table)))
            _insert_rows(con, "audit.load_findings", findings)
            _insert_rows(con, "audit.quarantine", quarantine)
            _insert_rows(con, "audit.file_manifest", manifest)
            con.execute(
                "INSERT INTO audit.load_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                [self._batch_id, self._now, dt.datetime.now(dt.UTC).replace(tzinfo=None), *counts],
            )
            con.execute("COMMIT")
        except BaseException as e:  # raised again in the caller's thread by commit()
            self._error = e
            if begun:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    log.exception("rollback of batch %s failed", self._batch_id)
            while not ended and self._queue.get()[0] == "file":  # until the caller commits or aborts
                pass


def _kind_guess(path: Path) -> str:
    try:
        kind, spec = sniff.sniff(path)
    except OSError:
        return "unknown"
    if spec is not None:
        return spec.kind
    return {"x12": "x12", "csv": "csv"}.get(kind, "unknown")


def _modified(stat: os.stat_result) -> dt.datetime:
    """A file's modification time as recorded in audit.file_manifest.received_at (UTC, to the microsecond)."""
    return dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None)


def _file_rows(out: FileOutcome, pf: ParsedFile | None, batch_id: str, now: dt.datetime,
               pending: dict[str, list[pa.Table]], manifest: list, quarantine: list, findings: list) -> list[str]:
    """Adds one file's rows (as Arrow tables with every column of their raw table) to ``pending``,
    and its manifest, quarantine and finding rows to the lists. Returns the raw tables it added to."""
    stat = out.path.stat()
    received = _modified(stat)
    added = []
    if pf is not None:
        for table, data in pf.tables.items():
            arrow = _to_arrow(table, data)
            if arrow is not None:
                pending.setdefault(table, []).append(arrow)
                added.append(table)
        findings += [(out.file_id, batch_id, f.severity, f.code, f.location, f.message) for f in pf.findings]
        warnings = sum(1 for f in pf.findings if f.severity == "warning")
        rows_quarantined = 0
    else:
        err = out.error
        quarantine.append((out.file_id, out.path.name, now, batch_id, err.code, err.location, err.expected))
        warnings = 0
        rows_quarantined = _count_records(out.path)
    manifest.append((
        out.file_id, out.sha256, out.path.name, str(out.path), out.kind, stat.st_size, received, now, batch_id,
        out.rows_read if pf is not None else rows_quarantined, out.rows_loaded, rows_quarantined, out.status,
        0 if pf is not None else 1, warnings,
    ))
    return added


def _insert_rows(con, table: str, rows: list[tuple]) -> None:
    """Append Python rows to an audit table through Arrow (one statement)."""
    if not rows:
        return
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name || '.' || table_name = ? ORDER BY column_index", [table]
    ).fetchall()]
    arrow = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    con.register("__rows", arrow)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM __rows")
    finally:
        con.unregister("__rows")


def _count_records(path: Path) -> int:
    """Records in a quarantined file, for the manifest: lines of a CSV (less the header), segments of X12."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    if data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith((b"ISA", b"ST")):
        n = data.count(b"~")
        return n if n else data.count(b"\n") + 1
    return max(data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1), 0)


def _to_arrow(table: str, data) -> pa.Table | None:
    """A parser's rows for a raw table as an Arrow table with every column of the table, in order
    (columns a parser left out are NULL), so tables of many files concatenate."""
    cols = raw_columns()[table]
    if isinstance(data, pa.Table):
        arrow = data
    else:
        if not data or not next(iter(data.values()), None):
            return None
        arrow = pa.table({k: pa.array(v, type=cols[k]) for k, v in data.items() if k in cols})
    if arrow.num_rows == 0:
        return None
    n = arrow.num_rows
    return pa.table({
        c: _as_type(arrow.column(c), t) if c in arrow.column_names else pa.nulls(n, t) for c, t in cols.items()
    })


def _as_type(col: pa.ChunkedArray, t: pa.DataType) -> pa.ChunkedArray:
    return col if col.type == t else col.cast(t)


def _insert(con, table: str, data) -> None:
    """Insert a parser's rows (an Arrow table or columns of lists) into raw.<table>."""
    arrow = data if isinstance(data, pa.Table) and data.column_names == list(raw_columns()[table]) else _to_arrow(table, data)
    if arrow is None:
        return
    con.register("__incoming", arrow)
    try:
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM __incoming")
    finally:
        con.unregister("__incoming")


def release(con: duckdb.DuckDBPyConnection, key: str, reason: str | None = None) -> list[str]:
    """Release quarantined files (by file name, file_id or sha256) so that the next run tries them
    again. The quarantine record stays as history; the release is recorded in audit.released_files.
    Returns the names released; a loaded file cannot be released."""
    ensure_schema(con)
    found = con.execute(
        "SELECT file_id, sha256, file_name, status FROM audit.file_manifest WHERE ? IN (file_name, file_id, sha256)", [key]
    ).fetchall()
    names = []
    con.execute("BEGIN TRANSACTION")
    try:
        for file_id, digest, name, status in found:
            if status != "quarantined":
                continue
            con.execute("INSERT INTO audit.released_files VALUES (?, ?, ?, ?, ?)",
                        [file_id, digest, name, dt.datetime.now(dt.UTC).replace(tzinfo=None), reason])
            con.execute("DELETE FROM audit.file_manifest WHERE file_id = ?", [file_id])
            names.append(name)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return names
