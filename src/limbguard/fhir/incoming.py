"""FHIR R4 resource (a validated JSON dict) → registry input, one function per type.

Pure: no database access, so the importer can run these in a worker process.

Each `map_*` returns the registry input, raises `Rejected` (the resource is wrong:
reported with its location) or `Skipped` (valid FHIR that LimbGuard does not keep,
such as a Condition coded only in a system it does not hold). References to the
patient (and encounter) are returned as keys; the importer resolves them in bulk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from limbguard.fhir import terminology as term
from limbguard.registry.models import LAB_LOINC, Laterality
from limbguard.vascular import codes


class Rejected(ValueError):
    """The resource breaks a rule; the message says which, for the import report."""


class Skipped(Exception):
    """Valid FHIR that LimbGuard does not keep; the message says why."""


@dataclass(frozen=True)
class Mapped:
    """A resource mapped to registry fields, with the references still to resolve."""

    fields: dict[str, Any]
    patient_ref: str | None = None  # a resolvable key, see `reference_key`
    encounter_ref: str | None = None
    identifiers: tuple[tuple[str, str, str], ...] = ()
    match_mrn: bool = False
    lab: bool = False  # an Observation kept as a registry lab (HbA1c, eGFR)
    center: str | None = None  # Patient: the slug managingOrganization names, if any


# --- small readers -------------------------------------------------------------------

US_STATES: Final = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip
# Identifiers LimbGuard does not keep (data minimisation: it has no use for them).
DROPPED_IDENTIFIER_SYSTEMS: Final = frozenset({"http://hl7.org/fhir/sid/us-ssn"})
CLINICAL_STATUS: Final = {
    "active": "active",
    "recurrence": "active",
    "relapse": "active",
    "inactive": "inactive",
    "remission": "inactive",
    "resolved": "resolved",
}
_MRN_CHARS: Final = re.compile(r"[^A-Za-z0-9-]")
_FOUR_PLACES: Final = Decimal("0.0001")


def parse_date(text: str, where: str) -> dt.date:
    """The calendar date of a FHIR date or dateTime, as written (its own offset)."""
    if len(text) < 10:
        raise Rejected(f"{where}: {text!r} is a partial date; LimbGuard needs a full date")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise Rejected(f"{where}: {text!r} is not a date") from None


def parse_instant(text: str, where: str) -> dt.datetime | None:
    """An aware datetime (in UTC) for a dateTime with a time; None for a plain date."""
    if len(text) <= 10:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Rejected(f"{where}: {text!r} is not a dateTime") from None
    if value.tzinfo is None:
        raise Rejected(f"{where}: {text!r} has a time but no time zone")
    return value.astimezone(dt.UTC)


def reference_key(reference: Mapping[str, Any] | None, resource_type: str) -> str | None:
    """A key for the referenced resource: ``id:<id>`` for ``Type/id``, absolute URLs and
    ``urn:uuid:`` references; ``identifier:<system>|<value>`` for logical references."""
    if not reference:
        return None
    text = reference.get("reference")
    if isinstance(text, str) and text:
        if text.startswith("urn:uuid:"):
            return f"id:{text[9:]}"
        if text.startswith(f"{resource_type}?identifier="):
            return f"identifier:{text.split('=', 1)[1]}"
        parts = text.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] == resource_type:
            return f"id:{parts[-1]}"
        if len(parts) >= 4 and parts[-2] == "_history" and parts[-4] == resource_type:
            return f"id:{parts[-3]}"
        raise Rejected(f"reference {text!r} is not a reference to a {resource_type}")
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        return f"identifier:{identifier.get('system', '')}|{identifier['value']}"
    return None


def laterality(body_sites: Any) -> str:
    """Laterality from bodySite codings (SNOMED CT right/left/bilateral qualifiers)."""
    sites = body_sites if isinstance(body_sites, list) else [body_sites] if body_sites else []
    for site in sites:
        for coding in site.get("coding", []):
            if coding.get("system") == term.SNOMED:
                side = term.LATERALITY_BY_SNOMED.get(coding.get("code", ""))
                if side:
                    return side
    return Laterality.NONE


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Rejected(f"{where}: {value!r} is not a number") from None
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        number = number.quantize(_FOUR_PLACES)
    if abs(number) >= Decimal("1e10"):
        raise Rejected(f"{where}: {value} is out of range")
    return number


def _when(resource: Mapping[str, Any], prefix: str) -> tuple[str | None, str]:
    """The text of `<prefix>DateTime`, else `<prefix>Period.start`, else `<prefix>Instant`."""
    for key in (f"{prefix}DateTime", f"{prefix}Instant"):
        if isinstance(resource.get(key), str):
            return resource[key], key
    period = resource.get(f"{prefix}Period")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return period["start"], f"{prefix}Period.start"
    return None, prefix


def _pick_coding(
    concept: Mapping[str, Any] | None, preferred: tuple[str, ...], where: str
) -> tuple[str, str, str] | None:
    """(system URI, code, display) of the first coding in a preferred system (checked
    for form), else of the first coding at all when `preferred` ends with "*"."""
    codings = [c for c in (concept or {}).get("coding", []) if c.get("system") and c.get("code")]
    for uri in preferred:
        for coding in codings:
            if uri != "*" and coding["system"] != uri:
                continue
            system, code = coding["system"], coding["code"]
            name = term.SYSTEM_NAMES.get(system)
            if name in ("ICD10CM", "SNOMED", "LOINC", "CPT"):
                canonical = codes.normalize(name, code)
                if canonical is None:
                    raise Rejected(f"{where}: {code!r} is not a valid {name} code")
                code = canonical
            text = coding.get("display") or (concept or {}).get("text") or ""
            if not text and name in ("ICD10CM", "SNOMED", "LOINC", "CPT"):
                text = codes.label(name, code) or ""
            return system, code, text[:250]
    return None


# --- Patient --------------------------------------------------------------------------


def _mrn_from(value: str) -> str:
    """A registry MRN (3-32 letters, digits, hyphens) from another system's number."""
    cleaned = _MRN_CHARS.sub("", value)
    if len(cleaned) > 32:
        cleaned = cleaned.replace("-", "")
    if 3 <= len(cleaned) <= 32:
        return cleaned
    return "X" + hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()[:20].upper()


def map_patient(resource: Mapping[str, Any]) -> Mapped:
    mrn = ""
    match_mrn = False
    identifiers: list[tuple[str, str, str]] = []
    record_number = ""
    for identifier in resource.get("identifier", []):
        system, value = identifier.get("system", ""), identifier.get("value", "")
        if not value:
            continue
        type_code = next(
            (c.get("code", "") for c in identifier.get("type", {}).get("coding", [])), ""
        )
        if system == term.IDENTIFIER_MRN:
            mrn, match_mrn = value, True
        elif system and system not in DROPPED_IDENTIFIER_SYSTEMS:
            identifiers.append((system, value, type_code))
            if type_code == "MR" and not record_number:
                record_number = value
    if not mrn:
        mrn = _mrn_from(record_number or resource["id"])

    names = resource.get("name", [])
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(name.get("given", []))
    family = name.get("family", "")
    if not given or not family:
        raise Rejected("Patient.name: LimbGuard needs a given and a family name")
    if not resource.get("birthDate"):
        raise Rejected("Patient.birthDate: missing")
    fields: dict[str, Any] = {
        "mrn": mrn,
        "given_name": given[:100],
        "family_name": family[:100],
        "birth_date": parse_date(resource["birthDate"], "Patient.birthDate"),
        "sex": resource.get("gender", "unknown"),
        "status": "active" if resource.get("active", True) else "inactive",
        "deceased_date": None,
        "phone": "",
        "email": "",
        "address_line": "",
        "city": "",
        "state": "",
        "postal_code": "",
    }
    for telecom in resource.get("telecom", []):
        kind = telecom.get("system")
        if kind == "phone" and not fields["phone"]:
            fields["phone"] = telecom.get("value", "")[:30]
        elif kind == "email" and not fields["email"]:
            fields["email"] = telecom.get("value", "")[:254]
    addresses = resource.get("address", [])
    if addresses:
        address = addresses[0]
        lines = address.get("line", [])
        state = address.get("state", "")
        fields.update(
            address_line=(lines[0] if lines else "")[:200],
            city=address.get("city", "")[:80],
            state=state.upper() if len(state) == 2 else US_STATES.get(state.casefold(), ""),
            postal_code=address.get("postalCode", "")[:10],
        )
    if "deceasedDateTime" in resource:
        fields["status"] = "deceased"
        fields["deceased_date"] = parse_date(resource["deceasedDateTime"], "deceasedDateTime")
    elif resource.get("deceasedBoolean"):
        raise Rejected("Patient.deceasedBoolean: LimbGuard records the date of death; give it")
    return Mapped(
        fields=fields,
        identifiers=tuple(identifiers),
        match_mrn=match_mrn,
        center=_center_slug(resource.get("managingOrganization")),
    )


def _center_slug(organization: Mapping[str, Any] | None) -> str | None:
    """The center a managingOrganization names (identifier or Organization/<slug>)."""
    if not organization:
        return None
    identifier = organization.get("identifier") or {}
    if identifier.get("system") == term.IDENTIFIER_CENTER and identifier.get("value"):
        return str(identifier["value"])
    reference = organization.get("reference", "")
    if isinstance(reference, str) and reference.startswith("Organization/"):
        return reference.split("/", 1)[1]
    return None


# --- Condition → Problem ------------------------------------------------------------------


def map_condition(resource: Mapping[str, Any]) -> Mapped:
    picked = _pick_coding(resource.get("code"), (term.ICD10CM, term.SNOMED), "Condition.code")
    if picked is None:
        raise Skipped("Condition.code has no ICD-10-CM or SNOMED CT coding")
    system, code, display = picked
    clinical = next(
        (c.get("code") for c in resource.get("clinicalStatus", {}).get("coding", [])), None
    )
    verification = next(
        (c.get("code") for c in resource.get("verificationStatus", {}).get("coding", [])), None
    )
    status = CLINICAL_STATUS.get(clinical or "", "")
    if not status:
        has_abatement = any(key.startswith("abatement") for key in resource)
        status = "resolved" if has_abatement else "active"
    onset_text, where = _when(resource, "onset")
    return Mapped(
        patient_ref=reference_key(resource.get("subject"), "Patient"),
        fields={
            "system": term.SYSTEM_NAMES[system],
            "code": code,
            "display": display or code,
            "laterality": laterality(resource.get("bodySite")),
            "onset_date": parse_date(onset_text, where) if onset_text else None,
            "status": status,
            "entered_in_error": verification == "entered-in-error",
        },
    )


# --- Observation → LabResult or Observation -------------------------------------------

LAB_KINDS: Final = {"hba1c": "hba1c", "egfr": "egfr"}


def _hba1c_unit(unit: str) -> bool:
    return unit == "%"


def _egfr_unit(unit: str) -> bool:
    return "min" in unit and "1.73" in unit


LAB_UNIT_OK: Final = {"hba1c": _hba1c_unit, "egfr": _egfr_unit}
OBSERVATION_CODE_ORDER: Final = (term.CODE_SYSTEM, term.LOINC, term.SNOMED, "*")


def _effective(resource: Mapping[str, Any]) -> tuple[dt.date, dt.datetime | None]:
    text, where = _when(resource, "effective")
    if text is None and isinstance(resource.get("issued"), str):
        text, where = resource["issued"], "issued"
    if text is None:
        raise Rejected("Observation: no effective[x] or issued time")
    return parse_date(text, f"Observation.{where}"), parse_instant(text, f"Observation.{where}")


def _component(component: Mapping[str, Any]) -> dict[str, Any]:
    picked = _pick_coding(component.get("code"), OBSERVATION_CODE_ORDER, "component.code")
    if picked is None:
        raise Rejected("Observation.component: a component has no coded code")
    system, code, display = picked
    result: dict[str, Any] = {"system": system, "code": code, "display": display}
    quantity = component.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        number = _decimal(quantity["value"], "component.valueQuantity")
        result["value"] = str(number)
        result["unit"] = quantity.get("unit") or quantity.get("code") or ""
    elif "valueInteger" in component:
        result["value"] = str(_decimal(component["valueInteger"], "component.valueInteger"))
        result["unit"] = ""
    elif "valueString" in component:
        result["text"] = str(component["valueString"])[:500]
    elif isinstance(component.get("valueCodeableConcept"), dict):
        concept = component["valueCodeableConcept"]
        first = (concept.get("coding") or [{}])[0]
        result["value_code"] = first.get("code", "")
        result["value_system"] = first.get("system", "")
        result["text"] = first.get("display") or concept.get("text", "")
    return result


def map_observation(resource: Mapping[str, Any]) -> Mapped:
    picked = _pick_coding(resource.get("code"), OBSERVATION_CODE_ORDER, "Observation.code")
    if picked is None:
        raise Skipped("Observation.code has no coding with a system and code")
    system, code, display = picked
    effective_date, effective_at = _effective(resource)
    patient_ref = reference_key(resource.get("subject"), "Patient")
    status = resource.get("status", "final")
    quantity = resource.get("valueQuantity")

    kinds = codes.categorize("LOINC", code) if system == term.LOINC else frozenset()
    kind = next((LAB_KINDS[k] for k in kinds if k in LAB_KINDS), None)
    if kind is not None and isinstance(quantity, dict) and "value" in quantity:
        unit = quantity.get("unit") or quantity.get("code") or ""
        if not LAB_UNIT_OK[kind](unit):
            raise Rejected(f"Observation.valueQuantity: unit {unit!r} is not understood for {kind}")
        return Mapped(
            patient_ref=patient_ref,
            lab=True,
            fields={
                "kind": kind,
                "loinc": "" if code == LAB_LOINC[kind] else code,
                "value": _decimal(quantity["value"], "Observation.valueQuantity"),
                "unit": unit,
                "observed_on": effective_date,
                "entered_in_error": status == "entered-in-error",
            },
        )

    fields: dict[str, Any] = {
        "status": status,
        "category": next(
            (
                c.get("code", "")
                for category in resource.get("category", [])
                for c in category.get("coding", [])
            ),
            "",
        )[:40],
        "system": system,
        "code": code,
        "display": display,
        "value_decimal": None,
        "value_unit": "",
        "value_system": "",
        "value_code": "",
        "value_display": "",
        "value_text": "",
        "components": [_component(c) for c in resource.get("component", [])],
        "laterality": laterality(resource.get("bodySite")),
        "effective_date": effective_date,
        "effective_at": effective_at,
        "entered_in_error": status == "entered-in-error",
    }
    if isinstance(quantity, dict) and "value" in quantity:
        fields["value_decimal"] = _decimal(quantity["value"], "Observation.valueQuantity")
        fields["value_unit"] = (quantity.get("unit") or quantity.get("code") or "")[:40]
    elif isinstance(resource.get("valueCodeableConcept"), dict):
        concept = resource["valueCodeableConcept"]
        first = (concept.get("coding") or [{}])[0]
        fields["value_system"] = first.get("system", "")[:200]
        fields["value_code"] = first.get("code", "")[:64]
        fields["value_display"] = (first.get("display") or concept.get("text") or "")[:250]
    elif "valueString" in resource:
        fields["value_text"] = str(resource["valueString"])[:500]
    elif "valueInteger" in resource:
        fields["value_decimal"] = _decimal(resource["valueInteger"], "Observation.valueInteger")
    elif "valueBoolean" in resource:
        fields["value_text"] = "true" if resource["valueBoolean"] else "false"
    elif not fields["components"]:
        other = next((key for key in resource if key.startswith("value")), None)
        if other:
            raise Skipped(f"Observation.{other}: this value type is not kept")
        raise Skipped("Observation has no value and no components")
    return Mapped(
        patient_ref=patient_ref,
        encounter_ref=reference_key(resource.get("encounter"), "Encounter"),
        fields=fields,
    )


# --- Procedure, Encounter -------------------------------------------------------------

PCS: Final = "http://www.cms.gov/Medicare/Coding/ICD10"
PROCEDURE_CODE_ORDER: Final = (term.CPT, term.SNOMED, PCS, "*")


def map_procedure(resource: Mapping[str, Any]) -> Mapped:
    picked = _pick_coding(resource.get("code"), PROCEDURE_CODE_ORDER, "Procedure.code")
    if picked is None:
        raise Skipped("Procedure.code has no coding with a system and code")
    system, code, display = picked
    text, where = _when(resource, "performed")
    return Mapped(
        patient_ref=reference_key(resource.get("subject"), "Patient"),
        encounter_ref=reference_key(resource.get("encounter"), "Encounter"),
        fields={
            "status": resource.get("status", "completed"),
            "system": system,
            "code": code,
            "display": display,
            "laterality": laterality(resource.get("bodySite")),
            "performed_date": parse_date(text, f"Procedure.{where}") if text else None,
            "performed_at": parse_instant(text, f"Procedure.{where}") if text else None,
            "entered_in_error": resource.get("status") == "entered-in-error",
        },
    )


def map_encounter(resource: Mapping[str, Any]) -> Mapped:
    encounter_class = resource.get("class") or {}
    concept = (resource.get("type") or [{}])[0]
    coding = next((c for c in concept.get("coding", []) if c.get("system") and c.get("code")), None)
    period = resource.get("period") or {}
    start = period.get("start")
    end = period.get("end")
    return Mapped(
        patient_ref=reference_key(resource.get("subject"), "Patient"),
        fields={
            "status": resource.get("status", "unknown"),
            "encounter_class": encounter_class.get("code", "")[:20],
            "type_system": coding["system"][:200] if coding else "",
            "type_code": coding["code"][:64] if coding else "",
            "type_display": ((coding or {}).get("display") or concept.get("text") or "")[:250],
            "start": _aware(start, "Encounter.period.start") if start else None,
            "end": _aware(end, "Encounter.period.end") if end else None,
        },
    )


def _aware(text: str, where: str) -> dt.datetime:
    """A datetime for a dateTime; a plain date is taken as midnight UTC."""
    instant = parse_instant(text, where)
    if instant is not None:
        return instant
    day = parse_date(text, where)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


MAPPERS: Final = {
    "Patient": map_patient,
    "Encounter": map_encounter,
    "Condition": map_condition,
    "Observation": map_observation,
    "Procedure": map_procedure,
}
