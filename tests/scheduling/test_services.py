"""Booking rules: free slots, no double-booking (checked and enforced by the database),
hours, holidays, resources, cancel/reschedule, waitlist offers, reminders, .ics."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.config.tasks import run_due_tasks
from limbguard.scheduling import availability, notify, services
from limbguard.scheduling.ics import appointment_ics
from limbguard.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    OfferStatus,
    ResourceBooking,
    WaitlistStatus,
)
from tests.scheduling.conftest import MONDAY, NOW, Schedule

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + dt.timedelta(days=1)


def _book(
    s: Schedule, start: dt.datetime, *, kind: str = "new-consult", **kw: object
) -> Appointment:
    values: dict[str, object] = {
        "acting_user": s.personas["front_desk"],
        "patient": s.patient,
        "center": s.harbor,
        "provider": s.ruiz,
        "visit_type": s.types[kind],
        "starts_at": start,
        "now": NOW,
    }
    values.update(kw)
    return services.do_book_appointment(**values)  # type: ignore[arg-type]


def test_free_slots_follow_the_template_in_local_time(schedule: Schedule) -> None:
    slots = availability.free_slots(
        center=schedule.harbor,
        visit_type=schedule.types["new-consult"],
        provider=schedule.ruiz,
        first=MONDAY,
        days=2,
        now=NOW,
        limit=500,
    )
    # Monday 08:00–17:00 PDT, a 60-minute visit every 15 minutes: 08:00 … 16:00 = 33;
    # Tuesday Dr. Ruiz is at Inland.
    assert len(slots) == 33
    assert slots[0].starts_at == dt.datetime(2031, 3, 10, 15, 0, tzinfo=dt.UTC)  # 08:00 PDT
    assert slots[-1].ends_at == schedule.at(MONDAY, 17)


def test_booking_stores_utc_audits_and_enqueues_notice_and_reminder(schedule: Schedule) -> None:
    appointment = _book(schedule, schedule.at(MONDAY, 9))
    appointment.refresh_from_db()
    assert appointment.starts_at == dt.datetime(2031, 3, 10, 16, 0, tzinfo=dt.UTC)
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=60)
    assert appointment.contact_email == "rosa@example.invalid"
    event = AuditEvent.objects.get(object_type="scheduling.appointment")
    assert (event.action, event.patient_id) == (AuditAction.CREATE, schedule.patient.pk)
    tasks = {t.task_path.rsplit(".", 1)[1]: t for t in DBTaskResult.objects.all()}
    assert set(tasks) == {"send_appointment_notice", "send_appointment_reminder"}
    assert tasks["send_appointment_reminder"].run_after == appointment.starts_at - dt.timedelta(
        hours=48
    )


def test_an_overlapping_booking_is_refused_and_nothing_stored(schedule: Schedule) -> None:
    _book(schedule, schedule.at(MONDAY, 9))
    with pytest.raises(services.SlotTaken, match="just booked by someone else"):
        _book(schedule, schedule.at(MONDAY, 9, 30), patient=schedule.other_patient)
    assert Appointment.objects.count() == 1
    # Back to back is fine: intervals are half-open.
    _book(schedule, schedule.at(MONDAY, 10), patient=schedule.other_patient)


@pytest.mark.parametrize(
    ("day", "hour", "message"),
    [
        (MONDAY, 7, "not available"),  # before opening
        (MONDAY, 16, "not available"),  # 16:30 end would pass 17:00? 60 min → ends 17:00: ok
        (TUESDAY, 9, "not available"),  # Dr. Ruiz is at Inland on Tuesdays
        (MONDAY + dt.timedelta(days=5), 9, "not available"),  # Saturday
    ],
)
def test_booking_outside_hours_is_refused(
    schedule: Schedule, day: dt.date, hour: int, message: str
) -> None:
    start = schedule.at(day, hour, 30 if hour == 16 else 0)
    with pytest.raises(ValidationError, match=message):
        _book(schedule, start)
    assert Appointment.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="scheduling.appointment").count() == 0


def test_booking_in_the_past_is_refused(schedule: Schedule) -> None:
    with pytest.raises(ValidationError, match="in the past"):
        _book(schedule, schedule.at(MONDAY, 9), now=schedule.at(MONDAY, 10))
    assert Appointment.objects.count() == 0


def test_a_holiday_closes_the_center(schedule: Schedule) -> None:
    AvailabilityException.objects.create(
        center=schedule.harbor,
        starts_at=schedule.at(MONDAY, 0),
        ends_at=schedule.at(TUESDAY, 0),
        reason="Holiday",
    )
    with pytest.raises(ValidationError, match="holiday or leave"):
        _book(schedule, schedule.at(MONDAY, 9))
    assert not availability.free_slots(
        center=schedule.harbor,
        visit_type=schedule.types["follow-up"],
        first=MONDAY,
        days=1,
        now=NOW,
    )


def test_a_duplex_needs_the_lab_and_the_lab_cannot_be_double_booked(schedule: Schedule) -> None:
    first = _book(schedule, schedule.at(MONDAY, 9), kind="duplex")
    assert [b.resource.kind for b in first.resource_bookings.all()] == ["duplex_lab"]
    with pytest.raises(ValidationError, match="No duplex lab is free"):
        _book(
            schedule,
            schedule.at(MONDAY, 9, 15),
            kind="duplex",
            provider=schedule.feld,
            patient=schedule.other_patient,
        )
    assert Appointment.objects.count() == 1


def test_the_database_refuses_an_overlap_that_skips_the_service(schedule: Schedule) -> None:
    """Whatever the vendor: PostgreSQL's exclusion constraint or SQLite's trigger."""
    booked = _book(schedule, schedule.at(MONDAY, 9))
    with (
        pytest.raises(IntegrityError, match="appointment_no_provider_overlap"),
        transaction.atomic(),
    ):
        Appointment.objects.create(
            center=schedule.harbor,
            provider=schedule.ruiz,
            visit_type=booked.visit_type,
            patient=schedule.other_patient,
            starts_at=schedule.at(MONDAY, 9, 45),
            ends_at=schedule.at(MONDAY, 10, 15),
        )
    lab = _book(schedule, schedule.at(MONDAY, 13), kind="duplex").resource_bookings.get()
    with pytest.raises(IntegrityError, match="booking_no_resource_overlap"), transaction.atomic():
        ResourceBooking.objects.create(
            appointment=booked,
            resource=lab.resource,
            starts_at=schedule.at(MONDAY, 13, 30),
            ends_at=schedule.at(MONDAY, 14),
        )
    # A cancelled visit holds nothing.
    services.do_cancel_appointment(
        acting_user=None, appointment=booked, reason="patient unwell", now=NOW
    )
    _book(schedule, schedule.at(MONDAY, 9), patient=schedule.other_patient)


def test_cancel_frees_the_time_and_offers_it_to_the_waitlist(schedule: Schedule) -> None:
    appointment = _book(schedule, schedule.at(MONDAY, 9))
    entries = [
        services.do_add_to_waitlist(
            acting_user=schedule.personas["front_desk"],
            patient=patient,
            center=schedule.harbor,
            visit_type=schedule.types["new-consult"],
            earliest=MONDAY,
            latest=MONDAY + dt.timedelta(days=14),
        )
        for patient in (schedule.other_patient,)
    ]
    mail.outbox.clear()
    services.do_cancel_appointment(
        acting_user=schedule.personas["front_desk"],
        appointment=appointment,
        reason="patient asked",
        now=NOW,
    )
    entry = entries[0]
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.OFFERED
    offer = entry.offers.get()
    assert (offer.starts_at, offer.status) == (appointment.starts_at, OfferStatus.OPEN)
    run_due_tasks()
    bodies = [m.body for m in mail.outbox]
    assert any("/schedule/offer/" in b for b in bodies)
    assert all("Omar" not in b and "Sample" not in b and "Rosa" not in b for b in bodies)

    booked = services.do_accept_offer(offer=offer, now=NOW)
    assert booked.patient == schedule.other_patient
    assert booked.starts_at == appointment.starts_at
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    with pytest.raises(ValidationError, match="no longer open"):
        services.do_accept_offer(offer=offer, now=NOW)


def test_an_offer_for_a_slot_taken_meanwhile_says_so(schedule: Schedule) -> None:
    appointment = _book(schedule, schedule.at(MONDAY, 9))
    entry = services.do_add_to_waitlist(
        acting_user=None,
        patient=schedule.other_patient,
        center=schedule.harbor,
        visit_type=schedule.types["new-consult"],
        earliest=MONDAY,
        latest=MONDAY,
    )
    services.do_cancel_appointment(acting_user=None, appointment=appointment, reason="x", now=NOW)
    _book(schedule, schedule.at(MONDAY, 9))  # the desk gave the time away by phone
    with pytest.raises(ValidationError, match="someone else took this time"):
        services.do_accept_offer(offer=entry.offers.get(), now=NOW)
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_reschedule_moves_in_one_step_even_overlapping_itself(schedule: Schedule) -> None:
    old = _book(schedule, schedule.at(MONDAY, 9))
    new = services.do_reschedule_appointment(
        acting_user=None, appointment=old, starts_at=schedule.at(MONDAY, 9, 30), now=NOW
    )
    old.refresh_from_db()
    assert old.status == AppointmentStatus.CANCELLED
    assert new.rescheduled_from == old
    assert new.starts_at == schedule.at(MONDAY, 9, 30)
    with pytest.raises(ValidationError):
        services.do_reschedule_appointment(
            acting_user=None, appointment=new, starts_at=schedule.at(TUESDAY, 9), now=NOW
        )
    new.refresh_from_db()
    assert new.status == AppointmentStatus.BOOKED  # a refused move changes nothing


def test_reminder_is_sent_once_with_a_link_only(schedule: Schedule) -> None:
    appointment = _book(schedule, schedule.at(MONDAY, 9))
    mail.outbox.clear()
    start = appointment.starts_at.isoformat()
    assert notify.send_appointment_reminder.call(appointment.pk, start) is True
    assert notify.send_appointment_reminder.call(appointment.pk, start) is False
    (message,) = mail.outbox
    assert message.to == ["rosa@example.invalid"]
    assert "/schedule/a/" in message.body
    for detail in ("Rosa", "Example", "Harbor", "Ruiz", "2031"):
        assert detail not in message.body
        assert detail not in message.subject


def test_a_stale_reminder_sends_nothing(schedule: Schedule) -> None:
    old = _book(schedule, schedule.at(MONDAY, 9))
    services.do_reschedule_appointment(
        acting_user=None, appointment=old, starts_at=schedule.at(MONDAY, 11), now=NOW
    )
    mail.outbox.clear()
    assert notify.send_appointment_reminder.call(old.pk, old.starts_at.isoformat()) is False
    assert mail.outbox == []


def test_attendance_only_once_the_visit_started(schedule: Schedule) -> None:
    appointment = _book(schedule, schedule.at(MONDAY, 9))
    with pytest.raises(ValidationError, match="once it has started"):
        services.do_set_attendance(
            acting_user=None, appointment=appointment, status="completed", now=NOW
        )
    done = services.do_set_attendance(
        acting_user=None,
        appointment=appointment,
        status="completed",
        now=schedule.at(MONDAY, 10),
    )
    assert done.status == AppointmentStatus.COMPLETED


def test_ics_invitation_uses_the_center_zone(schedule: Schedule) -> None:
    appointment = _book(schedule, schedule.at(MONDAY, 9))
    text = appointment_ics(appointment).decode()
    assert "BEGIN:VTIMEZONE" in text
    assert "DTSTART;TZID=America/Los_Angeles:20310310T090000" in text
    assert "DTEND;TZID=America/Los_Angeles:20310310T100000" in text
    assert "LOCATION:Harbor Vascular Center" in text
    assert "Rosa" not in text
