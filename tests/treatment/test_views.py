"""The treatment pages: a permission matrix for each patient endpoint (another center's
patient is a 404, a role without the permission a 403), audit rows, htmx loop closure,
and the query counts of the worklists."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts.models import AuditEvent, User
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment.actions.care_team import do_create_task
from limbguard.treatment.care_team import CareTask
from tests.treatment.support import ago, log_angioplasty

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def patient(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at()


def endpoints(patient: Patient) -> dict[str, tuple[str, str, dict[str, str]]]:
    today = timezone.localdate().isoformat()
    return {
        "page": ("get", reverse("treatment:patient", args=[patient.pk]), {}),
        "procedure": (
            "post",
            reverse("treatment:procedure_new", args=[patient.pk, "left"]),
            {
                "kind": "arterial_endovascular",
                "performed_on": today,
                "indication": "claudication",
                "access": "femoral_antegrade",
                "lesion-TOTAL_FORMS": "1",
                "lesion-INITIAL_FORMS": "0",
                "lesion-0-segment": "sfa",
                "lesion-0-lesion_type": "stenosis",
                "lesion-0-length_cm": "4",
                "lesion-0-calcification": "none",
                "lesion-0-techniques": "pta",
                "device-TOTAL_FORMS": "0",
                "device-INITIAL_FORMS": "0",
            },
        ),
        "event": (
            "post",
            reverse("treatment:event_new", args=[patient.pk]),
            {"kind": "status", "occurred_on": today, "ambulatory": "independent"},
        ),
        "task": (
            "post",
            reverse("treatment:task_new", args=[patient.pk]),
            {"discipline": "podiatry", "kind": "task", "title": "Offloading boot"},
        ),
        "followup": (
            "post",
            reverse("treatment:followup_new", args=[patient.pk]),
            {"side": "right", "done_on": today},
        ),
        "suggested": (
            "post",
            reverse("treatment:task_suggested", args=[patient.pk]),
            {"discipline": "smoking_cessation", "rule": "pathway:smoking_cessation"},
        ),
    }


# Expected status per persona and endpoint: 2xx/3xx allowed, 403 no permission, 404
# another center (the outsider works at Coastal only).
# A follow-up of a limb without a procedure is refused with the form again (400).
MATRIX = {
    "vascular_specialist": {
        "page": 200,
        "procedure": 302,
        "event": 302,
        "task": 302,
        "followup": 400,
        "suggested": 302,
    },
    "wound_care": {
        "page": 200,
        "procedure": 403,
        "event": 403,
        "task": 302,
        "followup": 403,
        "suggested": 302,
    },
    "program_lead": {
        "page": 200,
        "procedure": 403,
        "event": 403,
        "task": 403,
        "followup": 403,
        "suggested": 403,
    },
    **{
        persona: dict.fromkeys(
            ("page", "procedure", "event", "task", "followup", "suggested"), status
        )
        for persona, status in (("front_desk", 403), ("administrator", 403), ("outsider", 404))
    },
}


@pytest.mark.parametrize("persona", sorted(MATRIX))
@pytest.mark.parametrize(
    "endpoint", ["page", "procedure", "event", "task", "followup", "suggested"]
)
def test_permission_matrix(
    personas: Personas, patient: Patient, persona: str, endpoint: str
) -> None:
    method, url, data = endpoints(patient)[endpoint]
    client = client_for(personas[persona])
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == MATRIX[persona][endpoint], response.content[:500]


def test_page_view_is_audited_and_shows_suggestions(personas: Personas, patient: Patient) -> None:
    from limbguard.registry.services import do_update_risk_profile

    do_update_risk_profile(acting_user=None, patient=patient, smoking="current")
    log_angioplasty(personas, patient, performed_on=ago(40))
    client = client_for(personas["vascular_specialist"])
    response = client.get(reverse("treatment:patient", args=[patient.pk]))
    assert b"Suggested by the pathway" in response.content
    assert b"37226" in response.content
    assert AuditEvent.objects.filter(
        patient_id=patient.pk, action="view", summary="opened treatment and outcomes"
    ).exists()
    response = client.post(
        reverse("treatment:task_suggested", args=[patient.pk]),
        {"discipline": "smoking_cessation", "rule": "pathway:smoking_cessation"},
    )
    assert response.status_code == 302
    task = CareTask.objects.get(patient=patient)
    assert task.source_rule == "pathway:smoking_cessation"
    assert "Class I" in task.source


def test_loop_closure_over_htmx(personas: Personas, patient: Patient) -> None:
    task = do_create_task(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        discipline="wound_care",
        title="Dressing change",
    )
    client = client_for(personas["wound_care"])
    url = reverse("treatment:task_close", args=[patient.pk, task.pk])
    refused = client.post(url, {"action": "complete", "note": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert b"Close the loop" in refused.content
    done = client.post(url, {"action": "complete", "note": "Healing well"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert b"Completed" in done.content
    outsider = client_for(personas.outsider).post(url, {"action": "complete", "note": "x"})
    assert outsider.status_code == 404


def test_bad_procedure_post_shows_the_error(personas: Personas, patient: Patient) -> None:
    _, url, data = endpoints(patient)["procedure"]
    data = {**data, "access": ""}
    response = client_for(personas["vascular_specialist"]).post(url, data)
    assert response.status_code == 400
    assert b"Give the access" in response.content
    assert not patient.interventions.exists()


@pytest.mark.parametrize("count", [3, 12])
def test_worklist_and_followups_query_counts_do_not_grow(
    personas: Personas, patient_at: Callable[..., Patient], count: int
) -> None:
    for _ in range(count):
        patient = patient_at()
        do_create_task(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            discipline="wound_care",
            title="Dressing change",
        )
        log_angioplasty(personas, patient, performed_on=ago(75))
    client = client_for(personas["wound_care"])
    client.get(reverse("treatment:worklist"))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as worklist:
        response = client.get(reverse("treatment:worklist"))
    assert response.status_code == 200
    assert response.content.count(b"Dressing change") == count
    with CaptureQueriesContext(connection) as followups:
        response = client.get(reverse("treatment:followups"))
    assert response.content.count(b"overdue</span>") == count
    assert len(worklist) <= 12
    assert len(followups) <= 14
