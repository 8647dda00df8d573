"""What LimbGuard's own records say about a patient the EHR asks about.

* Limb status (patient-view) is built on the assessments app's read side,
  `assessments.queries.limb_rows`: each limb's pathway urgency and wound trajectories,
  exactly as LimbGuard's own pages show them.
* The order check sits in the EHR's order-signing path, where every millisecond counts,
  so `record` reads only what it needs in three queries (ADAPTER, issue 8, until the
  assessments app offers a read of this shape): the patient's assessments with their
  current staging, the limb salvage reviews, and the limbs. It feeds the gate rule
  itself (`treatment.gate.check_gate`) with imaging facts derived exactly as
  `assessments.queries` derives them; a test pins the result to `queries.gate_for`.
* A vascular evaluation, for the EHR card, is broader than the gate's imaging: any
  ankle or toe pressure, arterial duplex or angiography at an assessment, or a signed
  limb salvage review, dated inside the CDS window.
* ABI, TBI and WIfI stage per limb are the newest *non-empty* values of the current
  staging snapshots (the newest assessment may not measure them).

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

from django.db.models import JSONField, OuterRef, Subquery

from limbguard.assessments.models import Assessment, StagingSnapshot
from limbguard.assessments.pathway import Urgency
from limbguard.assessments.queries import limb_rows
from limbguard.assessments.staging import StagingValues
from limbguard.cdshooks import conf
from limbguard.cdshooks.rules import LIMBGUARD_FHIR, Evidence, EvidenceKind, WifiStage
from limbguard.registry.models import Limb, LimbStatus, Patient
from limbguard.treatment import gate
from limbguard.treatment.models import LimbSalvageReview

logger = logging.getLogger(__name__)

# LimbGuard's MRN identifier system (limbguard.fhir.terminology.IDENTIFIER_MRN).
LIMBGUARD_MRN_SYSTEM: Final = f"{LIMBGUARD_FHIR}/sid/mrn"
MAX_IDENTIFIERS: Final = 20
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


MAX_ASSESSMENTS: Final = 200


def _latest_outputs() -> Subquery:
    """The assessment's current staging: its newest snapshot's outputs."""
    return Subquery(
        StagingSnapshot.objects.filter(assessment=OuterRef("pk"))
        .order_by("-id")
        .values("outputs")[:1],
        output_field=JSONField(),
    )


@dataclass(frozen=True)
class _Visit:
    on: dt.date
    side: str
    duplex: bool
    angiography: bool
    pressures: bool  # any ankle or toe pressure measured
    values: StagingValues


def _visits(patient: Patient) -> list[_Visit]:
    """The patient's assessments, newest first, with their current staging (1 query)."""
    rows = (
        Assessment.objects.filter(patient=patient, entered_in_error=False)
        .annotate(latest_outputs=_latest_outputs())
        .order_by("-visit_date", "-id")
        .values(
            "visit_date",
            "limb__side",
            "arterial_duplex_done",
            "angiography_done",
            "ankle_dp",
            "ankle_pt",
            "toe_pressure",
            "latest_outputs",
        )[:MAX_ASSESSMENTS]
    )
    visits = []
    for row in rows:
        outputs = row["latest_outputs"] if isinstance(row["latest_outputs"], dict) else {}
        values = outputs.get("values")
        visits.append(
            _Visit(
                on=row["visit_date"],
                side=row["limb__side"],
                duplex=row["arterial_duplex_done"],
                angiography=row["angiography_done"],
                pressures=any(
                    row[name] is not None for name in ("ankle_dp", "ankle_pt", "toe_pressure")
                ),
                values=StagingValues.from_dict(values if isinstance(values, dict) else {}),
            )
        )
    return visits


def _evidence(visit: _Visit) -> list[Evidence]:
    kinds = []
    if visit.duplex:
        kinds.append(EvidenceKind.ARTERIAL_DUPLEX)
    if visit.angiography:
        kinds.append(EvidenceKind.ANGIOGRAPHY)
    if visit.pressures:
        kinds.append(EvidenceKind.ABI_TBI)
    return [Evidence(kind, visit.on, visit.side, ORIGIN, str(kind)) for kind in kinds]


def _gate_imaging(visit: _Visit) -> list[gate.Imaging]:
    """The gate's imaging facts of one assessment, as `assessments.queries` derives them
    (duplex, angiography, ABI with toe pressure); tests/cdshooks pin the equivalence."""
    found = []
    if visit.duplex:
        found.append(gate.Imaging(visit.side, visit.on, gate.ImagingKind.ARTERIAL_DUPLEX))
    if visit.angiography:
        found.append(gate.Imaging(visit.side, visit.on, gate.ImagingKind.ANGIOGRAPHY))
    if visit.values.abi is not None and visit.values.toe_pressure is not None:
        found.append(gate.Imaging(visit.side, visit.on, gate.ImagingKind.ABI_TBI_TOE))
    return found


def record(patient: Patient, *, since: dt.date, today: dt.date) -> Record:
    """Evaluations in [since, today], the newest WIfI stage per limb, and the amputation
    gate of each limb not yet amputated above the ankle (3 queries)."""
    visits = _visits(patient)
    reviews = [
        gate.Review(side, signed_on, signer)
        for side, signed_on, signer in LimbSalvageReview.objects.filter(
            patient=patient, entered_in_error=False
        ).values_list("limb__side", "signed_on", "signer_name")
    ]
    found = [e for v in visits if since <= v.on <= today for e in _evidence(v)]
    found += [
        Evidence(
            EvidenceKind.LIMB_SALVAGE_REVIEW,
            r.signed_on,
            r.side,
            ORIGIN,
            f"limb salvage review signed by {r.reviewer}",
        )
        for r in reviews
        if since <= r.signed_on <= today
    ]
    imaging = [i for v in visits for i in _gate_imaging(v)]
    sides = sorted(
        side
        for side, status in Limb.objects.filter(patient=patient).values_list("side", "status")
        if status != LimbStatus.MAJOR_AMPUTATION
    )
    return Record(
        evaluations=tuple(sorted(found, key=lambda e: e.on, reverse=True)),
        wifi=tuple(_staging(visits).wifi),
        # Each limb's gate sees that limb's records only, as on LimbGuard's own pages.
        gates=tuple(
            gate.check_gate(
                side=side,
                today=today,
                imaging=[i for i in imaging if i.side == side],
                reviews=[r for r in reviews if r.side == side],
            )
            for side in sides
        ),
    )


@dataclass
class _Staging:
    wifi: list[WifiStage] = field(default_factory=list)
    abi: dict[str, tuple[float, dt.date]] = field(default_factory=dict)
    tbi: dict[str, tuple[float, dt.date]] = field(default_factory=dict)


def _staging(visits: list[_Visit]) -> _Staging:
    """Newest non-empty WIfI stage, ABI and TBI per side (visits are newest first)."""
    result = _Staging()
    wifi_by_side: dict[str, WifiStage] = {}
    for visit in visits:
        values = visit.values
        if values.wifi_stage is not None and visit.side not in wifi_by_side:
            wifi_by_side[visit.side] = WifiStage(visit.side, values.wifi_stage, visit.on, ORIGIN)
        if values.abi is not None:
            result.abi.setdefault(visit.side, (values.abi, visit.on))
        if values.tbi is not None:
            result.tbi.setdefault(visit.side, (values.tbi, visit.on))
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
    """Each limb's latest indices and pathway urgency, and the open wounds (limb_rows)."""
    staging = _staging(_visits(patient))
    wifi = {w.side: w for w in staging.wifi}
    rows = limb_rows(Patient.objects.filter(pk=patient.pk), today=today)
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
