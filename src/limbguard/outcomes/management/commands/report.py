"""`limbguard report [--center C] [--from D --to D] [--json | --pdf FILE]`: the program
outcome figures of the analytics page, printed, as JSON, or as the printable PDF."""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction
from limbguard.clinics.models import Center
from limbguard.outcomes import conf, export
from limbguard.outcomes.service import Selection, program_report
from limbguard.treatment.vocab import CohortIndication


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


class Command(BaseCommand):
    help = "Program outcomes (AFS, survival, amputation, limb salvage) beside benchmarks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--center", default="", help="center slug (default: all)")
        parser.add_argument("--from", dest="date_from", type=_date, help="first index date")
        parser.add_argument("--to", dest="date_to", type=_date, help="last index date")
        parser.add_argument("--indication", default="", choices=["", *CohortIndication.values])
        parser.add_argument("--wifi-stage", type=int, choices=[1, 2, 3, 4])
        parser.add_argument(
            "--program-start",
            type=_date,
            help="before/after split (default LIMBGUARD_PROGRAM_START)",
        )
        parser.add_argument("--as-of", type=_date, help="analysis date (default today)")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="machine-readable output")
        output.add_argument("--pdf", type=Path, metavar="FILE", help="write the printable report")

    def handle(self, *args: Any, **options: Any) -> None:
        center = options["center"]
        if center and not Center.objects.filter(slug=center).exists():
            known = ", ".join(Center.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f"unknown center {center!r} (known: {known})")
        if (
            options["date_from"]
            and options["date_to"]
            and options["date_from"] > options["date_to"]
        ):
            raise CommandError("--from is after --to")
        selection = Selection(
            as_of=options["as_of"] or timezone.localdate(),
            center=center,
            date_from=options["date_from"],
            date_to=options["date_to"],
            indication=options["indication"],
            wifi_stage=options["wifi_stage"],
            program_start=options["program_start"] or conf.program_start(),
        )
        report = program_report(selection)
        audit.record(
            acting_user=None,
            action=AuditAction.EXPORT if options["pdf"] else AuditAction.SEARCH,
            summary=f"limbguard report: {selection.describe()}",
        )
        if options["json"]:
            self.stdout.write(json.dumps(export.to_json(report), indent=2))
        elif options["pdf"]:
            from limbguard.outcomes.plots import report_pdf

            path: Path = options["pdf"]
            path.write_bytes(report_pdf(report, export.summary_lines(report)))
            self.stdout.write(f"Wrote {path} ({report.limbs} treated limbs).")
        else:
            self.stdout.write("\n".join(export.summary_lines(report)))
