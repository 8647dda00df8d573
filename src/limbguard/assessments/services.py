"""Every change to assessments: one transaction, an explicit acting user, one audit row,
and a fresh staging snapshot (inputs, outputs, rules version) whenever findings change.

Views, the demo and commands call these functions; nothing else writes the models of
this app. Bad input raises `ValidationError` naming the field, and nothing is saved.
Edits of an assessment carry the version the user started from: when someone else
saved in between, `StaleEdit` says so and nothing is overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
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
    FOOT_LOCATIONS,
    RVCSS_ITEMS,
    ArterialFinding,
    Assessment,
    Calcification,
    StagingSnapshot,
    VenousFinding,
    Wound,
    WoundObservation,
    WoundPhoto,
    WoundType,
)
from limbguard.registry.models import Limb, LimbStatus, Patient
from limbguard.vascular import ceap, glass, infection, rutherford, wifi, wound
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
_RULE_FIELD: Mapping[str, str] = {
    "text": "ceap",
    "dp": "ankle_dp",
    "pt": "ankle_pt",
    "toe": "toe_pressure",
    "toe_pressure": "toe_pressure",
    "ankle_pressure": "ankle_dp",
    "tcpo2": "tcpo2",
    "erythema_cm": "erythema_cm",
    "temperature_c": "temperature_c",
    "heart_rate": "heart_rate",
    "respiratory_rate": "respiratory_rate",
    "wbc_per_ul": "wbc_per_ul",
    **{item: f"rvcss_{item}" for item in RVCSS_ITEMS},
}


class StaleEdit(ValidationError):
    """The assessment changed since the user opened it; nothing was saved."""


def _optional_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def staging_inputs(
    assessment: Assessment,
    arterial: Iterable[ArterialFinding],
    venous: Iterable[VenousFinding],
    observations: Iterable[WoundObservation],
) -> staging.StagingInputs:
    """The rules' view of an assessment (saved or not) and its current findings."""
    a = assessment
    rvcss_values = {item: getattr(a, f"rvcss_{item}") for item in RVCSS_ITEMS}
    acute = None
    if a.acute_sensory_loss or a.acute_muscle_weakness:
        acute = staging.AcuteInput(
            rutherford.SensoryLoss(a.acute_sensory_loss or "none"),
            rutherford.MuscleWeakness(a.acute_muscle_weakness or "none"),
        )
    return staging.StagingInputs(
        pressures=staging.Pressures(
            brachial_left=a.brachial_left,
            brachial_right=a.brachial_right,
            dp=a.ankle_dp,
            pt=a.ankle_pt,
            toe=a.toe_pressure,
            tcpo2=a.tcpo2,
        ),
        claudication=rutherford.Claudication(a.claudication),
        rest_pain=a.rest_pain,
        major_tissue_loss=a.major_tissue_loss,
        infection=infection.InfectionSigns(
            swelling_or_induration=a.swelling_or_induration,
            erythema_cm=_optional_float(a.erythema_cm),
            tenderness_or_pain=a.tenderness_or_pain,
            warmth=a.warmth,
            purulent_discharge=a.purulent_discharge,
            other_cause_of_inflammation=a.other_cause_of_inflammation,
            deep_tissue_infection=a.deep_tissue_infection,
            osteomyelitis=a.osteomyelitis,
            temperature_c=_optional_float(a.temperature_c),
            heart_rate=a.heart_rate,
            respiratory_rate=a.respiratory_rate,
            wbc_per_ul=a.wbc_per_ul,
        ),
        wounds=tuple(
            staging.WoundInput(
                label=o.wound.label,
                heel=o.wound.location == "heel",
                foot=o.wound.location in FOOT_LOCATIONS,
                exposed_bone_joint_or_tendon=o.exposed_bone_joint_or_tendon,
                full_thickness=o.full_thickness,
                extensive_forefoot_midfoot=o.extensive_forefoot_midfoot,
                gangrene=wifi.Gangrene(o.gangrene),
                wet_gangrene=o.wet_gangrene,
                venous=o.wound.wound_type == WoundType.VENOUS_LEG,
            )
            for o in observations
            if o.area_cm2 > 0 or o.gangrene != wifi.Gangrene.NONE
        ),
        arterial_duplex_done=a.arterial_duplex_done,
        angiography_done=a.angiography_done,
        arterial=tuple(
            staging.ArterialLesionInput(
                segment=staging.ArterialSegment(f.segment),
                modality=staging.Modality(f.modality),
                psv_ratio=_optional_float(f.velocity_ratio),
                psv_cm_s=_optional_float(f.psv_cm_s),
                stenosis_percent=f.stenosis_percent,
                occluded=f.occluded,
                severe_calcification=f.calcification == Calcification.SEVERE,
                length_cm=_optional_float(f.length_cm),
            )
            for f in arterial
        ),
        venous_duplex_done=a.venous_duplex_done,
        venous=tuple(
            staging.VenousFindingInput(
                segment=ceap.Segment(f.segment),
                reflux_ms=f.reflux_ms,
                diameter_mm=_optional_float(f.diameter_mm),
                obstruction=f.obstruction,
                thrombus=bool(f.thrombus),
                iliac_compression=f.iliac_compression,
            )
            for f in venous
        ),
        ceap=a.ceap,
        rvcss=None
        if all(v is None for v in rvcss_values.values())
        else {k: v for k, v in rvcss_values.items() if v is not None},
        pedal=glass.Pedal(a.pedal_descriptor) if a.pedal_descriptor else None,
        unsalvageable=a.unsalvageable,
        acute=acute,
    )


def _inputs_json(inputs: staging.StagingInputs) -> dict[str, Any]:
    return asdict(inputs)  # enums are str subclasses: JSON-ready as they are


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


def run_staging(
    assessment: Assessment,
    arterial: Sequence[ArterialFinding] = (),
    venous: Sequence[VenousFinding] = (),
    observations: Sequence[WoundObservation] = (),
) -> tuple[staging.StagingInputs, staging.StagingResult]:
    """Stage without saving (also the live preview); rule errors become field errors."""
    try:
        inputs = staging_inputs(assessment, arterial, venous, observations)
        return inputs, staging.stage(inputs)
    except InvalidInput as error:
        field = _RULE_FIELD.get(error.field, "__all__")
        raise ValidationError({field: str(error)}) from None
    except ValueError as error:
        raise ValidationError(str(error)) from None


def _current_findings(
    assessment: Assessment,
) -> tuple[list[ArterialFinding], list[VenousFinding], list[WoundObservation]]:
    return (
        list(assessment.arterial_findings.filter(entered_in_error=False)),
        list(assessment.venous_findings.filter(entered_in_error=False)),
        list(
            assessment.wound_observations.filter(
                entered_in_error=False, wound__entered_in_error=False
            ).select_related("wound")
        ),
    )


def _snapshot(assessment: Assessment) -> StagingSnapshot:
    inputs, result = run_staging(assessment, *_current_findings(assessment))
    return StagingSnapshot.objects.create(
        assessment=assessment,
        assessment_version=assessment.version,
        inputs=_inputs_json(inputs),
        outputs=result.outputs(),
        rules_version=result.rules_version,
    )


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
    snapshot = _snapshot(assessment)
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
    snapshot = _snapshot(locked)
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


def _open_assessment(assessment: Assessment) -> Assessment:
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
    locked = _open_assessment(assessment)
    finding = ArterialFinding(assessment=locked, **fields)
    _clean_arterial(finding)
    finding.save()
    snapshot = _snapshot(locked)
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
    locked = _open_assessment(assessment)
    finding = VenousFinding(assessment=locked, **fields)
    finding.full_clean(exclude=["assessment"])
    segment = ceap.Segment(finding.segment)
    if finding.diameter_mm is not None and segment.system is not ceap.AnatomicSystem.AP:
        raise ValidationError({"diameter_mm": "Diameter is recorded for perforators only."})
    finding.save()
    snapshot = _snapshot(locked)
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
    locked = _open_assessment(finding.assessment)
    if finding.entered_in_error:
        return
    finding.entered_in_error = True
    finding.save(update_fields=["entered_in_error"])
    snapshot = _snapshot(locked)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.RETIRE,
        patient_id=locked.patient_id,
        obj=finding,
        summary=f"{finding} marked entered in error",
        changes={"entered_in_error": [False, True], "snapshot": snapshot.pk},
        ip_address=ip_address,
    )


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
    locked = _open_assessment(assessment)
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
        raise ValidationError({_RULE_FIELD.get(error.field, error.field): str(error)}) from None
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
        snapshot = _snapshot(locked)
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
    locked = _open_assessment(observation.assessment)
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
    snapshot = _snapshot(locked)
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
