"""A bounded fuzzing run of the CSV readers: random byte mutations of the tiny data set's canonical
CSVs and of the mapped exports (flip, insert, delete, with CSV-significant bytes favoured: quotes,
separators, line ends, digits, signs, NUL, bytes of other encodings), each parsed through the
loader's ``parse_file`` as a landed file; any exception other than the project's own
InputFileError is a failure, and so is a parse that takes longer than ``--timeout`` seconds (a
hang). Deterministic for a seed. Prints the counts.

    uv run python bench/fuzz_csv.py [--iterations 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.errors import InputFileError  # noqa: E402
from transforms.ingest import loader  # noqa: E402

SIGNIFICANT = list(b'",;\t|\n\r 0123456789.-+/:ABCDEPZ\x00\xff\xe9\xc3\xa9\x96')
SOURCES = [
    ROOT / "tests" / "data" / "tiny" / "claims" / "claims.csv",
    ROOT / "tests" / "data" / "tiny" / "claims" / "claim_lines.csv",
    ROOT / "tests" / "data" / "tiny" / "claims" / "write_offs.csv",
    ROOT / "tests" / "data" / "tiny" / "remittances" / "remit_claims.csv",
    ROOT / "tests" / "data" / "tiny" / "remittances" / "remit_lines.csv",
    ROOT / "tests" / "data" / "tiny" / "remittances" / "remit_adjustments.csv",
    ROOT / "tests" / "data" / "mapped" / "charges_export.csv",
    ROOT / "tests" / "data" / "mapped" / "postings_export.csv",
]


class Hang(Exception):
    pass


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(b) + 1)
        byte = rng.choice(SIGNIFICANT) if rng.random() < 0.8 else rng.randrange(256)
        op = rng.randrange(3)
        if op == 0 and pos < len(b):
            b[pos] = byte
        elif op == 1:
            b.insert(pos, byte)
        elif pos < len(b):
            del b[pos]
    return bytes(b)


def _alarm(signum, frame):  # noqa: ARG001
    raise Hang()


def run(iterations: int, seed: int, timeout: int = 20) -> dict:
    rng = random.Random(seed)
    files = [(p.name, p.read_bytes()) for p in SOURCES]
    outcome: Counter = Counter()
    codes: Counter = Counter()
    failures = []
    slowest = 0.0
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        with tempfile.TemporaryDirectory(prefix="fuzz-csv-") as tmp:
            for i in range(iterations):
                name, data = files[i % len(files)]
                path = Path(tmp) / name
                path.write_bytes(mutate(data, rng))
                t = time.perf_counter()
                signal.alarm(timeout)
                try:
                    loader.parse_file(path, "f" * 16, lambda v: None)
                    outcome["parsed"] += 1
                except InputFileError as e:
                    outcome["input_file_error"] += 1
                    codes[e.code] += 1
                except Hang:
                    outcome["hang"] += 1
                    failures.append((name, i, f"no answer within {timeout} s"))
                except Exception:  # noqa: BLE001 - that is what a fuzzer looks for
                    outcome["other_exception"] += 1
                    failures.append((name, i, traceback.format_exc(limit=4)))
                finally:
                    signal.alarm(0)
                slowest = max(slowest, time.perf_counter() - t)
    finally:
        signal.signal(signal.SIGALRM, old)
    return {"iterations": iterations, "seed": seed, "outcome": dict(outcome), "codes": dict(codes),
            "failures": failures, "slowest_s": slowest}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t = time.perf_counter()
    r = run(a.iterations, a.seed)
    print(f"{r['iterations']} mutated CSV files (seed {r['seed']}) in {time.perf_counter() - t:.1f} s "
          f"(slowest parse {r['slowest_s']:.2f} s): {r['outcome']}")
    print("error codes:", dict(sorted(r["codes"].items(), key=lambda kv: -kv[1])))
    for f in r["failures"][:5]:
        print("FAILURE", f[0], "iteration", f[1], "\n", f[2])


if __name__ == "__main__":
    main()
