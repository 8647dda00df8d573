"""`limbguard serve`: collect static files and run gunicorn on the WSGI app."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve LimbGuard with gunicorn (static files through WhiteNoise)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--bind", default="127.0.0.1:8000", help="host:port (default 127.0.0.1:8000)"
        )
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"LimbGuard on http://{options['bind']}/  (Ctrl-C stops)")
        argv = [
            "gunicorn",
            "limbguard.config.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
        ]
        # Replace this process so Ctrl-C and signals reach gunicorn directly.
        os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606
