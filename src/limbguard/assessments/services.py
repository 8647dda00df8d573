"""Every change to assessments: one transaction, an explicit acting user, one audit row,
and a fresh staging snapshot (inputs, outputs, rules version) whenever findings change.

Views, the demo and commands call these functions; nothing else writes the models of
this app. Bad input raises `ValidationError` naming
the field, and nothing is saved. Edits of an assessment carry the version the user
started from: when someone else saved in between, `StaleEdit` says so and nothing is
overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.assessments import photos as photo_store
from limbguard.assessments import staging
from limbguard.assessments.models import (
    RVCSS_ITEMS,
    ArterialFinding,
    Assessment,
    VenousFinding,
    Wound,
    WoundObservation,
    WoundPhoto,
)
from limbguard.assessments.restaging import RULE_FIELD, run_staging, store_snapshot
from limbguard.registry.models import Limb, LimbStatus, Patient
from limbguard.vascular import ceap, wifi, wound
from limbguard.vascular._base import InvalidInput

ASSESSMENT_FIELDS = (
    "visit_date",
    "claudication",
    "claudication_distance_m",
    "rest_pain",
    "symptom_duration_weeks",
    "major_tissue_loss",
    "acute_sensory_loss",
    "acute_muscle_weakness",
    "pulse_femoral",
    "pulse_popliteal",
    "pulse_dp",
    "pulse_pt",
    "brachial_left",
    "brachial_right",
    "ankle_dp",
    "ankle_pt",
    "toe_pressure",
    "tcpo2",
    "arterial_duplex_done",
    "angiography_done",
    "venous_duplex_done",
    "pedal_descriptor",
    "swelling_or_induration",
    "erythema_cm",
    "tenderness_or_pain",
    "warmth",
    "purulent_discharge",
    "other_cause_of_inflammation",
    "deep_tissue_infection",
    "osteomyelitis",
    "temperature_c",
    "heart_rate",
    "respiratory_rate",
    "wbc_per_ul",
    "ceap",
    *(f"rvcss_{item}" for item in RVCSS_ITEMS),
    "unsalvageable",
    "notes",
)
ARTERIAL_FIELDS = (
    "segment",
    "modality",
    "psv_cm_s",
    "velocity_ratio",
    "stenosis_percent",
    "occluded",
    "calcification",
    "length_cm",
)
VENOUS_FIELDS = (
    "segment",
    "reflux_ms",
    "diameter_mm",
    "obstruction",
    "thrombus",
    "iliac_compression",
)


class StaleEdit(ValidationError):
    """The assessment changed since the user opened it; nothing was saved."""


def _check(assessment: Assessment, today: dt.date) -> None:
    """Field checks that the model's validators cannot make."""
    errors: dict[str, str] = {}
    if assessment.visit_date and assessment.visit_date > today:
        errors["visit_date"] = "The visit date cannot be in the future."
    birth = assessment.patient.birth_date
    if assessment.visit_date and assessment.visit_date < birth:
        errors["visit_date"] = "The visit date is before the patient's birth date."
    rvcss_given = [getattr(assessment, f"rvcss_{i}") for i in RVCSS_ITEMS]
    if any(v is not None for v in rvcss_given) and any(v is None for v in rvcss_given):
        errors["rvcss_pain"] = "Score all ten rVCSS items, or none."
    if assessment.limb.status == LimbStatus.MAJOR_AMPUTATION:
        errors["visit_date"] = "This limb has had a major amputation."
    if errors:
        raise ValidationError(errors)


def _set_fields(assessment: Assessment, fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown assessment fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(assessment, name, value)


def _validate(assessment: Assessment) -> None:
    assessment.full_clean(exclude=["patient", "limb", "assessed_by"])
    _check(assessment, timezone.localdate())
    run_staging(assessment)


@transaction.atomic
def do_create_assessment(
    *,
    acting_user: User | None,
    patient: Patient,
    limb: Limb,
    ip_address: str | None = None,
    **fields: Any,
) -> Assessment:
    """Record an assessment of `limb` and its first staging snapshot."""
    if limb.patient_id != patient.pk:
        raise ValidationError({"limb": "That limb belongs to another patient."})
    assessment = Assessment(patient=patient, limb=limb, assessed_by=acting_user)
    _set_fields(assessment, fields)
    _validate(assessment)
    assessment.save()
    snapshot = store_snapshot(assessment)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=assessment,
        summary=f"{limb.side} limb assessment {assessment.visit_date}",
        changes={**audit.snapshot(assessment, ASSESSMENT_FIELDS), "snapshot": snapshot.pk},
        ip_address=ip_address,
    )
    return assessment


@transaction.atomic
def do_update_assessment(
    *,
    acting_user: User | None,
    assessment: Assessment,
    expected_version: int,
    ip_address: str | None = None,
    **fields: Any,
) -> Assessment:
    """Change an assessment that is still at `expected_version`; else raise StaleEdit."""
    locked = (
        Assessment.objects.select_for_update()
        .select_related("patient", "limb")
        .get(pk=assessment.pk)
    )
    if locked.entered_in_error:
        raise ValidationError("An assessment marked entered in error cannot be changed.")
    if locked.version != expected_version:
        raise StaleEdit(
            f"This assessment was changed by someone else (now version {locked.version}, "
            f"you started from version {expected_version}). Nothing was saved: reload it "
            "to see the changes, then make yours again."
        )
    before = audit.snapshot(locked, ASSESSMENT_FIELDS)
    _set_fields(locked, fields)
    _validate(locked)
    changes = audit.diff(before, audit.snapshot(locked, ASSESSMENT_FIELDS))
    if not changes:
        return locked
    locked.version += 1
    locked.save()
    snapshot = store_snapshot(locked)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"assessment v{locked.version}: {', '.join(sorted(changes))}",
        changes={**changes, "snapshot": snapshot.pk},
        ip_address=ip_address,
    )
    return locked


@transaction.atomic
def do_retire_assessment(
    *, acting_user: User | None, assessment: Assessment, reason: str, ip_address: str | None = None
) -> Assessment:
    """Mark an assessment entered in error; it stays in the record, struck through."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the assessment is wrong."})
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.entered_in_error:
        return locked
    locked.entered_in_error = True
    locked.error_reason = reason.strip()[:300]
    locked.version += 1
    locked.save(update_fields=["entered_in_error", "error_reason", "version", "updated_at"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"assessment marked entered in error: {locked.error_reason}",
        changes={"entered_in_error": [False, True]},
        ip_address=ip_address,
    )
    return locked


def lock_open_assessment(assessment: Assessment) -> Assessment:
    locked = (
        Assessment.objects.select_for_update()
        .select_related("patient", "limb")
        .get(pk=assessment.pk)
    )
    if locked.entered_in_error:
        raise ValidationError("This assessment is marked entered in error.")
    return locked


def _clean_arterial(finding: ArterialFinding) -> None:
    finding.full_clean(exclude=["assessment"])
    errors: dict[str, str] = {}
    if finding.modality == staging.Modality.DUPLEX:
        if not finding.occluded and finding.velocity_ratio is None:
            errors["velocity_ratio"] = "Give the PSV ratio, or mark the segment occluded."
        if finding.occluded and (finding.velocity_ratio or finding.psv_cm_s):
            errors["occluded"] = "An occluded segment has no velocities."
        if finding.stenosis_percent is not None:
            errors["stenosis_percent"] = "A percentage is for angiography; duplex uses the ratio."
    else:
        if finding.velocity_ratio is not None or finding.psv_cm_s is not None:
            errors["velocity_ratio"] = "Velocities come from duplex, not angiography."
        if not finding.occluded and finding.stenosis_percent is None:
            errors["stenosis_percent"] = "Give the stenosis percentage, or mark it occluded."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_add_arterial_finding(
    *,
    acting_user: User | None,
    assessment: Assessment,
    ip_address: str | None = None,
    **fields: Any,
) -> ArterialFinding:
    unknown = set(fields) - set(ARTERIAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown arterial finding fields: {', '.join(sorted(unknown))}")
    locked = lock_open_assessment(assessment)
    finding = ArterialFinding(assessment=locked, **fields)
    _clean_arterial(finding)
    finding.save()
    snapshot = store_snapshot(locked)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=locked.patient_id,
        obj=finding,
        summary=f"arterial finding: {finding.get_segment_display()}",
        changes={**audit.snapshot(finding, ARTERIAL_FIELDS), "snapshot": snapshot.pk},
        ip_address=ip_address,
    )
    return finding


@transaction.atomic
def do_add_venous_finding(
    *,
    acting_user: User | None,
    assessment: Assessment,
    ip_address: str | None = None,
    **fields: Any,
) -> VenousFinding:
    unknown = set(fields) - set(VENOUS_FIELDS)
    if unknown:
        raise TypeError(f"unknown venous finding fields: {', '.join(sorted(unknown))}")
    locked = lock_open_assessment(assessment)
    finding = VenousFinding(assessment=locked, **fields)
    finding.full_clean(exclude=["assessment"])
    segment = ceap.Segment(finding.segment)
    if finding.diameter_mm is not None and segment.system is not ceap.AnatomicSystem.AP:
        raise ValidationError({"diameter_mm": "Diameter is recorded for perforators only."})
    finding.save()
    snapshot = store_snapshot(locked)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=locked.patient_id,
        obj=finding,
        summary=f"venous finding: {finding.segment}",
        changes={**audit.snapshot(finding, VENOUS_FIELDS), "snapshot": snapshot.pk},
        ip_address=ip_address,
    )
    return finding


@transaction.atomic
def do_retire_finding(
    *,
    acting_user: User | None,
    finding: ArterialFinding | VenousFinding,
    ip_address: str | None = None,
) -> None:
    """Mark a duplex/angiography finding entered in error and restage."""
    locked = lock_open_assessment(finding.assessment)
    if finding.entered_in_error:
        return
    finding.entered_in_error = True
    finding.save(update_fields=["entered_in_error"])
    snapshot = store_snapshot(locked)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=finding,
        summary=f"{finding} marked entered in error",
        changes={"entered_in_error": [False, True], "snapshot": snapshot.pk},
        ip_address=ip_address,
    )


OBSERVATION_FIELDS = (
    "length_cm",
    "width_cm",
    "depth_cm",
    "tissue",
    "full_thickness",
    "exposed_bone_joint_or_tendon",
    "extensive_forefoot_midfoot",
    "gangrene",
    "wet_gangrene",
)
WOUND_FIELDS = ("label", "location", "wound_type")

# Rule fields (limbguard.vascular argument names) -> the form field that holds them.


@transaction.atomic
def do_record_wound(
    *,
    acting_user: User | None,
    assessment: Assessment,
    wound: Wound | None = None,
    new_wound: Mapping[str, Any] | None = None,
    photos: Sequence[photo_store.CheckedPhoto] = (),
    ip_address: str | None = None,
    **measurement: Any,
) -> WoundObservation:
    """Measure an existing wound of the limb, or a new one, at this assessment.

    Photos must already be checked (`photos.check_photo`); they are stored with the
    observation, and removed again if anything fails.
    """
    locked = lock_open_assessment(assessment)
    if (wound is None) == (new_wound is None):
        raise ValidationError({"wound": "Choose an existing wound or describe a new one."})
    if wound is None:
        assert new_wound is not None
        unknown = set(new_wound) - set(WOUND_FIELDS)
        if unknown:
            raise TypeError(f"unknown wound fields: {', '.join(sorted(unknown))}")
        wound = Wound(
            patient=locked.patient, limb=locked.limb, first_seen=locked.visit_date, **new_wound
        )
        wound.full_clean(exclude=["patient", "limb"])
        wound.save()
        created_wound = True
    else:
        if wound.limb_id != locked.limb_id or not wound.is_open:
            raise ValidationError({"wound": "That is not an open wound of this limb."})
        if wound.observations.filter(assessment=locked, entered_in_error=False).exists():
            raise ValidationError({"wound": "This wound is already measured at this visit."})
        created_wound = False
    unknown = set(measurement) - set(OBSERVATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown measurement fields: {', '.join(sorted(unknown))}")
    observation = WoundObservation(wound=wound, assessment=locked, **measurement)
    observation.area_cm2 = Decimal(0)
    observation.full_clean(exclude=["wound", "assessment", "area_cm2"])
    try:
        area = wound_area(observation.length_cm, observation.width_cm)
    except InvalidInput as error:
        raise ValidationError({RULE_FIELD.get(error.field, error.field): str(error)}) from None
    observation.area_cm2 = area
    if observation.wet_gangrene and observation.gangrene == wifi.Gangrene.NONE:
        raise ValidationError({"wet_gangrene": "Choose the extent of the gangrene."})
    observation.save()
    stored: list[str] = []
    try:
        for checked in photos:
            original, thumbnail = photo_store.store(checked)
            stored += [original, thumbnail]
            WoundPhoto.objects.create(
                observation=observation,
                path=original,
                thumbnail_path=thumbnail,
                content_type=checked.content_type,
                byte_size=len(checked.data),
                sha256=checked.sha256,
                width=checked.width,
                height=checked.height,
                uploaded_by=acting_user,
            )
        snapshot = store_snapshot(locked)
        audit.record(
            acting_user=acting_user,
            action=AuditAction.CREATE,
            patient_id=locked.patient_id,
            obj=observation,
            summary=f"{'new wound' if created_wound else 'wound'} {wound.label}: "
            f"{observation.length_cm} x {observation.width_cm} cm, {len(photos)} photo(s)",
            changes={
                **audit.snapshot(observation, (*OBSERVATION_FIELDS, "area_cm2")),
                "wound": wound.pk,
                "photos": [c.sha256 for c in photos],
                "snapshot": snapshot.pk,
            },
            ip_address=ip_address,
        )
    except BaseException:
        photo_store.remove(*stored)
        raise
    return observation


def wound_area(length_cm: Decimal, width_cm: Decimal) -> Decimal:
    """Area in cm² by the library's length x width rule."""
    return Decimal(str(wound.area(length_cm=float(length_cm), width_cm=float(width_cm))))


@transaction.atomic
def do_mark_wound_healed(
    *,
    acting_user: User | None,
    wound: Wound,
    healed_on: dt.date,
    ip_address: str | None = None,
) -> Wound:
    locked = Wound.objects.select_for_update().get(pk=wound.pk)
    if healed_on > timezone.localdate():
        raise ValidationError({"healed_on": "The date cannot be in the future."})
    if healed_on < locked.first_seen:
        raise ValidationError({"healed_on": "The wound was first seen after that date."})
    if not locked.is_open:
        raise ValidationError({"healed_on": "This wound is not open."})
    locked.healed_on = healed_on
    locked.save(update_fields=["healed_on"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"wound {locked.label} healed on {healed_on}",
        changes={"healed_on": [None, str(healed_on)]},
        ip_address=ip_address,
    )
    return locked


@transaction.atomic
def do_retire_observation(
    *,
    acting_user: User | None,
    observation: WoundObservation,
    reason: str,
    ip_address: str | None = None,
) -> WoundObservation:
    """Mark a wound measurement (and its photos) entered in error, and restage.

    The wound may then be measured again at the same visit. A wound left without any
    valid measurement was itself recorded in error and is marked so too.
    """
    if not reason.strip():
        raise ValidationError({"reason": "Say why the measurement is wrong."})
    locked = lock_open_assessment(observation.assessment)
    current = WoundObservation.objects.select_for_update().get(pk=observation.pk)
    if current.entered_in_error:
        return current
    current.entered_in_error = True
    current.save(update_fields=["entered_in_error"])
    photo_count = current.photos.filter(entered_in_error=False).update(entered_in_error=True)
    wound = Wound.objects.select_for_update().get(pk=current.wound_id)
    wound_retired = not wound.observations.filter(entered_in_error=False).exists()
    if wound_retired:
        wound.entered_in_error = True
        wound.save(update_fields=["entered_in_error"])
    snapshot = store_snapshot(locked)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=current,
        summary=f"wound {wound.label} measurement marked entered in error: {reason.strip()}"[:300],
        changes={
            "entered_in_error": [False, True],
            "photos_retired": photo_count,
            "wound_retired": wound_retired,
            "snapshot": snapshot.pk,
        },
        ip_address=ip_address,
    )
    return current


@transaction.atomic
def do_retire_photo(
    *, acting_user: User | None, photo: WoundPhoto, reason: str, ip_address: str | None = None
) -> WoundPhoto:
    """Mark a photo entered in error (wrong patient, wrong wound): kept, no longer shown."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the photo is wrong."})
    locked = (
        WoundPhoto.objects.select_for_update().select_related("observation__wound").get(pk=photo.pk)
    )
    if locked.entered_in_error:
        return locked
    locked.entered_in_error = True
    locked.save(update_fields=["entered_in_error"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.observation.wound.patient_id,
        obj=locked,
        summary=f"wound photo {locked.pk} marked entered in error: {reason.strip()}"[:300],
        changes={"entered_in_error": [False, True], "sha256": locked.sha256},
        ip_address=ip_address,
    )
    return locked
