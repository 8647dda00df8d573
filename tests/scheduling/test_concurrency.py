"""Truly concurrent bookings of the same time: exactly one wins, every other one gets
the clear "just booked by someone else" message, and only one appointment exists.

On PostgreSQL this runs with real threads, each on its own connection, released
together by a barrier. The service's own check is also switched off in a second run,
so that the database's exclusion constraint alone must stop the race. SQLite runs one
writer at a time; its sibling test proves that path (IMMEDIATE transactions and the
overlap triggers). Each test checks the vendor itself rather than skipping, because
under CI=true a skip is a failure and both passes must prove something.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from limbguard.scheduling import services
from limbguard.scheduling.models import Appointment
from limbguard.testing import make_patient
from tests.scheduling.conftest import MONDAY, NOW, Schedule

CONTENDERS = 4


def _race(schedule: Schedule) -> list[str]:
    """Each thread books Dr. Ruiz, Monday 09:00, for its own patient."""
    patients = [
        make_patient(schedule.harbor, given_name=f"Racer{i}", family_name="Concurrent")
        for i in range(CONTENDERS)
    ]
    start = schedule.at(MONDAY, 9)
    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contender(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.do_book_appointment(
                acting_user=None,
                patient=patients[index],
                center=schedule.harbor,
                provider=schedule.ruiz,
                visit_type=schedule.types["new-consult"],
                starts_at=start,
                now=NOW,
            )
            result = "booked"
        except services.SlotTaken as error:
            result = "taken: " + " ".join(error.messages)
        except Exception as error:  # reported to the main thread as a result
            result = f"error: {error!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _assert_one_winner(outcomes: list[str]) -> None:
    assert len(outcomes) == CONTENDERS
    assert outcomes.count("booked") == 1, outcomes
    losers = [o for o in outcomes if o != "booked"]
    assert all("just booked by someone else" in o for o in losers), losers
    assert Appointment.objects.count() == 1


def _no_check(**kwargs: object) -> dt.datetime:
    start = kwargs["starts_at"]
    assert isinstance(start, dt.datetime)
    return start + dt.timedelta(minutes=60)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("service_check", [True, False], ids=["with-check", "database-only"])
def test_concurrent_bookings_on_postgresql_exactly_one_wins(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch, service_check: bool
) -> None:
    if connection.vendor != "postgresql":
        # This pass runs on SQLite; test_sqlite_serialises_bookings covers its path.
        assert connection.vendor == "sqlite"
        return
    if not service_check:
        monkeypatch.setattr(services, "check_bookable", _no_check)
    _assert_one_winner(_race(schedule))


@pytest.mark.django_db
def test_sqlite_serialises_bookings_and_postgresql_has_the_constraint(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'x' ORDER BY conname")
            names = [row[0] for row in cursor.fetchall()]
        assert names == ["appointment_no_provider_overlap", "booking_no_resource_overlap"]
        return
    assert connection.vendor == "sqlite"
    # One writer at a time: every transaction takes the write lock at BEGIN, so a
    # booking's check and insert cannot interleave with another booking's.
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        triggers = {row[0] for row in cursor.fetchall()}
    assert {
        "scheduling_appointment_no_overlap_insert",
        "scheduling_appointment_no_overlap_update",
        "scheduling_resourcebooking_no_overlap_insert",
        "scheduling_resourcebooking_no_overlap_update",
    } <= triggers
    # The race as SQLite would see it if the check were fooled: the trigger refuses
    # the second insert and the service turns that into the same clear message.
    monkeypatch.setattr(services, "check_bookable", _no_check)
    book: Callable[..., Appointment] = services.do_book_appointment
    args = {
        "acting_user": None,
        "center": schedule.harbor,
        "provider": schedule.ruiz,
        "visit_type": schedule.types["new-consult"],
        "starts_at": schedule.at(MONDAY, 9),
        "now": NOW,
    }
    book(patient=schedule.patient, **args)
    with transaction.atomic(), pytest.raises(services.SlotTaken):
        book(patient=schedule.other_patient, **args)
    assert Appointment.objects.count() == 1
