"""Benchmark: `limbguard synth` throughput (FHIR resources written per second).

    .venv/bin/python bench/synth.py                  # 50,000 people, seed 1
    .venv/bin/python bench/synth.py --patients 200000 --json

Writes a population export into a scratch folder with `limbguard.synth.export`
(the same code as the command, without Django), after building the code tables once
(they load from the CMS files in about a second, a one-off per process), and prints
people, resources, seconds, resources/s and people/s, the target (50,000 resources/s)
and its ratio. Exit status 0 when the target is met. CPU time is printed beside wall
time: on a shared machine the wall figure depends on the other load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from limbguard.synth.cohort import simulate
from limbguard.synth.export import write_export
from limbguard.vascular import codes

TARGET = 50_000  # resources/s (issue 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cohort", choices=("population", "clinic"), default="population")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    warm = time.perf_counter()
    codes.categorize("ICD10CM", "E11.9")  # load the CMS tables: a one-off per process
    simulate(args.seed, 0, as_of=as_of, centers=("harbor",))
    warm = time.perf_counter() - warm
    with tempfile.TemporaryDirectory(prefix="limbguard-bench-synth-") as folder:
        wall, cpu = time.perf_counter(), time.process_time()
        summary = write_export(
            Path(folder),
            patients=args.patients,
            seed=args.seed,
            as_of=as_of,
            cohort=args.cohort,
            compress=args.gzip,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
    rate = round(summary.resources / wall)
    result: dict[str, object] = {
        "patients": summary.patients,
        "resources": summary.resources,
        "by_type": summary.counts,
        "bytes": size,
        "seconds": round(wall, 2),
        "code_tables_load_seconds": round(warm, 2),
        "cpu_seconds": round(cpu, 2),
        "resources_per_second": round(summary.resources / wall),
        "resources_per_cpu_second": round(summary.resources / cpu),
        "people_per_second": round(summary.patients / wall),
        "target_resources_per_second": TARGET,
        "ratio_to_target": round(summary.resources / wall / TARGET, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"synth: {result['patients']:,} people, {result['resources']:,} resources "
            f"({size / 1e6:.0f} MB) in {wall:.1f} s (cpu {cpu:.1f} s)\n"
            f"  {result['resources_per_second']:,} resources/s "
            f"({result['resources_per_cpu_second']:,} per cpu-second), "
            f"{result['people_per_second']:,} people/s\n"
            f"  target {TARGET:,} resources/s: ratio {result['ratio_to_target']} "
            f"(one-off code table load before: {warm:.1f} s)"
        )
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
