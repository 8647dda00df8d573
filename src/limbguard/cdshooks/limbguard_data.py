"""What LimbGuard's own records say about a patient the EHR asks about.

ADAPTER (issue 8, written while issues 4, 5 and 6 land in parallel). The assessments app
publishes models and pure rules (`staging`, `tracking`, `treatment.gate`) but no query
functions yet; this module reads their models *read-only*, in as few queries as it can,
and feeds the pure rules. When those apps publish query functions, replace the bodies
below with calls to them; the dataclasses returned here are the interface the cards use.

* Matching (`find_patient`): a Patient resource's identifiers against the LimbGuard MRN,
  for identifier systems the client's configuration names (or LimbGuard's own MRN
  system). Only patients of the client's centers can match; several matches count as
  none (a wrong patient is worse than no answer).
* Follow-ups and care-team tasks belong to issue 6, which has not landed: `limb_status`
  reports them as not available rather than as "none".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.models import Q

from limbguard.assessments.models import Assessment, StagingSnapshot, Wound, WoundObservation
from limbguard.assessments.tracking import FourWeekStatus, Measurement, trajectory
from limbguard.cdshooks import conf
from limbguard.cdshooks.rules import LIMBGUARD_FHIR, Evidence, EvidenceKind, WifiStage
from limbguard.registry.models import Limb, LimbStatus, Patient
from limbguard.treatment import gate
from limbguard.treatment.models import LimbSalvageReview
from limbguard.vascular import wound as wound_rules

logger = logging.getLogger(__name__)

# LimbGuard's MRN identifier system (limbguard.fhir.terminology.IDENTIFIER_MRN).
LIMBGUARD_MRN_SYSTEM: Final = f"{LIMBGUARD_FHIR}/sid/mrn"
MAX_IDENTIFIERS: Final = 20
MAX_SNAPSHOTS: Final = 200
ORIGIN: Final = "LimbGuard"


@dataclass(frozen=True)
class Lookup:
    """The outcome of one patient lookup (each one is audited)."""

    patient: Patient | None
    identifiers_tried: int
    ambiguous: bool = False


def _candidate_mrns(client: conf.Client, patient_resource: Mapping[str, Any] | None) -> set[str]:
    systems = {LIMBGUARD_MRN_SYSTEM, *client.config.patient_identifier_systems}
    found: set[str] = set()
    identifiers = (patient_resource or {}).get("identifier") or []
    for identifier in identifiers[:MAX_IDENTIFIERS] if isinstance(identifiers, list) else []:
        if not isinstance(identifier, dict) or identifier.get("system") not in systems:
            continue
        value = identifier.get("value")
        if isinstance(value, str) and 3 <= len(value.strip()) <= 32:
            found.add(value.strip())
    return found


def find_patient(client: conf.Client, patient_resource: Mapping[str, Any] | None) -> Lookup:
    mrns = _candidate_mrns(client, patient_resource)
    if not mrns:
        return Lookup(patient=None, identifiers_tried=0)
    query = Patient.objects.filter(mrn__in=mrns)
    if not client.all_centers:
        query = query.filter(home_center__slug__in=client.center_slugs)
    matches = list(query.only("id", "mrn", "home_center_id")[:2])
    if len(matches) > 1:
        logger.warning("CDS lookup for client %s matched several patients", client.name)
        return Lookup(patient=None, identifiers_tried=len(mrns), ambiguous=True)
    return Lookup(patient=matches[0] if matches else None, identifiers_tried=len(mrns))


# --- evaluations, staging and the gate --------------------------------------------------


@dataclass(frozen=True)
class Record:
    """The patient's vascular record in LimbGuard, as the order check needs it."""

    evaluations: tuple[Evidence, ...]
    wifi: tuple[WifiStage, ...]
    gates: tuple[gate.GateDecision, ...]


_Found = tuple[EvidenceKind, gate.ImagingKind | None]


def _assessment_evidence(row: Mapping[str, Any]) -> list[_Found]:
    kinds: list[_Found] = []
    if row["arterial_duplex_done"]:
        kinds.append((EvidenceKind.ARTERIAL_DUPLEX, gate.ImagingKind.ARTERIAL_DUPLEX))
    if row["angiography_done"]:
        kinds.append((EvidenceKind.ANGIOGRAPHY, gate.ImagingKind.ANGIOGRAPHY))
    pressures = row["ankle_dp"] is not None or row["ankle_pt"] is not None
    if pressures or row["toe_pressure"] is not None:
        # The gate asks for ABI/TBI *with toe pressures*; any pressure is an evaluation.
        imaging = gate.ImagingKind.ABI_TBI_TOE if row["toe_pressure"] is not None else None
        kinds.append((EvidenceKind.ABI_TBI, imaging))
    return kinds


def record(patient: Patient, *, since: dt.date, today: dt.date) -> Record:
    """Evaluations since `since`, the newest WIfI stage per limb, and each intact limb's
    amputation gate (`treatment.gate.check_gate`). Three queries."""
    window_start = min(since, today - dt.timedelta(days=gate.REVIEW_WINDOW_DAYS))
    rows = list(
        Assessment.objects.filter(
            patient=patient, entered_in_error=False, visit_date__gte=window_start
        )
        .filter(
            Q(arterial_duplex_done=True)
            | Q(angiography_done=True)
            | Q(ankle_dp__isnull=False)
            | Q(ankle_pt__isnull=False)
            | Q(toe_pressure__isnull=False)
        )
        .values(
            "visit_date",
            "limb__side",
            "arterial_duplex_done",
            "angiography_done",
            "ankle_dp",
            "ankle_pt",
            "toe_pressure",
        )
    )
    evaluations: list[Evidence] = []
    imaging: list[gate.Imaging] = []
    for row in rows:
        for kind, imaging_kind in _assessment_evidence(row):
            if since <= row["visit_date"] <= today:
                evaluations.append(
                    Evidence(kind, row["visit_date"], row["limb__side"], ORIGIN, str(kind))
                )
            if imaging_kind is not None:
                imaging.append(gate.Imaging(row["limb__side"], row["visit_date"], imaging_kind))
    reviews = [
        gate.Review(r["limb__side"], r["signed_on"], r["signer_name"])
        for r in LimbSalvageReview.objects.filter(
            patient=patient, entered_in_error=False, signed_on__gte=window_start
        ).values("limb__side", "signed_on", "signer_name")
    ]
    for review in reviews:
        if since <= review.signed_on <= today:
            evaluations.append(
                Evidence(
                    EvidenceKind.LIMB_SALVAGE_REVIEW,
                    review.signed_on,
                    review.side,
                    ORIGIN,
                    f"limb salvage review by {review.reviewer}",
                )
            )
    intact = [
        side
        for side, status in Limb.objects.filter(patient=patient).values_list("side", "status")
        if status != LimbStatus.MAJOR_AMPUTATION
    ]
    gates = tuple(
        gate.check_gate(side=side, today=today, imaging=imaging, reviews=reviews)
        for side in sorted(intact)
    )
    return Record(
        evaluations=tuple(sorted(evaluations, key=lambda e: e.on, reverse=True)),
        wifi=tuple(_latest_staging(patient).wifi),
        gates=gates,
    )


@dataclass
class _Staging:
    wifi: list[WifiStage] = field(default_factory=list)
    abi: dict[str, tuple[float, dt.date]] = field(default_factory=dict)
    tbi: dict[str, tuple[float, dt.date]] = field(default_factory=dict)


def _latest_staging(patient: Patient) -> _Staging:
    """Newest non-null WIfI stage, ABI and TBI per side, from the current snapshot of each
    assessment (the newest snapshot of an assessment is its current staging)."""
    rows = (
        StagingSnapshot.objects.filter(
            assessment__patient=patient, assessment__entered_in_error=False
        )
        .order_by("-assessment__visit_date", "-assessment_id", "-id")
        .values("assessment_id", "assessment__visit_date", "assessment__limb__side", "outputs")[
            :MAX_SNAPSHOTS
        ]
    )
    seen: set[int] = set()
    result = _Staging()
    wifi_by_side: dict[str, WifiStage] = {}
    for row in rows:
        if row["assessment_id"] in seen:
            continue
        seen.add(row["assessment_id"])
        side, on = row["assessment__limb__side"], row["assessment__visit_date"]
        stored = row["outputs"] if isinstance(row["outputs"], dict) else {}
        values = stored.get("values")
        outputs: dict[str, Any] = values if isinstance(values, dict) else {}
        stage = outputs.get("wifi_stage")
        if isinstance(stage, int) and side not in wifi_by_side:
            wifi_by_side[side] = WifiStage(side=side, stage=stage, on=on, origin=ORIGIN)
        for name, store in (("abi", result.abi), ("tbi", result.tbi)):
            value = outputs.get(name)
            if isinstance(value, int | float) and side not in store:
                store[side] = (float(value), on)
    result.wifi = sorted(wifi_by_side.values(), key=lambda w: w.side or "")
    return result


# --- limb status (patient-view) ---------------------------------------------------------


@dataclass(frozen=True)
class WoundLine:
    side: str
    label: str
    area_cm2: float
    percent_reduction: float | None
    since: dt.date
    off_track: bool


@dataclass(frozen=True)
class LimbLine:
    side: str
    status: str  # LimbStatus label
    abi: tuple[float, dt.date] | None
    tbi: tuple[float, dt.date] | None
    wifi: WifiStage | None


@dataclass(frozen=True)
class LimbStatusData:
    limbs: tuple[LimbLine, ...]
    wounds: tuple[WoundLine, ...]
    overdue_followups: tuple[str, ...] | None  # None: not available (issue 6)
    open_tasks: tuple[str, ...] | None  # None: not available (issue 6)

    @property
    def has_content(self) -> bool:
        measured = any(
            line.abi or line.tbi or line.wifi or line.status != LimbStatus.INTACT.label
            for line in self.limbs
        )
        return measured or bool(self.wounds or self.overdue_followups or self.open_tasks)


def _ulcer_type(wound_type: str) -> str | None:
    known = {member.value for member in wound_rules.UlcerType}
    return wound_type if wound_type in known else None


def limb_status(patient: Patient, *, today: dt.date) -> LimbStatusData:
    staging = _latest_staging(patient)
    wifi = {w.side: w for w in staging.wifi}
    limbs = tuple(
        LimbLine(
            side=side,
            status=LimbStatus(status).label,
            abi=staging.abi.get(side),
            tbi=staging.tbi.get(side),
            wifi=wifi.get(side),
        )
        for side, status in Limb.objects.filter(patient=patient)
        .order_by("side")
        .values_list("side", "status")
    )
    wounds = []
    open_wounds = list(
        Wound.objects.filter(patient=patient, healed_on__isnull=True, entered_in_error=False)
        .select_related("limb")
        .only("id", "label", "wound_type", "first_seen", "limb__side")
    )
    observations: dict[int, list[Measurement]] = {}
    for wound_id, on, area in WoundObservation.objects.filter(
        wound__in=open_wounds, entered_in_error=False, assessment__entered_in_error=False
    ).values_list("wound_id", "assessment__visit_date", "area_cm2"):
        observations.setdefault(wound_id, []).append(Measurement(on=on, area_cm2=float(area)))
    for item in open_wounds:
        points = observations.get(item.id, [])
        if not points:
            continue
        path = trajectory(points, ulcer_type=_ulcer_type(item.wound_type), today=today)
        last = path.points[-1]
        wounds.append(
            WoundLine(
                side=item.limb.side,
                label=item.label,
                area_cm2=last.area_cm2,
                percent_reduction=last.percent_reduction,
                since=path.points[0].on,
                off_track=path.status is FourWeekStatus.OFF_TRACK,
            )
        )
    return LimbStatusData(
        limbs=limbs, wounds=tuple(wounds), overdue_followups=None, open_tasks=None
    )
