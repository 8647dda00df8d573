"""What LimbGuard's own records say about a patient the EHR asks about.

Built on the assessments app's read side: `assessments.queries.limb_rows` gives each
limb's pathway (urgency, latest staging), amputation gate (`treatment.gate`) and wound
trajectories, exactly as LimbGuard's own pages show them. Two small reads are this
module's own (ADAPTER, issue 8, until the assessments app publishes them):

* the vascular evaluations dated inside the CDS window (any ABI/ankle or toe pressure,
  arterial duplex or angiography at an assessment, or a signed limb salvage review):
  the gate needs stricter imaging, but any of these is an evaluation for the EHR card;
* the newest *non-empty* ABI, TBI and WIfI stage per limb from the staging snapshots
  (the pathway's `latest` is the newest assessment, which may not measure them).

Matching (`find_patient`): a Patient resource's identifiers against the LimbGuard MRN,
for identifier systems the client's configuration names (or LimbGuard's own MRN
system). Only patients of the client's centers can match; several matches count as
none (a wrong patient is worse than no answer).

Follow-ups and care-team tasks belong to issue 6, which has not landed: `limb_status`
reports them as not available rather than as "none".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.models import Q

from limbguard.assessments.models import Assessment, StagingSnapshot
from limbguard.assessments.pathway import Urgency
from limbguard.assessments.queries import LimbRow, limb_rows
from limbguard.cdshooks import conf
from limbguard.cdshooks.rules import LIMBGUARD_FHIR, Evidence, EvidenceKind, WifiStage
from limbguard.registry.models import LimbStatus, Patient
from limbguard.treatment import gate
from limbguard.treatment.models import LimbSalvageReview

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


_Found = tuple[EvidenceKind, ...]


def _assessment_evidence(row: Mapping[str, Any]) -> _Found:
    kinds: list[EvidenceKind] = []
    if row["arterial_duplex_done"]:
        kinds.append(EvidenceKind.ARTERIAL_DUPLEX)
    if row["angiography_done"]:
        kinds.append(EvidenceKind.ANGIOGRAPHY)
    if any(row[name] is not None for name in ("ankle_dp", "ankle_pt", "toe_pressure")):
        kinds.append(EvidenceKind.ABI_TBI)
    return tuple(kinds)


def evaluations(patient: Patient, *, since: dt.date, today: dt.date) -> list[Evidence]:
    """Vascular evaluations in LimbGuard dated in [since, today], newest first (2 queries)."""
    found = []
    for row in (
        Assessment.objects.filter(
            patient=patient, entered_in_error=False, visit_date__range=(since, today)
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
    ):
        for kind in _assessment_evidence(row):
            found.append(Evidence(kind, row["visit_date"], row["limb__side"], ORIGIN, str(kind)))
    for side, signed_on, signer in LimbSalvageReview.objects.filter(
        patient=patient, entered_in_error=False, signed_on__range=(since, today)
    ).values_list("limb__side", "signed_on", "signer_name"):
        label = f"limb salvage review signed by {signer}"
        found.append(Evidence(EvidenceKind.LIMB_SALVAGE_REVIEW, signed_on, side, ORIGIN, label))
    return sorted(found, key=lambda e: e.on, reverse=True)


def _rows(patient: Patient, today: dt.date, *, include_amputated: bool) -> list[LimbRow]:
    return limb_rows(
        Patient.objects.filter(pk=patient.pk), today=today, include_amputated=include_amputated
    )


def record(patient: Patient, *, since: dt.date, today: dt.date) -> Record:
    """Evaluations in the window, the newest WIfI stage per limb, and each remaining
    limb's amputation gate as LimbGuard itself decides it."""
    rows = _rows(patient, today, include_amputated=False)
    return Record(
        evaluations=tuple(evaluations(patient, since=since, today=today)),
        wifi=tuple(_latest_staging(patient).wifi),
        gates=tuple(row.gate for row in rows),
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
    urgency: str | None = None  # "emergent" or "urgent"; None when routine
    urgency_rule: str | None = None


@dataclass(frozen=True)
class LimbStatusData:
    limbs: tuple[LimbLine, ...]
    wounds: tuple[WoundLine, ...]
    overdue_followups: tuple[str, ...] | None  # None: not available (issue 6)
    open_tasks: tuple[str, ...] | None  # None: not available (issue 6)

    @property
    def has_content(self) -> bool:
        measured = any(
            line.abi
            or line.tbi
            or line.wifi
            or line.urgency
            or line.status != LimbStatus.INTACT.label
            for line in self.limbs
        )
        return measured or bool(self.wounds or self.overdue_followups or self.open_tasks)


def limb_status(patient: Patient, *, today: dt.date) -> LimbStatusData:
    staging = _latest_staging(patient)
    wifi = {w.side: w for w in staging.wifi}
    rows = _rows(patient, today, include_amputated=True)
    limbs = []
    wounds = []
    for row in rows:
        side = row.limb.side
        urgency = row.pathway.urgency
        rule = row.pathway.rule if urgency is not Urgency.ROUTINE else None
        limbs.append(
            LimbLine(
                side=side,
                status=LimbStatus(row.limb.status).label,
                abi=staging.abi.get(side),
                tbi=staging.tbi.get(side),
                wifi=wifi.get(side),
                urgency=None if urgency is Urgency.ROUTINE else str(urgency),
                urgency_rule=rule.text
                if rule is not None and urgency is not Urgency.ROUTINE
                else None,
            )
        )
        for item in row.wounds:
            if not item.wound.is_open or not item.trajectory.points:
                continue
            last = item.trajectory.points[-1]
            wounds.append(
                WoundLine(
                    side=side,
                    label=item.wound.label,
                    area_cm2=last.area_cm2,
                    percent_reduction=last.percent_reduction,
                    since=item.trajectory.points[0].on,
                    off_track=item.trajectory.off_track,
                )
            )
    return LimbStatusData(
        limbs=tuple(limbs), wounds=tuple(wounds), overdue_followups=None, open_tasks=None
    )
