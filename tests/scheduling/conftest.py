"""A realistic schedule (the demo's set-up) and a fixed "now", far from any real date,
so every test is deterministic: the week of Monday 10 March 2031 at Harbor, the first
week of daylight time in America/Los_Angeles (clocks sprang forward Sunday 9 March)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator
from dataclasses import dataclass

import pytest
from django.db import connection
from pytest_django.plugin import blocking_manager_key

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


# --- transactional tests (real concurrency) -------------------------------------------
# Their teardown empties every table, which append-only tables (the audit trail and
# others) refuse through triggers. For that flush of the throw-away test database only,
# user triggers are switched off (PostgreSQL: the test database's owner may) or dropped
# and re-created from their own SQL (SQLite), and put back right after.


def _suspend_triggers() -> Callable[[], None]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
            )
            tables = [row[0] for row in cursor.fetchall()]
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")

            def resume() -> None:
                with connection.cursor() as again:
                    for table in tables:
                        again.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

            return resume
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')

    def recreate() -> None:
        with connection.cursor() as again:
            for _, sql in triggers:
                again.execute(sql)

    return recreate


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    marker = item.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return (yield)
    blocker = item.config.stash[blocking_manager_key]
    with blocker.unblock():
        resume = _suspend_triggers()
    try:
        return (yield)
    finally:
        with blocker.unblock():
            resume()
