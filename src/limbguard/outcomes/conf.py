"""Outcomes configuration from the environment.

``LIMBGUARD_PROGRAM_START``: the limb salvage program's start date (YYYY-MM-DD) for the
before/after comparison; unset = no comparison unless the page or command gives one (in
demo mode: the demo program's start, two years ago). A malformed value stops the process
(config/env.py: refuse bad values).
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone


def program_start(environ: dict[str, str] | None = None) -> dt.date | None:
    raw = (environ if environ is not None else os.environ).get("LIMBGUARD_PROGRAM_START", "")
    if not raw.strip():
        if settings.DEMO:
            from limbguard.outcomes.demo import program_start as demo_start

            return demo_start(timezone.localdate())
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"LIMBGUARD_PROGRAM_START must be a date YYYY-MM-DD, got {raw!r}"
        ) from None
