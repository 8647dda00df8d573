"""`limbguard screen INPUT --engine duckdb|spark [--master URL] --out DIR [--to-intake]`."""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError

from limbguard.fhir.progress import progress_bar
from limbguard.screening import rules
from limbguard.screening.compiler import ViewError
from limbguard.screening.engines import ENGINES, EngineError, open_engine
from limbguard.screening.inputs import InputError
from limbguard.screening.screen import run_screen


class Command(BaseCommand):
    help = (
        "Screen a FHIR Bulk export (NDJSON, .gz, or Parquet) for people at risk of limb "
        "loss with no vascular evaluation: SQL on FHIR views on DuckDB (default) or Spark. "
        "Writes worklist.parquet/.csv, worklist-group.json (FHIR Group), screened.parquet, "
        "measure.csv/.json (amputations without prior evaluation) and summary.json."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("input", type=Path, help="export folder or its manifest.json")
        parser.add_argument("--engine", choices=ENGINES, default="duckdb")
        parser.add_argument(
            "--master", default="local[*]", help="Spark master URL (default local[*])"
        )
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="reference date YYYY-MM-DD (default: the manifest's transactionTime, else today)",
        )
        parser.add_argument(
            "--window-days",
            type=int,
            default=rules.EVALUATION_WINDOW_DAYS,
            help="unevaluated: no vascular evaluation within this many days (default 365)",
        )
        parser.add_argument(
            "--lookback-days",
            type=int,
            default=rules.AMPUTATION_LOOKBACK_DAYS,
            help="measure: evaluation within this many days before an amputation (default 90)",
        )
        parser.add_argument(
            "--to-intake",
            action="store_true",
            help="refer the highest-tier unevaluated patients to the intake triage queue",
        )
        parser.add_argument(
            "--intake-tier", type=int, default=1, help="refer tiers up to this one (default 1)"
        )
        parser.add_argument(
            "--intake-email", default=None, help="requester e-mail of the referrals"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("window_days", "lookback_days"):
            if options[name] < (1 if name == "window_days" else 0):
                raise CommandError(f"--{name.replace('_', '-')}: too small")
        if options["intake_tier"] not in (1, 2, 3):
            raise CommandError("--intake-tier: 1, 2 or 3")
        try:
            engine = open_engine(options["engine"], master=options["master"])
        except EngineError as error:
            raise CommandError(str(error)) from error
        try:
            with progress_bar(
                "screen", total=None, unit="steps", enabled=not options["no_progress"]
            ) as update:
                result = run_screen(
                    engine,
                    options["input"],
                    options["out"],
                    as_of=options["as_of"],
                    window_days=options["window_days"],
                    lookback_days=options["lookback_days"],
                    progress=lambda done, total: update(done, total=total),
                )
        except (InputError, ViewError, ValueError) as error:
            raise CommandError(str(error)) from error
        finally:
            engine.close()
        for line in result.malformed_lines:
            self.stderr.write(f"malformed: {line}")
        for rule in result.not_evaluated:
            self.stderr.write(f"not evaluated (input has no such resources): {rule}")
        summary = result.summary()
        if options["to_intake"]:
            from limbguard.screening.intake_bridge import do_send_to_intake

            try:
                sent = do_send_to_intake(
                    result=result,
                    max_tier=options["intake_tier"],
                    requester_email=options["intake_email"],
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
            summary["intake"] = {
                "created": sent.created,
                "skipped": sent.skipped,
                "eligible": sent.eligible,
            }
        if options["json"]:
            self.stdout.write(orjson.dumps(summary, option=orjson.OPT_SORT_KEYS).decode())
        else:
            line = result.line()
            if options["to_intake"]:
                intake = summary["intake"]
                line += (
                    f"; intake: {intake['created']} referrals created, "
                    f"{intake['skipped']} already there"
                )
            self.stdout.write(line)
        sys.stdout.flush()
