"""A bounded fuzzing run of the X12 reader: random byte mutations of the public fixtures (flip,
insert, delete, with X12-significant bytes favoured), each parsed; any exception other than the
project's own InputFileError is a failure. Deterministic for a seed. Prints the counts.

    uv run python bench/fuzz_x12.py [--iterations 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.errors import InputFileError  # noqa: E402
from transforms.x12 import parse_x12  # noqa: E402

SIGNIFICANT = list(b"*:~^\n\r 0123456789.-ABCDEGILMNPQSTVX\x00\xff")


def fixtures() -> list[tuple[str, bytes]]:
    folder = ROOT / "tests" / "fixtures" / "x12"
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.suffix not in (".md", ".json", ".tsv")]


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(b) + 1)
        byte = rng.choice(SIGNIFICANT) if rng.random() < 0.7 else rng.randrange(256)
        op = rng.randrange(3)
        if op == 0 and pos < len(b):
            b[pos] = byte
        elif op == 1:
            b.insert(pos, byte)
        elif pos < len(b):
            del b[pos]
    return bytes(b)


def run(iterations: int, seed: int) -> dict:
    rng = random.Random(seed)
    files = fixtures()
    outcome: Counter = Counter()
    codes: Counter = Counter()
    failures = []
    for i in range(iterations):
        name, data = files[i % len(files)]
        m = mutate(data, rng)
        try:
            parse_x12(m, name, "f" * 16, lambda v: None)
            outcome["parsed"] += 1
        except InputFileError as e:
            outcome["input_file_error"] += 1
            codes[e.code] += 1
        except Exception:  # noqa: BLE001 - that is what a fuzzer looks for
            outcome["other_exception"] += 1
            failures.append((name, i, traceback.format_exc(limit=3)))
    return {"iterations": iterations, "seed": seed, "outcome": dict(outcome), "codes": dict(codes), "failures": failures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t = time.perf_counter()
    r = run(a.iterations, a.seed)
    print(f"{r['iterations']} mutated files (seed {r['seed']}) in {time.perf_counter() - t:.1f} s: {r['outcome']}")
    print("error codes:", dict(sorted(r["codes"].items(), key=lambda kv: -kv[1])))
    for f in r["failures"][:5]:
        print("FAILURE", f[0], "iteration", f[1], "\n", f[2])
    sys.exit(1 if r["failures"] else 0)


if __name__ == "__main__":
    main()
