"""The order check's clinical rules over FHIR R4 JSON: pure functions, no Django, no I/O.

* Which draft orders are lower-limb amputations: ServiceRequest (R4) or ProcedureRequest
  (STU3) coded in CPT or SNOMED CT with a code the library files under
  ``major_amputation`` or ``minor_amputation`` (`limbguard.vascular.codes`).
* What counts as a vascular evaluation of the patient (issue 8): an arterial
  physiologic study (ABI, segmental or toe pressures: CPT 93922-93924), an arterial
  duplex (93925/93926), an ABI or TBI result (SNOMED 446841001, LOINC 8581-1, or the
  LimbGuard concepts for ABI, TBI, ankle and toe pressure and arterial duplex),
  angiography recorded in LimbGuard, or a completed vascular consult. Venous duplex
  (93970/93971) is a vascular study but says nothing about arterial perfusion, so it
  does not count.
* The window: an evaluation counts when done within the configured number of days
  (default 30, the amputation gate's imaging window, `treatment.gate`).

Rationale and citation: `SOURCE`. The FHIR data is read leniently (only the elements
used here are looked at) and defensively: a resource about another patient than the one
in context is ignored, and only completed procedures and final results count.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from limbguard.fhir import terminology
from limbguard.treatment.gate import SOURCE as GATE_SOURCE
from limbguard.vascular import codes
from limbguard.vascular.codes.vocabulary import Category, CodeSystem

SOURCE: Final = (
    f"{GATE_SOURCE}. Haemodynamic confirmation (ABI, ankle or toe pressure) and arterial "
    "imaging before treatment decisions: GVG 2019 section 2.1 and rec. 6.15-6.16 "
    "(clinical_reference.md 2.1, 2.8)."
)
LIMBGUARD_FHIR: Final = terminology.BASE
LIMBGUARD_CODE_SYSTEM: Final = terminology.CODE_SYSTEM
# This service's own concepts (the consult it suggests, card topics).
CDS_CODE_SYSTEM: Final = f"{LIMBGUARD_FHIR}/CodeSystem/cds-hooks"

# codes_and_epidemiology.md 2.5: duplex scans of extremity *veins*. Removed from the
# library's vascular_study value set to leave the arterial studies.
VENOUS_STUDY_CPT: Final = frozenset({"93970", "93971"})
# CPT 2.5: duplex scans of lower-extremity arteries (complete bilateral, limited).
ARTERIAL_DUPLEX_CPT: Final = frozenset({"93925", "93926"})
# What the critical card offers to order: the multilevel physiologic study (segmental
# and toe pressures, useful when ankle arteries are noncompressible) and the complete
# arterial duplex (codes_and_epidemiology.md 2.5).
SUGGESTED_STUDIES_CPT: Final = ("93923", "93925")
# LimbGuard concepts that are themselves a vascular evaluation result, and the WIfI stage.
LIMBGUARD_EVALUATION_CONCEPTS: Final = frozenset(
    {"abi", "tbi", "ankle-pressure", "toe-pressure", "arterial-duplex"}
)
LIMBGUARD_WIFI_STAGE: Final = "wifi-stage"
VASCULAR_CONSULT_CODE: Final = "vascular-consult"

# SNOMED CT laterality: the qualifiers LimbGuard's own FHIR module reads and writes
# (terminology.LATERALITY_SNOMED) and FHIR R4 ValueSet bodysite-laterality's
# "Unilateral left/right" (419161000, 419465000). "bilateral" is "both" here.
_SIDE_BY_SNOMED: Final = {
    **{
        code: ("both" if side == "bilateral" else side)
        for code, side in terminology.LATERALITY_BY_SNOMED.items()
    },
    "419161000": "left",
    "419465000": "right",
}
_ORDER_TYPES: Final = frozenset({"ServiceRequest", "ProcedureRequest"})
_SKIPPED_ORDER_STATUS: Final = frozenset({"entered-in-error", "revoked", "completed"})
_DONE_PROCEDURE_STATUS: Final = frozenset({"completed"})
_FINAL_OBSERVATION_STATUS: Final = frozenset({"final", "amended", "corrected"})
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _uri_to_system() -> dict[str, str]:
    return {member.fhir_uri: member.value for member in CodeSystem}


_SYSTEMS: Final = _uri_to_system()


class EvidenceKind(enum.StrEnum):
    PHYSIOLOGIC_STUDY = "arterial physiologic study (ABI, pressures)"
    ABI_TBI = "ABI/TBI or limb pressure result"
    ARTERIAL_DUPLEX = "arterial duplex"
    ANGIOGRAPHY = "angiography"
    VASCULAR_CONSULT = "vascular consult"
    LIMB_SALVAGE_REVIEW = "limb salvage review"


@dataclass(frozen=True)
class Order:
    """A draft order for a lower-limb amputation."""

    reference: str  # "ServiceRequest/123", or the code when the order has no id
    label: str
    major: bool
    side: str | None  # "left" | "right" | "both" | None when the order does not say


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    on: dt.date
    side: str | None
    origin: str  # "EHR" or "LimbGuard"
    label: str


@dataclass(frozen=True)
class WifiStage:
    side: str | None
    stage: int
    on: dt.date | None
    origin: str


def codings(concept: object) -> list[tuple[str | None, str]]:
    """(system URI, code) of each coding of a CodeableConcept, leniently."""
    if not isinstance(concept, dict):
        return []
    found = []
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            system = coding.get("system")
            found.append((system if isinstance(system, str) else None, coding["code"]))
    return found


# A pure function of two strings, called for every coding of every resource of a call:
# kept per process, bounded so that codes an EHR makes up cannot grow it without limit.
@functools.lru_cache(maxsize=4096)
def categories(system_uri: str | None, code: str) -> frozenset[str]:
    """Library categories of one coding; empty for systems the library does not hold."""
    system = _SYSTEMS.get(system_uri or "")
    return codes.categorize(system, code) if system is not None else frozenset()


def fhir_date(value: object) -> dt.date | None:
    """The first day a FHIR date/dateTime/instant can mean ('2026' -> 2026-01-01).

    Partial dates take their earliest day, so that a vague record never looks more
    recent than it may be. Anything unparseable is None.
    """
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if match is None:
        return None
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _first_date(resource: Mapping[str, Any], *paths: str) -> dt.date | None:
    for path in paths:
        node: Any = resource
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        found = fhir_date(node)
        if found is not None:
            return found
    return None


def about_patient(resource: Mapping[str, Any], patient_id: str) -> bool:
    """False when the resource names another patient as its subject."""
    for element in ("subject", "patient"):
        ref = resource.get(element)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            target = str(ref["reference"]).rstrip("/").split("/_history/")[0]
            return target.endswith(f"Patient/{patient_id}") or target == patient_id
    return True


def side_of(resource: Mapping[str, Any]) -> str | None:
    """Laterality from bodySite codings (SNOMED qualifiers) or words in the texts."""
    sites = resource.get("bodySite")
    site_list = sites if isinstance(sites, list) else [sites] if isinstance(sites, dict) else []
    texts: list[str] = []
    for site in site_list:
        for system, value in codings(site):
            if system == CodeSystem.SNOMED.fhir_uri and value in _SIDE_BY_SNOMED:
                return _SIDE_BY_SNOMED[value]
        if isinstance(site, dict) and isinstance(site.get("text"), str):
            texts.append(str(site["text"]))
    code = resource.get("code")
    if isinstance(code, dict) and isinstance(code.get("text"), str):
        texts.append(str(code["text"]))
    words = set(re.findall(r"[a-z]+", " ".join(texts).lower()))
    if {"left", "right"} <= words or "bilateral" in words:
        return "both"
    if "left" in words:
        return "left"
    if "right" in words:
        return "right"
    return None


def _label(resource: Mapping[str, Any], fallback: str) -> str:
    code = resource.get("code")
    if isinstance(code, dict) and isinstance(code.get("text"), str) and code["text"].strip():
        return str(code["text"]).strip()[:120]
    for system_uri, value in codings(code):
        name = _SYSTEMS.get(system_uri or "")
        if name is not None and (text := codes.label(name, value)):
            return text
    for coding in code.get("coding") or [] if isinstance(code, dict) else []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            return str(coding["display"])[:120]
    return fallback


def amputation_orders(resources: Iterable[Mapping[str, Any]], patient_id: str) -> list[Order]:
    """The lower-limb amputations among draft orders (issue 8, "Order check")."""
    found = []
    for resource in resources:
        if resource.get("resourceType") not in _ORDER_TYPES:
            continue
        if resource.get("status") in _SKIPPED_ORDER_STATUS or not about_patient(
            resource, patient_id
        ):
            continue
        cats: set[str] = set()
        for system, code in codings(resource.get("code")):
            cats |= categories(system, code)
        if not cats & {Category.MAJOR_AMPUTATION, Category.MINOR_AMPUTATION}:
            continue
        rid = resource.get("id")
        reference = f"{resource['resourceType']}/{rid}" if isinstance(rid, str) else ""
        found.append(
            Order(
                reference=reference,
                label=_label(resource, "Amputation"),
                major=Category.MAJOR_AMPUTATION in cats,
                side=side_of(resource),
            )
        )
    return found


def _study_kind(system: str | None, code: str) -> EvidenceKind | None:
    cats = categories(system, code)
    if Category.VASCULAR_STUDY not in cats:
        return None
    if system == CodeSystem.CPT.fhir_uri:
        canonical = code.strip().upper()
        if canonical in VENOUS_STUDY_CPT:
            return None
        if canonical in ARTERIAL_DUPLEX_CPT:
            return EvidenceKind.ARTERIAL_DUPLEX
        return EvidenceKind.PHYSIOLOGIC_STUDY
    return EvidenceKind.ABI_TBI


def _limbguard_kind(system: str | None, code: str) -> EvidenceKind | None:
    if system != LIMBGUARD_CODE_SYSTEM or code not in LIMBGUARD_EVALUATION_CONCEPTS:
        return None
    return EvidenceKind.ARTERIAL_DUPLEX if code == "arterial-duplex" else EvidenceKind.ABI_TBI


def evidence_kind(system: str | None, code: str) -> EvidenceKind | None:
    """What kind of vascular evaluation a coded procedure or result is, if any."""
    return _study_kind(system, code) or _limbguard_kind(system, code)


def _kind(resource: Mapping[str, Any]) -> EvidenceKind | None:
    for system, code in codings(resource.get("code")):
        kind = evidence_kind(system, code)
        if kind is not None:
            return kind
    return None


def _is_consult(resource: Mapping[str, Any], consult_codings: Iterable[tuple[str, str]]) -> bool:
    wanted = {(CDS_CODE_SYSTEM, VASCULAR_CONSULT_CODE), *consult_codings}
    return any(pair in wanted for pair in codings(resource.get("code")))


def fhir_evidence(
    *,
    procedures: Iterable[Mapping[str, Any]],
    observations: Iterable[Mapping[str, Any]],
    consults: Iterable[Mapping[str, Any]],
    patient_id: str,
    since: dt.date,
    today: dt.date,
    consult_codings: Iterable[tuple[str, str]] = (),
) -> list[Evidence]:
    """Vascular evaluations in the EHR's data done in [since, today], newest first."""
    found: list[Evidence] = []

    def keep(kind: EvidenceKind | None, on: dt.date | None, resource: Mapping[str, Any]) -> None:
        if kind is not None and on is not None and since <= on <= today:
            found.append(Evidence(kind, on, side_of(resource), "EHR", _label(resource, kind)))

    for resource in procedures:
        if resource.get("resourceType") != "Procedure" or not about_patient(resource, patient_id):
            continue
        if resource.get("status") in _DONE_PROCEDURE_STATUS:
            on = _first_date(resource, "performedDateTime", "performedPeriod.start")
            keep(_kind(resource), on, resource)
    for resource in observations:
        if resource.get("resourceType") != "Observation" or not about_patient(resource, patient_id):
            continue
        if resource.get("status") in _FINAL_OBSERVATION_STATUS:
            on = _first_date(resource, "effectiveDateTime", "effectivePeriod.start", "issued")
            keep(_kind(resource), on, resource)
    consult_list = list(consult_codings)
    for resource in consults:
        if resource.get("resourceType") != "ServiceRequest" or not about_patient(
            resource, patient_id
        ):
            continue
        if resource.get("status") == "completed" and _is_consult(resource, consult_list):
            on = _first_date(resource, "occurrenceDateTime", "occurrencePeriod.start", "authoredOn")
            keep(EvidenceKind.VASCULAR_CONSULT, on, resource)
    return sorted(found, key=lambda e: e.on, reverse=True)


def fhir_wifi_stages(observations: Iterable[Mapping[str, Any]], patient_id: str) -> list[WifiStage]:
    """The newest WIfI clinical stage per side from LimbGuard-coded observations."""
    newest: dict[str | None, WifiStage] = {}
    for resource in observations:
        if resource.get("resourceType") != "Observation" or not about_patient(resource, patient_id):
            continue
        if resource.get("status") not in _FINAL_OBSERVATION_STATUS:
            continue
        if (LIMBGUARD_CODE_SYSTEM, LIMBGUARD_WIFI_STAGE) not in codings(resource.get("code")):
            continue
        value = resource.get("valueInteger")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            continue
        on = _first_date(resource, "effectiveDateTime", "effectivePeriod.start", "issued")
        side = side_of(resource)
        current = newest.get(side)
        if current is None or (on is not None and (current.on is None or on > current.on)):
            newest[side] = WifiStage(side=side, stage=value, on=on, origin="EHR")
    return list(newest.values())


def prefetch_code_filter(*pairs: tuple[str, Iterable[str]]) -> str:
    """`system|code,system|code` for a token search (2.0.1 prefetch restrictions allow
    token equality; a comma is FHIR's OR)."""
    return ",".join(f"{system}|{code}" for system, values in pairs for code in sorted(values))


def evaluation_codes() -> dict[str, frozenset[str]]:
    """Codes whose results or procedures are evaluations, by FHIR system URI."""
    by_system: dict[str, frozenset[str]] = {}
    for member in (CodeSystem.CPT, CodeSystem.SNOMED, CodeSystem.LOINC):
        values = codes.value_set(Category.VASCULAR_STUDY, member.value)
        if member is CodeSystem.CPT:
            values = values - VENOUS_STUDY_CPT
        if values:
            by_system[member.fhir_uri] = values
    by_system[LIMBGUARD_CODE_SYSTEM] = LIMBGUARD_EVALUATION_CONCEPTS | {LIMBGUARD_WIFI_STAGE}
    return by_system
