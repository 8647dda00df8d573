"""`limbguard synth`: write a synthetic limb-salvage population as FHIR Bulk NDJSON."""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from limbguard.fhir.progress import progress_bar
from limbguard.synth.export import COHORTS, DEMO_CENTERS, write_export


class Command(BaseCommand):
    help = (
        "Write a seeded synthetic population (Patient, Encounter, Condition, Observation, "
        "Procedure) as a FHIR Bulk Data export with a manifest and a ground-truth file."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, required=True, help="how many people")
        parser.add_argument("--seed", type=int, default=1, help="population seed (default 1)")
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="reference date YYYY-MM-DD (default: today); events fall before it",
        )
        parser.add_argument(
            "--centers",
            default=",".join(DEMO_CENTERS),
            help="comma-separated center slugs, assigned in turn (default: the demo's four)",
        )
        parser.add_argument("--first", type=int, default=0, help="index of the first person")
        parser.add_argument(
            "--cohort",
            choices=COHORTS,
            default="population",
            help="population: everyone aged 40+; clinic: people a limb salvage programme sees",
        )
        parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        patients: int = options["patients"]
        if patients < 0:
            raise CommandError("--patients must be 0 or more")
        centers = tuple(c.strip() for c in options["centers"].split(",") if c.strip())
        if not centers:
            raise CommandError("--centers: give at least one center slug")
        as_of: dt.date = options["as_of"] or timezone.localdate()
        started = time.perf_counter()
        with progress_bar(
            "synth", total=patients, unit="people", enabled=not options["no_progress"]
        ) as advance:
            summary = write_export(
                options["out"],
                patients=patients,
                seed=options["seed"],
                as_of=as_of,
                centers=centers,
                first=options["first"],
                compress=options["gzip"],
                cohort=options["cohort"],
                progress=advance,
            )
        seconds = max(time.perf_counter() - started, 1e-9)
        result = {
            "patients": summary.patients,
            "resources": summary.resources,
            "by_type": summary.counts,
            "seconds": round(seconds, 3),
            "resources_per_second": round(summary.resources / seconds),
            "out": str(options["out"]),
            "as_of": as_of.isoformat(),
        }
        if options["json"]:
            self.stdout.write(orjson.dumps(result).decode())
        else:
            self.stdout.write(
                f"synth: {summary.patients} people, {summary.resources} resources in "
                f"{seconds:.1f} s ({result['resources_per_second']}/s) -> {options['out']}"
            )
