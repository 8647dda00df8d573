"""Every change to the registry: one transaction, an explicit acting user, one audit row.

Views, importers and commands all call these functions; nothing else writes the
registry's models. Each `do_*` function validates with `full_clean()` first, so bad
input raises `ValidationError` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center
from limbguard.registry.models import (
    LAB_RANGES,
    LAB_UNITS,
    MINOR_LEVELS,
    LabResult,
    Limb,
    LimbStatus,
    Patient,
    PatientStatus,
    Problem,
    RiskProfile,
    Side,
)

PATIENT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address_line",
    "city",
    "state",
    "postal_code",
    "home_center",
    "status",
    "deceased_date",
)
RISK_FIELDS = (
    "diabetes",
    "smoking",
    "ckd_stage",
    "on_dialysis",
    "coronary_disease",
    "heart_failure",
    "prior_stroke",
)
LIMB_FIELDS = ("status", "amputation_level", "amputation_date")
PROBLEM_FIELDS = (
    "system",
    "code",
    "display",
    "laterality",
    "onset_date",
    "status",
    "entered_in_error",
)


def _check_patient_dates(patient: Patient, today: dt.date) -> None:
    errors: dict[str, str] = {}
    if patient.birth_date and patient.birth_date > today:
        errors["birth_date"] = "Birth date cannot be in the future."
    if patient.status == PatientStatus.DECEASED:
        if patient.deceased_date is None:
            errors["deceased_date"] = "Give the date of death."
        elif patient.birth_date and patient.deceased_date < patient.birth_date:
            errors["deceased_date"] = "Date of death is before the birth date."
        elif patient.deceased_date > today:
            errors["deceased_date"] = "Date of death cannot be in the future."
    elif patient.deceased_date is not None:
        errors["deceased_date"] = "Only a deceased patient has a date of death."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_patient(
    *, acting_user: User | None, ip_address: str | None = None, home_center: Center, **fields: Any
) -> Patient:
    """Create a patient with both limbs (intact) and an empty risk profile."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {', '.join(sorted(unknown))}")
    patient = Patient(home_center=home_center, **fields)
    patient.full_clean()
    _check_patient_dates(patient, timezone.localdate())
    patient.save()
    Limb.objects.bulk_create([Limb(patient=patient, side=side) for side in Side])
    RiskProfile.objects.create(patient=patient)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=patient,
        summary=f"created patient {patient.mrn}",
        changes=audit.snapshot(patient, PATIENT_FIELDS),
        ip_address=ip_address,
    )
    return patient


@transaction.atomic
def do_update_patient(
    *, acting_user: User | None, patient: Patient, ip_address: str | None = None, **fields: Any
) -> Patient:
    """Change demographics; the audit row keeps each old and new value."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {', '.join(sorted(unknown))}")
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    before = audit.snapshot(locked, PATIENT_FIELDS)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    _check_patient_dates(locked, timezone.localdate())
    changes = audit.diff(before, audit.snapshot(locked, PATIENT_FIELDS))
    if changes:
        locked.save()
        audit.record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient_id=locked.pk,
            obj=locked,
            summary=f"changed {', '.join(sorted(changes))}",
            changes=changes,
            ip_address=ip_address,
        )
    return locked


@transaction.atomic
def do_update_limb(
    *,
    acting_user: User | None,
    limb: Limb,
    status: str,
    amputation_level: str = "",
    amputation_date: dt.date | None = None,
    ip_address: str | None = None,
) -> Limb:
    """Record a limb's amputation status. A limb never goes back to a lesser loss."""
    locked = Limb.objects.select_for_update().get(pk=limb.pk)
    before = audit.snapshot(locked, LIMB_FIELDS)
    order = [LimbStatus.INTACT, LimbStatus.MINOR_AMPUTATION, LimbStatus.MAJOR_AMPUTATION]
    if status not in order:
        raise ValidationError({"status": f"Unknown limb status {status!r}."})
    if order.index(LimbStatus(status)) < order.index(LimbStatus(locked.status)):
        raise ValidationError({"status": "A limb cannot return to a lesser amputation status."})
    if status == LimbStatus.INTACT and (amputation_level or amputation_date):
        raise ValidationError({"amputation_level": "An intact limb has no amputation level."})
    if status != LimbStatus.INTACT:
        if not amputation_level:
            raise ValidationError({"amputation_level": "Give the amputation level."})
        is_minor = amputation_level in MINOR_LEVELS
        if is_minor != (status == LimbStatus.MINOR_AMPUTATION):
            raise ValidationError({"amputation_level": "Level does not match minor/major status."})
    locked.status, locked.amputation_level, locked.amputation_date = (
        status,
        amputation_level,
        amputation_date,
    )
    locked.full_clean()
    changes = audit.diff(before, audit.snapshot(locked, LIMB_FIELDS))
    if changes:
        locked.save()
        audit.record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient_id=locked.patient_id,
            obj=locked,
            summary=f"{locked.side} limb: {locked.get_status_display()}",
            changes=changes,
            ip_address=ip_address,
        )
    return locked


@transaction.atomic
def do_add_problem(
    *, acting_user: User | None, patient: Patient, ip_address: str | None = None, **fields: Any
) -> Problem:
    problem = Problem(patient=patient, **fields)
    problem.code = (
        problem.code.strip().upper() if problem.system == "ICD10CM" else problem.code.strip()
    )
    problem.full_clean()
    problem.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=problem,
        summary=f"problem {problem.system} {problem.code}",
        changes=audit.snapshot(problem, PROBLEM_FIELDS),
        ip_address=ip_address,
    )
    return problem


@transaction.atomic
def do_update_problem(
    *, acting_user: User | None, problem: Problem, ip_address: str | None = None, **fields: Any
) -> Problem:
    """Change a problem's status, onset or laterality, or mark it entered in error."""
    locked = Problem.objects.select_for_update().get(pk=problem.pk)
    if locked.entered_in_error:
        raise ValidationError("A problem marked entered in error cannot be changed.")
    before = audit.snapshot(locked, PROBLEM_FIELDS)
    for name, value in fields.items():
        if name not in PROBLEM_FIELDS:
            raise TypeError(f"unknown problem field: {name}")
        setattr(locked, name, value)
    locked.full_clean()
    changes = audit.diff(before, audit.snapshot(locked, PROBLEM_FIELDS))
    if changes:
        locked.save()
        audit.record(
            acting_user=acting_user,
            action=AuditAction.RETIRE if locked.entered_in_error else AuditAction.UPDATE,
            patient_id=locked.patient_id,
            obj=locked,
            summary=f"problem {locked.system} {locked.code}",
            changes=changes,
            ip_address=ip_address,
        )
    return locked


@transaction.atomic
def do_update_risk_profile(
    *, acting_user: User | None, patient: Patient, ip_address: str | None = None, **fields: Any
) -> RiskProfile:
    risk, _ = RiskProfile.objects.select_for_update().get_or_create(patient=patient)
    before = audit.snapshot(risk, RISK_FIELDS)
    for name, value in fields.items():
        if name not in RISK_FIELDS:
            raise TypeError(f"unknown risk field: {name}")
        setattr(risk, name, value)
    risk.full_clean()
    changes = audit.diff(before, audit.snapshot(risk, RISK_FIELDS))
    if changes:
        risk.save()
        audit.record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient_id=patient.pk,
            obj=risk,
            summary=f"risk factors: {', '.join(sorted(changes))}",
            changes=changes,
            ip_address=ip_address,
        )
    return risk


@transaction.atomic
def do_add_lab(
    *,
    acting_user: User | None,
    patient: Patient,
    kind: str,
    value: Decimal,
    observed_on: dt.date,
    ip_address: str | None = None,
) -> LabResult:
    """Record a lab in its canonical unit; implausible values are refused."""
    if kind not in LAB_UNITS:
        raise ValidationError({"kind": f"Unknown lab {kind!r}."})
    low, high = LAB_RANGES[kind]
    if not low <= value <= high:
        raise ValidationError({"value": f"Must be between {low} and {high} {LAB_UNITS[kind]}."})
    if observed_on > timezone.localdate():
        raise ValidationError({"observed_on": "The date cannot be in the future."})
    lab = LabResult(
        patient=patient, kind=kind, value=value, unit=LAB_UNITS[kind], observed_on=observed_on
    )
    lab.full_clean()
    lab.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=lab,
        summary=f"{lab.get_kind_display()} {value} {lab.unit}",
        changes=audit.snapshot(lab, ("kind", "value", "unit", "observed_on")),
        ip_address=ip_address,
    )
    return lab


@transaction.atomic
def do_retire_lab(
    *, acting_user: User | None, lab: LabResult, reason: str, ip_address: str | None = None
) -> LabResult:
    """Mark a lab entered in error (it stays in the record, struck through)."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the result is wrong."})
    locked = LabResult.objects.select_for_update().get(pk=lab.pk)
    if locked.entered_in_error:
        return locked
    locked.entered_in_error = True
    locked.save(update_fields=["entered_in_error"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"{locked.get_kind_display()} marked entered in error: {reason.strip()}",
        changes={"entered_in_error": [False, True]},
        ip_address=ip_address,
    )
    return locked
