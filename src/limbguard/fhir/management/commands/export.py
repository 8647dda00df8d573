"""`limbguard export --out DIR`: the registry as FHIR R4 Bulk NDJSON with a manifest."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError

from limbguard.accounts.models import User
from limbguard.fhir.exporter import export_registry
from limbguard.fhir.progress import progress_bar
from limbguard.registry.models import Patient


class Command(BaseCommand):
    help = (
        "Export the registry (Patient, Encounter, Condition, Observation incl. staging, "
        "Procedure) as FHIR Bulk NDJSON; each exported patient is audited."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument("--center", help="only the patients of this center (slug)")
        parser.add_argument("--user", help="user name the audit trail records (default: system)")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user {options['user']!r}")
        patients = Patient.objects.all()
        if options["center"]:
            patients = patients.filter(home_center__slug=options["center"])
        started = time.perf_counter()
        with progress_bar(
            "export", total=None, unit="resources", enabled=not options["no_progress"]
        ) as update:
            summary = export_registry(
                options["out"], acting_user=user, patients=patients, progress=update
            )
        seconds = time.perf_counter() - started
        total = sum(summary.counts.values())
        if options["json"]:
            result = {"by_type": summary.counts, "resources": total, "seconds": round(seconds, 3)}
            self.stdout.write(orjson.dumps(result).decode())
        else:
            self.stdout.write(
                f"export: {summary.patients} patients, {total} resources in {seconds:.1f} s "
                f"-> {options['out']}"
            )
