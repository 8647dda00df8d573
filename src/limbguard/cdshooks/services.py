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

from django.db import transaction

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.cdshooks import conf
from limbguard.cdshooks.cards import Built
from limbguard.cdshooks.limbguard_data import Lookup
from limbguard.cdshooks.models import CardFeedback, IssuedCard
from limbguard.cdshooks.schemas import FeedbackItem
from limbguard.registry.models import Patient

ACCOUNT_PREFIX = "cds-client:"


def client_account(client: conf.Client) -> User:
    """The client's service account, created inactive on first use."""
    username = f"{ACCOUNT_PREFIX}{client.name}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name="CDS client", last_name=client.name)
        user.is_active = False
        user.set_unusable_password()
        user.save()
    return user


@dataclass(frozen=True)
class Hook:
    """Which call: the client, service, hook and hook instance."""

    client: conf.Client
    service_id: str
    hook: str
    hook_instance: uuid.UUID


@transaction.atomic
def do_audit_lookup(
    *, hook: Hook, lookup: Lookup, read: Sequence[str], ip_address: str | None
) -> None:
    """Audit one patient lookup at once, whatever happens to the call afterwards."""
    actor = client_account(hook.client)
    where = f"CDS Hooks {hook.service_id} ({hook.hook})"
    changes = {"hookInstance": str(hook.hook_instance)}
    if lookup.patient is not None:
        audit.record(
            acting_user=actor,
            action=AuditAction.VIEW,
            patient_id=lookup.patient.pk,
            obj=lookup.patient,
            summary=f"{where}: patient matched by identifier; read {', '.join(read)}",
            changes={**changes, "read": list(read)},
            ip_address=ip_address,
        )
        return
    outcome = "several patients matched, none used" if lookup.ambiguous else "no patient matched"
    audit.record(
        acting_user=actor,
        action=AuditAction.SEARCH,
        summary=f"{where}: {outcome} ({lookup.identifiers_tried} identifier(s) tried)",
        changes=changes,
        ip_address=ip_address,
    )


@transaction.atomic
def do_issue_cards(*, hook: Hook, patient: Patient | None, cards: Sequence[Built]) -> None:
    """Keep the cards returned, so that feedback can refer to them."""
    IssuedCard.objects.bulk_create(
        IssuedCard(
            uuid=built.card_uuid,
            service_id=hook.service_id,
            hook=hook.hook,
            hook_instance=hook.hook_instance,
            client=hook.client.name,
            kind=built.kind,
            indicator=built.card.indicator,
            suggestion_uuids=built.suggestion_uuids,
            patient_id=patient.pk if patient is not None else None,
            center_id=patient.home_center_id if patient is not None else None,
        )
        for built in cards
    )


class UnknownCard(ValueError):
    """Feedback about a card this client never got from this service."""


@transaction.atomic
def do_record_feedback(
    *,
    client: conf.Client,
    service_id: str,
    items: Sequence[FeedbackItem],
    received_at: dt.datetime,
    ip_address: str | None,
) -> int:
    """Store each feedback entry (all or none); returns how many were stored."""
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
