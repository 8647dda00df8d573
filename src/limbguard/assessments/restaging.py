"""The bridge between stored assessments and the rules: build `StagingInputs` from an
assessment and its current findings, stage them with the rules' errors turned into
field errors, and store the snapshot (inputs, outputs, rules version) together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from limbguard.assessments import staging
from limbguard.assessments.models import (
    FOOT_LOCATIONS,
    RVCSS_ITEMS,
    ArterialFinding,
    Assessment,
    Calcification,
    StagingSnapshot,
    VenousFinding,
    WoundObservation,
    WoundType,
)
from limbguard.vascular import ceap, glass, infection, rutherford, wifi
from limbguard.vascular._base import InvalidInput

RULE_FIELD: Mapping[str, str] = {
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
        field = RULE_FIELD.get(error.field, "__all__")
        raise ValidationError({field: str(error)}) from None
    except ValueError as error:
        raise ValidationError(str(error)) from None


def current_findings(
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


def store_snapshot(assessment: Assessment) -> StagingSnapshot:
    inputs, result = run_staging(assessment, *current_findings(assessment))
    return StagingSnapshot.objects.create(
        assessment=assessment,
        assessment_version=assessment.version,
        inputs=_inputs_json(inputs),
        outputs=result.outputs(),
        rules_version=result.rules_version,
    )
