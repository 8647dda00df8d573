"""Benchmark: `limbguard screen` on a 200,000-patient synthetic export, in one run.

    .venv/bin/python bench/screening.py                       # 200,000 patients, fresh scratch
    .venv/bin/python bench/screening.py --scratch /tmp/scr   # reuse a generated export
    .venv/bin/python bench/screening.py --patients 20000 --no-spark

What it does:
1. Generates the export with `limbguard.synth` (seed 1, a fixed reference date) into a
   scratch folder outside the repository (kept with ``--scratch``, else removed), and
   converts it to Parquet (`screening.screen.to_parquet`). Neither step is timed.
2. Warms what every screen pays once per process and does not grow with the data (the
   ICD-10-CM value-set expansion, the FHIR type models and the compiled shipped views);
   the warm-up is printed.
3. Times, each as the median of ``--repeat`` runs (Spark: one run, after its session
   has started; the start is printed apart):
   * DuckDB screening the NDJSON, and DuckDB merely scanning the same files
     (``SELECT count(*) FROM read_json(file)`` per file, DuckDB's default JSON scan);
   * DuckDB screening the Parquet, beside ``count(*)`` over the same Parquet files
     (answered from the files' metadata, so this baseline is nearly free);
   * Spark ``local[2]`` screening the NDJSON, beside the same DuckDB NDJSON scan.
   A screen is the whole of `run_screen`: read, views, rules, measure, every output file.
   For context the NDJSON line count without JSON parsing (``read_ndjson_objects``) is
   printed too.
4. Prints patients/s and MB/s (10^6 bytes of input files per second) for each, the
   ratio to its raw scan, and checks the target of issue 9: DuckDB on NDJSON at least
   half the raw scan rate. Exit status 0 when it holds, 1 when not. The process CPU
   seconds of the NDJSON screen and its scan are printed too: other work on the machine
   stretches wall time, not CPU time, so they tell a loaded run from a slow screen.

The machine has two cores shared with other work: DuckDB uses both, Spark runs
``local[2]`` with a 6 GB driver (results are collected to the driver to be written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from limbguard.screening import valuesets
from limbguard.screening.engines import DuckDBEngine, SparkEngine, spark_session
from limbguard.screening.inputs import find_export
from limbguard.screening.screen import RESOURCE_TYPES, compiled_views, run_screen, to_parquet
from limbguard.synth.export import write_export

AS_OF = dt.date(2026, 6, 30)
TARGET = 0.5  # issue 9: DuckDB on NDJSON at least half the raw scan rate


def _median_seconds(action: Callable[[], Any], repeat: int) -> float:
    return _median_times(action, repeat)[0]


def _median_times(action: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall seconds of ``repeat`` runs, and their median process CPU seconds
    (every thread), which other work on the machine does not stretch."""
    times, cpu_times = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - started_cpu)
    return statistics.median(times), statistics.median(cpu_times)


def _files(folder: Path) -> list[Path]:
    export = find_export(folder, RESOURCE_TYPES)
    return [path for kind in RESOURCE_TYPES for path in export.files.get(kind, [])]


def _scan(files: list[Path], reader: str) -> int:
    con = duckdb.connect()
    try:
        total = 0
        for path in files:
            # The bench's own file paths, quoted as a DuckDB string literal.
            literal = "'" + str(path).replace("'", "''") + "'"
            row = con.execute(f"SELECT count(*) FROM {reader}({literal})").fetchone()  # noqa: S608
            total += int(row[0]) if row else 0
        return total
    finally:
        con.close()


def _prepare(scratch: Path, patients: int) -> tuple[Path, Path]:
    ndjson, parquet = scratch / "ndjson", scratch / "parquet"
    marker = scratch / f"generated-{patients}"
    if not marker.exists():
        shutil.rmtree(ndjson, ignore_errors=True)
        shutil.rmtree(parquet, ignore_errors=True)
        started = time.perf_counter()
        write_export(ndjson, patients=patients, seed=1, as_of=AS_OF)
        print(f"generated {patients:,} patients in {time.perf_counter() - started:.0f} s")
        engine = DuckDBEngine()
        try:
            to_parquet(engine, ndjson, parquet)
        finally:
            engine.close()
        marker.touch()
    return ndjson, parquet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--scratch", type=Path, default=None, help="kept scratch folder")
    parser.add_argument("--repeat", type=int, default=3, help="DuckDB runs per figure")
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args(argv)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="limbguard-bench-screen-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, scratch)
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(args: argparse.Namespace, scratch: Path) -> int:
    print(f"python {platform.python_version()}, duckdb {duckdb.__version__}, {scratch}")
    ndjson, parquet = _prepare(scratch, args.patients)
    nd_files, pq_files = _files(ndjson), _files(parquet)
    nd_mb = sum(p.stat().st_size for p in nd_files) / 1e6
    pq_mb = sum(p.stat().st_size for p in pq_files) / 1e6
    started = time.perf_counter()
    valuesets.rows()
    compiled_views("duckdb")
    compiled_views("spark")
    warm = time.perf_counter() - started
    print(f"warm-up (value sets, FHIR type models, compiled views): {warm:.1f} s")

    outputs = scratch / "out"
    results: list[tuple[str, float, float, float, str]] = []

    def screen(engine_factory: Callable[[], Any], source: Path) -> tuple[float, float]:
        def once() -> None:
            engine = engine_factory()
            try:
                result = run_screen(engine, source, outputs)
                assert result.patients == args.patients, result.line()
            finally:
                engine.close()

        return _median_times(once, args.repeat)

    nd_scan, nd_scan_cpu = _median_times(lambda: _scan(nd_files, "read_json"), args.repeat)
    lines = _median_seconds(lambda: _scan(nd_files, "read_ndjson_objects"), args.repeat)
    pq_scan = _median_seconds(lambda: _scan(pq_files, "read_parquet"), args.repeat)
    duck_nd, duck_nd_cpu = screen(DuckDBEngine, ndjson)
    results.append(("DuckDB, NDJSON", duck_nd, nd_mb, nd_scan, "read_json count(*)"))
    duck_pq, _ = screen(DuckDBEngine, parquet)
    results.append(("DuckDB, Parquet", duck_pq, pq_mb, pq_scan, "read_parquet count(*)"))
    if not args.no_spark:
        started = time.perf_counter()
        session = spark_session("local[2]", {"spark.driver.memory": "6g"})
        print(f"Spark local[2] session start: {time.perf_counter() - started:.1f} s (not counted)")
        spark_engine = SparkEngine(session=session)
        started = time.perf_counter()
        result = run_screen(spark_engine, ndjson, outputs)
        spark_nd = time.perf_counter() - started
        spark_engine.close()
        session.stop()
        assert result.patients == args.patients
        results.append(("Spark local[2], NDJSON", spark_nd, nd_mb, nd_scan, "read_json count(*)"))

    n = args.patients
    print(
        f"\n{n:,} patients; NDJSON {nd_mb:,.0f} MB in {len(nd_files)} files, "
        f"Parquet {pq_mb:,.0f} MB; NDJSON lines without parsing JSON: "
        f"{n / lines:,.0f} patients/s, {nd_mb / lines:,.0f} MB/s"
    )
    header = (
        f"{'screen':<24}{'seconds':>9}{'patients/s':>12}{'MB/s':>8}   "
        f"{'raw scan (DuckDB)':<22}{'patients/s':>12}{'MB/s':>8}{'ratio':>7}"
    )
    print(header)
    for name, seconds, mb, scan, scan_name in results:
        print(
            f"{name:<24}{seconds:>9.2f}{n / seconds:>12,.0f}{mb / seconds:>8,.0f}   "
            f"{scan_name:<22}{n / scan:>12,.0f}{mb / scan:>8,.0f}{scan / seconds:>7.2f}"
        )
    print(
        f"process CPU seconds (all threads; medians): DuckDB NDJSON screen {duck_nd_cpu:.2f}, "
        f"read_json count(*) {nd_scan_cpu:.2f}: ratio {nd_scan_cpu / duck_nd_cpu:.2f}"
    )
    ratio = nd_scan / duck_nd
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(
        f"\ntarget: DuckDB on NDJSON >= {TARGET:.0%} of the raw scan rate: {ratio:.2f} -> {verdict}"
    )
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
