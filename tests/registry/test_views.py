"""Patient pages: a permission matrix (every role × own center / other center), an
audit row for every read and change, no N+1 queries, field errors on bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.accounts.roles import Role
from limbguard.registry import services
from limbguard.registry.models import Patient
from limbguard.testing import Personas

pytestmark = pytest.mark.django_db
MakePatient = Callable[..., Patient]

CLINICAL_WRITERS = {
    "vascular_specialist",
    "wound_care",
    "podiatry",
    "infectious_disease",
    "endocrinology",
}
READERS = CLINICAL_WRITERS | {"front_desk", "program_lead"}

# view name → (method, extra url args, roles allowed by permission)
PATIENT_VIEWS: dict[str, tuple[str, tuple[str, ...], set[str]]] = {
    "patient_chart": ("get", (), READERS),
    "patient_edit": ("get", (), {"front_desk", "vascular_specialist"}),
    "problem_add": ("get", (), CLINICAL_WRITERS),
    "risk_edit": ("get", (), CLINICAL_WRITERS),
    "lab_add": ("get", (), CLINICAL_WRITERS),
    "limb_edit": ("get", ("left",), {"vascular_specialist"}),
}


def _client(personas: Personas, role: str) -> Client:
    client = Client()
    client.force_login(personas[role])
    return client


def _expected(role: str, allowed: set[str], own_center: bool) -> int:
    if role not in allowed:
        return 403  # no permission: refused before the patient is even looked up
    if own_center or role == "program_lead":
        return 200
    return 404  # another center's patient answers like an unknown one


@pytest.mark.parametrize("view", sorted(PATIENT_VIEWS))
@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("own_center", [True, False], ids=["own-center", "other-center"])
def test_permission_matrix(
    personas: Personas, patient_at: MakePatient, view: str, role: str, own_center: bool
) -> None:
    patient = patient_at("harbor" if own_center else "coastal")
    method, extra, allowed = PATIENT_VIEWS[view]
    url = reverse(f"registry:{view}", args=[patient.pk, *extra])
    response = getattr(_client(personas, role), method)(url)
    assert response.status_code == _expected(role, allowed, own_center)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_patient_list_shows_only_own_centers(
    personas: Personas, patient_at: MakePatient, role: str
) -> None:
    mine = patient_at("harbor", family_name="Harborite")
    theirs = patient_at("coastal", family_name="Coastie")
    response = _client(personas, role).get(reverse("registry:patient_list"))
    if role not in READERS:
        assert response.status_code == 403
        return
    shown = {p.pk for p in response.context["page"].object_list}
    assert mine.pk in shown
    assert (theirs.pk in shown) is (role == "program_lead")


def test_unknown_patient_is_404(personas: Personas) -> None:
    response = _client(personas, "program_lead").get(
        reverse("registry:patient_chart", args=[999999])
    )
    assert response.status_code == 404


def test_outsider_cannot_change_another_centers_patient(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at("harbor")
    client = Client()
    client.force_login(personas.outsider)
    url = reverse("registry:problem_add", args=[patient.pk])
    response = client.post(
        url, {"system": "ICD10CM", "code": "I70.221", "display": "x", "status": "active"}
    )
    assert response.status_code == 404
    assert not patient.problems.exists()


def test_anonymous_is_sent_to_login(patient_at: MakePatient) -> None:
    patient = patient_at()
    response = Client().get(reverse("registry:patient_chart", args=[patient.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_every_chart_read_is_audited(personas: Personas, patient_at: MakePatient) -> None:
    patient = patient_at()
    client = _client(personas, "wound_care")
    client.get(reverse("registry:patient_chart", args=[patient.pk]), REMOTE_ADDR="10.9.8.7")
    event = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert (event.actor, event.patient_id, event.ip_address) == (
        personas["wound_care"],
        patient.pk,
        "10.9.8.7",
    )


def test_searches_are_audited(personas: Personas) -> None:
    _client(personas, "front_desk").get(reverse("registry:patient_list"), {"q": "smi"})
    assert "q='smi'" in AuditEvent.objects.get(action=AuditAction.SEARCH).summary


def test_front_desk_chart_hides_clinical_sections(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at()
    services.do_add_problem(
        acting_user=None, patient=patient, system="ICD10CM", code="E11.621", display="DFU"
    )
    front = _client(personas, "front_desk").get(
        reverse("registry:patient_chart", args=[patient.pk])
    )
    assert "DFU" not in front.content.decode()
    vascular = _client(personas, "vascular_specialist").get(
        reverse("registry:patient_chart", args=[patient.pk])
    )
    assert "DFU" in vascular.content.decode()


def _query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_patient_list_queries_do_not_grow_with_rows(
    personas: Personas, patient_at: MakePatient
) -> None:
    client = _client(personas, "vascular_specialist")
    url = reverse("registry:patient_list")
    patient_at()
    few = _query_count(client, url)
    for i in range(30):
        patient_at(family_name=f"Many{i}")
    many = _query_count(client, url)
    assert few == many
    assert many <= 12


def test_chart_queries_do_not_grow_with_problems_and_labs(
    personas: Personas, patient_at: MakePatient
) -> None:
    client = _client(personas, "vascular_specialist")
    patient = patient_at()
    url = reverse("registry:patient_chart", args=[patient.pk])
    few = _query_count(client, url)
    for i in range(15):
        services.do_add_problem(
            acting_user=None, patient=patient, system="ICD10CM", code="I70.221", display=f"p{i}"
        )
        services.do_add_lab(
            acting_user=None,
            patient=patient,
            kind="egfr",
            value=Decimal(40 + i),
            observed_on=dt.date(2026, 1, 1 + i),
        )
    assert _query_count(client, url) == few
    assert few <= 16


def test_create_patient_through_the_form(personas: Personas) -> None:
    client = _client(personas, "front_desk")
    data = {
        "mrn": "NEW-0042",
        "given_name": "Ana",
        "family_name": "Lopez",
        "birth_date": "1951-04-02",
        "sex": "female",
        "home_center": personas.centers["harbor"].pk,
        "status": "active",
    }
    response = client.post(reverse("registry:patient_create"), data)
    patient = Patient.objects.get(mrn="NEW-0042")
    assert response["Location"] == reverse("registry:patient_chart", args=[patient.pk])


def test_create_patient_refuses_a_center_the_user_does_not_work_at(personas: Personas) -> None:
    client = _client(personas, "front_desk")
    data = {
        "mrn": "NEW-0043",
        "given_name": "Ana",
        "family_name": "Lopez",
        "birth_date": "1951-04-02",
        "sex": "female",
        "home_center": personas.centers["coastal"].pk,
        "status": "active",
    }
    response = client.post(reverse("registry:patient_create"), data)
    assert response.status_code == 200
    assert "home_center" in response.context["form"].errors
    assert not Patient.objects.filter(mrn="NEW-0043").exists()


def test_bad_form_input_shows_field_errors_and_saves_nothing(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at()
    client = _client(personas, "vascular_specialist")
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("registry:lab_add", args=[patient.pk]),
        {"kind": "hba1c", "value": "45", "observed_on": "2026-01-01"},
    )
    assert response.status_code == 200
    assert "Must be between 3.0 and 20.0" in str(response.context["form"].errors["value"])
    response = client.post(
        reverse("registry:patient_edit", args=[patient.pk]),
        {
            "mrn": patient.mrn,
            "given_name": "",
            "family_name": "X",
            "birth_date": "1950-01-01",
            "sex": "female",
            "home_center": patient.home_center_id,
            "status": "deceased",
        },
    )
    assert set(response.context["form"].errors) == {"given_name"}
    assert AuditEvent.objects.count() == before
    assert not patient.labs.exists()


def test_deceased_needs_a_date_through_the_form(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at()
    client = _client(personas, "vascular_specialist")
    response = client.post(
        reverse("registry:patient_edit", args=[patient.pk]),
        {
            "mrn": patient.mrn,
            "given_name": "Rosa",
            "family_name": "Example",
            "birth_date": "1950-03-14",
            "sex": "female",
            "home_center": patient.home_center_id,
            "status": "deceased",
        },
    )
    assert "Give the date of death." in str(response.context["form"].errors["deceased_date"])
    patient.refresh_from_db()
    assert patient.status == "active"


def test_retire_problem_via_post_only(personas: Personas, patient_at: MakePatient) -> None:
    patient = patient_at()
    problem = services.do_add_problem(
        acting_user=None, patient=patient, system="ICD10CM", code="I87.2", display="CVI"
    )
    client = _client(personas, "podiatry")
    url = reverse("registry:problem_retire", args=[patient.pk, problem.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    problem.refresh_from_db()
    assert problem.entered_in_error
