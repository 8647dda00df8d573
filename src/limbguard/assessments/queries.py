"""The read side: each limb's pathway, gate and wound trajectories, for many patients at
once in a fixed number of queries (the chart section, the worklist, the command).

Pathways are computed on every read from the stored staging snapshots, the registry
(risk factors, HbA1c, coded problems) and today's date, so they never go stale: a lab
added in the registry or a day passing changes them at once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import JSONField, OuterRef, QuerySet, Subquery

from limbguard.assessments import pathway, tracking
from limbguard.assessments.models import Assessment, StagingSnapshot, Wound, WoundObservation
from limbguard.assessments.staging import StagingValues
from limbguard.registry.models import (
    DiabetesType,
    LabKind,
    LabResult,
    Limb,
    LimbStatus,
    Patient,
    Problem,
    ProblemStatus,
    SmokingStatus,
)
from limbguard.treatment import gate
from limbguard.treatment.models import LimbSalvageReview
from limbguard.vascular import codes, wound

# Wound types with a 4-week rule in the library (vascular.wound.UlcerType).
RULED_WOUND_TYPES = frozenset(t.value for t in wound.UlcerType)


@dataclass
class WoundRow:
    wound: Wound
    trajectory: tracking.Trajectory
    latest_area: Decimal | None


@dataclass
class LimbRow:
    limb: Limb
    patient: Patient
    pathway: pathway.Pathway
    gate: gate.GateDecision
    wounds: list[WoundRow] = field(default_factory=list)
    latest_assessment_id: int | None = None

    @property
    def sort_key(self) -> tuple[int, dt.date, int]:
        last = self.pathway.last_evaluated_on or dt.date.min
        return (self.pathway.urgency.rank, last, self.limb.pk)


@functools.lru_cache(maxsize=4096)
def _categories(system: str, code: str) -> frozenset[str]:
    try:
        return codes.categorize(system, code)
    except ValueError:
        return frozenset()


def latest_outputs() -> Subquery:
    """The outputs of an assessment's newest staging snapshot, as an annotation."""
    return Subquery(
        StagingSnapshot.objects.filter(assessment=OuterRef("pk"))
        .order_by("-id")
        .values("outputs")[:1],
        output_field=JSONField(),
    )


def _imaging(
    values: StagingValues, flags: Mapping[str, Any], on: dt.date, side: str
) -> list[gate.Imaging]:
    """The gate's imaging facts in one assessment: duplex, angiography, ABI with toe."""
    found = []
    if flags["arterial_duplex_done"]:
        found.append(gate.Imaging(side, on, gate.ImagingKind.ARTERIAL_DUPLEX))
    if flags["angiography_done"]:
        found.append(gate.Imaging(side, on, gate.ImagingKind.ANGIOGRAPHY))
    if values.abi is not None and values.toe_pressure is not None:
        found.append(gate.Imaging(side, on, gate.ImagingKind.ABI_TBI_TOE))
    return found


def limb_rows(
    patients: QuerySet[Patient], *, today: dt.date, include_amputated: bool = True
) -> list[LimbRow]:
    """Every limb of `patients` with its pathway, gate and wounds (8 queries in all)."""
    limbs = list(
        Limb.objects.filter(patient__in=patients)
        .select_related("patient__home_center", "patient__risk")
        .order_by("patient_id", "side")
    )
    if not include_amputated:
        limbs = [limb for limb in limbs if limb.status != LimbStatus.MAJOR_AMPUTATION]
    limb_ids = [limb.pk for limb in limbs]
    patient_ids = sorted({limb.patient_id for limb in limbs})

    evaluations: dict[int, list[pathway.Evaluation]] = defaultdict(list)
    imaging: dict[int, list[gate.Imaging]] = defaultdict(list)
    latest_id: dict[int, tuple[dt.date, int]] = {}
    side_of = {limb.pk: limb.side for limb in limbs}
    rows = (
        Assessment.objects.filter(limb_id__in=limb_ids, entered_in_error=False)
        .annotate(latest_outputs=latest_outputs())
        .values(
            "id",
            "limb_id",
            "visit_date",
            "arterial_duplex_done",
            "angiography_done",
            "latest_outputs",
        )
    )
    for row in rows:
        outputs = row["latest_outputs"] or {}
        values = StagingValues.from_dict(outputs.get("values", {}))
        on = row["visit_date"]
        evaluations[row["limb_id"]].append(pathway.Evaluation(on, values))
        imaging[row["limb_id"]] += _imaging(values, row, on, side_of[row["limb_id"]])
        if row["limb_id"] not in latest_id or (on, row["id"]) > latest_id[row["limb_id"]]:
            latest_id[row["limb_id"]] = (on, row["id"])

    wounds: dict[int, list[Wound]] = defaultdict(list)
    for w in Wound.objects.filter(limb_id__in=limb_ids, entered_in_error=False):
        wounds[w.limb_id].append(w)
    measurements: dict[int, list[tracking.Measurement]] = defaultdict(list)
    for wound_id, on, area in WoundObservation.objects.filter(
        wound__limb_id__in=limb_ids, wound__entered_in_error=False, entered_in_error=False
    ).values_list("wound_id", "assessment__visit_date", "area_cm2"):
        measurements[wound_id].append(tracking.Measurement(on, float(area)))

    hba1c: dict[int, tuple[Decimal, dt.date]] = {}
    for patient_id, value, on in (
        LabResult.objects.filter(
            patient_id__in=patient_ids, kind=LabKind.HBA1C, entered_in_error=False
        )
        .order_by("patient_id", "-observed_on", "-id")
        .values_list("patient_id", "value", "observed_on")
    ):
        hba1c.setdefault(patient_id, (value, on))

    problems: dict[tuple[int, str], set[str]] = defaultdict(set)
    for patient_id, system, code, laterality in Problem.objects.filter(
        patient_id__in=patient_ids, status=ProblemStatus.ACTIVE, entered_in_error=False
    ).values_list("patient_id", "system", "code", "laterality"):
        found = _categories(system, code)
        for side in ("left", "right"):
            if laterality in ("", side, "bilateral") or (found & {"diabetes", "smoking", "ckd"}):
                problems[patient_id, side] |= found

    reviews: dict[int, list[gate.Review]] = defaultdict(list)
    for limb_id, signed_on, signer in LimbSalvageReview.objects.filter(
        limb_id__in=limb_ids, entered_in_error=False
    ).values_list("limb_id", "signed_on", "signer_name"):
        reviews[limb_id].append(gate.Review(side_of[limb_id], signed_on, signer))

    result = []
    for limb in limbs:
        patient = limb.patient
        risk = getattr(patient, "risk", None)
        categories = frozenset(problems[patient.pk, limb.side])
        lab = hba1c.get(patient.pk)
        facts_patient = pathway.PatientFacts(
            diabetic=(risk is not None and risk.diabetes != DiabetesType.NONE)
            or "diabetes" in categories,
            current_smoker=risk is not None and risk.smoking == SmokingStatus.CURRENT,
            hba1c_percent=lab[0] if lab else None,
            hba1c_on=lab[1] if lab else None,
            problem_categories=categories,
        )
        wound_rows = []
        for w in wounds[limb.pk]:
            ruled = w.wound_type in RULED_WOUND_TYPES
            trajectory = tracking.trajectory(
                measurements[w.pk], ulcer_type=w.wound_type if ruled else None, today=today
            )
            latest = measurements[w.pk][-1].area_cm2 if measurements[w.pk] else None
            wound_rows.append(
                WoundRow(w, trajectory, None if latest is None else Decimal(str(latest)))
            )
        open_wounds = tuple(
            pathway.WoundFacts(
                label=row.wound.label,
                off_track=row.trajectory.off_track,
                plan_of_care_review=bool(
                    row.trajectory.check and row.trajectory.check.plan_of_care_review
                ),
            )
            for row in wound_rows
            if row.wound.is_open
        )
        facts = pathway.LimbFacts(
            side=limb.side,
            today=today,
            evaluations=tuple(evaluations[limb.pk]),
            open_wounds=open_wounds,
            patient=facts_patient,
            major_amputation=limb.status == LimbStatus.MAJOR_AMPUTATION,
        )
        decision = gate.check_gate(
            side=limb.side, today=today, imaging=imaging[limb.pk], reviews=reviews[limb.pk]
        )
        latest_pair = latest_id.get(limb.pk)
        result.append(
            LimbRow(
                limb=limb,
                patient=patient,
                pathway=pathway.evaluate(facts),
                gate=decision,
                wounds=wound_rows,
                latest_assessment_id=latest_pair[1] if latest_pair else None,
            )
        )
    return result


def gate_for(limb: Limb, *, today: dt.date) -> gate.GateDecision:
    """The gate of one limb (3 queries)."""
    imaging: list[gate.Imaging] = []
    for row in (
        Assessment.objects.filter(limb=limb, entered_in_error=False)
        .annotate(latest_outputs=latest_outputs())
        .values("visit_date", "arterial_duplex_done", "angiography_done", "latest_outputs")
    ):
        values = StagingValues.from_dict((row["latest_outputs"] or {}).get("values", {}))
        imaging += _imaging(values, row, row["visit_date"], limb.side)
    reviews = [
        gate.Review(limb.side, signed_on, signer)
        for signed_on, signer in LimbSalvageReview.objects.filter(
            limb=limb, entered_in_error=False
        ).values_list("signed_on", "signer_name")
    ]
    return gate.check_gate(side=limb.side, today=today, imaging=imaging, reviews=reviews)


def sorted_rows(rows: Iterable[LimbRow]) -> list[LimbRow]:
    """Most urgent first; within an urgency, the longest since the last evaluation first."""
    return sorted(rows, key=lambda row: row.sort_key)
