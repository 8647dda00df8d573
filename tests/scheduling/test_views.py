"""Schedule pages: a permission matrix (role × own center / other center), the
calendar and the slot search render with bounded queries, booking through the form
(errors named, nothing stored), and the public pages behind private links."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts.models import AuditEvent
from limbguard.accounts.roles import Role
from limbguard.scheduling import services
from limbguard.scheduling.links import make_link_token
from limbguard.scheduling.models import Appointment
from limbguard.scheduling.timeutil import localize
from limbguard.testing import Personas, make_patient
from tests.scheduling.conftest import Schedule

pytestmark = pytest.mark.django_db

BOOKERS = {"front_desk", "vascular_specialist"}
VIEWERS = BOOKERS | {"wound_care", "podiatry", "infectious_disease", "endocrinology"}
VIEWERS_ALL = VIEWERS | {"program_lead"}


def _client(personas: Personas, role: str) -> Client:
    client = Client()
    client.force_login(personas[role])
    return client


def _future_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday() + 7)


def _appointment(s: Schedule, center: str = "harbor") -> Appointment:
    where = s.personas.centers[center]
    patient = make_patient(where)
    provider = where.providers.filter(availability__center=where).first()
    assert provider is not None
    day = _future_monday()
    for offset in range(5):
        for hour in range(9, 16):
            try:
                return services.do_book_appointment(
                    acting_user=None,
                    patient=patient,
                    center=where,
                    provider=provider,
                    visit_type=s.types["follow-up"],
                    starts_at=localize(day + dt.timedelta(days=offset), dt.time(hour), where.zone),
                )
            except ValidationError:
                continue
    raise AssertionError("no bookable day")


APPOINTMENT_VIEWS = {
    "appointment": ("get", VIEWERS_ALL),
    "appointment_invite": ("get", VIEWERS_ALL),
    "appointment_cancel": ("post", BOOKERS),
    "appointment_reschedule": ("post", BOOKERS),
    "appointment_attendance": ("post", BOOKERS),
}


@pytest.mark.parametrize("view", sorted(APPOINTMENT_VIEWS))
@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("own_center", [True, False], ids=["own-center", "other-center"])
def test_permission_matrix(schedule: Schedule, view: str, role: str, own_center: bool) -> None:
    appointment = _appointment(schedule, "harbor" if own_center else "coastal")
    method, allowed = APPOINTMENT_VIEWS[view]
    url = reverse(f"scheduling:{view}", args=[appointment.pk])
    response = getattr(_client(schedule.personas, role), method)(url)
    if role not in allowed:
        expected = 403
    elif own_center or role == "program_lead":
        expected = 302 if method == "post" else 200
    else:
        expected = 404
    assert response.status_code == expected


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_pages_by_role(schedule: Schedule, role: str) -> None:
    client = _client(schedule.personas, role)
    calendar = client.get(reverse("scheduling:calendar"))
    assert calendar.status_code == (200 if role in VIEWERS_ALL else 403)
    slots = client.get(reverse("scheduling:slots"))
    assert slots.status_code == (200 if role in BOOKERS else 403)
    waitlist = client.get(reverse("scheduling:waitlist"))
    assert waitlist.status_code == (200 if role in BOOKERS else 403)


def test_week_calendar_renders_with_bounded_queries(schedule: Schedule) -> None:
    client = _client(schedule.personas, "front_desk")
    first = _appointment(schedule)
    url = reverse("scheduling:calendar") + f"?center=harbor&date={first.starts_at.date()}"
    with CaptureQueriesContext(connection) as one:
        page = client.get(url).content.decode()
    assert first.patient.family_name in page
    assert "America/Los_Angeles" in page
    for _ in range(4):
        _appointment(schedule)
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    assert len(five) == len(one)
    assert AuditEvent.objects.filter(summary__startswith="calendar harbor week").exists()


def test_day_view_and_resource_filter(schedule: Schedule) -> None:
    client = _client(schedule.personas, "front_desk")
    lab = schedule.harbor.resources.get(kind="duplex_lab")
    response = client.get(
        reverse("scheduling:calendar") + f"?center=harbor&view=day&resource={lab.pk}"
    )
    assert response.status_code == 200
    assert "Duplex lab" in response.content.decode()


def test_slot_search_and_booking_through_the_form(schedule: Schedule) -> None:
    client = _client(schedule.personas, "front_desk")
    day = _future_monday()
    params: dict[str, str | int] = {
        "center": schedule.harbor.pk,
        "visit_type": schedule.types["new-consult"].pk,
        "provider": schedule.ruiz.pk,
        "first": day.isoformat(),
        "days": 1,
        "patient": schedule.patient.pk,
    }
    page = client.get(reverse("scheduling:slots"), params).content.decode()
    assert "33 free starts" in page
    booked = client.post(
        reverse("scheduling:book"),
        {
            "patient": schedule.patient.pk,
            "center": schedule.harbor.pk,
            "provider": schedule.ruiz.pk,
            "visit_type": schedule.types["new-consult"].pk,
            "date": day.isoformat(),
            "time": "08:00",
        },
    )
    assert booked.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.starts_at == localize(day, dt.time(8), schedule.harbor.zone)


@pytest.mark.parametrize(
    ("when", "message"),
    [("past", "in the past"), ("evening", "not available"), ("taken", "just booked")],
)
def test_booking_form_errors_store_nothing(schedule: Schedule, when: str, message: str) -> None:
    client = _client(schedule.personas, "front_desk")
    day = _future_monday()
    date, time = day.isoformat(), "09:00"
    if when == "past":
        date = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    elif when == "evening":
        time = "18:00"
    elif when == "taken":
        services.do_book_appointment(
            acting_user=None,
            patient=schedule.other_patient,
            center=schedule.harbor,
            provider=schedule.ruiz,
            visit_type=schedule.types["new-consult"],
            starts_at=localize(day, dt.time(9), schedule.harbor.zone),
        )
    before = Appointment.objects.count()
    response = client.post(
        reverse("scheduling:book"),
        {
            "patient": schedule.patient.pk,
            "center": schedule.harbor.pk,
            "provider": schedule.ruiz.pk,
            "visit_type": schedule.types["new-consult"].pk,
            "date": date,
            "time": time,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Appointment.objects.count() == before


def test_booking_a_patient_of_another_center_is_404(schedule: Schedule) -> None:
    stranger = make_patient(schedule.personas.centers["coastal"])
    response = _client(schedule.personas, "front_desk").post(
        reverse("scheduling:book"), {"patient": stranger.pk}
    )
    assert response.status_code == 404


def test_public_appointment_page_and_ics(schedule: Schedule) -> None:
    appointment = _appointment(schedule)
    token = make_link_token("appointment", appointment.pk, appointment.link_key)
    page = Client().get(reverse("scheduling:public_appointment", args=[token]))
    assert page.status_code == 200
    assert "Harbor Vascular Center" in page.content.decode()
    assert appointment.patient.family_name not in page.content.decode()
    ics = Client().get(reverse("scheduling:public_appointment_ics", args=[token]))
    assert ics["Content-Type"] == "text/calendar"
    assert b"BEGIN:VEVENT" in ics.content
    assert (
        Client().get(reverse("scheduling:public_appointment", args=["x" + token])).status_code
        == 404
    )


def test_staff_cancel_and_move_through_the_pages(schedule: Schedule) -> None:
    appointment = _appointment(schedule)
    client = _client(schedule.personas, "front_desk")
    moved = client.post(
        reverse("scheduling:appointment_reschedule", args=[appointment.pk]),
        {"date": appointment.starts_at.astimezone(schedule.harbor.zone).date(), "time": "11:00"},
    )
    assert moved.status_code == 302
    new = Appointment.objects.get(rescheduled_from=appointment)
    refused = client.post(reverse("scheduling:appointment_cancel", args=[new.pk]), {"reason": ""})
    assert refused.status_code == 302
    new.refresh_from_db()
    assert new.status == "booked"
    client.post(reverse("scheduling:appointment_cancel", args=[new.pk]), {"reason": "unwell"})
    new.refresh_from_db()
    assert new.status == "cancelled"


def test_slot_search_finds_the_patient_by_mrn_at_own_centers_only(schedule: Schedule) -> None:
    client = _client(schedule.personas, "front_desk")
    page = client.get(reverse("scheduling:slots"), {"mrn": schedule.patient.mrn.lower()})
    assert f"for {schedule.patient.family_name}" in page.content.decode()
    stranger = make_patient(schedule.personas.centers["coastal"], mrn="CX7777")
    page = client.get(reverse("scheduling:slots"), {"mrn": stranger.mrn})
    assert "No patient with MRN CX7777 at your centers" in page.content.decode()
