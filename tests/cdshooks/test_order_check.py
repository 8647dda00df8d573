"""The amputation order check: with and without a recent vascular evaluation, from each
source (prefetch, the EHR's FHIR server through a stub transport, LimbGuard's registry).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.cdshooks.hooks import ORDER_CHECK
from limbguard.cdshooks.models import CardKind, IssuedCard
from limbguard.cdshooks.schemas import CdsResponse
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment import gate
from tests.assessments.conftest import ARMS, assess
from tests.cdshooks.conftest import Ehr, FhirServer
from tests.cdshooks.support import (
    CPT,
    LIMBGUARD,
    LOINC,
    MRN_SYSTEM,
    SNOMED,
    ClientSpec,
    amputation_order,
    bundle,
    coding,
    full_prefetch,
    observation,
    order_sign_request,
    patient_resource,
    procedure,
    service_url,
)


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


def _cards(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    body = response.json()
    CdsResponse.model_validate(body)
    cards: list[dict[str, Any]] = body["cards"]
    return cards


def _one(response: Any) -> dict[str, Any]:
    cards = _cards(response)
    assert len(cards) == 1
    return cards[0]


# --- prefetch --------------------------------------------------------------------------


def test_no_evaluation_gives_a_critical_card(ehr: Ehr) -> None:
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=full_prefetch())))
    assert card["indicator"] == "critical"
    assert card["summary"] == "Amputation ordered: no vascular evaluation in the last 30 days"
    assert card["selectionBehavior"] == "any"
    labels = [s["label"] for s in card["suggestions"]]
    assert "vascular surgery consultation" in labels[0]
    assert "CPT 93923" in labels[1]
    assert "CPT 93925" in labels[2]
    for suggestion in card["suggestions"]:
        assert suggestion["uuid"]
        (action,) = suggestion["actions"]
        assert action["type"] == "create"
        resource = action["resource"]
        assert resource["resourceType"] == "ServiceRequest"
        assert resource["status"] == "draft"
        assert resource["subject"] == {"reference": "Patient/p-1"}
        assert resource["encounter"] == {"reference": "Encounter/89284"}
        assert resource["reasonReference"] == [{"reference": "ServiceRequest/amp-1"}]
    codes = [s["actions"][0]["resource"]["code"]["coding"][0] for s in card["suggestions"][1:]]
    assert [(c["system"], c["code"]) for c in codes] == [(CPT, "93923"), (CPT, "93925")]
    reasons = {r["code"]: r["display"] for r in card["overrideReasons"]}
    assert set(reasons) == {r.value for r in gate.OverrideReason} | {"evaluated_elsewhere"}
    assert "Below-knee amputation (left leg)" in card["detail"]
    assert "- LimbGuard registry: **not checked** (no identifier" in card["detail"]
    issued = IssuedCard.objects.get()
    assert str(issued.uuid) == card["uuid"]
    assert issued.kind == CardKind.NO_EVALUATION
    assert issued.suggestion_uuids == [s["uuid"] for s in card["suggestions"]]


def test_recent_arterial_study_gives_an_info_card(ehr: Ehr) -> None:
    prefetch = full_prefetch(
        procedures=(procedure("93922", _day(5)),),
        observations=(
            observation(
                LIMBGUARD,
                "wifi-stage",
                _day(5),
                valueInteger=3,
                bodySite={"coding": [coding(SNOMED, "7771000")]},
            ),
        ),
    )
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert card["indicator"] == "info"
    assert card["summary"].startswith(
        f"Vascular evaluation on record: arterial physiologic study (ABI, pressures) on {_day(5)}"
    )
    assert "left leg WIfI stage 3" in card["summary"]
    assert "suggestions" not in card
    assert IssuedCard.objects.get().kind == CardKind.EVALUATION_FOUND


@pytest.mark.parametrize(
    ("resource", "counts"),
    [
        pytest.param(procedure("93925", _day(29)), True, id="duplex-29-days"),
        pytest.param(procedure("93925", _day(31)), False, id="duplex-31-days"),
        pytest.param(procedure("93970", _day(3)), False, id="venous-duplex"),
        pytest.param(procedure("93923", _day(3), status="in-progress"), False, id="not-done"),
        pytest.param(procedure("93923", _day(-2)), False, id="future-date"),
        pytest.param(procedure("93923", _day(3), patient_id="p-2"), False, id="other-patient"),
        pytest.param(observation(SNOMED, "446841001", _day(3)), True, id="snomed-abi"),
        pytest.param(observation(LOINC, "8581-1", _day(3)), True, id="loinc-tbi"),
        pytest.param(observation(LIMBGUARD, "toe-pressure", _day(3)), True, id="toe-pressure"),
        pytest.param(observation(LOINC, "4548-4", _day(3)), False, id="hba1c"),
    ],
)
def test_what_counts_as_an_evaluation(ehr: Ehr, resource: dict[str, Any], counts: bool) -> None:
    key = "procedures" if resource["resourceType"] == "Procedure" else "observations"
    prefetch = full_prefetch()
    prefetch[key] = bundle(resource)
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert card["indicator"] == ("info" if counts else "critical")


def test_preliminary_result_does_not_count(ehr: Ehr) -> None:
    result = observation(SNOMED, "446841001", _day(3))
    result["status"] = "preliminary"
    prefetch = full_prefetch(observations=(result,))
    assert _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))["indicator"] == (
        "critical"
    )


def test_configured_consult_code_counts(ehr: Ehr, clients_file: Callable[..., Path]) -> None:
    consult = coding("urn:oid:1.2.3.orderables", "VASC-CONSULT", "Vascular surgery consult")
    clients_file(ClientSpec(extra={"vascular_consult": consult}))
    done = {
        "resourceType": "ServiceRequest",
        "id": "c-1",
        "status": "completed",
        "intent": "order",
        "code": {"coding": [consult]},
        "subject": {"reference": "Patient/p-1"},
        "occurrenceDateTime": _day(10),
    }
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=full_prefetch(consults=(done,)))))
    assert card["indicator"] == "info"
    assert "vascular consult" in card["summary"]


def test_consult_suggestion_uses_the_ehrs_orderable(
    ehr: Ehr, clients_file: Callable[..., Path]
) -> None:
    consult = coding("urn:oid:1.2.3.orderables", "VASC-CONSULT", "Vascular surgery consult")
    clients_file(ClientSpec(extra={"vascular_consult": consult}))
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=full_prefetch())))
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["code"]["coding"] == [consult]


@pytest.mark.parametrize(
    ("code", "major"),
    [
        pytest.param((CPT, "27590"), True, id="cpt-above-knee"),
        pytest.param((CPT, "27295"), True, id="cpt-hip"),
        pytest.param((CPT, "28810"), False, id="cpt-ray"),
        pytest.param((CPT, "27889"), False, id="cpt-ankle"),
        pytest.param((SNOMED, "79733001"), True, id="snomed-above-knee"),
        pytest.param((SNOMED, "371186005"), False, id="snomed-toe"),
    ],
)
def test_amputation_codes_trigger_the_check(ehr: Ehr, code: tuple[str, str], major: bool) -> None:
    order = amputation_order(code=code, side_code=None)
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(order, prefetch=full_prefetch())))
    assert card["indicator"] == "critical"


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(amputation_order(code=(CPT, "93925")), id="a-duplex-order"),
        pytest.param(amputation_order(status="entered-in-error"), id="entered-in-error"),
        pytest.param(amputation_order(patient_id="p-2"), id="other-patient"),
        pytest.param({**amputation_order(), "resourceType": "MedicationRequest"}, id="med"),
    ],
)
def test_other_orders_need_no_data_and_get_no_card(ehr: Ehr, order: dict[str, Any]) -> None:
    assert _cards(ehr.call(ORDER_CHECK, order_sign_request(order))) == []


def test_order_select_looks_at_the_selections_only(ehr: Ehr) -> None:
    amputation = amputation_order("amp-1")
    other = {**amputation_order("lab-1", code=(LOINC, "4548-4"))}
    body = order_sign_request(amputation, other, hook="order-select", prefetch=full_prefetch())
    body["context"]["selections"] = ["ServiceRequest/lab-1"]
    assert _cards(ehr.call(ORDER_CHECK, body)) == []
    body["context"]["selections"] = ["ServiceRequest/amp-1"]
    assert _one(ehr.call(ORDER_CHECK, body))["indicator"] == "critical"


def test_missing_keys_without_a_server_give_a_warning(ehr: Ehr) -> None:
    prefetch = {"patient": patient_resource(), "procedures": bundle()}
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert card["indicator"] == "warning"
    assert "could not confirm" in card["summary"]
    assert "EHR results (ABI, TBI, pressures): **not checked**" in card["detail"]
    assert card["suggestions"]
    assert IssuedCard.objects.get().kind == CardKind.UNVERIFIED


def test_null_prefetch_means_no_data(ehr: Ehr) -> None:
    prefetch = {"patient": None, "procedures": None, "observations": None, "consults": None}
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert card["indicator"] == "critical"


def test_unknown_prefetch_keys_are_ignored(ehr: Ehr) -> None:
    prefetch = {**full_prefetch(), "user": "123", "patientToGreet": {"resourceType": "Patient"}}
    assert _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))


def test_nothing_obtainable_is_412(ehr: Ehr) -> None:
    response = ehr.call(ORDER_CHECK, order_sign_request())
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not IssuedCard.objects.exists()


# --- the EHR's FHIR server ---------------------------------------------------------------


def _server_with(fhir_server: FhirServer, *procedures: dict[str, Any]) -> FhirServer:
    fhir_server.routes.update(
        {
            "Patient/p-1": patient_resource(),
            "Procedure": bundle(*procedures),
            "Observation": bundle(),
            "ServiceRequest": bundle(),
        }
    )
    return fhir_server


def test_fhir_server_with_a_recent_duplex(ehr: Ehr, fhir_server: FhirServer) -> None:
    _server_with(fhir_server, procedure("93925", _day(7)))
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(fhir=True)))
    assert card["indicator"] == "info"
    assert "arterial duplex" in card["summary"]
    assert len(fhir_server.requests) == 4
    for request in fhir_server.requests:
        assert request.headers["Authorization"] == "Bearer secret-fhir-access-token-0123456789"
        assert request.url.params.get("patient") in (None, "p-1")
    searched = {r.url.path.rsplit("/", 1)[-1]: r.url.params for r in fhir_server.requests}
    assert f"{CPT}|93925" in searched["Procedure"]["code"]
    assert searched["ServiceRequest"]["status"] == "completed"


def test_fhir_server_without_an_evaluation(ehr: Ehr, fhir_server: FhirServer) -> None:
    _server_with(fhir_server)
    assert _one(ehr.call(ORDER_CHECK, order_sign_request(fhir=True)))["indicator"] == "critical"


def test_fhir_server_fills_only_the_missing_keys(ehr: Ehr, fhir_server: FhirServer) -> None:
    _server_with(fhir_server, procedure("93925", _day(7)))
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
    prefetch = {**full_prefetch(), "procedures": failed}
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch, fhir=True)))
    assert card["indicator"] == "info"
    assert [r.url.path.rsplit("/", 1)[-1] for r in fhir_server.requests] == ["Procedure"]


def test_fhir_server_pages_are_followed(ehr: Ehr, fhir_server: FhirServer) -> None:
    from tests.cdshooks.support import FHIR_SERVER

    _server_with(fhir_server)
    fhir_server.routes["Procedure"] = bundle(next_url=f"{FHIR_SERVER}/Procedure?page=2")
    fhir_server.routes["Procedure?page=2"] = bundle(procedure("93923", _day(2)))
    assert _one(ehr.call(ORDER_CHECK, order_sign_request(fhir=True)))["indicator"] == "info"


def test_prefetch_pages_are_followed_on_the_server(ehr: Ehr, fhir_server: FhirServer) -> None:
    from tests.cdshooks.support import FHIR_SERVER

    _server_with(fhir_server)
    fhir_server.routes["Procedure?page=2"] = bundle(procedure("93923", _day(2)))
    prefetch = {**full_prefetch(), "procedures": bundle(next_url=f"{FHIR_SERVER}/Procedure?page=2")}
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch, fhir=True)))
    assert card["indicator"] == "info"


def test_next_link_off_the_server_is_not_followed(ehr: Ehr, fhir_server: FhirServer) -> None:
    _server_with(fhir_server)
    fhir_server.routes["Procedure"] = bundle(next_url="https://attacker.test/Procedure?page=2")
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(fhir=True)))
    assert card["indicator"] == "warning"
    assert all(r.url.host == "ehr.harbor.test" for r in fhir_server.requests)


def test_server_errors_are_reported_not_raised(ehr: Ehr, fhir_server: FhirServer) -> None:
    _server_with(fhir_server)
    fhir_server.routes["Observation"] = httpx.Response(500, text="boom")
    fhir_server.routes["ServiceRequest"] = httpx.Response(200, text="not json")
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(fhir=True)))
    assert card["indicator"] == "warning"
    assert "could not be read" in card["detail"]


def test_fhir_server_not_on_the_allowlist_is_never_called(
    ehr: Ehr, clients_file: Callable[..., Path], fhir_server: FhirServer
) -> None:
    clients_file(ClientSpec(extra={"fhir_servers": ["https://other.test/fhir"]}))
    _server_with(fhir_server, procedure("93925", _day(7)))
    response = ehr.call(ORDER_CHECK, order_sign_request(fhir=True))
    assert response.status_code == 412
    assert fhir_server.requests == []


def test_deadline_answers_with_what_it_has(
    ehr: Ehr, fhir_server: FhirServer, settings: Any
) -> None:
    settings.LIMBGUARD_CDS_DEADLINE_MS = 400
    _server_with(fhir_server, procedure("93925", _day(7)))
    fhir_server.delay = 3.0
    prefetch = {"patient": patient_resource()}
    started = time.monotonic()
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch, fhir=True)))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert card["indicator"] == "warning"
    assert "did not answer in time" in card["detail"]


# --- LimbGuard's registry -----------------------------------------------------------------


@pytest.fixture
def followed(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at("harbor", mrn="LG-1001")


def _known_prefetch(patient: Patient, **fields: Any) -> dict[str, Any]:
    return full_prefetch(mrn=patient.mrn, **fields)


def test_registry_evaluation_gives_an_info_card_with_the_gate(
    ehr: Ehr, followed: Patient, personas: Personas
) -> None:
    assess(
        followed,
        "left",
        visit_date=timezone.localdate() - dt.timedelta(days=10),
        ankle_dp=60,
        ankle_pt=55,
        toe_pressure=30,
        **ARMS,
    )
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(followed))))
    assert card["indicator"] == "info"
    assert "ABI/TBI" in card["summary"]
    assert "from LimbGuard" in card["detail"]
    assert "LimbGuard amputation gate, left leg: **closed**" in card["detail"]
    assert "WIfI" not in card["summary"] or "left leg WIfI stage" in card["summary"]
    (link,) = card["links"]
    assert link == {
        "label": "Open the patient in LimbGuard",
        "url": f"https://limbguard.test/patients/{followed.pk}/",
        "type": "absolute",
    }
    issued = IssuedCard.objects.get()
    assert issued.patient_id == followed.pk
    assert issued.center_id == followed.home_center_id


def test_registry_review_counts(ehr: Ehr, followed: Patient, personas: Personas) -> None:
    from limbguard.treatment.services import do_sign_review

    do_sign_review(
        acting_user=personas["vascular_specialist"],
        patient=followed,
        limb=followed.limbs.get(side="left"),
        conclusion="revascularize",
        summary="Inflow disease; plan angiography.",
    )
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(followed))))
    assert card["indicator"] == "info"
    assert "limb salvage review" in card["summary"]


def test_registry_without_evaluation_gives_a_critical_card_with_a_link(
    ehr: Ehr, followed: Patient
) -> None:
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(followed))))
    assert card["indicator"] == "critical"
    assert card["links"][0]["url"].endswith(f"/patients/{followed.pk}/")
    assert "- LimbGuard registry: checked" in card["detail"]


def test_registry_alone_is_enough_to_answer(ehr: Ehr, followed: Patient) -> None:
    """Only the Patient prefetched: the registry answers (the EHR's keys are unchecked)."""
    prefetch = {"patient": patient_resource(mrn=followed.mrn)}
    assess(followed, "left", ankle_dp=60, ankle_pt=55, **ARMS)
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert card["indicator"] == "info"


def test_each_lookup_is_audited_with_the_client_as_actor(ehr: Ehr, followed: Patient) -> None:
    ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(followed)))
    event = AuditEvent.objects.get(action=AuditAction.VIEW, patient_id=followed.pk)
    assert event.actor_name == "cds-client:harbor-ehr"
    assert event.actor is not None
    assert not event.actor.is_active
    assert not event.actor.has_usable_password()
    assert "limb-salvage-order-check" in event.summary
    ehr.call(ORDER_CHECK, order_sign_request(prefetch=full_prefetch(mrn="NOT-HERE")))
    miss = AuditEvent.objects.get(action=AuditAction.SEARCH)
    assert miss.patient_id is None
    assert "no patient matched" in miss.summary


def test_replayed_call_is_refused_but_its_lookup_audited(ehr: Ehr, followed: Patient) -> None:
    """The jti is recorded in the call's one write transaction, after the lookup ran: a
    replay gets a bare 401 and issues no card, and the lookup it made is audited."""
    from limbguard.cdshooks.models import UsedToken

    token = ehr.token(service_url(ORDER_CHECK))
    body = order_sign_request(prefetch=_known_prefetch(followed))
    assert _one(ehr.call(ORDER_CHECK, body, token=token))["indicator"] == "critical"
    replay = ehr.call(ORDER_CHECK, body, token=token)
    assert replay.status_code == 401
    assert replay.content == b""
    assert UsedToken.objects.count() == 1
    assert IssuedCard.objects.count() == 1
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, patient_id=followed.pk)
    assert views.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{not json", id="malformed"),
        pytest.param(order_sign_request(prefetch={"procedures": []}), id="bad-prefetch"),
        pytest.param(
            order_sign_request(
                {"resourceType": "MedicationRequest", "id": "m-1", "status": "draft"}
            ),
            id="no-amputation",
        ),
        pytest.param(order_sign_request(prefetch={}), id="412"),
    ],
)
def test_a_token_is_spent_whatever_the_answer(ehr: Ehr, body: Any) -> None:
    token = ehr.token(service_url(ORDER_CHECK))
    assert ehr.call(ORDER_CHECK, body, token=token).status_code != 401
    assert ehr.call(ORDER_CHECK, body, token=token).status_code == 401


def test_a_token_is_spent_when_the_service_fails(
    ehr: Ehr, followed: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from limbguard.cdshooks import cards

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("card trouble")

    monkeypatch.setattr(cards, "no_evaluation", broken)
    token = ehr.token(service_url(ORDER_CHECK))
    body = order_sign_request(prefetch=_known_prefetch(followed))
    assert ehr.call(ORDER_CHECK, body, token=token).status_code == 503
    assert AuditEvent.objects.filter(action=AuditAction.VIEW).count() == 1
    assert ehr.call(ORDER_CHECK, body, token=token).status_code == 401


def test_patients_of_other_centers_stay_unknown(
    ehr: Ehr, patient_at: Callable[..., Patient]
) -> None:
    elsewhere = patient_at("coastal", mrn="LG-2002")
    assess(elsewhere, "left", ankle_dp=60, ankle_pt=55, **ARMS)
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(elsewhere))))
    assert card["indicator"] == "critical"
    assert "links" not in card
    assert not AuditEvent.objects.filter(patient_id=elsewhere.pk, actor_name__startswith="cds")


def test_all_centers_client_sees_every_center(
    ehr: Ehr, clients_file: Callable[..., Path], patient_at: Callable[..., Patient]
) -> None:
    clients_file(ClientSpec(extra={"centers": "*"}))
    elsewhere = patient_at("coastal", mrn="LG-2003")
    assess(elsewhere, "left", ankle_dp=60, ankle_pt=55, **ARMS)
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(elsewhere))))
    assert card["indicator"] == "info"


def test_identifier_of_another_system_does_not_match(ehr: Ehr, followed: Patient) -> None:
    prefetch = full_prefetch()
    prefetch["patient"]["identifier"] = [{"system": "urn:other", "value": followed.mrn}]
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert "links" not in card


def test_ambiguous_identifiers_match_no_one(
    ehr: Ehr, followed: Patient, patient_at: Callable[..., Patient]
) -> None:
    second = patient_at("harbor", mrn="LG-1002")
    prefetch = full_prefetch()
    prefetch["patient"]["identifier"] = [
        {"system": MRN_SYSTEM, "value": followed.mrn},
        {"system": MRN_SYSTEM, "value": second.mrn},
    ]
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert "links" not in card
    assert "several patients matched" in AuditEvent.objects.get(action=AuditAction.SEARCH).summary


def test_order_check_query_count(
    ehr: Ehr, followed: Patient, django_assert_max_num_queries: Any
) -> None:
    assess(followed, "left", ankle_dp=60, ankle_pt=55, toe_pressure=30, **ARMS)
    body = order_sign_request(prefetch=_known_prefetch(followed))
    ehr.call(ORDER_CHECK, body)  # the client's service account now exists
    body = order_sign_request(prefetch=_known_prefetch(followed))
    # patient; assessments, reviews, limbs, imported procedures and results (5);
    # one transaction: jti, audit, card (3), plus its savepoint and release here (the
    # test's own transaction is outside it).
    with django_assert_max_num_queries(10):
        assert _one(ehr.call(ORDER_CHECK, body))["indicator"] == "info"


@pytest.mark.parametrize(
    "visits",
    [
        pytest.param([], id="nothing"),
        pytest.param([(5, {"ankle_dp": 60, "ankle_pt": 55, "toe_pressure": 30})], id="abi-toe"),
        pytest.param([(5, {"ankle_dp": 60, "ankle_pt": 55})], id="abi-without-toe"),
        pytest.param([(40, {"arterial_duplex_done": True})], id="old-duplex"),
        pytest.param([(3, {"angiography_done": True})], id="angiography"),
    ],
)
@pytest.mark.parametrize("review", [None, 20, 120])
def test_gate_matches_the_assessments_read_side(
    followed: Patient,
    personas: Personas,
    visits: list[tuple[int, dict[str, Any]]],
    review: int | None,
) -> None:
    """`limbguard_data.record` decides each gate exactly as `queries.gate_for` does."""
    from limbguard.assessments.queries import gate_for
    from limbguard.cdshooks import limbguard_data
    from limbguard.treatment.services import do_sign_review

    today = timezone.localdate()
    for days_ago, fields in visits:
        assess(followed, "left", visit_date=today - dt.timedelta(days=days_ago), **ARMS, **fields)
    if review is not None:
        do_sign_review(
            acting_user=personas["vascular_specialist"],
            patient=followed,
            limb=followed.limbs.get(side="left"),
            conclusion="revascularize",
            summary="Reviewed.",
            signed_on=today - dt.timedelta(days=review),
        )
    mine = limbguard_data.record(followed, since=today - dt.timedelta(days=30), today=today)
    for decision in mine.gates:
        assert decision == gate_for(followed.limbs.get(side=decision.side), today=today)


def test_patient_matched_by_an_imported_identifier(
    ehr: Ehr, patient_at: Callable[..., Patient]
) -> None:
    from limbguard.registry.models import PatientIdentifier

    patient = patient_at("harbor", mrn="LG-4001")
    PatientIdentifier.objects.create(patient=patient, system=MRN_SYSTEM, value="H-778899")
    prefetch = full_prefetch()
    prefetch["patient"]["identifier"] = [{"system": MRN_SYSTEM, "value": "H-778899"}]
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)))
    assert card["links"][0]["url"].endswith(f"/patients/{patient.pk}/")


@pytest.mark.parametrize(
    ("model", "fields", "counts"),
    [
        pytest.param(
            "Procedure",
            {"system": CPT, "code": "93925", "status": "completed", "performed_date": 4},
            True,
            id="imported-duplex",
        ),
        pytest.param(
            "Procedure",
            {"system": CPT, "code": "93970", "status": "completed", "performed_date": 4},
            False,
            id="imported-venous-duplex",
        ),
        pytest.param(
            "Observation",
            {"system": LOINC, "code": "8581-1", "status": "final", "effective_date": 4},
            True,
            id="imported-tbi",
        ),
        pytest.param(
            "Observation",
            {
                "system": LOINC,
                "code": "8581-1",
                "status": "final",
                "effective_date": 4,
                "entered_in_error": True,
            },
            False,
            id="imported-in-error",
        ),
        pytest.param(
            "Observation",
            {"system": LOINC, "code": "8581-1", "status": "final", "effective_date": 45},
            False,
            id="imported-too-old",
        ),
    ],
)
def test_imported_fhir_data_in_the_registry_counts(
    ehr: Ehr, followed: Patient, model: str, fields: dict[str, Any], counts: bool
) -> None:
    from limbguard.registry import models as registry

    for name in ("performed_date", "effective_date"):
        if name in fields:
            fields[name] = timezone.localdate() - dt.timedelta(days=fields[name])
    getattr(registry, model).objects.create(patient=followed, **fields)
    card = _one(ehr.call(ORDER_CHECK, order_sign_request(prefetch=_known_prefetch(followed))))
    assert card["indicator"] == ("info" if counts else "critical")
