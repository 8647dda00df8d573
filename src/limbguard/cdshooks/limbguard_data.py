"""What LimbGuard's own records say about a patient the EHR asks about.

* Limb status (patient-view) is built on the assessments app's read side,
  `assessments.queries.limb_rows`: each limb's pathway urgency and wound trajectories,
  exactly as LimbGuard's own pages show them.
* The order check sits in the EHR's order-signing path, where every millisecond counts,
  so `record` reads only what it needs in four plain-SQL queries (`cdshooks.sql`;
  ADAPTER, issue 8, until the assessments app offers a read of this shape): the
  patient's assessments with their current staging, the limb salvage reviews, the
  limbs, and the procedures and results imported from FHIR (issue 4's
  `registry.Procedure` and `registry.Observation`).
  It feeds the gate rule itself (`treatment.gate.check_gate`) with imaging facts
  derived exactly as `assessments.queries` derives them; a test pins the result to
  `queries.gate_for`.
* A vascular evaluation, for the EHR card, is broader than the gate's imaging: any
  ankle or toe pressure, arterial duplex or angiography at an assessment, a signed
  limb salvage review, or an imported arterial study or ABI/TBI result (same codes as
  the EHR's own data, `rules.evaluation_codes`), dated inside the CDS window.
* ABI, TBI and WIfI stage per limb are the newest *non-empty* values of the current
  staging snapshots (the newest assessment may not measure them).

Matching (`find_patient`): a Patient resource's identifiers against the LimbGuard MRN
and the identifiers imported from FHIR, for identifier systems the client's
configuration names (or LimbGuard's own MRN system). Only patients of the client's
centers can match; several matches count as none (a wrong patient is worse than no
answer).

Follow-ups and care-team tasks belong to issue 6, which has not landed: `limb_status`
reports them as not available rather than as "none".
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.backends.utils import CursorWrapper

from limbguard.assessments.pathway import Urgency
from limbguard.assessments.queries import limb_rows
from limbguard.assessments.staging import StagingValues
from limbguard.cdshooks import conf, rules, sql
from limbguard.cdshooks.rules import Evidence, EvidenceKind, WifiStage
from limbguard.fhir import terminology
from limbguard.registry.models import LimbStatus, Patient
from limbguard.treatment import gate

logger = logging.getLogger(__name__)

LIMBGUARD_MRN_SYSTEM: Final = terminology.IDENTIFIER_MRN
MAX_IDENTIFIERS: Final = 20
ORIGIN: Final = "LimbGuard"


@dataclass(frozen=True)
class Lookup:
    """The outcome of one patient lookup (each one is audited)."""

    patient: Patient | None
    identifiers_tried: int
    ambiguous: bool = False


def _identifiers(
    client: conf.Client, patient_resource: Mapping[str, Any] | None
) -> tuple[set[str], set[tuple[str, str]]]:
    """MRN candidates and (system, value) identifiers the client may be matched on."""
    allowed = set(client.config.patient_identifier_systems)
    mrns: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    identifiers = (patient_resource or {}).get("identifier") or []
    for identifier in identifiers[:MAX_IDENTIFIERS] if isinstance(identifiers, list) else []:
        if not isinstance(identifier, dict):
            continue
        system, value = identifier.get("system"), identifier.get("value")
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            continue
        value = value.strip()
        if system == LIMBGUARD_MRN_SYSTEM:
            mrns.add(value)
        elif isinstance(system, str) and system in allowed:
            mrns.add(value)  # a program may use the hospital MRN as LimbGuard's
            pairs.add((system, value))  # or LimbGuard imported it (PatientIdentifier)
    return mrns, pairs


def find_patient(client: conf.Client, patient_resource: Mapping[str, Any] | None) -> Lookup:
    """The LimbGuard patient the EHR's Patient resource names, among the client's centers.

    Matches the LimbGuard MRN (identifier system `terminology.IDENTIFIER_MRN`, or one of
    the client's `patient_identifier_systems`) and the identifiers LimbGuard imported
    from FHIR (`registry.PatientIdentifier`, same systems). Never a bare FHIR id: ids
    repeat across EHRs. One query.
    """
    mrns, pairs = _identifiers(client, patient_resource)
    if not mrns and not pairs:
        return Lookup(patient=None, identifiers_tried=0)
    matches = sql.matching_patients(
        mrns=mrns,
        identifiers=pairs,
        centers=None if client.all_centers else tuple(client.center_slugs),
    )
    tried = len(mrns | {value for _, value in pairs})
    if len(matches) > 1:
        logger.warning("CDS lookup for client %s matched several patients", client.name)
        return Lookup(patient=None, identifiers_tried=tried, ambiguous=True)
    return Lookup(patient=matches[0] if matches else None, identifiers_tried=tried)


# --- evaluations, staging and the gate --------------------------------------------------


@dataclass(frozen=True)
class Record:
    """The patient's vascular record in LimbGuard, as the order check needs it."""

    evaluations: tuple[Evidence, ...]
    wifi: tuple[WifiStage, ...]
    gates: tuple[gate.GateDecision, ...]


MAX_ASSESSMENTS: Final = 200


@dataclass(frozen=True)
class _Visit:
    on: dt.date
    side: str
    duplex: bool
    angiography: bool
    pressures: bool  # any ankle or toe pressure measured
    values: StagingValues


def _visits(patient: Patient, cursor: CursorWrapper | None = None) -> list[_Visit]:
    """The patient's assessments, newest first, with their current staging (1 query)."""
    visits = []
    for row in sql.visits(patient.pk, limit=MAX_ASSESSMENTS, cursor=cursor):
        values = row.outputs.get("values")
        visits.append(
            _Visit(
                on=row.on,
                side=row.side,
                duplex=row.duplex,
                angiography=row.angiography,
                pressures=row.pressures,
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


_FINAL: Final = ("final", "amended", "corrected")


@functools.cache
def _evaluation_pairs() -> frozenset[tuple[str, str]]:
    return frozenset(
        (system, code) for system, values in rules.evaluation_codes().items() for code in values
    )


@functools.cache
def _evaluation_codes() -> tuple[str, ...]:
    return tuple(sorted({code for _, code in _evaluation_pairs()}))


def _coded_evidence(
    patient: Patient, *, since: dt.date, today: dt.date, cursor: CursorWrapper | None = None
) -> list[Evidence]:
    """Evaluations among the procedures and results LimbGuard imported from FHIR
    (`registry.Procedure`, `registry.Observation`), by the same codes as the EHR's own
    data (`rules.evaluation_codes`). One query."""
    wanted = _evaluation_pairs()
    rows = sql.coded_rows(
        patient.pk, codes=_evaluation_codes(), since=since, today=today, cursor=cursor
    )  # the system is checked below
    found = []
    for system, code, display, laterality, on in rows:
        kind = rules.evidence_kind(system, code) if (system, code) in wanted else None
        if kind is not None:
            side = {"bilateral": "both"}.get(laterality, laterality) or None
            found.append(Evidence(kind, on, side, ORIGIN, display or str(kind)))
    return found


def record(patient: Patient, *, since: dt.date, today: dt.date) -> Record:
    """Evaluations in [since, today], the newest WIfI stage per limb, and the amputation
    gate of each limb not yet amputated above the ankle (4 queries, one cursor)."""
    with sql.cursor() as cursor:
        visits = _visits(patient, cursor)
        review_rows = sql.reviews(patient.pk, cursor=cursor)
        coded = _coded_evidence(patient, since=since, today=today, cursor=cursor)
        limb_states = sql.limbs(patient.pk, cursor=cursor)
    reviews = [gate.Review(side, signed_on, signer) for side, signed_on, signer in review_rows]
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
    found += coded
    imaging = [i for v in visits for i in _gate_imaging(v)]
    sides = sorted(side for side, status in limb_states if status != LimbStatus.MAJOR_AMPUTATION)
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
