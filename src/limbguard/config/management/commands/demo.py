"""`limbguard demo`: load the synthetic demo data and print the demo logins."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from limbguard.assessments.demo import ensure_pathway_demo
from limbguard.config import demo
from limbguard.intake.demo import ensure_intake_demo
from limbguard.outcomes.demo import ensure_outcomes_demo
from limbguard.scheduling.demo import ensure_demo_schedule


class Command(BaseCommand):
    help = "Load demo centers, one user per role and synthetic patients (idempotent)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--patients", type=int, default=240, help="synthetic patients (default 240)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        centers = demo.ensure_centers()
        users = demo.ensure_users(centers)
        created = demo.ensure_patients(centers, options["patients"])
        self.stdout.write(f"Demo data: {len(centers)} centers, {created} new patients.")
        self.stdout.write(f"Pathway demo: {ensure_pathway_demo(centers)} new patients (PW-10xx).")
        self.stdout.write(f"Schedule demo: {ensure_demo_schedule(centers)} new appointments.")
        self.stdout.write(f"Intake demo: {ensure_intake_demo(centers)} new requests.")
        self.stdout.write(f"Outcomes demo: {ensure_outcomes_demo(centers)} new patients (OC-xxxx).")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for spec, _ in users:
            where = ", ".join(spec.centers) or "all centers"
            self.stdout.write(f"  {spec.username:<11} {spec.role.label:<32} {where}")
