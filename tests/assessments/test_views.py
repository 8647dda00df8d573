"""Assessment and gate pages: a permission matrix (every role × own center / other center)
for every patient endpoint, audit of reads, query counts, the worklist's order and
filters, and photos served only through the permission-checked view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.accounts.roles import Role
from limbguard.assessments import photos, services
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from tests.assessments.conftest import ARMS, Seeded, assess, image_bytes, upload

pytestmark = pytest.mark.django_db

VIEWERS = {
    "vascular_specialist",
    "wound_care",
    "podiatry",
    "infectious_disease",
    "endocrinology",
    "program_lead",
}
WRITERS = {"vascular_specialist", "wound_care", "podiatry"}
PLANNERS = {"vascular_specialist", "podiatry"}
SIGNERS = {"vascular_specialist"}


def _urls(s: Seeded) -> dict[str, tuple[str, str, set[str], int]]:
    """name → (method, url, roles allowed, status when allowed)."""
    p, a = s.patient.pk, s.assessment.pk
    return {
        "chart_section": ("get", reverse("assessments:chart_section", args=[p]), VIEWERS, 200),
        "limb": ("get", reverse("assessments:limb", args=[p, "left"]), VIEWERS, 200),
        "new": ("get", reverse("assessments:new", args=[p, "left"]), WRITERS, 200),
        "preview": ("post", reverse("assessments:preview", args=[p, "left"]), WRITERS, 200),
        "detail": ("get", reverse("assessments:detail", args=[p, a]), VIEWERS, 200),
        "edit": ("get", reverse("assessments:edit", args=[p, a]), WRITERS, 200),
        "retire": ("post", reverse("assessments:retire", args=[p, a]), WRITERS, 400),
        "finding_add": (
            "post",
            reverse("assessments:finding_add", args=[p, a, "arterial"]),
            WRITERS,
            400,
        ),
        "finding_retire": (
            "post",
            reverse("assessments:finding_retire", args=[p, a, "venous", s.venous.pk]),
            WRITERS,
            302,
        ),
        "wound_record": ("post", reverse("assessments:wound_record", args=[p, a]), WRITERS, 400),
        "wound_detail": (
            "get",
            reverse("assessments:wound_detail", args=[p, s.wound.pk]),
            VIEWERS,
            200,
        ),
        "wound_healed": (
            "post",
            reverse("assessments:wound_healed", args=[p, s.wound.pk]),
            WRITERS,
            302,
        ),
        "photo": ("get", reverse("assessments:photo", args=[p, s.photo.pk, "thumb"]), VIEWERS, 200),
        "observation_retire": (
            "post",
            reverse("assessments:observation_retire", args=[p, s.photo.observation_id]),
            WRITERS,
            302,
        ),
        "photo_retire": (
            "post",
            reverse("assessments:photo_retire", args=[p, s.photo.pk]),
            WRITERS,
            302,
        ),
        "amputation": ("get", reverse("treatment:amputation", args=[p, "left"]), PLANNERS, 200),
        "review": ("get", reverse("treatment:review", args=[p, "left"]), SIGNERS, 200),
    }


ENDPOINTS = sorted(
    [
        "chart_section",
        "limb",
        "new",
        "preview",
        "detail",
        "edit",
        "retire",
        "finding_add",
        "finding_retire",
        "wound_record",
        "wound_detail",
        "wound_healed",
        "photo",
        "observation_retire",
        "photo_retire",
        "amputation",
        "review",
    ]
)


def _client(personas: Personas, role: str) -> Client:
    client = Client()
    client.force_login(personas[role])
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("own_center", [True, False], ids=["own-center", "other-center"])
def test_permission_matrix(
    personas: Personas,
    seeded: Callable[..., Seeded],
    endpoint: str,
    role: str,
    own_center: bool,
) -> None:
    s = seeded("harbor" if own_center else "coastal")
    method, url, allowed, ok = _urls(s)[endpoint]
    response = getattr(_client(personas, role), method)(url)
    if role not in allowed:
        expected = 403
    elif own_center or role == "program_lead":
        expected = ok
    else:
        expected = 404
    assert response.status_code == expected


def test_anonymous_users_are_sent_to_sign_in(seeded: Callable[..., Seeded]) -> None:
    s = seeded()
    for method, url, _, _ in _urls(s).values():
        response = getattr(Client(), method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_worklist_is_refused_without_permission(personas: Personas) -> None:
    assert _client(personas, "front_desk").get(reverse("assessments:worklist")).status_code == 403
    assert (
        _client(personas, "administrator").get(reverse("assessments:worklist")).status_code == 403
    )


def test_reads_are_audited(personas: Personas, seeded: Callable[..., Seeded]) -> None:
    s = seeded()
    client = _client(personas, "wound_care")
    for name in ("chart_section", "limb", "detail", "wound_detail", "photo"):
        _, url, _, _ = _urls(s)[name]
        before = AuditEvent.objects.filter(action=AuditAction.VIEW).count()
        client.get(url, REMOTE_ADDR="10.1.2.3")
        event = AuditEvent.objects.filter(action=AuditAction.VIEW).latest("id")
        assert AuditEvent.objects.filter(action=AuditAction.VIEW).count() == before + 1, name
        assert (event.actor, event.patient_id, event.ip_address) == (
            personas["wound_care"],
            s.patient.pk,
            "10.1.2.3",
        )
    client.get(reverse("assessments:worklist"), {"problem": "arterial"})
    search = AuditEvent.objects.filter(action=AuditAction.SEARCH).latest("id")
    assert "problem='arterial'" in search.summary


def test_photos_are_served_only_through_the_view(
    personas: Personas, seeded: Callable[..., Seeded]
) -> None:
    s = seeded()
    client = _client(personas, "podiatry")
    full = client.get(reverse("assessments:photo", args=[s.patient.pk, s.photo.pk, "full"]))
    assert full.status_code == 200
    assert full["Content-Type"] == "image/png"
    assert full["Cache-Control"] == "private, no-store"
    assert b"".join(full.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[attr-defined]
    thumb = client.get(reverse("assessments:photo", args=[s.patient.pk, s.photo.pk, "thumb"]))
    assert thumb["Content-Type"] == "image/jpeg"
    other = seeded("coastal")
    wrong_patient = client.get(
        reverse("assessments:photo", args=[s.patient.pk, other.photo.pk, "full"])
    )
    assert wrong_patient.status_code == 404
    assert not s.photo.path.startswith("/")
    assert "static" not in s.photo.path


def test_the_chart_includes_the_limb_status_section_for_clinicians_only(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at()
    url = reverse("registry:patient_chart", args=[patient.pk])
    section = reverse("assessments:chart_section", args=[patient.pk])
    assert section in _client(personas, "vascular_specialist").get(url).content.decode()
    assert section not in _client(personas, "front_desk").get(url).content.decode()


def _count(client: Client, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_chart_section_queries_do_not_grow_with_assessments_and_wounds(
    personas: Personas, seeded: Callable[..., Seeded]
) -> None:
    s = seeded()
    client = _client(personas, "vascular_specialist")
    url = reverse("assessments:chart_section", args=[s.patient.pk])
    few = _count(client, url)
    for days in range(1, 12):
        later = assess(
            s.patient,
            visit_date=timezone.localdate() - dt.timedelta(days=days),
            ankle_dp=70,
            **ARMS,
        )
        services.do_record_wound(
            acting_user=None,
            assessment=later,
            new_wound={"label": f"W{days}", "location": "heel", "wound_type": "venous_leg"},
            length_cm=Decimal(2),
            width_cm=Decimal(1),
            photos=[photos.check_photo(upload(image_bytes()))],
        )
        assess(s.patient, side="right", visit_date=later.visit_date, **ARMS)
    assert _count(client, url) == few
    assert few <= 18  # 9 of them: session, user, permissions, navigation, audit


def test_worklist_queries_do_not_grow_with_patients(
    personas: Personas, seeded: Callable[..., Seeded]
) -> None:
    client = _client(personas, "vascular_specialist")
    url = reverse("assessments:worklist")
    seeded()
    few = _count(client, url)
    for _ in range(12):
        seeded()
    assert _count(client, url) == few
    assert few <= 19


def test_worklist_sorts_by_urgency_then_oldest_evaluation_and_filters(
    personas: Personas, patient_at: Callable[..., Patient], media: Any
) -> None:
    today = timezone.localdate()
    urgent = patient_at(family_name="Urgent")
    assess(urgent, ankle_dp=35, ankle_pt=30, rest_pain=True, **ARMS)
    old = patient_at(family_name="Oldroutine")
    assess(old, visit_date=today - dt.timedelta(days=200), ankle_dp=130, ankle_pt=128, **ARMS)
    recent = patient_at(family_name="Recentroutine")
    assess(
        recent,
        visit_date=today - dt.timedelta(days=3),
        ankle_dp=130,
        ankle_pt=128,
        ceap="C3 Ep As Pr",
        venous_duplex_done=True,
        **ARMS,
    )
    patient_at("coastal", family_name="Elsewhere")
    client = _client(personas, "vascular_specialist")
    response = client.get(reverse("assessments:worklist"))
    rows = [(r.patient.family_name, r.limb.side) for r in response.context["page"].object_list]
    assert rows[0] == ("Urgent", "left")
    assessed = [name for name, side in rows if side == "left"]
    assert assessed.index("Oldroutine") < assessed.index("Recentroutine")
    assert "Elsewhere" not in {name for name, _ in rows}
    venous = client.get(reverse("assessments:worklist"), {"problem": "venous"})
    assert [r.patient.family_name for r in venous.context["page"].object_list] == ["Recentroutine"]
    missing = client.get(reverse("assessments:worklist"), {"missing": "1"})
    names = {(r.patient.family_name, r.limb.side) for r in missing.context["page"].object_list}
    assert ("Oldroutine", "left") in names
    assert ("Recentroutine", "left") not in names
    coastal = client.get(reverse("assessments:worklist"), {"center": "coastal"})
    assert coastal.context["page"].paginator.count == 0
    lead = _client(personas, "program_lead").get(
        reverse("assessments:worklist"), {"center": "coastal"}
    )
    assert {r.patient.family_name for r in lead.context["page"].object_list} == {"Elsewhere"}


def test_the_chart_page_view_stays_one_audit_row_with_its_section(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at()
    client = _client(personas, "vascular_specialist")
    chart_page = client.get(reverse("registry:patient_chart", args=[patient.pk])).content.decode()
    section = chart_page.split('id="limb-status"', 1)[1]
    section_url = section.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "?chart=" in section_url
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, patient_id=patient.pk)
    assert views.count() == 1
    assert client.get(section_url).status_code == 200
    assert views.count() == 1  # covered by the chart's own row
    other = _client(personas, "wound_care")
    assert other.get(section_url).status_code == 200  # someone else's token: audited
    assert views.count() == 2
    client.get(reverse("assessments:chart_section", args=[patient.pk]))  # no token: audited
    assert views.count() == 3
