"""Discovery, the spec's own example requests, bad input, CORS and CSRF.

Examples: CDS Hooks 2.0.1 "Calling a CDS Service" (patient-view request), the CDS Hooks
Library order-sign page (R4 example context), and cds-hooks/docs examples.md
("Radiology Appropriateness": order-select with a draft ServiceRequest).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from limbguard.cdshooks import fhirdata
from limbguard.cdshooks.hooks import LIMB_STATUS, ORDER_CHECK
from limbguard.cdshooks.schemas import CdsResponse, Services
from tests.cdshooks.conftest import Ehr
from tests.cdshooks.support import (
    EHR_ORIGIN,
    ClientSpec,
    amputation_order,
    full_prefetch,
    order_sign_request,
)

# CDS Hooks 2.0.1, "Calling a CDS Service", Example (verbatim).
SPEC_PATIENT_VIEW: dict[str, Any] = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://hooks.smarthealthit.org:9080",
    "hook": "patient-view",
    "fhirAuthorization": {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "cds-service4",
    },
    "context": {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284"},
    "prefetch": {
        "patientToGreet": {
            "resourceType": "Patient",
            "gender": "male",
            "birthDate": "1925-12-23",
            "id": "1288992",
            "active": True,
        }
    },
}

# cds-hooks/docs examples.md, "Radiology Appropriateness" (verbatim request).
SPEC_ORDER_SELECT: dict[str, Any] = {
    "hook": "order-select",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://hooks.smarthealthit.org:9080",
    "context": {
        "userId": "Practitioner/123",
        "patientId": "MRI-59879846",
        "encounterId": "89284",
        "selections": ["ServiceRequest/example-MRI-59879846"],
        "draftOrders": {
            "resourceType": "Bundle",
            "entry": [
                {
                    "resource": {
                        "resourceType": "ServiceRequest",
                        "id": "example-MRI-59879846",
                        "status": "draft",
                        "intent": "plan",
                        "code": {
                            "coding": [{"system": "http://loinc.org", "code": "36801-9"}],
                            "text": "MRA Knee Vessels Right",
                        },
                        "subject": {"reference": "Patient/MRI-59879846"},
                        "reasonCode": [
                            {
                                "coding": [
                                    {
                                        "system": "http://hl7.org/fhir/sid/icd-10",
                                        "code": "S83.511",
                                        "display": "Sprain of anterior cruciate ligament of "
                                        "right knee",
                                    }
                                ]
                            }
                        ],
                    }
                }
            ],
        },
    },
}

# CDS Hooks Library, order-sign, "Example (R4)" context (abridged resources, same shape).
SPEC_ORDER_SIGN_CONTEXT: dict[str, Any] = {
    "userId": "PractitionerRole/123",
    "patientId": "1288992",
    "encounterId": "89284",
    "draftOrders": {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "NutritionOrder",
                    "id": "pureeddiet-simple",
                    "status": "draft",
                    "patient": {"reference": "Patient/1288992"},
                    "dateTime": "2014-09-17",
                }
            },
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "smart-MedicationRequest-103",
                    "status": "draft",
                    "intent": "order",
                    "medicationCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                "code": "617993",
                            }
                        ]
                    },
                    "subject": {"reference": "Patient/1288992"},
                }
            },
        ],
    },
}


def _valid_response(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    CdsResponse.model_validate(body)  # every invariant holds on what was sent
    return body


def _outcome(response: Any, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    text: str = body["issue"][0]["diagnostics"]
    assert "Traceback" not in text
    return text


# --- discovery -------------------------------------------------------------------------


def test_discovery_lists_both_services(ehr: Ehr) -> None:
    body = ehr.discover().json()
    Services.model_validate(body)
    listed = {(s["id"], s["hook"]) for s in body["services"]}
    assert listed == {
        (ORDER_CHECK, "order-select"),
        (ORDER_CHECK, "order-sign"),
        (LIMB_STATUS, "patient-view"),
    }
    for service in body["services"]:
        assert service["description"]
        assert service["title"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def test_prefetch_templates_stay_in_the_2_0_query_subset(ehr: Ehr) -> None:
    """Reads, searches by patient reference, token equality, no FHIRPath (2.0.1)."""
    for service in ehr.discover().json()["services"]:
        for template in service["prefetch"].values():
            assert "{{context.patientId}}" in template
            assert "today()" not in template
            assert ":" not in template.split("?")[0]
            query = template.partition("?")[2]
            for parameter in filter(None, query.split("&")):
                name = parameter.split("=")[0]
                assert name in {"patient", "code", "status"}


# --- the spec's example requests -----------------------------------------------------------


def test_spec_patient_view_example(
    ehr: Ehr, clients_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 2.0.1 example, its FHIR server moved to https (LimbGuard never sends a token
    over plain http) and allowlisted: the Patient is read from there."""
    server = "https://hooks.smarthealthit.org:9080"
    clients_file(ClientSpec(extra={"fhir_servers": [server]}))
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=SPEC_PATIENT_VIEW["prefetch"]["patientToGreet"])

    monkeypatch.setattr(fhirdata, "transport", httpx.MockTransport(handle))
    body = _valid_response(ehr.call(LIMB_STATUS, {**SPEC_PATIENT_VIEW, "fhirServer": server}))
    assert body == {"cards": []}  # LimbGuard does not follow this patient
    assert str(seen[0].url) == f"{server}/Patient/1288992"
    assert seen[0].headers["Authorization"] == "Bearer some-opaque-fhir-access-token"


def test_spec_patient_view_example_without_fhir_server_access(ehr: Ehr) -> None:
    """Not allowlisted and not prefetched under our key: nothing obtainable, 412."""
    text = _outcome(ehr.call(LIMB_STATUS, SPEC_PATIENT_VIEW), 412)
    assert "Patient" in text


def test_spec_order_sign_example_without_amputation(ehr: Ehr) -> None:
    body = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": SPEC_ORDER_SIGN_CONTEXT,
    }
    assert _valid_response(ehr.call(ORDER_CHECK, body)) == {"cards": []}


def test_spec_order_select_example_with_draft_service_request(ehr: Ehr) -> None:
    assert _valid_response(ehr.call(ORDER_CHECK, SPEC_ORDER_SELECT)) == {"cards": []}


def test_spec_order_select_example_as_order_sign(ehr: Ehr) -> None:
    body = copy.deepcopy(SPEC_ORDER_SELECT)
    body["hook"] = "order-sign"
    del body["context"]["selections"]
    assert _valid_response(ehr.call(ORDER_CHECK, body)) == {"cards": []}


def test_spec_order_sign_with_an_amputation_service_request(ehr: Ehr) -> None:
    """The library's R4 example with a draft amputation ServiceRequest added."""
    context = copy.deepcopy(SPEC_ORDER_SIGN_CONTEXT)
    context["draftOrders"]["entry"].append({"resource": amputation_order(patient_id="1288992")})
    body = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": full_prefetch("1288992"),
    }
    cards = _valid_response(ehr.call(ORDER_CHECK, body))["cards"]
    assert [c["indicator"] for c in cards] == ["critical"]


# --- bad input ---------------------------------------------------------------------------


def test_malformed_json(ehr: Ehr) -> None:
    assert "JSON" in _outcome(ehr.call(ORDER_CHECK, '{"hook": "order-sign",'), 400)


def test_json_that_is_not_an_object(ehr: Ehr) -> None:
    _outcome(ehr.call(ORDER_CHECK, "[1, 2]"), 400)


def test_not_json(ehr: Ehr) -> None:
    _outcome(ehr.call(ORDER_CHECK, "hook=order-sign", content_type="text/plain"), 415)


def test_unknown_hook(ehr: Ehr) -> None:
    body = order_sign_request()
    body["hook"] = "medication-prescribe"
    assert "medication-prescribe" in _outcome(ehr.call(ORDER_CHECK, body), 400)


def test_hook_of_the_other_service(ehr: Ehr) -> None:
    _outcome(ehr.call(LIMB_STATUS, order_sign_request()), 400)


def test_unknown_service(ehr: Ehr) -> None:
    _outcome(ehr.call("no-such-service", order_sign_request()), 404)


@pytest.mark.parametrize("field", ["patientId", "userId", "draftOrders"])
def test_missing_context_field(ehr: Ehr, field: str) -> None:
    body = order_sign_request()
    del body["context"][field]
    assert f"context.{field}" in _outcome(ehr.call(ORDER_CHECK, body), 400)


@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_missing_request_field(ehr: Ehr, field: str) -> None:
    body = order_sign_request()
    del body[field]
    assert field in _outcome(ehr.call(ORDER_CHECK, body), 400)


def test_draft_orders_not_a_bundle(ehr: Ehr) -> None:
    body = order_sign_request()
    body["context"]["draftOrders"] = {"resourceType": "ServiceRequest", "id": "x"}
    assert "draftOrders" in _outcome(ehr.call(ORDER_CHECK, body), 400)


def test_draft_orders_a_list(ehr: Ehr) -> None:
    body = order_sign_request()
    body["context"]["draftOrders"] = [amputation_order()]
    _outcome(ehr.call(ORDER_CHECK, body), 400)


def test_prefetch_operation_outcome_without_fhir_server_is_412(ehr: Ehr) -> None:
    """The client reports its prefetch failed; with nothing else to read, 412."""
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
    prefetch = dict.fromkeys(("patient", "procedures", "observations", "consults"), failed)
    _outcome(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)), 412)


def test_prefetch_value_that_is_not_a_resource(ehr: Ehr) -> None:
    prefetch = {**full_prefetch(), "procedures": "Procedure?patient=p-1"}
    assert "prefetch.procedures" in _outcome(
        ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)), 400
    )


def test_prefetch_of_another_patient(ehr: Ehr) -> None:
    prefetch = {**full_prefetch(), "patient": {"resourceType": "Patient", "id": "someone-else"}}
    _outcome(ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch)), 400)


def test_huge_body(ehr: Ehr, settings: Any) -> None:
    settings.LIMBGUARD_CDS_MAX_BODY_BYTES = 10_000
    body = order_sign_request(prefetch=full_prefetch())
    body["padding"] = "x" * 20_000
    assert "bytes" in _outcome(ehr.call(ORDER_CHECK, body), 413)


def test_invalid_fhir_server_url(ehr: Ehr) -> None:
    body = order_sign_request(fhir=True)
    body["fhirServer"] = "not a url"
    _outcome(ehr.call(ORDER_CHECK, body), 400)


def test_schema_errors_do_not_echo_input(ehr: Ehr) -> None:
    body = order_sign_request(fhir=True)
    body["fhirAuthorization"]["token_type"] = "MAC secret-value-xyz"
    text = _outcome(ehr.call(ORDER_CHECK, body), 400)
    assert "secret-value-xyz" not in text


def test_wrong_method(ehr: Ehr) -> None:
    token = ehr.token("https://limbguard.test/cds-services/limb-status")
    response = ehr.client.get("/cds-services/limb-status", HTTP_AUTHORIZATION=f"Bearer {token}")
    _outcome(response, 405)
    assert response["Allow"] == "POST, OPTIONS"


def test_trailing_slash_is_not_the_service(ehr: Ehr) -> None:
    assert ehr.client.get("/cds-services/").status_code == 404


def test_internal_failure_is_503_without_a_trace(ehr: Ehr, monkeypatch: pytest.MonkeyPatch) -> None:
    from limbguard.cdshooks import hooks

    def broken(call: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(hooks.HANDLERS, ORDER_CHECK, broken)
    text = _outcome(ehr.call(ORDER_CHECK, order_sign_request(prefetch=full_prefetch())), 503)
    assert "secret internals" not in text


# --- CORS and CSRF ------------------------------------------------------------------------


def test_preflight_for_a_configured_origin(ehr: Ehr) -> None:
    response = ehr.client.options(
        "/cds-services/limb-status",
        HTTP_ORIGIN=EHR_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == EHR_ORIGIN
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_preflight_for_another_origin(ehr: Ehr) -> None:
    response = ehr.client.options(
        "/cds-services/limb-status",
        HTTP_ORIGIN="https://evil.test",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_cors_header_on_answers_for_configured_origins_only(ehr: Ehr) -> None:
    token = ehr.token("https://limbguard.test/cds-services")
    good = ehr.client.get(
        "/cds-services", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORIGIN=EHR_ORIGIN
    )
    assert good["Access-Control-Allow-Origin"] == EHR_ORIGIN
    refused = ehr.client.get("/cds-services", HTTP_ORIGIN=EHR_ORIGIN)
    assert refused.status_code == 401
    assert refused["Access-Control-Allow-Origin"] == EHR_ORIGIN
    token = ehr.token("https://limbguard.test/cds-services")
    other = ehr.client.get(
        "/cds-services", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORIGIN="https://evil.test"
    )
    assert "Access-Control-Allow-Origin" not in other


def test_posts_work_without_csrf_token(ehr: Ehr) -> None:
    """The Ehr fixture's client enforces CSRF checks: these endpoints are exempt."""
    assert ehr.call(ORDER_CHECK, order_sign_request(*[])).status_code in {200, 412}


def test_other_posts_still_need_csrf(ehr: Ehr) -> None:
    response = ehr.client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_body_read_once_even_for_json_content_type_variants(ehr: Ehr) -> None:
    response = ehr.call(
        ORDER_CHECK,
        json.dumps(order_sign_request(prefetch=full_prefetch())),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_database_trouble_during_authentication_is_503(
    ehr: Ehr, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from limbguard.cdshooks import auth

    def locked(*args: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(auth, "_remember_jti", locked)
    text = _outcome(ehr.discover(), 503)
    assert "locked" not in text
