"""Changes to treatment records: limb salvage reviews and amputation orders (the gate).

`do_request_amputation` never raises for a refusal: a refused attempt is itself a
record (an `AmputationOrder` with status "refused" and its audit row), so it returns the
order together with the field errors to show. Raising would roll the refusal back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.assessments.queries import gate_for
from limbguard.registry.models import AmputationLevel, Limb, LimbStatus, Patient
from limbguard.treatment.gate import OverrideReason
from limbguard.treatment.models import (
    AmputationOrder,
    LimbSalvageReview,
    OrderStatus,
    ReviewConclusion,
)

OVERRIDE_PERMISSION = "treatment.override_amputation_gate"
SIGN_PERMISSION = "treatment.sign_limbsalvagereview"
# Override free text must say something: a word or two is not a reason.
MIN_OVERRIDE_TEXT = 10


@dataclass
class AmputationAttempt:
    order: AmputationOrder
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.order.status != OrderStatus.REFUSED


@transaction.atomic
def do_sign_review(
    *,
    acting_user: User,
    patient: Patient,
    limb: Limb,
    conclusion: str,
    summary: str,
    signed_on: dt.date | None = None,
    ip_address: str | None = None,
) -> LimbSalvageReview:
    """A vascular specialist signs a limb salvage review of `limb`."""
    if not acting_user.has_perm(SIGN_PERMISSION):
        raise ValidationError("Only a vascular specialist can sign a limb salvage review.")
    if limb.patient_id != patient.pk:
        raise ValidationError({"limb": "That limb belongs to another patient."})
    today = timezone.localdate()
    signed_on = signed_on or today
    errors = {}
    if signed_on > today:
        errors["signed_on"] = "The review date cannot be in the future."
    if conclusion not in ReviewConclusion.values:
        errors["conclusion"] = "Choose a conclusion."
    if not summary.strip():
        errors["summary"] = "Summarise the review: perfusion, anatomy, options."
    if errors:
        raise ValidationError(errors)
    review = LimbSalvageReview(
        patient=patient,
        limb=limb,
        signed_by=acting_user,
        signer_name=acting_user.get_full_name() or acting_user.get_username(),
        signed_on=signed_on,
        conclusion=conclusion,
        summary=summary.strip(),
    )
    review.full_clean()
    review.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=review,
        summary=f"limb salvage review of the {limb.side} limb signed: {conclusion}",
        changes=audit.snapshot(review, ("signed_on", "conclusion", "summary")),
        ip_address=ip_address,
    )
    return review


def _check_request(
    limb: Limb, level: str, override_reason: str, override_text: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if level not in AmputationLevel.values:
        errors["level"] = "Choose an amputation level."
    if limb.status == LimbStatus.MAJOR_AMPUTATION:
        errors["level"] = "This limb has already had a major amputation."
    if override_reason and override_reason not in {r.value for r in OverrideReason}:
        errors["override_reason"] = "Unknown override reason."
    if override_text.strip() and not override_reason:
        errors["override_reason"] = "Choose the coded reason for the override."
    return errors


@transaction.atomic
def do_request_amputation(
    *,
    acting_user: User,
    patient: Patient,
    limb: Limb,
    level: str,
    indication: str = "",
    override_reason: str = "",
    override_text: str = "",
    ip_address: str | None = None,
) -> AmputationAttempt:
    """Try to plan an amputation of `limb` through the gate; every attempt is recorded.

    Gate open: planned. Gate closed: refused, unless a user holding
    `treatment.override_amputation_gate` gives a coded reason and a free-text
    explanation, which plans it as an override. An override asked without a reason, or
    by a user without the permission, is refused (and recorded as such).
    """
    if limb.patient_id != patient.pk:
        raise ValidationError({"limb": "That limb belongs to another patient."})
    locked = Limb.objects.select_for_update().get(pk=limb.pk)
    decision = gate_for(locked, today=timezone.localdate())
    errors = _check_request(locked, level, override_reason, override_text)
    if "level" in errors:
        # Not an attempt at all: nothing to record beyond the field error.
        raise ValidationError(errors)
    wants_override = bool(override_reason or override_text.strip())
    refusal = ""
    status = OrderStatus.PLANNED
    if not decision.open:
        status = OrderStatus.REFUSED
        refusal = "amputation gate closed: " + "; ".join(decision.reasons)
        if wants_override:
            if not acting_user.has_perm(OVERRIDE_PERMISSION):
                errors["override_reason"] = "Only a senior clinician may override the gate."
            elif not override_reason:
                errors["override_reason"] = "An override needs a coded reason."
            elif len(override_text.strip()) < MIN_OVERRIDE_TEXT:
                errors["override_text"] = "Explain the override in a sentence."
            if errors:
                refusal = "override refused: " + "; ".join(errors.values())
            else:
                status, refusal = OrderStatus.OVERRIDDEN, ""
        else:
            errors["__all__"] = "Refused: " + "; ".join(decision.reasons)
    order = AmputationOrder.objects.create(
        patient=patient,
        limb=locked,
        level=level,
        indication=indication.strip()[:300],
        requested_by=acting_user,
        status=status,
        gate_open=decision.open,
        gate_reasons=list(decision.reasons),
        override_reason=override_reason if status == OrderStatus.OVERRIDDEN else "",
        override_text=override_text.strip() if status == OrderStatus.OVERRIDDEN else "",
        refusal=refusal[:300],
    )
    summary = {
        OrderStatus.PLANNED: "amputation planned (gate open)",
        OrderStatus.OVERRIDDEN: f"amputation gate OVERRIDDEN ({override_reason})",
        OrderStatus.REFUSED: "amputation refused by the gate",
    }[OrderStatus(status)]
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=order,
        summary=f"{summary}: {locked.side} limb, {order.get_level_display()}",
        changes={
            "level": level,
            "status": status,
            "gate_open": decision.open,
            "gate_reasons": list(decision.reasons),
            "override_reason": override_reason,
            "override_text": override_text.strip(),
            "refusal": refusal,
        },
        ip_address=ip_address,
    )
    return AmputationAttempt(order, errors)
