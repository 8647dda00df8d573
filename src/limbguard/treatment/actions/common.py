"""Checks shared by the treatment actions: dates against birth, death and today, and
amputation levels against what the limb has already lost."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.registry.models import Limb, LimbStatus, Patient
from limbguard.treatment.events import OutcomeEvent
from limbguard.treatment.vocab import DIGIT_LEVELS, LEVEL_ORDER, EventKind


def require(user: User, permission: str, what: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(f"You may not {what}.")


def check_date(patient: Patient, on: dt.date | None, field: str) -> dt.date:
    """`on` must be a date, not in the future, not before birth, not after death."""
    if not isinstance(on, dt.date):
        raise ValidationError({field: "Give the date."})
    if on > timezone.localdate():
        raise ValidationError({field: "The date cannot be in the future."})
    if on < patient.birth_date:
        raise ValidationError(
            {field: f"The date is before the patient's birth ({patient.birth_date})."}
        )
    if patient.deceased_date is not None and on > patient.deceased_date:
        raise ValidationError(
            {field: f"The date is after the patient's death ({patient.deceased_date})."}
        )
    return on


def check_limb(patient: Patient, limb: Limb | None) -> Limb:
    if limb is None:
        raise ValidationError({"limb": "Choose the limb."})
    if limb.patient_id != patient.pk:
        raise ValidationError({"limb": "That limb belongs to another patient."})
    return limb


def check_amputation_level(limb: Limb, level: str, digit: int | None) -> None:
    """Refuse an amputation at or distal to what the limb has already lost.

    Toe and ray amputations may repeat on another digit: the digit is then required,
    and a digit already taken (by a toe or ray amputation, or a ray that included it)
    is refused.
    """
    if level not in LEVEL_ORDER:
        raise ValidationError({"amputation_level": "Choose an amputation level."})
    if digit is not None and level not in DIGIT_LEVELS:
        raise ValidationError({"digit": "A digit is given only for a toe or ray amputation."})
    if digit is None and level in DIGIT_LEVELS:
        raise ValidationError({"digit": "Say which digit (1 = hallux … 5)."})
    if limb.status == LimbStatus.MAJOR_AMPUTATION:
        raise ValidationError(
            {
                "amputation_level": "This limb has already had a major amputation "
                f"({limb.get_amputation_level_display()})."
            }
        )
    if limb.status == LimbStatus.INTACT or not limb.amputation_level:
        return
    rank = LEVEL_ORDER.index
    current = limb.amputation_level
    if rank(level) > rank(current):
        return
    if level in DIGIT_LEVELS and current in DIGIT_LEVELS:
        taken = set(
            OutcomeEvent.objects.filter(
                limb=limb,
                kind=EventKind.MINOR_AMPUTATION,
                amputation_level__in=list(DIGIT_LEVELS),
                entered_in_error=False,
            ).values_list("digit", flat=True)
        )
        if digit in taken:
            raise ValidationError(
                {"digit": f"Digit {digit} of this limb has already been amputated."}
            )
        return
    raise ValidationError(
        {
            "amputation_level": f"This limb has already been amputated at the "
            f"{limb.get_amputation_level_display()} level; a new amputation must be more "
            "proximal."
        }
    )
