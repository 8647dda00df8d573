"""Every write of the CDS Hooks service: one transaction each, audited, actor = the client.

An EHR is not a person, so each configured client acts through its own service account,
``cds-client:<name>``: inactive (it can never sign in), no password, no role, no center.
It exists so that the audit trail names the client as the actor of each patient lookup
and of each feedback entry, exactly as it names a user.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.cdshooks import auth, conf
from limbguard.cdshooks.cards import Built
from limbguard.cdshooks.limbguard_data import Lookup
from limbguard.cdshooks.models import CardFeedback, IssuedCard
from limbguard.cdshooks.schemas import FeedbackItem
from limbguard.registry import rows
from limbguard.registry.models import Patient

ACCOUNT_PREFIX = "cds-client:"


_accounts: dict[str, User] = {}


def client_account(client: conf.Client) -> User:
    """The client's service account, created inactive on first use.

    It is remembered per process as a stub holding its id and user name, all the audit
    trail reads of it (the account is never deleted: the audit trail protects it), so a
    hook call pays no query and builds no model instance for it.
    """
    username = f"{ACCOUNT_PREFIX}{client.name}"
    known = _accounts.get(username)
    if known is not None:
        return known
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name="CDS client", last_name=client.name)
        user.is_active = False
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # another worker created it meanwhile
            user = User.objects.get(username=username)
    _accounts[username] = User(pk=user.pk, username=username)
    return _accounts[username]


def forget_accounts() -> None:
    """For tests, whose rolled-back transactions remove the accounts again."""
    _accounts.clear()


@dataclass(frozen=True)
class Hook:
    """Which call: the client, service, hook and hook instance."""

    client: conf.Client
    service_id: str
    hook: str
    hook_instance: uuid.UUID


@dataclass(frozen=True)
class LookupDone:
    """A patient lookup that ran, and what was read about the patient it matched."""

    lookup: Lookup
    read: tuple[str, ...]


def _lookup_audit_row(hook: Hook, done: LookupDone, ip_address: str | None) -> dict[str, Any]:
    """The audit row of one lookup: VIEW of the matched patient, else SEARCH."""
    actor = client_account(hook.client)
    where = f"CDS Hooks {hook.service_id} ({hook.hook})"
    changes: dict[str, object] = {"hookInstance": str(hook.hook_instance)}
    patient = done.lookup.patient
    if patient is not None:
        return rows.audit_row(
            actor,
            AuditAction.VIEW,
            patient,
            patient.pk,
            f"{where}: patient matched by identifier; read {', '.join(done.read)}",
            {**changes, "read": list(done.read)},
            ip_address,
        )
    outcome = (
        "several patients matched, none used" if done.lookup.ambiguous else "no patient matched"
    )
    summary = f"{where}: {outcome} ({done.lookup.identifiers_tried} identifier(s) tried)"
    # As `audit.record` writes a row that names no object.
    return {
        "at": timezone.now(),
        "actor_id": actor.pk,
        "actor_name": actor.get_username(),
        "action": AuditAction.SEARCH.value,
        "patient_id": None,
        "object_type": "",
        "object_id": "",
        "summary": summary[:300],
        "changes": changes,
        "ip_address": ip_address,
    }


def do_record_call(
    *,
    token: auth.Token | None,
    hook: Hook,
    lookups: Sequence[LookupDone],
    patient: Patient | None,
    cards: Sequence[Built],
    ip_address: str | None,
) -> None:
    """Record the call's token (`auth.remember`: `Refused` on a replay, and nothing is
    written), audit each patient lookup of the call and keep the cards it returned (so
    that feedback can refer to them), in one transaction. The views call this whatever
    the call's outcome: a lookup is audited even when the call then fails (a replay
    too: with `token` None and no cards).

    The rows are prepared first and written with plain parameterised INSERTs
    (`registry.rows.insert_values`, column values exactly as the ORM writes them): on SQLite the
    transaction holds the database's one write lock from its first statement, and every
    other worker's write waits for it, so it holds it for the inserts alone."""
    audit_rows = [_lookup_audit_row(hook, done, ip_address) for done in lookups]
    now = timezone.now()
    card_rows = [
        {
            "uuid": built.card_uuid,
            "service_id": hook.service_id,
            "hook": hook.hook,
            "hook_instance": hook.hook_instance,
            "client": hook.client.name,
            "kind": built.kind.value,
            "indicator": built.card.indicator,
            "suggestion_uuids": built.suggestion_uuids,
            "patient_id": patient.pk if patient is not None else None,
            "center_id": patient.home_center_id if patient is not None else None,
            "issued_at": now,
        }
        for built in cards
    ]
    with transaction.atomic():
        if token is not None:
            auth.remember(token, first_write=True)
        rows.append_audit_rows(audit_rows)
        rows.insert_values(IssuedCard, card_rows)


class UnknownCard(ValueError):
    """Feedback about a card this client never got from this service."""


@transaction.atomic
def do_record_feedback(
    *,
    token: auth.Token,
    client: conf.Client,
    service_id: str,
    items: Sequence[FeedbackItem],
    received_at: dt.datetime,
    ip_address: str | None,
) -> int:
    """Record the token (`auth.remember`) and store each feedback entry, all or none;
    returns how many were stored."""
    auth.remember(token)
    wanted = {item.card for item in items}
    cards = {
        card.uuid: card
        for card in IssuedCard.objects.filter(
            uuid__in=wanted, service_id=service_id, client=client.name
        )
    }
    unknown = wanted - cards.keys()
    if unknown:
        raise UnknownCard(f"{len(unknown)} card uuid(s) were not issued to this client here")
    actor = client_account(client) if items else None
    for item in items:
        card = cards[item.card]
        offered = set(card.suggestion_uuids)
        accepted = [str(s.id) for s in item.acceptedSuggestions or []]
        if any(s not in offered for s in accepted):
            raise UnknownCard("an accepted suggestion is not one of the card's suggestions")
        reason = item.overrideReason.reason if item.overrideReason else None
        feedback = CardFeedback.objects.create(
            card=card,
            outcome=item.outcome,
            accepted_suggestions=accepted,
            reason_system=(reason.system or "")[:255] if reason else "",
            reason_code=(reason.code or "")[:100] if reason else "",
            reason_display=(reason.display or "")[:255] if reason else "",
            user_comment=(item.overrideReason.userComment or "") if item.overrideReason else "",
            outcome_at=item.outcomeTimestamp,
            received_at=received_at,
            client=client.name,
        )
        audit.record(
            acting_user=actor,
            action=AuditAction.CREATE,
            patient_id=card.patient_id,
            obj=feedback,
            summary=f"CDS Hooks feedback on a {card.indicator} {service_id} card: {item.outcome}"
            + (f" ({feedback.reason_display or feedback.reason_code})" if reason else ""),
            ip_address=ip_address,
        )
    return len(items)
