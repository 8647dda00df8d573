"""`limbguard import PATH...`: FHIR R4 Bundles, Bulk NDJSON files and folders → registry."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError

from limbguard.accounts.models import User
from limbguard.clinics.models import Center
from limbguard.fhir.importer import DEFAULT_BATCH, import_paths
from limbguard.fhir.progress import progress_bar
from limbguard.fhir.reader import InputError


class Command(BaseCommand):
    help = (
        "Import FHIR R4 (Bundle JSON, Bulk NDJSON files or folders, .gz too) into the "
        "registry through its services; idempotent. Exit status 1 when anything was "
        "rejected; each rejected line is reported on stderr as file:line: reason."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="files or folders")
        parser.add_argument(
            "--center", help="center slug for patients that name none (managingOrganization)"
        )
        parser.add_argument("--user", help="user name the audit trail records (default: system)")
        parser.add_argument("--source", default="", help="source system label kept on records")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        center = None
        if options["center"]:
            center = Center.objects.filter(slug=options["center"]).first()
            if center is None:
                raise CommandError(f"--center: no center {options['center']!r}")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user {options['user']!r}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")

        def report_error(message: str) -> None:
            self.stderr.write(message)

        try:
            with progress_bar(
                "import", total=None, unit="bytes", enabled=not options["no_progress"]
            ) as update:
                report = import_paths(
                    options["paths"],
                    acting_user=user,
                    default_center=center,
                    source_system=options["source"] or "limbguard import",
                    batch_size=options["batch_size"],
                    on_error=report_error,
                    progress=update,
                )
        except InputError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(orjson.dumps(report.as_dict()).decode())
        else:
            self.stdout.write(f"import: {report.summary()}")
        if report.rejected:
            sys.exit(1)
