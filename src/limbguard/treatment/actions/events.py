"""Outcome events: wound healed, reintervention, amputation, death, ambulatory and
living status. An amputation done in this program is logged as a procedure (through
the gate), which records its event; here only amputations done elsewhere."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.registry.models import (
    MINOR_LEVELS,
    Limb,
    LimbStatus,
    Patient,
    PatientStatus,
)
from limbguard.registry.services import do_update_limb, do_update_patient
from limbguard.treatment.actions.common import (
    check_amputation_level,
    check_date,
    check_limb,
    require,
)
from limbguard.treatment.events import OutcomeEvent
from limbguard.treatment.vocab import (
    LEVEL_ORDER,
    LIMB_EVENT_KINDS,
    AmbulatoryStatus,
    EventKind,
    LivingStatus,
    PlanStatus,
)

PERMISSION = "treatment.add_outcomeevent"
FIELDS = (
    "kind",
    "occurred_on",
    "limb",
    "amputation_level",
    "digit",
    "major_reintervention",
    "performed_elsewhere",
    "cause_of_death",
    "ambulatory",
    "living",
    "notes",
)


def apply_amputation(
    *,
    acting_user: User,
    limb: Limb,
    level: str,
    on: dt.date,
    ip_address: str | None,
) -> None:
    """Move the registry limb to the new, more proximal level (registry service)."""
    major = level not in MINOR_LEVELS
    current = limb.amputation_level
    if current and LEVEL_ORDER.index(level) <= LEVEL_ORDER.index(current):
        return  # another digit at the same level: the limb's level does not change
    do_update_limb(
        acting_user=acting_user,
        limb=limb,
        status=LimbStatus.MAJOR_AMPUTATION if major else LimbStatus.MINOR_AMPUTATION,
        amputation_level=level,
        amputation_date=on,
        ip_address=ip_address,
    )


def latest_record_date(patient: Patient) -> dt.date | None:
    """The newest dated treatment record of the patient (procedures, events, visits)."""
    from limbguard.treatment.followup import SurveillanceVisit
    from limbguard.treatment.procedures import Intervention

    dates = [
        Intervention.objects.filter(patient=patient, entered_in_error=False).aggregate(
            d=Max("performed_on")
        )["d"],
        OutcomeEvent.objects.filter(patient=patient, entered_in_error=False).aggregate(
            d=Max("occurred_on")
        )["d"],
        SurveillanceVisit.objects.filter(plan__patient=patient).aggregate(d=Max("done_on"))["d"],
    ]
    return max((d for d in dates if d is not None), default=None)


def _check(event: OutcomeEvent, patient: Patient) -> None:
    errors: dict[str, str] = {}
    kind = event.kind
    if kind not in EventKind.values:
        raise ValidationError({"kind": "Choose what happened."})
    if kind in LIMB_EVENT_KINDS:
        check_limb(patient, event.limb)
    elif event.limb is not None and kind != EventKind.STATUS:
        errors["limb"] = "This event is about the patient, not a limb."
    if kind in (EventKind.MINOR_AMPUTATION, EventKind.MAJOR_AMPUTATION):
        if not event.performed_elsewhere:
            errors["performed_elsewhere"] = (
                "An amputation in this program is logged as a procedure, through the "
                "amputation gate; record one here only when it was done elsewhere or "
                "before LimbGuard."
            )
        level = event.amputation_level
        if level and (level in MINOR_LEVELS) != (kind == EventKind.MINOR_AMPUTATION):
            errors["amputation_level"] = "The level does not match minor/major amputation."
    elif event.amputation_level or event.digit is not None:
        errors["amputation_level"] = "A level is given only for an amputation."
    if kind != EventKind.REINTERVENTION and event.major_reintervention:
        errors["major_reintervention"] = "Only a reintervention can be major."
    if kind != EventKind.DEATH and event.cause_of_death:
        errors["cause_of_death"] = "A cause of death belongs to a death."
    if kind == EventKind.STATUS:
        if not (event.ambulatory or event.living):
            errors["ambulatory"] = "Give the ambulatory or the living status."
        if event.ambulatory not in AmbulatoryStatus.values:
            errors["ambulatory"] = "Unknown ambulatory status."
        if event.living not in LivingStatus.values:
            errors["living"] = "Unknown living status."
    elif event.ambulatory or event.living:
        errors["ambulatory"] = "Ambulatory and living status are recorded as a status event."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_record_event(
    *,
    acting_user: User,
    patient: Patient,
    kind: str,
    occurred_on: dt.date,
    limb: Limb | None = None,
    amputation_level: str = "",
    digit: int | None = None,
    major_reintervention: bool = False,
    performed_elsewhere: bool = False,
    cause_of_death: str = "",
    ambulatory: str = "",
    living: str = "",
    notes: str = "",
    ip_address: str | None = None,
) -> OutcomeEvent:
    """Record one outcome event; a death also marks the patient deceased in the registry
    and closes their surveillance plans."""
    require(acting_user, PERMISSION, "record outcome events")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if limb is not None:
        limb = Limb.objects.select_for_update().get(pk=limb.pk)
    event = OutcomeEvent(
        patient=patient,
        limb=limb,
        kind=kind,
        occurred_on=occurred_on,
        amputation_level=amputation_level,
        digit=digit,
        major_reintervention=major_reintervention,
        performed_elsewhere=performed_elsewhere,
        cause_of_death=cause_of_death.strip(),
        ambulatory=ambulatory,
        living=living,
        notes=notes.strip(),
        recorded_by=acting_user,
    )
    _check(event, patient)
    if kind == EventKind.DEATH:
        _check_death(patient, occurred_on)
    else:
        check_date(patient, occurred_on, "occurred_on")
    if kind in (EventKind.MINOR_AMPUTATION, EventKind.MAJOR_AMPUTATION):
        assert limb is not None
        if not amputation_level:
            raise ValidationError({"amputation_level": "Give the amputation level."})
        check_amputation_level(limb, amputation_level, digit)
    event.full_clean()
    event.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=event,
        summary=f"outcome event: {event.get_kind_display()} on {occurred_on}",
        changes=audit.snapshot(event, FIELDS),
        ip_address=ip_address,
    )
    if kind in (EventKind.MINOR_AMPUTATION, EventKind.MAJOR_AMPUTATION):
        assert limb is not None
        apply_amputation(
            acting_user=acting_user,
            limb=limb,
            level=amputation_level,
            on=occurred_on,
            ip_address=ip_address,
        )
    if kind == EventKind.DEATH:
        _after_death(acting_user, patient, occurred_on, ip_address)
    return event


def _check_death(patient: Patient, died_on: dt.date) -> None:
    if OutcomeEvent.objects.filter(
        patient=patient, kind=EventKind.DEATH, entered_in_error=False
    ).exists():
        raise ValidationError({"kind": "A death is already recorded for this patient."})
    if patient.deceased_date is not None and patient.deceased_date != died_on:
        raise ValidationError(
            {"occurred_on": f"The registry records the death on {patient.deceased_date}."}
        )
    if patient.deceased_date is None:
        check_date(patient, died_on, "occurred_on")
    latest = latest_record_date(patient)
    if latest is not None and latest > died_on:
        raise ValidationError(
            {"occurred_on": f"Records dated after this day exist (latest {latest})."}
        )


def _after_death(
    acting_user: User, patient: Patient, died_on: dt.date, ip_address: str | None
) -> None:
    from limbguard.treatment.followup import SurveillancePlan

    if patient.status != PatientStatus.DECEASED:
        do_update_patient(
            acting_user=acting_user,
            patient=patient,
            status=PatientStatus.DECEASED,
            deceased_date=died_on,
            ip_address=ip_address,
        )
    for plan in SurveillancePlan.objects.select_for_update().filter(
        patient=patient, status=PlanStatus.ACTIVE
    ):
        plan.status, plan.closed_reason = PlanStatus.CLOSED, f"patient died on {died_on}"
        plan.save(update_fields=["status", "closed_reason"])
        audit.record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient_id=patient.pk,
            obj=plan,
            summary="surveillance closed: patient died",
            changes={"status": [PlanStatus.ACTIVE, PlanStatus.CLOSED]},
            ip_address=ip_address,
        )


@transaction.atomic
def do_retire_event(
    *, acting_user: User, event: OutcomeEvent, reason: str, ip_address: str | None = None
) -> OutcomeEvent:
    """Mark an event entered in error (it stays, struck through). Amputations and deaths
    also changed the registry, which does not go back: correct those there."""
    require(acting_user, "treatment.change_outcomeevent", "correct outcome events")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the event is wrong."})
    locked = OutcomeEvent.objects.select_for_update().get(pk=event.pk)
    if locked.kind in (EventKind.MINOR_AMPUTATION, EventKind.MAJOR_AMPUTATION, EventKind.DEATH):
        raise ValidationError(
            {"reason": "An amputation or death changed the registry record; correct it there."}
        )
    if locked.entered_in_error:
        return locked
    locked.entered_in_error, locked.retire_reason = True, reason.strip()[:300]
    locked.save(update_fields=["entered_in_error", "retire_reason"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"outcome event marked entered in error: {reason.strip()}",
        changes={"entered_in_error": [False, True]},
        ip_address=ip_address,
    )
    return locked
