"""Registry record → FHIR R4 resource (a plain dict ready for `orjson.dumps`).

The inverse of `incoming.py`: importing what these functions write gives back the same
registry fields, so export → import → export is the identity. Only what the registry
holds is written (no meta.lastUpdated, no generated narrative), which keeps the output
a function of the data alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final

from limbguard.fhir import terminology as term
from limbguard.registry.models import (
    LAB_LOINC,
    Encounter,
    LabResult,
    Observation,
    Patient,
    PatientIdentifier,
    Problem,
    Procedure,
)
from limbguard.vascular import codes

CLINICAL_STATUS_OUT: Final = {"active": "active", "inactive": "inactive", "resolved": "resolved"}
# LimbGuard concepts that have a verified standard equivalent, written beside them.
STANDARD_EQUIVALENTS: Final = {"abi": (term.SNOMED, "446841001")}
LAB_CATEGORY: Final = [{"coding": [term.coding(term.OBSERVATION_CATEGORY, "laboratory")]}]


def instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def number(value: Decimal) -> int | float:
    """A JSON number for a stored decimal: 120 for 120.0000, 0.85 for 0.8500."""
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def _side(laterality: str) -> dict[str, Any]:
    return {
        "coding": [
            term.coding(
                term.SNOMED,
                term.LATERALITY_SNOMED[laterality],
                term.LATERALITY_DISPLAY[laterality],
            )
        ]
    }


def _subject(patient_fhir_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{patient_fhir_id}"}


def patient_resource(patient: Patient, identifiers: list[PatientIdentifier]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient.fhir_id,
        "identifier": [{"system": term.IDENTIFIER_MRN, "value": patient.mrn}]
        + [
            {
                **(
                    {"type": {"coding": [term.coding(_V2_0203, row.type_code)]}}
                    if row.type_code
                    else {}
                ),
                "system": row.system,
                "value": row.value,
            }
            for row in sorted(identifiers, key=lambda r: (r.system, r.value))
        ],
        "active": patient.status != "inactive",
        "name": [
            {"use": "official", "family": patient.family_name, "given": patient.given_name.split()}
        ],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.deceased_date:
        resource["deceasedDateTime"] = patient.deceased_date.isoformat()
    address = {
        key: value
        for key, value in (
            ("line", [patient.address_line] if patient.address_line else None),
            ("city", patient.city),
            ("state", patient.state),
            ("postalCode", patient.postal_code),
        )
        if value
    }
    if address:
        resource["address"] = [address]
    resource["managingOrganization"] = {
        "identifier": {"system": term.IDENTIFIER_CENTER, "value": patient.home_center.slug},
        "display": patient.home_center.name,
    }
    return resource


_V2_0203: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"


def condition_resource(problem: Problem, patient_fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": problem.fhir_id,
        "clinicalStatus": {
            "coding": [term.coding(term.CONDITION_CLINICAL, CLINICAL_STATUS_OUT[problem.status])]
        },
        "code": {
            "coding": [term.coding(term.SYSTEM_URIS[problem.system], problem.code, problem.display)]
        },
        "subject": _subject(patient_fhir_id),
    }
    if problem.entered_in_error:
        resource["verificationStatus"] = {
            "coding": [term.coding(term.CONDITION_VERIFICATION, "entered-in-error")]
        }
    if problem.laterality:
        resource["bodySite"] = [_side(problem.laterality)]
    if problem.onset_date:
        resource["onsetDateTime"] = problem.onset_date.isoformat()
    return resource


def lab_resource(lab: LabResult, patient_fhir_id: str) -> dict[str, Any]:
    code = lab.loinc or LAB_LOINC[lab.kind]
    return {
        "resourceType": "Observation",
        "id": lab.fhir_id,
        "status": "entered-in-error" if lab.entered_in_error else "final",
        "category": LAB_CATEGORY,
        "code": {"coding": [term.coding(term.LOINC, code, codes.label("LOINC", code))]},
        "subject": _subject(patient_fhir_id),
        "effectiveDateTime": lab.observed_on.isoformat(),
        "valueQuantity": {
            "value": number(Decimal(lab.value)),
            "unit": lab.unit,
            "system": term.UCUM,
            "code": "mL/min/{1.73_m2}" if lab.unit == "mL/min/1.73m2" else lab.unit,
        },
    }


def observation_resource(
    observation: Observation, patient_fhir_id: str, encounter_fhir_id: str | None
) -> dict[str, Any]:
    coding = [term.coding(observation.system, observation.code, observation.display)]
    if observation.system == term.CODE_SYSTEM and observation.code in STANDARD_EQUIVALENTS:
        system, code = STANDARD_EQUIVALENTS[observation.code]
        coding.append(term.coding(system, code, codes.label("SNOMED", code)))
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation.fhir_id,
        "status": observation.status,
    }
    if observation.category:
        resource["category"] = [
            {"coding": [term.coding(term.OBSERVATION_CATEGORY, observation.category)]}
        ]
    resource["code"] = {"coding": coding}
    resource["subject"] = _subject(patient_fhir_id)
    if encounter_fhir_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_fhir_id}"}
    resource["effectiveDateTime"] = (
        instant(observation.effective_at)
        if observation.effective_at
        else observation.effective_date.isoformat()
    )
    if observation.value_decimal is not None:
        value = number(Decimal(observation.value_decimal))
        if not observation.value_unit and isinstance(value, int):
            resource["valueInteger"] = value  # a count or grade (e.g. WIfI stage)
        else:
            quantity: dict[str, Any] = {"value": value}
            if observation.value_unit:
                quantity.update(unit=observation.value_unit, system=term.UCUM)
                quantity["code"] = observation.value_unit
            resource["valueQuantity"] = quantity
    elif observation.value_code:
        resource["valueCodeableConcept"] = {
            "coding": [
                term.coding(
                    observation.value_system, observation.value_code, observation.value_display
                )
            ]
        }
    elif observation.value_text:
        resource["valueString"] = observation.value_text
    if observation.laterality:
        resource["bodySite"] = _side(observation.laterality)
    if observation.components:
        resource["component"] = [_component(c) for c in observation.components]
    return resource


def _component(part: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "code": {"coding": [term.coding(part["system"], part["code"], part.get("display"))]}
    }
    if "value" in part:
        value = number(Decimal(part["value"]))
        if not part.get("unit") and isinstance(value, int):
            result["valueInteger"] = value
        else:
            quantity: dict[str, Any] = {"value": value}
            if part.get("unit"):
                quantity.update(unit=part["unit"], system=term.UCUM, code=part["unit"])
            result["valueQuantity"] = quantity
    elif part.get("value_code"):
        result["valueCodeableConcept"] = {
            "coding": [term.coding(part["value_system"], part["value_code"], part.get("text"))]
        }
    elif "text" in part:
        result["valueString"] = part["text"]
    return result


def procedure_resource(
    procedure: Procedure, patient_fhir_id: str, encounter_fhir_id: str | None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": procedure.fhir_id,
        "status": procedure.status,
        "code": {"coding": [term.coding(procedure.system, procedure.code, procedure.display)]},
        "subject": _subject(patient_fhir_id),
    }
    if encounter_fhir_id:
        resource["encounter"] = {"reference": f"Encounter/{encounter_fhir_id}"}
    if procedure.performed_at:
        resource["performedDateTime"] = instant(procedure.performed_at)
    elif procedure.performed_date:
        resource["performedDateTime"] = procedure.performed_date.isoformat()
    if procedure.laterality:
        resource["bodySite"] = [_side(procedure.laterality)]
    return resource


def encounter_resource(encounter: Encounter, patient_fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": encounter.fhir_id,
        "status": encounter.status,
        "class": term.coding(term.ACT_CODE, encounter.encounter_class),
    }
    if encounter.type_code:
        resource["type"] = [
            {
                "coding": [
                    term.coding(encounter.type_system, encounter.type_code, encounter.type_display)
                ]
            }
        ]
    elif encounter.type_display:
        resource["type"] = [{"text": encounter.type_display}]
    resource["subject"] = _subject(patient_fhir_id)
    period = {
        key: instant(value)
        for key, value in (("start", encounter.start), ("end", encounter.end))
        if value is not None
    }
    if period:
        resource["period"] = period
    return resource
