"""patient-view: one concise limb status card for a patient LimbGuard follows, else none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.assessments import services as assessment_services
from limbguard.cdshooks.hooks import LIMB_STATUS
from limbguard.cdshooks.models import CardKind, IssuedCard
from limbguard.cdshooks.schemas import CdsResponse
from limbguard.registry.models import Patient
from tests.assessments.conftest import ARMS, assess
from tests.cdshooks.conftest import Ehr, FhirServer
from tests.cdshooks.support import ClientSpec, patient_resource


def _request(patient_id: str = "p-1", **fields: Any) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/abc", "patientId": patient_id},
        **fields,
    }


def _cards(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    CdsResponse.model_validate(response.json())
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def _with_wound(patient: Patient) -> None:
    today = timezone.localdate()
    first = assess(
        patient,
        "left",
        visit_date=today - dt.timedelta(days=28),
        ankle_dp=60,
        ankle_pt=55,
        toe_pressure=30,
        **ARMS,
    )
    observation = assessment_services.do_record_wound(
        acting_user=None,
        assessment=first,
        new_wound={
            "label": "Left hallux ulcer",
            "location": "hallux",
            "wound_type": "diabetic_foot",
        },
        length_cm=Decimal("3.0"),
        width_cm=Decimal("2.0"),
    )
    second = assess(patient, "left", visit_date=today)
    assessment_services.do_record_wound(
        acting_user=None,
        assessment=second,
        wound=observation.wound,
        length_cm=Decimal("2.8"),
        width_cm=Decimal("2.0"),
    )


def test_followed_patient_gets_one_concise_card(
    ehr: Ehr, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at("harbor", mrn="LG-3001")
    _with_wound(patient)
    prefetch = {"patient": patient_resource(mrn=patient.mrn)}
    (card,) = _cards(ehr.call(LIMB_STATUS, _request(prefetch=prefetch)))
    assert len(card["summary"]) < 140
    assert card["summary"].startswith("LimbGuard: ")
    assert "L: ABI" in card["summary"]
    assert "1 open wound (1 off track)" in card["summary"]
    assert card["indicator"] == "warning"  # the wound shrank 7 % in 4 weeks: off track
    assert "| Left |" in card["detail"]
    assert "Left hallux ulcer (left leg): 5.6 cm², -7 %" in card["detail"]
    assert "off track" in card["detail"]
    assert card["links"][0]["url"].endswith(f"/patients/{patient.pk}/")
    assert "suggestions" not in card
    assert IssuedCard.objects.get().kind == CardKind.LIMB_STATUS
    event = AuditEvent.objects.get(action=AuditAction.VIEW, patient_id=patient.pk)
    assert event.actor_name == "cds-client:harbor-ehr"
    assert "limb-status" in event.summary


def test_followed_patient_with_nothing_recorded_gets_no_card(
    ehr: Ehr, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at("harbor", mrn="LG-3002")
    prefetch = {"patient": patient_resource(mrn=patient.mrn)}
    assert _cards(ehr.call(LIMB_STATUS, _request(prefetch=prefetch))) == []
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, patient_id=patient.pk).exists()


def test_unknown_patient_gets_no_card(ehr: Ehr) -> None:
    prefetch = {"patient": patient_resource(mrn="NOT-HERE")}
    assert _cards(ehr.call(LIMB_STATUS, _request(prefetch=prefetch))) == []


def test_patient_of_another_center_gets_no_card(
    ehr: Ehr, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at("coastal", mrn="LG-3003")
    _with_wound(patient)
    prefetch = {"patient": patient_resource(mrn=patient.mrn)}
    assert _cards(ehr.call(LIMB_STATUS, _request(prefetch=prefetch))) == []


def test_patient_read_from_the_fhir_server(
    ehr: Ehr, fhir_server: FhirServer, patient_at: Callable[..., Patient]
) -> None:
    from tests.cdshooks.support import FHIR_SERVER, order_sign_request

    patient = patient_at("harbor", mrn="LG-3004")
    _with_wound(patient)
    fhir_server.routes["Patient/p-1"] = patient_resource(mrn=patient.mrn)
    body = _request(
        fhirServer=FHIR_SERVER,
        fhirAuthorization=order_sign_request(fhir=True)["fhirAuthorization"],
    )
    (card,) = _cards(ehr.call(LIMB_STATUS, body))
    assert card["indicator"] == "warning"


def test_no_patient_obtainable_is_412(ehr: Ehr) -> None:
    assert ehr.call(LIMB_STATUS, _request()).status_code == 412


def test_smart_link_when_configured(
    ehr: Ehr, clients_file: Callable[..., Path], patient_at: Callable[..., Patient]
) -> None:
    clients_file(ClientSpec(extra={"smart_launch_url": "https://limbguard.test/smart/launch"}))
    patient = patient_at("harbor", mrn="LG-3005")
    _with_wound(patient)
    prefetch = {"patient": patient_resource(mrn=patient.mrn)}
    (card,) = _cards(ehr.call(LIMB_STATUS, _request(prefetch=prefetch)))
    smart = card["links"][1]
    assert smart["type"] == "smart"
    assert smart["url"] == "https://limbguard.test/smart/launch"
    assert smart["appContext"] == '{"patient": "p-1"}'


def test_limb_status_query_count(
    ehr: Ehr, patient_at: Callable[..., Patient], django_assert_max_num_queries: Any
) -> None:
    patient = patient_at("harbor", mrn="LG-3006")
    _with_wound(patient)
    prefetch = {"patient": patient_resource(mrn=patient.mrn)}
    ehr.call(LIMB_STATUS, _request(prefetch=prefetch))
    # jti; patient; staging; limb_rows (8); audit + card; savepoints.
    with django_assert_max_num_queries(16):
        assert _cards(ehr.call(LIMB_STATUS, _request(prefetch=prefetch)))
