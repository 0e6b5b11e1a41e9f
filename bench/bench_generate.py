"""Benchmark the synthetic data generator.

    uv run python bench/bench_generate.py            # 100k and 1M claims, 26 weeks
    uv run python bench/bench_generate.py 20000      # other sizes

Each size runs in a fresh Python process (so peak RSS is that run's own) and writes into a
temporary directory that is removed afterwards. Prints seconds, claims/s, MB written and the
peak RSS (resource.getrusage) of the main process and of the largest worker process.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(claims: int, weeks: int, seed: int) -> dict[str, float]:
    from datagen.generate import generate

    with tempfile.TemporaryDirectory(prefix="datagen-bench-") as tmp:
        t0 = time.perf_counter()
        summary = generate(tmp, claims=claims, weeks=weeks, seed=seed)
        seconds = time.perf_counter() - t0
        written = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
        n_files = sum(1 for f in Path(tmp).rglob("*") if f.is_file())
    kb = (
        1 if sys.platform != "darwin" else 1024
    )  # ru_maxrss is KiB on Linux, bytes on macOS
    return {
        "claims": claims,
        "submissions": summary["claims"],
        "remittance_claims": summary["remittance_claims"],
        "seconds": round(seconds, 2),
        "claims_per_second": round(claims / seconds),
        "mb_written": round(written / 1e6, 1),
        "files": n_files,
        "peak_rss_main_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kb / 1024, 1
        ),
        "peak_rss_worker_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kb / 1024, 1
        ),
        "cpus": os.cpu_count() or 1,
    }


def main(argv: list[str]) -> None:
    if len(argv) > 1 and argv[1] == "--one":
        print(json.dumps(run_one(int(argv[2]), int(argv[3]), int(argv[4]))))
        return
    sizes = [int(a) for a in argv[1:]] or [100_000, 1_000_000]
    print(
        f"{'claims':>10} {'seconds':>8} {'claims/s':>9} {'MB':>8} {'files':>6} {'RSS main':>9} {'RSS worker':>11}"
    )
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "26", "1"],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['claims']:>10,} {r['seconds']:>8.1f} {r['claims_per_second']:>9,} {r['mb_written']:>8.1f} "
            f"{r['files']:>6} {r['peak_rss_main_mb']:>7.0f}MB {r['peak_rss_worker_mb']:>9.0f}MB",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv)
