"""A realistic schedule (the demo's set-up) and a fixed "now", far from any real date,
so every test is deterministic: the week of Monday 10 March 2031 at Harbor, the first
week of daylight time in America/Los_Angeles (clocks sprang forward Sunday 9 March)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from limbguard.clinics.models import Center, Provider
from limbguard.registry.models import Patient
from limbguard.scheduling.demo import ensure_setup
from limbguard.scheduling.models import VisitType
from limbguard.scheduling.timeutil import localize
from limbguard.testing import Personas, make_patient

NOW = dt.datetime(2031, 3, 1, 12, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2031, 3, 10)


@dataclass(frozen=True)
class Schedule:
    personas: Personas
    harbor: Center
    ruiz: Provider  # vascular surgeon: Harbor Mon/Wed/Fri, Inland Tue/Thu
    feld: Provider  # podiatrist: Harbor Mon/Wed/Fri, Valley Tue/Thu
    types: dict[str, VisitType]
    patient: Patient
    other_patient: Patient

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """A local wall-clock time at Harbor, in UTC."""
        return localize(day, dt.time(hour, minute), self.harbor.zone)


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    types = ensure_setup(personas.centers)
    harbor = personas.centers["harbor"]
    return Schedule(
        personas=personas,
        harbor=harbor,
        ruiz=Provider.objects.get(name="Dr. Elena Ruiz"),
        feld=Provider.objects.get(name="Dr. Noah Feld"),
        types=types,
        patient=make_patient(
            harbor, given_name="Rosa", family_name="Example", email="rosa@example.invalid"
        ),
        other_patient=make_patient(
            harbor, given_name="Omar", family_name="Sample", email="omar@example.invalid"
        ),
    )
