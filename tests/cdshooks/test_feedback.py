"""Feedback on issued cards (CDS Hooks 2.0.1 "Feedback"), kept append-only, and the
override rate the program analytics read."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from limbguard.accounts.models import AppendOnlyError, AuditAction, AuditEvent
from limbguard.cdshooks.analytics import override_rate
from limbguard.cdshooks.hooks import LIMB_STATUS, ORDER_CHECK
from limbguard.cdshooks.models import CardFeedback, IssuedCard
from tests.cdshooks.conftest import Ehr
from tests.cdshooks.support import (
    OTHER_ISS,
    ClientSpec,
    ec_key,
    full_prefetch,
    order_sign_request,
    procedure,
)


def _critical(ehr: Ehr) -> dict[str, Any]:
    response = ehr.call(ORDER_CHECK, order_sign_request(prefetch=full_prefetch()))
    card: dict[str, Any] = response.json()["cards"][0]
    assert card["indicator"] == "critical"
    return card


def _accepted(card: dict[str, Any], at: str = "2026-11-20T10:05:31Z") -> dict[str, Any]:
    return {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": at,
    }


def _overridden(
    card: dict[str, Any], code: str | None = "life_threatening_infection", **extra: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "card": card["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-20T10:06:00Z",
        **extra,
    }
    if code is not None:
        reason = next(r for r in card["overrideReasons"] if r["code"] == code)
        item["overrideReason"] = {"reason": reason, "userComment": "Septic foot, to theatre now."}
    return item


def test_accepted_and_overridden_outcomes_are_stored(ehr: Ehr) -> None:
    first, second = _critical(ehr), _critical(ehr)
    response = ehr.feedback(ORDER_CHECK, {"feedback": [_accepted(first), _overridden(second)]})
    assert response.status_code == 200
    assert response.json() == {}
    accepted = CardFeedback.objects.get(card__uuid=first["uuid"])
    assert accepted.outcome == "accepted"
    assert accepted.accepted_suggestions == [first["suggestions"][0]["uuid"]]
    assert accepted.outcome_at == dt.datetime(2026, 11, 20, 10, 5, 31, tzinfo=dt.UTC)
    overridden = CardFeedback.objects.get(card__uuid=second["uuid"])
    assert overridden.reason_code == "life_threatening_infection"
    assert overridden.reason_display == "Life-threatening infection"
    assert overridden.user_comment == "Septic foot, to theatre now."
    assert overridden.client == "harbor-ehr"
    events = AuditEvent.objects.filter(
        action=AuditAction.CREATE, actor_name="cds-client:harbor-ehr"
    )
    assert events.count() == 2


def test_the_spec_feedback_examples(ehr: Ehr) -> None:
    """2.0.1 examples: overridden without a reason, and with a reason lacking a display."""
    card = _critical(ehr)
    bare = {
        "card": card["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2020-12-11T00:00:00Z",
    }
    coded = {
        **bare,
        "overrideReason": {
            "reason": {
                "code": "d7ecf885",
                "system": "https://example.com/cds-hooks/override-reason-system",
            },
            "userComment": "A comment entered by the clinician.",
        },
    }
    assert ehr.feedback(ORDER_CHECK, {"feedback": [bare, coded]}).status_code == 200
    assert CardFeedback.objects.count() == 2


def test_replayed_feedback_is_refused_and_not_stored(ehr: Ehr) -> None:
    from tests.cdshooks.support import service_url

    card = _critical(ehr)
    token = ehr.token(f"{service_url(ORDER_CHECK)}/feedback")
    body = {"feedback": [_accepted(card)]}
    assert ehr.feedback(ORDER_CHECK, body, token=token).status_code == 200
    assert ehr.feedback(ORDER_CHECK, body, token=token).status_code == 401
    assert CardFeedback.objects.count() == 1


def test_a_card_may_get_feedback_more_than_once(ehr: Ehr) -> None:
    card = _critical(ehr)
    for _ in range(2):
        assert ehr.feedback(ORDER_CHECK, {"feedback": [_accepted(card)]}).status_code == 200
    assert CardFeedback.objects.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"outcome": "dismissed"}, id="cds-fb-1"),
        pytest.param({"acceptedSuggestions": None}, id="cds-fb-2"),
        pytest.param({"overrideReason": {}}, id="cds-fb-3"),
        pytest.param({"outcomeTimestamp": "yesterday"}, id="timestamp"),
        pytest.param({"card": "not-a-uuid"}, id="card-uuid"),
    ],
)
def test_invalid_feedback_is_400_and_stores_nothing(ehr: Ehr, change: dict[str, Any]) -> None:
    card = _critical(ehr)
    item = {k: v for k, v in {**_accepted(card), **change}.items() if v is not None}
    response = ehr.feedback(ORDER_CHECK, {"feedback": [_accepted(card), item]})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not CardFeedback.objects.exists()


def test_unknown_card_is_refused_whole(ehr: Ehr) -> None:
    card = _critical(ehr)
    unknown = {**_accepted(card), "card": str(uuid.uuid4())}
    response = ehr.feedback(ORDER_CHECK, {"feedback": [_accepted(card), unknown]})
    assert response.status_code == 400
    assert not CardFeedback.objects.exists()


def test_suggestion_not_on_the_card_is_refused(ehr: Ehr) -> None:
    card = _critical(ehr)
    item = {**_accepted(card), "acceptedSuggestions": [{"id": str(uuid.uuid4())}]}
    assert ehr.feedback(ORDER_CHECK, {"feedback": [item]}).status_code == 400


def test_card_of_another_service_is_refused(ehr: Ehr) -> None:
    card = _critical(ehr)
    assert ehr.feedback(LIMB_STATUS, {"feedback": [_accepted(card)]}).status_code == 400


def test_card_of_another_client_is_refused(ehr: Ehr, clients_file: Callable[..., Path]) -> None:
    other_key = ec_key("coastal-1")
    clients_file(ClientSpec(), ClientSpec(name="coastal-ehr", iss=OTHER_ISS, keys=[other_key]))
    card = _critical(ehr)
    response = ehr.feedback(
        ORDER_CHECK, {"feedback": [_accepted(card)]}, key=other_key, iss=OTHER_ISS
    )
    assert response.status_code == 400


def test_feedback_for_an_unknown_service_is_404(ehr: Ehr) -> None:
    assert ehr.feedback("nope", {"feedback": []}).status_code == 404


def test_cards_and_feedback_are_append_only(ehr: Ehr) -> None:
    card = _critical(ehr)
    ehr.feedback(ORDER_CHECK, {"feedback": [_accepted(card)]})
    issued, feedback = IssuedCard.objects.get(), CardFeedback.objects.get()
    for row in (issued, feedback):
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()
        with pytest.raises(AppendOnlyError):
            type(row).objects.all().delete()
        with pytest.raises(AppendOnlyError):
            type(row).objects.update(client="x")
    for table in ("cdshooks_issuedcard", "cdshooks_cardfeedback"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET client = 'x'")  # noqa: S608 (fixed names)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608


# --- override rate -------------------------------------------------------------------------


def test_override_rate_counts_cards_by_their_latest_outcome(ehr: Ehr) -> None:
    a, b, c, d = (_critical(ehr) for _ in range(4))
    later = "2026-11-21T09:00:00Z"
    ehr.feedback(
        ORDER_CHECK,
        {
            "feedback": [
                _overridden(a),
                _accepted(a, at=later),  # changed their mind: accepted
                _overridden(b, code="patient_informed_choice"),
                _overridden(c, code=None),
            ]
        },
    )
    rate = override_rate()
    assert rate.cards_issued == 4  # d was ignored: issued, no outcome
    assert (rate.accepted, rate.overridden) == (1, 2)
    assert rate.rate == pytest.approx(2 / 3)
    assert rate.reasons == (("Patient's informed choice", 1), ("no reason given", 1))
    assert d["uuid"]


def test_override_rate_leaves_information_cards_out(ehr: Ehr) -> None:
    prefetch = full_prefetch(procedures=(procedure("93923", "2999-01-01"),))
    ehr.call(ORDER_CHECK, order_sign_request(prefetch=prefetch))
    info = full_prefetch(procedures=(procedure("93923", timezone.localdate().isoformat()),))
    ehr.call(ORDER_CHECK, order_sign_request(prefetch=info))
    rate = override_rate()
    assert rate.cards_issued == 1
    assert rate.rate is None


def test_override_rate_by_period_and_center(ehr: Ehr) -> None:
    _critical(ehr)
    future = dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=1)
    assert override_rate(since=future).cards_issued == 0
    assert override_rate(until=future).cards_issued == 1
    assert override_rate(center_ids=[]).cards_issued == 0
