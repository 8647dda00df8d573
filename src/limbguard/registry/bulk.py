"""Batch versions of the registry services, for imports: same rules, fewer queries.

Each function takes many records, checks each one by the rules of its single-record
service in `services.py` (field validation, the date rules, lab ranges, entered-in-error
records stay frozen), and writes the good ones with bulk inserts and updates plus one
audit row per created or changed record (the same snapshot or old/new diff the single
service writes), in one transaction. A record that breaks a rule is returned as
rejected with the reason and changes nothing; the others are written.

What the single services do with a query per record is done here with one query per
batch: matching by FHIR id and identifiers, uniqueness of MRNs and identifiers. The
database constraints stay the last line of defence: if one still fails, the whole
batch rolls back (the caller reports the batch as rejected).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.registry import rows
from limbguard.registry.models import (
    LAB_RANGES,
    LAB_UNITS,
    Encounter,
    FhirRecord,
    LabResult,
    Limb,
    Observation,
    Patient,
    PatientIdentifier,
    Problem,
    Procedure,
    RiskProfile,
    Side,
    name_key,
)
from limbguard.registry.services import PATIENT_FIELDS, RISK_FIELDS, _check_patient_dates

Status = Literal["created", "updated", "unchanged", "rejected"]
R = TypeVar("R", bound=FhirRecord)


@dataclass
class Outcome:
    status: Status
    reason: str = ""
    obj: models.Model | None = None


@dataclass
class PatientInput:
    """A patient as an import sees it: registry field values plus its identifiers."""

    fhir_id: str
    fields: dict[str, Any]  # PATIENT_FIELDS (home_center a Center)
    identifiers: list[tuple[str, str, str]] = field(default_factory=list)  # system, value, type
    source_system: str = ""
    # True when the MRN is LimbGuard's own (then an existing patient with it is this
    # patient); False when derived from another system's number (then it must be free).
    match_mrn: bool = False


@dataclass
class RecordInput:
    """A problem, lab, encounter, observation or procedure of a known patient."""

    fhir_id: str
    patient_id: int  # the patient, found by the caller (existence is the caller's check)
    fields: dict[str, Any]
    source_system: str = ""


# Fields each record type compares and audits (besides patient); foreign keys by
# their id attribute, so that comparing never loads the related row.
RECORD_FIELDS: dict[type[FhirRecord], tuple[str, ...]] = {
    Problem: (
        "system",
        "code",
        "display",
        "laterality",
        "onset_date",
        "status",
        "entered_in_error",
    ),
    LabResult: ("kind", "loinc", "value", "unit", "observed_on", "entered_in_error"),
    Encounter: (
        "status",
        "encounter_class",
        "type_system",
        "type_code",
        "type_display",
        "start",
        "end",
    ),
    Observation: (
        "encounter_id",
        "status",
        "category",
        "system",
        "code",
        "display",
        "value_decimal",
        "value_unit",
        "value_system",
        "value_code",
        "value_display",
        "value_text",
        "components",
        "laterality",
        "effective_date",
        "effective_at",
        "entered_in_error",
    ),
    Procedure: (
        "encounter_id",
        "status",
        "system",
        "code",
        "display",
        "laterality",
        "performed_date",
        "performed_at",
        "entered_in_error",
    ),
}
# Records a clinician marked entered in error are frozen (services.do_update_problem).
FROZEN_WHEN_IN_ERROR = (Problem, LabResult, Observation, Procedure)


_AS_TEXT = (dt.date, dt.datetime, dt.time, Decimal)  # dt.datetime is a dt.date too


def _snapshot(obj: models.Model, names: Sequence[str]) -> dict[str, Any]:
    """`audit.snapshot`, the same values (dates, times and decimals as text, related
    rows as their id) at import speed: one attribute read and type check per field."""
    values = obj.__dict__
    result: dict[str, Any] = {}
    for name in names:
        value = values[name] if name in values else getattr(obj, name)
        if isinstance(value, _AS_TEXT):
            value = str(value)
        elif isinstance(value, models.Model):
            value = value.pk
        result[name] = value
    return result


def _defaults(model: type[models.Model]) -> dict[str, Any]:
    """Each column's default, as a new instance of `model` would have it."""
    return {
        f.attname: f.get_default()
        for f in model._meta.concrete_fields
        if not f.primary_key and not f.is_relation
    }


def _message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(str(m) for e in errors for m in e.messages)}"
            for name, errors in error.error_dict.items()
        )
    return " ".join(error.messages)


@transaction.atomic
def do_import_patients(
    *,
    acting_user: User | None,
    items: Sequence[PatientInput],
    alias_system: str,
    ip_address: str | None = None,
) -> list[Outcome]:
    """Create or update patients, matched by FHIR id, then identifier, then MRN.

    Rules of `do_create_patient`/`do_update_patient`: field validation and the date
    rules; a new patient gets both limbs and a risk profile. A patient found by an
    identifier or MRN under another FHIR id keeps its id, and the incoming id is kept as
    an identifier in `alias_system` so that the source's references still resolve.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    outcomes: list[Outcome | None] = [None] * len(items)
    by_id = {
        p.fhir_id: p
        for p in Patient.objects.select_for_update(of=("self",))
        .select_related("home_center")
        .filter(fhir_id__among=[item.fhir_id for item in items])
    }
    wanted_values = {value for item in items for _, value, _ in item.identifiers}
    wanted_values |= {item.fhir_id for item in items}
    known_identifiers = {
        (row.system, row.value): row.patient_id
        for row in PatientIdentifier.objects.filter(value__among=wanted_values)
    }
    mrns = {item.fields.get("mrn") for item in items}
    by_mrn = {
        p.mrn: p
        for p in Patient.objects.select_for_update(of=("self",))
        .select_related("home_center")
        .filter(mrn__among=mrns)
    }
    by_pk: dict[int, Patient] = {p.pk: p for p in [*by_id.values(), *by_mrn.values()]}
    missing_pks = set(known_identifiers.values()) - set(by_pk)
    by_pk.update(
        {
            p.pk: p
            for p in Patient.objects.select_for_update(of=("self",))
            .select_related("home_center")
            .filter(pk__in=missing_pks)
        }
    )

    new_patient = rows.maker(Patient)
    seen_ids: set[str] = set()
    seen_mrns: dict[str, int] = {}
    creates: list[tuple[int, Patient, PatientInput]] = []
    updates: list[tuple[int, Patient, dict[str, list[Any]], PatientInput]] = []
    for index, item in enumerate(items):
        unknown = set(item.fields) - set(PATIENT_FIELDS)
        if unknown:
            raise TypeError(f"unknown patient fields: {', '.join(sorted(unknown))}")
        if item.fhir_id in seen_ids:
            outcomes[index] = Outcome("unchanged", "the same patient twice in one batch")
            continue
        seen_ids.add(item.fhir_id)
        match = by_id.get(item.fhir_id)
        if match is None:
            alias = known_identifiers.get((alias_system, item.fhir_id))
            for system, value, _ in item.identifiers:
                alias = alias or known_identifiers.get((system, value))
            match = by_pk.get(alias) if alias else None
        mrn = item.fields.get("mrn", "")
        owner = by_mrn.get(mrn)
        if match is None and item.match_mrn and owner is not None:
            match = owner
        if owner is not None and (match is None or owner.pk != match.pk):
            outcomes[index] = Outcome("rejected", f"MRN {mrn} belongs to another patient")
            continue
        if mrn in seen_mrns:
            outcomes[index] = Outcome(
                "rejected", f"MRN {mrn} is used by another patient in the same batch"
            )
            continue
        seen_mrns[mrn] = index
        match_pk = match.pk if match is not None else None
        conflict = next(
            (
                f"{system}|{value}"
                for system, value, _ in item.identifiers
                if known_identifiers.get((system, value)) not in (None, match_pk)
            ),
            None,
        )
        if conflict:
            outcomes[index] = Outcome(
                "rejected", f"identifier {conflict} belongs to another patient"
            )
            continue
        if match is None:
            candidate = new_patient({"fhir_id": item.fhir_id, **item.fields})
        else:
            candidate = new_patient({name: getattr(match, name) for name in PATIENT_FIELDS})
            for name, value in item.fields.items():
                setattr(candidate, name, value)
        if candidate.home_center_id is None:
            outcomes[index] = Outcome("rejected", "home_center: no center for this patient")
            continue
        try:
            rows.clean_fields(candidate, exclude=["home_center", "fhir_id"])
            _check_patient_dates(candidate, today)
        except ValidationError as error:
            outcomes[index] = Outcome("rejected", _message(error))
            continue
        if match is None:
            candidate.fhir_id = item.fhir_id
            candidate.source_system = item.source_system
            creates.append((index, candidate, item))
        else:
            changes = audit.diff(
                _snapshot(match, PATIENT_FIELDS), _snapshot(candidate, PATIENT_FIELDS)
            )
            updates.append((index, match, changes, item))

    events: list[dict[str, Any]] = []
    new_identifiers: list[PatientIdentifier] = []
    if creates:
        for _, patient, _ in creates:
            patient.given_key = name_key(patient.given_name)
            patient.family_key = name_key(patient.family_name)
        rows.insert(Patient, [p for _, p, _ in creates])
        # Both limbs intact and an empty risk profile, as services.do_create_patient makes
        # them: the models' own defaults, written without loading a model per row.
        limb_defaults = _defaults(Limb)
        rows.insert_values(
            Limb,
            [
                {**limb_defaults, "patient_id": p.pk, "side": side}
                for _, p, _ in creates
                for side in Side
            ],
        )
        risk_defaults = _defaults(RiskProfile)
        rows.insert_values(
            RiskProfile,
            [{**risk_defaults, "patient_id": p.pk, "updated_at": now} for _, p, _ in creates],
        )
        for index, patient, item in creates:
            added = _identifiers(patient, item.identifiers, set())
            new_identifiers += added
            snapshot = _snapshot(patient, PATIENT_FIELDS)
            if added:
                snapshot["identifiers"] = [f"{i.system}|{i.value}" for i in added]
            events.append(
                rows.audit_row(
                    acting_user,
                    AuditAction.CREATE,
                    patient,
                    patient.pk,
                    f"created patient {patient.mrn} (import)",
                    snapshot,
                    ip_address,
                    at=now,
                )
            )
            outcomes[index] = Outcome("created", obj=patient)
    if updates:
        have = {
            (row.system, row.value)
            for row in PatientIdentifier.objects.filter(
                patient__in=[patient for _, patient, _, _ in updates]
            )
        }
        changed: list[Patient] = []
        for index, patient, changes, item in updates:
            wanted = list(item.identifiers)
            if item.fhir_id != patient.fhir_id:
                wanted.append((alias_system, item.fhir_id, ""))
            added = _identifiers(patient, wanted, have)
            new_identifiers += added
            if added:
                changes["identifiers"] = [None, [f"{i.system}|{i.value}" for i in added]]
            if not changes:
                outcomes[index] = Outcome("unchanged", obj=patient)
                continue
            for name, value in item.fields.items():
                setattr(patient, name, value)
            patient.given_key = name_key(patient.given_name)
            patient.family_key = name_key(patient.family_name)
            patient.updated_at = now
            changed.append(patient)
            events.append(
                rows.audit_row(
                    acting_user,
                    AuditAction.UPDATE,
                    patient,
                    patient.pk,
                    f"changed {', '.join(sorted(changes))} (import)",
                    changes,
                    ip_address,
                    at=now,
                )
            )
            outcomes[index] = Outcome("updated", obj=patient)
        if changed:
            rows.update(
                Patient, changed, [*PATIENT_FIELDS, "given_key", "family_key", "updated_at"]
            )
    rows.insert(PatientIdentifier, new_identifiers)
    rows.append_audit_rows(events)
    return [outcome or Outcome("rejected", "not processed") for outcome in outcomes]


def _identifiers(
    patient: Patient, wanted: list[tuple[str, str, str]], have: set[tuple[str, str]]
) -> list[PatientIdentifier]:
    added = []
    for system, value, type_code in wanted:
        if (system, value) in have:
            continue
        have.add((system, value))
        added.append(
            PatientIdentifier(patient=patient, system=system, value=value, type_code=type_code)
        )
    return added


def _check_record(obj: FhirRecord, today: dt.date) -> None:
    """The rules of the single-record services, for one record (raises ValidationError)."""
    for decimal_field in _decimal_fields(type(obj)):
        # Held as the column holds it, so that comparing with the stored row is exact.
        value = getattr(obj, decimal_field.attname)
        if value is not None:
            places = Decimal(1).scaleb(-decimal_field.decimal_places)
            setattr(obj, decimal_field.attname, Decimal(value).quantize(places))
    if isinstance(obj, Problem):
        # As services.do_add_problem: ICD-10-CM codes upper case, codes stripped.
        obj.code = obj.code.strip().upper() if obj.system == "ICD10CM" else obj.code.strip()
        if obj.onset_date and obj.onset_date > today:
            raise ValidationError({"onset_date": "The onset cannot be in the future."})
    elif isinstance(obj, LabResult):
        # As services.do_add_lab: known kind, canonical unit, plausible value, not future.
        if obj.kind not in LAB_UNITS:
            raise ValidationError({"kind": f"Unknown lab {obj.kind!r}."})
        low, high = LAB_RANGES[obj.kind]
        if not low <= Decimal(obj.value) <= high:
            raise ValidationError(
                {"value": f"Must be between {low} and {high} {LAB_UNITS[obj.kind]}."}
            )
        obj.unit = LAB_UNITS[obj.kind]
        if obj.observed_on > today:
            raise ValidationError({"observed_on": "The date cannot be in the future."})
    elif isinstance(obj, Observation):
        if obj.effective_date > today:
            raise ValidationError({"effective_date": "The date cannot be in the future."})
    elif isinstance(obj, Procedure):
        if obj.status == "completed" and obj.performed_date and obj.performed_date > today:
            raise ValidationError({"performed_date": "A completed procedure cannot be future."})
    elif isinstance(obj, Encounter) and obj.start and obj.end and obj.end < obj.start:
        raise ValidationError({"end": "The encounter ends before it starts."})


def _decimal_fields(model: type[models.Model]) -> list[models.DecimalField[Any, Any]]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.DecimalField)]


@transaction.atomic
def do_import_records(
    *,
    acting_user: User | None,
    model: type[R],
    items: Sequence[RecordInput],
    ip_address: str | None = None,
) -> list[Outcome]:
    """Create or update records of one type, matched by FHIR id within the type."""
    names = RECORD_FIELDS[model]
    now = timezone.now()
    today = timezone.localdate(now)
    outcomes: list[Outcome | None] = [None] * len(items)
    existing = {
        row.fhir_id: row
        for row in model._default_manager.select_for_update().filter(
            fhir_id__among=[item.fhir_id for item in items]
        )
    }
    creates: list[tuple[int, R]] = []
    updates: list[tuple[int, R, dict[str, list[Any]]]] = []
    seen: set[str] = set()
    new = rows.maker(model)
    for index, item in enumerate(items):
        unknown = set(item.fields) - set(names)
        if unknown:
            raise TypeError(f"unknown {model.__name__} fields: {', '.join(sorted(unknown))}")
        if item.fhir_id in seen:
            outcomes[index] = Outcome("unchanged", "the same resource twice in one batch")
            continue
        seen.add(item.fhir_id)
        current = existing.get(item.fhir_id)
        if current is not None and current.patient_id != item.patient_id:  # type: ignore[attr-defined]
            outcomes[index] = Outcome(
                "rejected", f"id {item.fhir_id} is already a record of another patient"
            )
            continue
        candidate = new(
            {
                "patient_id": item.patient_id,
                "fhir_id": item.fhir_id,
                "source_system": item.source_system,
                **item.fields,
            }
        )
        try:
            rows.clean_fields(candidate, exclude=["patient", "encounter", "fhir_id"])
            _check_record(candidate, today)
        except ValidationError as error:
            outcomes[index] = Outcome("rejected", _message(error))
            continue
        if current is None:
            creates.append((index, candidate))
            continue
        changes = audit.diff(_snapshot(current, names), _snapshot(candidate, names))
        if not changes:
            outcomes[index] = Outcome("unchanged", obj=current)
        elif isinstance(current, FROZEN_WHEN_IN_ERROR) and current.entered_in_error:
            outcomes[index] = Outcome(
                "rejected", "marked entered in error in LimbGuard; it cannot be changed"
            )
        else:
            for name in names:
                setattr(current, name, getattr(candidate, name))
            updates.append((index, current, changes))

    label = model._meta.verbose_name
    events: list[dict[str, Any]] = []
    if creates:
        rows.insert(model, [obj for _, obj in creates])
        for index, obj in creates:
            events.append(
                rows.audit_row(
                    acting_user,
                    AuditAction.CREATE,
                    obj,
                    obj.patient_id,  # type: ignore[attr-defined]
                    f"{label} {_describe(obj)} (import)",
                    _snapshot(obj, names),
                    ip_address,
                    at=now,
                )
            )
            outcomes[index] = Outcome("created", obj=obj)
    if updates:
        rows.update(model, [obj for _, obj, _ in updates], names)
        for index, obj, changes in updates:
            retired = changes.get("entered_in_error") == [False, True]
            events.append(
                rows.audit_row(
                    acting_user,
                    AuditAction.RETIRE if retired else AuditAction.UPDATE,
                    obj,
                    obj.patient_id,  # type: ignore[attr-defined]
                    f"{label} {_describe(obj)}: {', '.join(sorted(changes))} (import)",
                    changes,
                    ip_address,
                    at=now,
                )
            )
            outcomes[index] = Outcome("updated", obj=obj)
    rows.append_audit_rows(events)
    return [outcome or Outcome("rejected", "not processed") for outcome in outcomes]


def _describe(obj: models.Model) -> str:
    code = getattr(obj, "code", None) or getattr(obj, "kind", None) or getattr(obj, "type_code", "")
    system = getattr(obj, "system", "")
    return f"{system} {code}".strip()


@transaction.atomic
def do_update_risk_profiles(
    *,
    acting_user: User | None,
    changes: dict[int, dict[str, Any]],
    ip_address: str | None = None,
) -> int:
    """Set risk-factor fields for many patients (keyed by patient id), as
    `services.do_update_risk_profile` does for one: validated, audited, only the
    fields that change. Returns how many profiles changed."""
    profiles = {
        risk.patient_id: risk
        for risk in RiskProfile.objects.select_for_update().filter(patient_id__among=changes)
    }
    changed: list[RiskProfile] = []
    events: list[dict[str, Any]] = []
    now = timezone.now()
    for patient_id, fields in changes.items():
        risk = profiles.get(patient_id)
        if risk is None:
            continue
        before = _snapshot(risk, RISK_FIELDS)
        for name, value in fields.items():
            if name not in RISK_FIELDS:
                raise TypeError(f"unknown risk field: {name}")
            setattr(risk, name, value)
        rows.clean_fields(risk, exclude=["patient"])
        diff = audit.diff(before, _snapshot(risk, RISK_FIELDS))
        if diff:
            risk.updated_at = now
            changed.append(risk)
            events.append(
                rows.audit_row(
                    acting_user,
                    AuditAction.UPDATE,
                    risk,
                    patient_id,
                    f"risk factors: {', '.join(sorted(diff))} (from imported record)",
                    diff,
                    ip_address,
                    at=now,
                )
            )
    rows.update(RiskProfile, changed, [*RISK_FIELDS, "updated_at"])
    rows.append_audit_rows(events)
    return len(changed)


@transaction.atomic
def do_record_export(
    *,
    acting_user: User | None,
    patient_ids: Sequence[int],
    summary: str,
    ip_address: str | None = None,
) -> None:
    """One EXPORT audit row per patient whose record left LimbGuard in an export."""
    now = timezone.now()
    rows.append_audit_rows(
        [
            {
                "at": now,
                "actor_id": acting_user.pk if acting_user is not None and acting_user.pk else None,
                "actor_name": acting_user.get_username() if acting_user else "system",
                "action": AuditAction.EXPORT.value,
                "patient_id": patient_id,
                "object_type": Patient._meta.label_lower,
                "object_id": str(patient_id),
                "summary": summary[:300],
                "changes": {},
                "ip_address": ip_address,
            }
            for patient_id in patient_ids
        ]
    )
