"""Staff side: a permission matrix for every staff endpoint, the inbox's unread counts
and assignment, the triage queue's order, converting without duplicates, booking from
a request, and the referral's status loop with the referrer notified at each step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.accounts.roles import Role
from limbguard.clinics.models import Provider
from limbguard.config.tasks import run_due_tasks
from limbguard.intake import services
from limbguard.intake.models import IntakeRequest, RequestStatus
from limbguard.registry.models import Patient
from limbguard.scheduling.models import VisitType
from limbguard.scheduling.timeutil import localize
from limbguard.testing import Personas, make_patient

pytestmark = pytest.mark.django_db
Submit = Callable[..., IntakeRequest]

TRIAGERS = {"front_desk", "vascular_specialist"}
READERS = TRIAGERS | {"program_lead"}


def _client(personas: Personas, role: str) -> Client:
    client = Client()
    client.force_login(personas[role])
    return client


def _next_weekday(days_ahead: int = 7) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    while day.weekday() not in (0, 2, 4):  # Dr. Ruiz's Harbor days
        day += dt.timedelta(days=1)
    return day


# view → (method, allowed roles, needs a request id)
STAFF_VIEWS: dict[str, tuple[str, set[str], bool]] = {
    "inbox": ("get", READERS, False),
    "triage": ("get", READERS, False),
    "unread": ("get", READERS, False),
    "detail": ("get", READERS, True),
    "thread": ("get", READERS, True),
    "reply": ("post", TRIAGERS, True),
    "assign": ("post", TRIAGERS, True),
    "status": ("post", TRIAGERS, True),
    "convert": ("post", TRIAGERS, True),
}


@pytest.mark.parametrize("view", sorted(STAFF_VIEWS))
@pytest.mark.parametrize("role", [r.value for r in Role] + ["outsider"])
def test_permission_matrix(submitted: Submit, public: Personas, view: str, role: str) -> None:
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    method, allowed, by_id = STAFF_VIEWS[view]
    url = reverse(f"intake:{view}", args=[request.pk] if by_id else [])
    response = getattr(_client(public, role), method)(url)
    if role == "outsider":  # a vascular specialist at Coastal only
        expected = {200, 302} if not by_id else {404}
    elif role not in allowed:
        expected = {403}
    else:
        expected = {200, 302}
    assert response.status_code in expected, (view, role, response.status_code)


def test_anonymous_staff_urls_go_to_sign_in(submitted: Submit) -> None:
    request = submitted("contact")
    for url in (reverse("intake:inbox"), reverse("intake:detail", args=[request.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_attachment_download_is_permission_checked_and_audited(
    public: Personas, submitted: Submit
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = b"%PDF-1.4\n%%EOF\n"
    request = submitted(
        "referral",
        center=str(public.centers["harbor"].pk),
        files=[SimpleUploadedFile("x.pdf", pdf, "application/pdf")],
    )
    item = request.attachments.get()
    url = reverse("intake:attachment", args=[request.pk, item.pk])
    response = _client(public, "front_desk").get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == pdf  # type: ignore[attr-defined]
    assert AuditEvent.objects.filter(summary__contains="downloaded").exists()
    assert _client(public, "outsider").get(url).status_code == 404
    assert _client(public, "wound_care").get(url).status_code == 403


def test_requests_without_a_center_are_seen_by_every_center(
    public: Personas, submitted: Submit
) -> None:
    request = submitted("visit")  # "any center"
    url = reverse("intake:detail", args=[request.pk])
    assert _client(public, "outsider").get(url).status_code == 200
    request.center = public.centers["harbor"]
    request.save()
    assert _client(public, "outsider").get(url).status_code == 404


def test_inbox_counts_unread_and_opening_reads_them(public: Personas, submitted: Submit) -> None:
    request = submitted("contact")
    client = _client(public, "front_desk")
    inbox = client.get(reverse("intake:inbox")).content.decode()
    assert "1 unread" in inbox
    client.get(reverse("intake:detail", args=[request.pk]))
    inbox = client.get(reverse("intake:inbox")).content.decode()
    assert "unread" not in inbox.split("<table>")[1]
    assert client.get(reverse("intake:unread")).content.decode().strip() == ""


def test_inbox_query_count_does_not_grow_with_requests(public: Personas, submitted: Submit) -> None:
    client = _client(public, "front_desk")
    submitted("contact")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("intake:inbox"))
    for _ in range(5):
        submitted("referral")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("intake:inbox"))
    assert len(many) == len(few)


def test_triage_queue_is_sorted_by_urgency_and_shows_the_rule(
    public: Personas, submitted: Submit
) -> None:
    routine = submitted("visit", red_flags=[])
    urgent = submitted("visit", red_flags=["rest_pain"])
    emergent = submitted("referral")  # gangrene
    submitted("contact")  # messages are not triaged
    page = _client(public, "vascular_specialist").get(reverse("intake:triage")).content.decode()
    positions = [page.index(f"#{r.pk}</a>") for r in (emergent, urgent, routine)]
    assert positions == sorted(positions)
    assert "Emergent: gangrene" in page
    assert "Urgent: ischaemic rest pain" in page


def test_assignment_moves_a_new_request_to_triaged(public: Personas, submitted: Submit) -> None:
    request = submitted("referral")
    client = _client(public, "front_desk")
    ruiz = Provider.objects.get(name="Dr. Elena Ruiz")
    response = client.post(
        reverse("intake:assign", args=[request.pk]),
        {
            "center": public.centers["harbor"].pk,
            "provider": ruiz.pk,
            "assignee": public["front_desk"].pk,
        },
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.center, request.assignee) == (
        RequestStatus.TRIAGED,
        public.centers["harbor"],
        public["front_desk"],
    )
    mine = client.get(reverse("intake:inbox") + "?owner=me").content.decode()
    assert f"#{request.pk}</a>" in mine


def test_a_provider_from_another_center_cannot_be_assigned(
    public: Personas, submitted: Submit
) -> None:
    request = submitted("referral")
    okoye = Provider.objects.get(name="Dr. Samuel Okoye")  # Coastal only
    with pytest.raises(ValidationError, match="does not work at"):
        services.do_triage(
            acting_user=public["front_desk"],
            request=request,
            center=public.centers["harbor"],
            provider=okoye,
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED


def test_convert_links_an_existing_patient_by_name_and_birth_date(
    public: Personas, submitted: Submit
) -> None:
    existing = make_patient(
        public.centers["harbor"],
        given_name="WALTER",
        family_name="Gangí",  # accents and case are ignored
        birth_date=dt.date(1948, 9, 30),
    )
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    patient, created = services.do_convert_to_patient(
        acting_user=public["front_desk"], request=request
    )
    assert (patient, created) == (existing, False)
    again, created = services.do_convert_to_patient(
        acting_user=public["front_desk"], request=request
    )
    assert (again, created) == (existing, False)
    second = submitted("referral", center=str(public.centers["harbor"].pk))
    assert services.do_convert_to_patient(acting_user=public["front_desk"], request=second)[0] == (
        existing
    )
    assert Patient.objects.filter(birth_date=dt.date(1948, 9, 30)).count() == 1


def test_convert_registers_a_new_patient_through_the_registry(
    public: Personas, submitted: Submit
) -> None:
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    patient, created = services.do_convert_to_patient(
        acting_user=public["front_desk"], request=request
    )
    assert created
    assert (patient.family_name, patient.mrn, patient.home_center) == (
        "Gangi",
        f"IN{request.pk:06d}",
        public.centers["harbor"],
    )
    assert patient.limbs.count() == 2  # made by do_create_patient
    assert AuditEvent.objects.filter(
        patient_id=patient.pk, action=AuditAction.CREATE, object_type="registry.patient"
    ).exists()


def test_a_contact_message_cannot_become_a_patient(public: Personas, submitted: Submit) -> None:
    request = submitted("contact", center=str(public.centers["harbor"].pk))
    with pytest.raises(ValidationError, match="cannot become a patient"):
        services.do_convert_to_patient(acting_user=public["front_desk"], request=request)


def test_booking_from_a_referral_and_the_status_loop(public: Personas, submitted: Submit) -> None:
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    desk = public["front_desk"]
    ruiz = Provider.objects.get(name="Dr. Elena Ruiz")
    consult = VisitType.objects.get(code="new-consult")
    services.do_triage(acting_user=desk, request=request, center=public.centers["harbor"])
    day = _next_weekday()
    start = localize(day, dt.time(10), public.centers["harbor"].zone)
    client = _client(public, "front_desk")
    response = client.post(
        reverse("intake:book"),
        {
            "request": request.pk,
            "provider": ruiz.pk,
            "visit_type": consult.pk,
            "date": day.isoformat(),
            "time": "10:00",
        },
    )
    assert response.status_code == 302, response
    request.refresh_from_db()
    assert request.status == RequestStatus.SCHEDULED
    assert request.appointment is not None
    assert request.appointment.starts_at == start
    assert request.patient is not None
    # The referrer's private page shows the confirmation in local time.
    from limbguard.scheduling.links import make_link_token

    token = make_link_token("request", request.pk, request.link_key)
    with CaptureQueriesContext(connection) as reads:
        page = Client().get(reverse("public:conversation", args=[token])).content.decode()
    assert "Appointment confirmed" in page
    assert "10:00 AM" in page
    assert ruiz.name in page
    assert consult.name in page
    # The appointment comes with its center, provider and visit type in one query.
    touching = [q["sql"] for q in reads.captured_queries if "scheduling_appointment" in q["sql"]]
    assert len(touching) == 1
    assert '"clinics_provider"' in touching[0]
    assert '"scheduling_visittype"' in touching[0]
    # Seen (once started) and report sent; the referrer is e-mailed at every step.
    later = start + dt.timedelta(minutes=5)
    services.do_set_status(acting_user=desk, request=request, status="seen", now=later)
    services.do_set_status(acting_user=desk, request=request, status="report_sent")
    request.refresh_from_db()
    assert request.status == RequestStatus.REPORT_SENT
    assert request.appointment is not None
    assert request.appointment.status == "completed"
    steps = [c.to_status for c in request.status_changes.all()]
    assert steps == ["received", "triaged", "scheduled", "seen", "report_sent"]
    mail.outbox.clear()
    run_due_tasks()
    to_referrer = [m.subject for m in mail.outbox if m.to == ["rita@example.invalid"]]
    assert to_referrer == [
        "LimbGuard: We received your request",
        "LimbGuard: Your request was reviewed",
        "LimbGuard: An appointment was booked",
        "LimbGuard: The patient was seen",
        "LimbGuard: The visit report was sent",
    ]


def test_a_refused_booking_leaves_the_request_untouched(
    public: Personas, submitted: Submit
) -> None:
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    ruiz = Provider.objects.get(name="Dr. Elena Ruiz")
    consult = VisitType.objects.get(code="new-consult")
    saturday = timezone.localdate() + dt.timedelta(
        days=(5 - timezone.localdate().weekday()) % 7 + 7
    )
    with pytest.raises(ValidationError, match="not available"):
        services.do_schedule_request(
            acting_user=public["front_desk"],
            request=request,
            provider=ruiz,
            visit_type=consult,
            starts_at=localize(saturday, dt.time(10), public.centers["harbor"].zone),
        )
    request.refresh_from_db()
    assert (request.status, request.patient, request.appointment) == ("received", None, None)
    assert not Patient.objects.filter(family_name="Gangi").exists()


def test_impossible_status_moves_are_refused(public: Personas, submitted: Submit) -> None:
    request = submitted("referral")
    desk = public["front_desk"]
    with pytest.raises(ValidationError, match="once the visit has started"):
        services.do_set_status(acting_user=desk, request=request, status="seen")
    with pytest.raises(ValidationError, match="cannot go from received to report sent"):
        services.do_set_status(acting_user=desk, request=request, status="report_sent")
    with pytest.raises(ValidationError, match="Say why"):
        services.do_set_status(acting_user=desk, request=request, status="closed")
    services.do_set_status(acting_user=desk, request=request, status="closed", note="duplicate")
    with pytest.raises(ValidationError):
        services.do_set_status(acting_user=desk, request=request, status="closed", note="again")


def test_staff_reply_reaches_the_requester_page(public: Personas, submitted: Submit) -> None:
    request = submitted("visit")
    client = _client(public, "front_desk")
    client.post(reverse("intake:reply", args=[request.pk]), {"body": "We can see you Monday."})
    from limbguard.scheduling.links import make_link_token

    token = make_link_token("request", request.pk, request.link_key)
    thread = Client().get(reverse("public:conversation_thread", args=[token])).content.decode()
    assert "We can see you Monday." in thread
    run_due_tasks()
    assert any(m.subject == "LimbGuard: New reply to your request" for m in mail.outbox)


def test_a_match_at_another_center_is_linked_without_showing_it(
    public: Personas, submitted: Submit
) -> None:
    elsewhere = make_patient(
        public.centers["coastal"],
        mrn="CX9001",
        given_name="Walter",
        family_name="Gangi",
        birth_date=dt.date(1948, 9, 30),
    )
    request = submitted("referral", center=str(public.centers["harbor"].pk))
    page = _client(public, "front_desk").get(reverse("intake:detail", args=[request.pk]))
    text = page.content.decode()
    assert "at another center" in text
    assert "CX9001" not in text
    _client(public, "front_desk").post(reverse("intake:convert", args=[request.pk]))
    request.refresh_from_db()
    assert request.patient == elsewhere


def test_a_booked_visit_request_e_mails_the_patient_once(
    public: Personas, submitted: Submit
) -> None:
    request = submitted("visit", center=str(public.centers["harbor"].pk))
    day = _next_weekday()
    services.do_schedule_request(
        acting_user=public["front_desk"],
        request=request,
        provider=Provider.objects.get(name="Dr. Elena Ruiz"),
        visit_type=VisitType.objects.get(code="follow-up"),
        starts_at=localize(day, dt.time(9), public.centers["harbor"].zone),
    )
    mail.outbox.clear()
    run_due_tasks()
    booked = [m for m in mail.outbox if "booked" in m.subject]
    assert [m.to for m in booked] == [["ana@example.invalid"]]
