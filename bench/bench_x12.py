"""X12 835 parsing benchmark: our parser against edi-835-parser and DuckDB's read floor.

    uv run python bench/bench_x12.py            # 5 MB, 50 MB and 10,000 small files
    uv run python bench/bench_x12.py --quick    # 0.5 MB, 5 MB and 300 small files (CI)

For each input (written by ``bench/make_835.py``, deterministic, cached under ``bench/out/``)
the same bytes go through:

* ``ours``: ``transforms.x12.fast835`` (columnar path, Arrow tables ready for the loader), one
  file with ``parse_835_arrow``, the small files with ``parse_835_files`` (one table per raw
  table for the whole batch); ``--threads`` (2), and for a single file 1 thread as well. For
  the small files also ``parse_835_batch`` (a ParsedFile per file, as the loader takes them
  today);
* ``ours, row parser``: ``parse_835`` (the row-by-row parser, dict of lists with ``Decimal`` /
  ``date``) plus the conversion to Arrow the loader then does: what ingestion cost before;
* ``edi-835-parser``: ``edi_835_parser.parse(path)`` (a directory for the small files), version
  1.8.0 in its own environment that ``uv`` installs on the fly (it caps pandas below 3, so it
  is not in the project's lock), timed in that process;
* ``duckdb floor``: DuckDB reading the same bytes into a table, one row per line
  (``read_csv`` with a delimiter that never occurs; the files hold one segment per line), and
  ``read_text`` (one row per file) for reference.

Times are wall-clock seconds including reading the files, after one warm-up parse of a tiny
file (imports excluded). ``ours`` and DuckDB: median of ``--repeats`` runs (the first run is
shown too); edi-835-parser and the row parser: one run (they take longer). When edi-835-parser
would take too long on an input (its time on the smaller file, scaled, exceeds
``--edi-budget``), it is timed on a prefix of the input instead, and the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_835 import make_835, write_small_files  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
KEY = b"bench-key-0123456789abcdef"


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _data(args) -> tuple[list[tuple[str, Path]], Path, int]:
    """(label, path) of the single files, the folder of small files, how many."""
    folder = Path(args.data) if args.data else OUT / "data"
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [(0.5, "0.5 MB"), (5.0, "5 MB")] if args.quick else [(5.0, "5 MB"), (50.0, "50 MB")]
    singles = []
    for mb, label in sizes:
        p = folder / f"single_{mb:g}mb.835"
        if not p.exists():
            p.write_bytes(make_835(int(mb * 1e6), seed=835))
        singles.append((label, p))
    n_small = args.small
    small = folder / f"small_{n_small}"
    if not small.exists() or len(list(small.glob("*.835"))) != n_small:
        tmp = Path(tempfile.mkdtemp(dir=folder))
        write_small_files(tmp, n_small)
        if small.exists():
            for f in small.iterdir():
                f.unlink()
            small.rmdir()
        tmp.rename(small)
    return singles, small, n_small


def _timed(fn: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    """(median seconds, first seconds, result of the last run)."""
    times = []
    res = 0
    for _ in range(repeats):
        t = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times[0], res


# --- the parsers -----------------------------------------------------------------------------


def ours_single(path: Path, threads: int) -> int:
    from transforms.ingest.phi import MemberIdHasher
    from transforms.x12.fast835 import parse_835_arrow

    p = parse_835_arrow(path.read_bytes(), path.name, "f" * 16, MemberIdHasher(KEY), threads=threads)
    return p.tables["remit_claims"].num_rows


def ours_many(paths: list[Path], threads: int, per_file: bool = False) -> int:
    """All files in one Batch835 (one table per raw table, ready for one insert each); with
    ``per_file`` a ParsedFile per file (the loader's present interface: slices)."""
    from transforms.ingest.phi import MemberIdHasher
    from transforms.x12.fast835 import parse_835_batch, parse_835_files

    items = [(p.read_bytes(), p.name, f"{k:016x}") for k, p in enumerate(paths)]
    if per_file:
        out = parse_835_batch(items, MemberIdHasher(KEY), threads=threads)
        n = 0
        for r in out:
            if isinstance(r, Exception):
                raise r
            n += r.tables["remit_claims"].num_rows
        return n
    batch = parse_835_files(items, MemberIdHasher(KEY), threads=threads)
    for r in batch.results:
        if isinstance(r, Exception):
            raise r
    return batch.tables["remit_claims"].num_rows


def row_parser(paths: list[Path]) -> int:
    """The row parser and the loader's conversion of its lists to Arrow (before the fast path)."""
    import pyarrow as pa

    from transforms.ingest.phi import MemberIdHasher
    from transforms.x12 import parse_835
    from transforms.x12.fast835 import SCHEMAS

    h = MemberIdHasher(KEY)
    n = 0
    for k, path in enumerate(paths):
        p = parse_835(path.read_bytes(), path.name, f"{k:016x}", h)
        for name, cols in p.tables.items():
            schema = SCHEMAS[name]
            pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema})
        n += len(p.tables["remit_claims"]["claim_id"])
    return n


EDI_VERSION = "1.8.0"
_EDI_CHILD = r"""
import contextlib, io, json, sys, time, warnings
import edi_835_parser
from importlib.metadata import version
print(json.dumps({"version": version("edi-835-parser")}), flush=True)
for line in sys.stdin:
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        sets = edi_835_parser.parse(line.rstrip("\n"))
        s = time.perf_counter() - t
    print(json.dumps({"s": s, "claims": sum(len(ts.claims) for ts in sets.transaction_sets)}), flush=True)
"""


class EdiParser:
    """edi-835-parser in its own environment, installed on the fly by uv.

    It caps pandas below 3, so it cannot share the project's locked environment. One child
    process for the whole run: the import is paid once, each parse is timed in the child (the
    time excludes the round trip), and the same bytes are read from the same files.
    """

    def __init__(self) -> None:
        import shutil
        import subprocess

        uv = shutil.which("uv")
        cmd = ([uv] if uv else [sys.executable, "-m", "uv"]) + [
            "run", "--no-project", "--isolated", "--quiet", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}",
            "--with", f"edi-835-parser=={EDI_VERSION}", "python", "-c", _EDI_CHILD,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError(f"could not start edi-835-parser {EDI_VERSION} with uv (exit {self.proc.wait()})")
        self.version = json.loads(first)["version"]

    def parse(self, path: Path) -> tuple[float, int]:
        """(seconds, claims) of ``edi_835_parser.parse(path)``."""
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        return out["s"], out["claims"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def duck(paths: list[Path] | Path, how: str) -> int:
    import duckdb

    con = duckdb.connect()
    if isinstance(paths, Path):
        paths = sorted(paths.glob("*.835")) if paths.is_dir() else [paths]
    src = [str(p) for p in paths]
    if how == "lines":
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_csv(?, columns={'line': 'VARCHAR'}, delim=chr(1), "
            "header=false, quote='', escape='', auto_detect=false)",
            [src],
        )
    else:
        con.execute("CREATE TABLE t AS SELECT * FROM read_text(?)", [src])
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    return n


def _prefix(path: Path, n_bytes: int) -> Path:
    """A prefix of an 835 file that is still a complete file: whole transactions + trailers."""
    data = path.read_bytes()
    cut = data.rfind(b"~\nST*", 0, n_bytes)
    head = data[: cut + 2]
    n_st = head.count(b"~\nST*") + head.startswith(b"ST*")
    ctrl = data[data.index(b"GS*") :].split(b"~", 1)[0].split(b"*")[6].decode()
    out = path.with_name(f"{path.stem}_prefix{n_bytes}.835")
    out.write_bytes(head + f"GE*{n_st}*{ctrl}~\nIEA*1*{int(ctrl):09d}~\n".encode())
    return out


# --- the run ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="X12 835 parsing benchmark")
    ap.add_argument("--quick", action="store_true", help="small sizes (CI): 0.5 MB, 5 MB, 300 small files")
    ap.add_argument("--small", type=int, default=None, help="how many small files (10000; --quick 300)")
    ap.add_argument("--threads", type=int, default=2, help="threads of our parser (1 or 2)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--edi-budget", type=float, default=90.0, help="seconds edi-835-parser may take on one input")
    ap.add_argument("--no-edi", action="store_true")
    ap.add_argument("--no-row", action="store_true", help="skip the row parser (before)")
    ap.add_argument("--data", help="where the generated inputs are kept (bench/out/data)")
    args = ap.parse_args(argv)
    if args.small is None:
        args.small = 300 if args.quick else 10_000
    t_start = time.perf_counter()
    load0 = _load()

    singles, small_dir, n_small = _data(args)
    small_paths = sorted(small_dir.glob("*.835"))
    small_bytes = sum(p.stat().st_size for p in small_paths)

    # warm-up: imports, pyarrow's first pa.array (it imports pandas), DuckDB
    tiny = small_dir.parent / "tiny.835"
    tiny.write_bytes(make_835(1, seed=1))
    ours_single(tiny, args.threads)
    row_parser([tiny])
    duck(tiny, "lines")
    edi = None if args.no_edi else EdiParser()
    if edi is not None:
        edi.parse(tiny)

    inputs = [(label, [p], p, p.stat().st_size) for label, p in singles]
    inputs.append((f"{n_small:,} small files", small_paths, small_dir, small_bytes))
    results: dict[str, dict[str, dict]] = {}
    edi_rate = None  # MB/s of edi on the previous input, to predict its time
    for label, paths, target, size in inputs:
        mb = size / 1e6
        r: dict[str, dict] = {}
        results[label] = r
        if len(paths) == 1:
            med, first, claims = _timed(lambda p=paths[0]: ours_single(p, args.threads), args.repeats)
        else:
            med, first, claims = _timed(lambda ps=paths: ours_many(ps, args.threads), args.repeats)
        r["ours"] = {"s": med, "first": first, "claims": claims, "mb": mb}
        if len(paths) == 1 and args.threads != 1:
            s, first, c = _timed(lambda p=paths[0]: ours_single(p, 1), args.repeats)
            r["ours_1thread"] = {"s": s, "first": first, "claims": c, "mb": mb}
        if len(paths) > 1:
            s, first, c = _timed(lambda ps=paths: ours_many(ps, args.threads, per_file=True), args.repeats)
            r["ours_per_file"] = {"s": s, "first": first, "claims": c, "mb": mb}
        if not args.no_row:
            s, _, c = _timed(lambda ps=paths: row_parser(ps), 1)
            r["row"] = {"s": s, "first": s, "claims": c, "mb": mb}
        if edi is not None:
            note = ""
            e_target, e_mb = target, mb
            if edi_rate is not None and len(paths) == 1 and mb / edi_rate > args.edi_budget:
                n_bytes = int(edi_rate * args.edi_budget * 1e6 / 2)
                e_target = _prefix(paths[0], n_bytes)
                e_mb = e_target.stat().st_size / 1e6
                note = f"prefix of {e_mb:.1f} MB (whole file predicted > {args.edi_budget:.0f} s)"
            s, c = edi.parse(e_target)
            r["edi"] = {"s": s, "first": s, "claims": c, "mb": e_mb, "note": note}
            if len(paths) == 1:
                edi_rate = e_mb / s
        s, first, rows = _timed(lambda t=target: duck(t, "lines"), args.repeats)
        r["duck_lines"] = {"s": s, "first": first, "rows": rows, "mb": mb}
        s, first, rows = _timed(lambda t=target: duck(t, "text"), args.repeats)
        r["duck_text"] = {"s": s, "first": first, "rows": rows, "mb": mb}

    # linearity, measured apart: the two single files alternately (the load of a shared machine
    # changes between the rows above), wall and CPU seconds (CPU: less sensitive to that load)
    lin: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in singles}
    for _ in range(args.repeats):
        for label, p in singles:
            t, c = time.perf_counter(), time.process_time()
            ours_single(p, args.threads)
            lin[label].append((time.perf_counter() - t, time.process_time() - c))
    linearity = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in lin.items()}
    edi_version = None
    if edi is not None:
        edi_version = edi.version
        edi.close()
    _report(args, results, singles, load0, time.perf_counter() - t_start, linearity, edi_version)
    return 0


def _report(args, results, singles, load0, elapsed, linearity, edi_version) -> None:
    pr = print
    pr()
    pr("X12 835 parsing benchmark" + (" (--quick)" if args.quick else ""))
    pr(
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"pyarrow {version('pyarrow')}, duckdb {version('duckdb')}, numpy {version('numpy')}"
        + ("" if args.no_edi else f", edi-835-parser {edi_version} (own environment)")
    )
    pr(f"load average at start: {load0} (other processes on the machine slow every number alike)")
    pr(f"ours: fast835, threads={args.threads}, median of {args.repeats} runs (first run in brackets)")
    pr()
    hdr = f"{'input':<20} {'size MB':>8}  {'parser':<34} {'seconds':>16} {'MB/s':>8} {'claims/s':>10} {'claims':>8}"
    pr(hdr)
    pr("-" * len(hdr))
    names = {
        "ours": "ours (fast path, Arrow)",
        "ours_1thread": "ours, 1 thread",
        "ours_per_file": "ours, a ParsedFile per file",
        "row": "ours, row parser + to Arrow (before)",
        "edi": "edi-835-parser",
        "duck_lines": "duckdb read_csv, a row per line",
        "duck_text": "duckdb read_text, a row per file",
    }
    for label, r in results.items():
        first_row = True
        for key in ("ours", "ours_1thread", "ours_per_file", "row", "edi", "duck_lines", "duck_text"):
            if key not in r:
                continue
            x = r[key]
            secs = f"{x['s']:.3f}" + (f" ({x['first']:.2f})" if key not in ("row", "edi") else "")
            mbs = x["mb"] / x["s"]
            if "claims" in x:
                cps = f"{x['claims'] / x['s']:,.0f}"
                cl = f"{x['claims']:,}"
            else:
                cps, cl = "", f"{x['rows']:,} rows"
            size_s = f"{x['mb']:.2f}"
            pr(
                f"{label if first_row else '':<20} {size_s if first_row else '':>8}  {names[key]:<34} {secs:>16} "
                f"{mbs:>8.1f} {cps:>10} {cl:>8}" + (f"  [{x['note']}]" if x.get("note") else "")
            )
            first_row = False
        pr()
    pr("ratios (same input, same run):")
    for label, r in results.items():
        o = r["ours"]
        parts = []
        if "edi" in r:
            e = r["edi"]
            ratio = (e["s"] / e["mb"]) / (o["s"] / o["mb"])  # per MB, in case edi ran on a prefix
            parts.append(f"{ratio:.1f}x edi-835-parser" + (" (per MB, edi on a prefix)" if e.get("note") else ""))
        if "row" in r:
            parts.append(f"{r['row']['s'] / o['s']:.1f}x the row parser")
        if "ours_1thread" in r and "edi" in r:
            e, o1 = r["edi"], r["ours_1thread"]
            parts.append(f"with 1 thread {(e['s'] / e['mb']) / (o1['s'] / o1['mb']):.1f}x edi-835-parser")
        parts.append(f"{o['s'] / r['duck_lines']['s']:.1f}x DuckDB's read_csv floor")
        parts.append(f"{o['s'] / r['duck_text']['s']:.1f}x read_text")
        pr(f"  {label:<20} " + ", ".join(parts))
    (a_label, a_path), (b_label, b_path) = singles
    a, b = results[a_label], results[b_label]
    size_ratio = b["ours"]["mb"] / a["ours"]["mb"]
    goal = size_ratio * 1.1
    pr()
    t_ratio = b["ours"]["s"] / a["ours"]["s"]
    pr(
        f"linearity: {b_label} / {a_label} = {size_ratio:.2f}x the input; in the table {t_ratio:.2f}x the time "
        f"(goal: at most {goal:.2f}x) -> {'ok' if t_ratio <= goal else 'NOT LINEAR'}"
    )
    if "ours_1thread" in a and "ours_1thread" in b:
        t = b["ours_1thread"]["s"] / a["ours_1thread"]["s"]
        pr(f"           1 thread: {t:.2f}x the time -> {'ok' if t <= goal else 'NOT LINEAR'}")
    (aw, ac), (bw, bc) = linearity[a_label], linearity[b_label]
    pr(
        f"           measured alternately ({args.repeats} each, medians): wall {bw / aw:.2f}x "
        f"-> {'ok' if bw / aw <= goal else 'NOT LINEAR'}, CPU {bc / ac:.2f}x -> {'ok' if bc / ac <= goal else 'NOT LINEAR'}"
    )
    if "edi" in a and "edi" in b and not b["edi"].get("note"):
        pr(f"           edi-835-parser: {b['edi']['s'] / a['edi']['s']:.2f}x the time")
    pr(f"benchmark wall time {elapsed:.0f} s; load average at the end: {_load()}")


if __name__ == "__main__":
    raise SystemExit(main())
