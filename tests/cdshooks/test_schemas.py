"""The wire models: one test per invariant of the CDS Hooks logical models, and the JSON rules.

Invariants: HL7/cds-hooks input/fsh/invariants/ (cds-r-1, cds-r-2, cds-resp-1 ... 7,
cds-fb-1 ... 3) and the hook library's ord-1; JSON rules: 2.0.1 "Use of JSON" (omit
optional members without a value) and "Card Attributes" (summary under 140 characters).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from limbguard.cdshooks.schemas import (
    Action,
    Card,
    CdsRequest,
    CdsResponse,
    Coding,
    FeedbackItem,
    Link,
    OrderSelectContext,
    OverrideReason,
    PatientViewContext,
    Service,
    Services,
    Suggestion,
)

SOURCE = {"label": "LimbGuard"}
CREATE = {"type": "create", "description": "Order it", "resource": {"resourceType": "X"}}


def _card(**fields: Any) -> Card:
    return Card.model_validate({"summary": "S", "indicator": "info", "source": SOURCE, **fields})


def _request(**fields: Any) -> CdsRequest:
    return CdsRequest.model_validate(
        {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {}, **fields}
    )


AUTHORIZATION = {
    "access_token": "opaque",
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "user/Patient.read",
    "subject": "cds-service4",
}


# --- request: cds-r-1, cds-r-2 ---------------------------------------------------------


def test_cds_r_1_fhir_authorization_needs_fhir_server() -> None:
    with pytest.raises(ValidationError, match="cds-r-1"):
        _request(fhirAuthorization=AUTHORIZATION)
    assert _request(fhirAuthorization=AUTHORIZATION, fhirServer="https://ehr.test/fhir")


def test_cds_r_2_patient_scopes_should_name_the_patient() -> None:
    """A warning in the spec: the request is served, the warning reported."""
    scoped = {**AUTHORIZATION, "scope": "patient/Observation.read"}
    request = _request(fhirAuthorization=scoped, fhirServer="https://ehr.test/fhir")
    assert request.warnings() == ["cds-r-2"]
    named = _request(
        fhirAuthorization={**scoped, "patient": "p-1"}, fhirServer="https://ehr.test/fhir"
    )
    assert named.warnings() == []


def test_access_token_never_shows_in_a_repr() -> None:
    request = _request(fhirAuthorization=AUTHORIZATION, fhirServer="https://ehr.test/fhir")
    assert "opaque" not in repr(request)
    assert "opaque" not in str(request.model_dump())


def test_hook_instance_accepts_the_urn_uuid_form() -> None:
    value = uuid.uuid4()
    assert _request(hookInstance=f"urn:uuid:{value}").hookInstance == value
    with pytest.raises(ValidationError):
        _request(hookInstance="not-a-uuid")


def test_ord_1_user_id_is_type_slash_id() -> None:
    assert PatientViewContext.model_validate({"userId": "Practitioner/abc", "patientId": "1"})
    with pytest.raises(ValidationError):
        PatientViewContext.model_validate({"userId": "abc", "patientId": "1"})


def test_order_select_needs_one_selection_or_more() -> None:
    draft = {"resourceType": "Bundle", "entry": []}
    base = {"userId": "Practitioner/abc", "patientId": "1", "draftOrders": draft}
    with pytest.raises(ValidationError):
        OrderSelectContext.model_validate({**base, "selections": []})
    assert OrderSelectContext.model_validate({**base, "selections": ["ServiceRequest/1"]})


# --- response: cds-resp-1 ... cds-resp-7 ---------------------------------------------------


def test_cds_resp_1_at_most_one_allows_one_recommended_suggestion() -> None:
    two = [{"label": "A", "isRecommended": True}, {"label": "B", "isRecommended": True}]
    with pytest.raises(ValidationError, match="cds-resp-1"):
        _card(suggestions=two, selectionBehavior="at-most-one")
    assert _card(suggestions=two, selectionBehavior="any")


def test_cds_resp_2_delete_gives_resource_id_not_resource() -> None:
    with pytest.raises(ValidationError, match="cds-resp-2"):
        Action.model_validate({"type": "delete", "description": "x", "resource": {"id": "1"}})
    with pytest.raises(ValidationError, match="cds-resp-2"):
        Action.model_validate({"type": "delete", "description": "x"})
    assert Action.model_validate(
        {"type": "delete", "description": "x", "resourceId": "ServiceRequest/1"}
    )


def test_cds_resp_3_app_context_only_on_smart_links() -> None:
    with pytest.raises(ValidationError, match="cds-resp-3"):
        Link.model_validate(
            {"label": "L", "url": "https://a.test", "type": "absolute", "appContext": "{}"}
        )
    assert Link.model_validate(
        {"label": "L", "url": "https://a.test", "type": "smart", "appContext": "{}"}
    )


def test_cds_resp_4_override_reasons_have_a_display() -> None:
    with pytest.raises(ValidationError, match="cds-resp-4"):
        _card(overrideReasons=[{"system": "urn:x", "code": "c"}])
    assert _card(overrideReasons=[{"system": "urn:x", "code": "c", "display": "Reason"}])


def test_cds_resp_5_every_suggestion_action_has_a_description() -> None:
    with pytest.raises(ValidationError, match="cds-resp-5"):
        Suggestion.model_validate(
            {"label": "A", "actions": [{"type": "create", "resource": {"resourceType": "X"}}]}
        )
    assert Suggestion.model_validate({"label": "A", "actions": [CREATE]})


def test_cds_resp_6_suggestions_need_a_selection_behavior() -> None:
    with pytest.raises(ValidationError, match="cds-resp-6"):
        _card(suggestions=[{"label": "A"}])
    assert _card(suggestions=[{"label": "A"}], selectionBehavior="any")


def test_cds_resp_7_action_selection_behavior_values() -> None:
    for value in ("all", "any", "at-most-one"):
        assert Suggestion.model_validate({"label": "A", "actionSelectionBehavior": value})
    with pytest.raises(ValidationError):
        Suggestion.model_validate({"label": "A", "actionSelectionBehavior": "some"})


def test_create_and_update_actions_carry_the_resource() -> None:
    with pytest.raises(ValidationError):
        Action.model_validate({"type": "create", "description": "x"})


def test_summary_is_under_140_characters() -> None:
    assert _card(summary="x" * 139)
    with pytest.raises(ValidationError):
        _card(summary="x" * 140)


def test_indicator_values_are_the_2_0_ones() -> None:
    for legacy in ("hard-stop", "success"):
        with pytest.raises(ValidationError):
            _card(indicator=legacy)


def test_optional_members_without_a_value_are_omitted() -> None:
    card = _card(uuid=uuid.uuid4(), suggestions=[], links=[], detail="")
    wire = CdsResponse(cards=[card]).wire()
    assert set(wire["cards"][0]) == {"uuid", "summary", "indicator", "source"}
    assert "systemActions" not in wire


def test_empty_cards_stay_present() -> None:
    assert CdsResponse(cards=[]).wire() == {"cards": []}
    assert Services(services=[]).wire() == {"services": []}


def test_outgoing_models_refuse_unknown_members() -> None:
    with pytest.raises(ValidationError):
        _card(color="red")
    with pytest.raises(ValidationError):
        Coding.model_validate({"code": "c", "version": "1", "extra": True})


def test_service_wire() -> None:
    service = Service(hook="patient-view", id="limb-status", description="D")
    assert service.wire() == {"hook": "patient-view", "id": "limb-status", "description": "D"}


# --- feedback: cds-fb-1 ... cds-fb-3 --------------------------------------------------------


def _feedback(**fields: Any) -> FeedbackItem:
    return FeedbackItem.model_validate(
        {
            "card": str(uuid.uuid4()),
            "outcome": "overridden",
            "outcomeTimestamp": "2026-11-20T10:05:31Z",
            **fields,
        }
    )


def test_cds_fb_1_outcome_is_accepted_or_overridden() -> None:
    with pytest.raises(ValidationError, match="cds-fb-1"):
        _feedback(outcome="ignored")


def test_cds_fb_2_accepted_lists_accepted_suggestions() -> None:
    with pytest.raises(ValidationError, match="cds-fb-2"):
        _feedback(outcome="accepted")
    assert _feedback(outcome="accepted", acceptedSuggestions=[{"id": str(uuid.uuid4())}])


def test_cds_fb_3_override_reason_has_a_reason_or_a_comment() -> None:
    with pytest.raises(ValidationError, match="cds-fb-3"):
        OverrideReason.model_validate({})
    assert OverrideReason.model_validate({"userComment": "Done at another hospital"})
    assert OverrideReason.model_validate({"reason": {"code": "d7ecf885"}})


def test_outcome_timestamp_needs_a_zone() -> None:
    with pytest.raises(ValidationError):
        _feedback(outcomeTimestamp="2026-11-20T10:05:31")
