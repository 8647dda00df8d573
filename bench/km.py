"""Benchmark: Kaplan-Meier with 95 % confidence bands for 1,000,000 synthetic subjects.

    .venv/bin/python bench/km.py                       # 1,000,000 subjects, 7 runs
    .venv/bin/python bench/km.py --subjects 200000 --repeat 9

What it does:
1. Draws, from a fixed seed, day-level follow-up for `--subjects` limbs (0-3,650 days,
   about 40 % censored), like the analytics page's durations but far more of them.
2. Times `limbguard.outcomes.survival.kaplan_meier` on them, the same call the page and
   `limbguard report` make: the lifelines fit, the log(-log) bands, the conversion to
   plain data and the at-risk table. Wall-clock seconds, `--repeat` runs (at least 5).
3. Prints the median, the fastest and the slowest run, and the ratio of the median to
   the 1-second target. Exit status 0 when the median is under the target, else 1.

Runs without Django (the survival module imports none).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from limbguard.outcomes.survival import kaplan_meier

TARGET_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    days = rng.integers(0, 3651, args.subjects)
    events = (rng.random(args.subjects) < 0.6).astype(np.int64)
    kaplan_meier(days[:1000], events[:1000], label="warm-up")  # imports, caches
    timings = []
    for _ in range(max(5, args.repeat)):
        start = time.perf_counter()
        curve = kaplan_meier(days, events, label="bench")
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    one_year = curve.at(365)
    assert one_year is not None
    print(f"Kaplan-Meier with 95 % bands, {args.subjects:,} subjects, {len(curve.days)} steps")
    machine = platform.processor() or platform.machine()
    print(f"  machine: {machine}, Python {platform.python_version()}")
    print(
        f"  median {median:.3f} s (fastest {min(timings):.3f}, slowest {max(timings):.3f}) "
        f"over {len(timings)} runs; target {TARGET_SECONDS:.1f} s; "
        f"ratio {median / TARGET_SECONDS:.2f}"
    )
    print(f"  S(365) = {one_year.value:.4f} [{one_year.lower:.4f}, {one_year.upper:.4f}]")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
