"""Daylight-saving transitions in America/Los_Angeles, 2031: clocks spring forward on
Sunday 9 March (02:00 → 03:00, a 23-hour day) and fall back on Sunday 2 November
(02:00 → 01:00, a 25-hour day). Stored in UTC, shown and entered in local time."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django_tasks_db.models import DBTaskResult

from limbguard.clinics.models import Center, Weekday
from limbguard.scheduling import availability, calendar, services
from limbguard.scheduling.forms import BookForm
from limbguard.scheduling.models import AvailabilityTemplate
from limbguard.scheduling.timeutil import NonexistentLocalTime, local_bounds, localize
from tests.scheduling.conftest import NOW, Schedule

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
SPRING = dt.date(2031, 3, 9)
FALL = dt.date(2031, 11, 2)
UTC = dt.UTC


def test_a_time_in_the_spring_gap_does_not_exist() -> None:
    with pytest.raises(NonexistentLocalTime, match="does not exist"):
        localize(SPRING, dt.time(2, 30), LA)
    assert localize(SPRING, dt.time(1, 59), LA) == dt.datetime(2031, 3, 9, 9, 59, tzinfo=UTC)
    assert localize(SPRING, dt.time(3, 0), LA) == dt.datetime(2031, 3, 9, 10, 0, tzinfo=UTC)


def test_the_repeated_fall_hour_means_the_first_unless_told() -> None:
    first = localize(FALL, dt.time(1, 30), LA)
    second = localize(FALL, dt.time(1, 30), LA, fold=1)
    assert first == dt.datetime(2031, 11, 2, 8, 30, tzinfo=UTC)  # 01:30 PDT
    assert second == dt.datetime(2031, 11, 2, 9, 30, tzinfo=UTC)  # 01:30 PST
    assert second - first == dt.timedelta(hours=1)


def test_transition_days_are_23_and_25_hours_long() -> None:
    start, end = local_bounds(SPRING, LA)
    assert end - start == dt.timedelta(hours=23)
    start, end = local_bounds(FALL, LA)
    assert end - start == dt.timedelta(hours=25)


@pytest.mark.django_db
def test_office_hours_keep_their_wall_clock_across_spring_forward(schedule: Schedule) -> None:
    def first_slot(day: dt.date) -> dt.datetime:
        return availability.free_slots(
            center=schedule.harbor,
            visit_type=schedule.types["follow-up"],
            provider=schedule.ruiz,
            first=day,
            days=1,
            now=NOW,
        )[0].starts_at

    friday, monday = dt.date(2031, 3, 7), dt.date(2031, 3, 10)
    assert first_slot(friday) == dt.datetime(2031, 3, 7, 16, 0, tzinfo=UTC)  # 08:00 PST
    assert first_slot(monday) == dt.datetime(2031, 3, 10, 15, 0, tzinfo=UTC)  # 08:00 PDT


def _night_shift(schedule: Schedule) -> None:
    """Dr. Ruiz covers Sunday 00:00–04:00 at Harbor: the hours that DST moves."""
    AvailabilityTemplate.objects.create(
        center=schedule.harbor,
        provider=schedule.ruiz,
        weekday=Weekday.SUNDAY,
        start_time=dt.time(0),
        end_time=dt.time(4),
    )


def _sunday_slots(schedule: Schedule, day: dt.date) -> list[availability.Slot]:
    return availability.free_slots(
        center=schedule.harbor,
        visit_type=schedule.types["follow-up"],
        provider=schedule.ruiz,
        first=day,
        days=1,
        now=NOW,
        limit=100,
    )


@pytest.mark.django_db
def test_a_night_window_is_three_real_hours_when_clocks_spring_forward(
    schedule: Schedule,
) -> None:
    _night_shift(schedule)
    slots = _sunday_slots(schedule, SPRING)
    local = [s.starts_at.astimezone(LA).strftime("%H:%M") for s in slots]
    # 00:00–04:00 on the wall is 3 hours: no slot starts in the missing 02:xx hour.
    # 30-minute visits every 15 minutes in 3 real hours: (180 - 30) / 15 + 1.
    assert len(slots) == 11
    assert slots[-1].ends_at - slots[0].starts_at == dt.timedelta(hours=3)
    assert "02:00" not in local
    assert "02:30" not in local


@pytest.mark.django_db
def test_a_night_window_is_five_real_hours_when_clocks_fall_back(schedule: Schedule) -> None:
    _night_shift(schedule)
    slots = _sunday_slots(schedule, FALL)
    local = [s.starts_at.astimezone(LA) for s in slots]
    assert slots[-1].ends_at - slots[0].starts_at == dt.timedelta(hours=5)
    assert len(slots) == 19  # (300 - 30) / 15 + 1
    # 01:30 happens twice, an hour apart, and both are offered.
    twice = [m for m in local if m.strftime("%H:%M") == "01:30"]
    assert [m.fold for m in twice] == [0, 1]


@pytest.mark.django_db
def test_both_01_30s_can_be_booked_and_do_not_collide(schedule: Schedule) -> None:
    _night_shift(schedule)
    booked = [
        services.do_book_appointment(
            acting_user=None,
            patient=patient,
            center=schedule.harbor,
            provider=schedule.ruiz,
            visit_type=schedule.types["follow-up"],
            starts_at=localize(FALL, dt.time(1, 30), LA, fold=fold),
            now=NOW,
        )
        for fold, patient in ((0, schedule.patient), (1, schedule.other_patient))
    ]
    assert booked[1].starts_at - booked[0].starts_at == dt.timedelta(hours=1)


@pytest.mark.django_db
def test_the_booking_form_refuses_a_time_that_does_not_exist(schedule: Schedule) -> None:
    form = BookForm(
        {
            "center": schedule.harbor.pk,
            "provider": schedule.ruiz.pk,
            "visit_type": schedule.types["follow-up"].pk,
            "date": "2031-03-09",
            "time": "02:30",
        },
        centers=Center.objects.all(),
    )
    assert not form.is_valid()
    assert "does not exist" in form.errors["time"][0]


@pytest.mark.django_db
def test_the_reminder_is_48_real_hours_before_across_the_change(schedule: Schedule) -> None:
    appointment = services.do_book_appointment(
        acting_user=None,
        patient=schedule.patient,
        center=schedule.harbor,
        provider=schedule.ruiz,
        visit_type=schedule.types["follow-up"],
        starts_at=schedule.at(dt.date(2031, 3, 10), 9),  # Monday 09:00 PDT = 16:00 UTC
        now=NOW,
    )
    reminder = DBTaskResult.objects.get(task_path__endswith="send_appointment_reminder")
    assert reminder.run_after == dt.datetime(2031, 3, 8, 16, 0, tzinfo=UTC)  # Sat 08:00 PST
    assert appointment.starts_at - reminder.run_after == dt.timedelta(hours=48)


@pytest.mark.django_db
def test_the_week_calendar_keeps_the_wall_clock_row_across_the_change(
    schedule: Schedule,
) -> None:
    for day in (dt.date(2031, 3, 7), dt.date(2031, 3, 10)):  # Friday PST, Monday PDT
        services.do_book_appointment(
            acting_user=None,
            patient=schedule.patient,
            center=schedule.harbor,
            provider=schedule.ruiz,
            visit_type=schedule.types["follow-up"],
            starts_at=schedule.at(day, 9),
            now=NOW,
        )
    cal = calendar.build(schedule.harbor, dt.date(2031, 3, 3), 14)
    entries = [e for d in cal.days for e in d.entries]
    assert [e.local_start.strftime("%a %H:%M %Z") for e in entries] == [
        "Fri 09:00 PST",
        "Mon 09:00 PDT",
    ]
    assert {e.row for e in entries} == {(9 - calendar.FIRST_HOUR) * 4 + 2}
