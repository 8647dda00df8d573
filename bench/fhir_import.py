"""Benchmark: `limbguard import` of a 10,000-patient synthetic Bulk export.

    .venv/bin/python bench/fhir_import.py                    # SQLite (scratch file)
    .venv/bin/python bench/fhir_import.py --database-url postgres://USER:PW@127.0.0.1:5432/X
    .venv/bin/python bench/fhir_import.py --both --database-url postgres://...

What it does:
1. `limbguard synth` writes --patients people (default 10,000; seed 1, as of yesterday)
   into a scratch folder: Patient, Encounter, Condition, Observation, Procedure NDJSON.
2. For each database: a fresh one (a SQLite file in the scratch folder; on PostgreSQL
   its own database `limbguard_bench_fhir`, created and dropped, the role needs
   CREATEDB), `limbguard migrate`, the demo centers, then, in a child process with
   that DATABASE_URL, the import exactly as `limbguard import` runs it: R4B validation
   (in a worker process, as for any large input), the registry's batch services, one
   audit row per record, derived risk factors and limb status.
3. A second import of the same files (everything unchanged: the idempotent path).
4. Prints resources, seconds and resources/s for both imports per database, beside
   the target (5,000 resources/s; a HAPI FHIR server ingests about 2,200/s on 8 vCPU).
   Exit status 0 when every first import meets the target. --json for JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TARGET = 5_000
HAPI = 2_200
BENCH_DB = "limbguard_bench_fhir"
ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _postgres_scratch(url: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    return urlsplit(url)._replace(path=f"/{BENCH_DB}").geturl()


def _drop_postgres_scratch(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(BENCH_DB)))


def child(export: str) -> None:
    """In a child process with the bench DATABASE_URL: migrate, centers, import twice."""
    import time

    import django

    django.setup()
    from django.core.management import call_command

    from limbguard.config.demo import ensure_centers
    from limbguard.fhir.importer import import_paths

    call_command("migrate", verbosity=0)
    ensure_centers()
    import resource

    def cpu_all() -> float:
        """CPU seconds of this process and its finished children (the check workers)."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    runs = []
    for _ in range(2):
        cpu = time.process_time()
        total_cpu = cpu_all()
        report = import_paths([Path(export)], acting_user=None, source_system="bench")
        runs.append(
            {
                "read": report.read,
                "created": report.created,
                "skipped": report.skipped,
                "rejected": report.rejected,
                "seconds": round(report.seconds, 2),
                "main_process_cpu_seconds": round(time.process_time() - cpu, 2),
                "cpu_seconds_with_workers": round(cpu_all() - total_cpu, 2),
                "load_average": os.getloadavg()[0],
                "resources_per_second": round(report.read / report.seconds),
            }
        )
    runs[0]["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT " + json.dumps(runs))


def _run(database_url: str, export: Path, scratch: Path) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "limbguard.config.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "x" * 40),
        "LIMBGUARD_DATA_DIR": str(scratch),
    }
    out = subprocess.run(
        [PYTHON, __file__, "--child", str(export)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    runs: list[dict[str, Any]] = json.loads(line.removeprefix("RESULT "))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite only)")
    parser.add_argument("--both", action="store_true", help="SQLite and the --database-url")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="limbguard-bench-fhir-") as folder:
        scratch = Path(folder)
        export = scratch / "export"
        subprocess.run(
            [PYTHON, "-c", _SYNTH, str(export), str(args.patients)], cwd=ROOT, check=True
        )
        databases = []
        if args.both or not args.database_url:
            databases.append(("sqlite", f"sqlite:///{scratch / 'bench.sqlite3'}"))
        if args.database_url:
            databases.append(("postgresql", args.database_url))
        for name, url in databases:
            target = _postgres_scratch(url) if name == "postgresql" else url
            try:
                first, second = _run(target, export, scratch)
            finally:
                if name == "postgresql":
                    _drop_postgres_scratch(url)
            results[name] = {"first_import": first, "second_import_unchanged": second}
    ok = all(r["first_import"]["resources_per_second"] >= TARGET for r in results.values())
    if args.json:
        print(json.dumps({"patients": args.patients, "target": TARGET, "results": results}))
    else:
        print(f"FHIR import of a {args.patients:,}-patient synthetic Bulk export")
        for name, result in results.items():
            for label, run in result.items():
                rate = run["resources_per_second"]
                print(
                    f"  {name:<10} {label:<24} {run['read']:>8,} resources "
                    f"in {run['seconds']:>6.1f} s = {rate:>6,}/s "
                    f"(x{rate / TARGET:.2f} of the {TARGET:,}/s target, "
                    f"x{rate / HAPI:.1f} HAPI's {HAPI:,}/s on 8 vCPU)"
                )
            first = result["first_import"]
            print(
                f"  {name:<10} first import: importer {first['main_process_cpu_seconds']} "
                f"cpu-s, with check workers {first['cpu_seconds_with_workers']} cpu-s "
                f"(load average {first['load_average']:.1f} on {os.cpu_count()} cores); "
                f"peak memory of the importing process {first['peak_rss_mb']} MB"
            )
    return 0 if ok else 1


_SYNTH = """
import datetime as dt, sys
from pathlib import Path
from limbguard.synth.export import write_export
as_of = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
write_export(Path(sys.argv[1]), patients=int(sys.argv[2]), seed=1, as_of=as_of)
"""

if __name__ == "__main__":
    raise SystemExit(main())
