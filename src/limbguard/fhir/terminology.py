"""LimbGuard's FHIR URIs: identifier systems, its own code system, and standard systems.

Pure constants, no Django: `limbguard.synth` writes them and the importer reads them.

LimbGuard's canonical base is ``http://limbguard.org/fhir``. Under it:

* ``IDENTIFIER_MRN`` — ``Patient.identifier.system`` of the LimbGuard medical record number.
* ``IDENTIFIER_CENTER`` — ``Organization`` identifier system of a center; the value is
  the center's slug (``harbor``). ``Patient.managingOrganization`` is written as a
  logical reference with this identifier, so no Organization resource is needed.
* ``IDENTIFIER_SOURCE_ID`` — a resource id that another system gave a patient LimbGuard
  already knew under another id (kept so that their references keep resolving).
* ``CODE_SYSTEM`` — LimbGuard's own code system for what standard terminologies do not
  (yet) name with a verified code: derived vascular indices and pressures (the reference
  found no trustworthy LOINC for per-side ABI, TBI, toe pressure;
  codes_and_epidemiology.md §4) and staging results (WIfI stage, CEAP). Its concepts
  are listed in ``CONCEPTS`` and shipped as a FHIR CodeSystem resource by
  ``code_system_resource()``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

BASE: Final = "http://limbguard.org/fhir"
IDENTIFIER_MRN: Final = f"{BASE}/sid/mrn"
IDENTIFIER_CENTER: Final = f"{BASE}/sid/center"
IDENTIFIER_SOURCE_ID: Final = f"{BASE}/sid/source-resource-id"
CODE_SYSTEM: Final = f"{BASE}/CodeSystem/limbguard"

# Standard systems (codes_and_epidemiology.md, introduction; HL7 terminology).
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED: Final = "http://snomed.info/sct"
LOINC: Final = "http://loinc.org"
CPT: Final = "http://www.ama-assn.org/go/cpt"
UCUM: Final = "http://unitsofmeasure.org"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# The registry's short system names (codes.categorize's contract) and their FHIR URIs.
SYSTEM_URIS: Final = MappingProxyType(
    {"ICD10CM": ICD10CM, "SNOMED": SNOMED, "LOINC": LOINC, "CPT": CPT, "LIMBGUARD": CODE_SYSTEM}
)
SYSTEM_NAMES: Final = MappingProxyType({uri: name for name, uri in SYSTEM_URIS.items()})

# Laterality as SNOMED CT body-structure qualifiers (Condition/Observation/Procedure.bodySite).
LATERALITY_SNOMED: Final = MappingProxyType(
    {"right": "24028007", "left": "7771000", "bilateral": "51440002"}
)
LATERALITY_DISPLAY: Final = MappingProxyType(
    {"right": "Right", "left": "Left", "bilateral": "Right and left"}
)
LATERALITY_BY_SNOMED: Final = MappingProxyType({v: k for k, v in LATERALITY_SNOMED.items()})

# LimbGuard concepts: code -> (display, unit or None, definition).
CONCEPTS: Final = MappingProxyType(
    {
        "abi": ("Ankle-brachial index", "1", "Higher ankle pressure over higher arm pressure."),
        "tbi": ("Toe-brachial index", "1", "Toe pressure over the higher arm pressure."),
        "ankle-pressure": ("Ankle systolic pressure", "mm[Hg]", "Higher of DP and PT."),
        "toe-pressure": ("Toe systolic pressure", "mm[Hg]", "Hallux systolic pressure."),
        "tcpo2": ("Transcutaneous oxygen pressure (foot)", "mm[Hg]", "TcPO2 on the forefoot."),
        "arterial-duplex": (
            "Arterial duplex: worst stenosis",
            None,
            "Worst stenosis grade of the limb's arteries on duplex ultrasound.",
        ),
        "wifi-stage": ("SVS WIfI clinical stage", None, "1-4 (Mills 2014)."),
        "wifi-wound": ("WIfI wound grade", None, "0-3."),
        "wifi-ischemia": ("WIfI ischemia grade", None, "0-3."),
        "wifi-foot-infection": ("WIfI foot infection grade", None, "0-3."),
        "ceap": ("CEAP classification", None, "CEAP 2020, canonical text form."),
        "glass-stage": ("GLASS stage", None, "I-III."),
    }
)


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A FHIR Coding as a plain dict (display left out when unknown)."""
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(code: str) -> dict[str, str]:
    """A Coding in LimbGuard's code system; KeyError for a code it does not define."""
    return coding(CODE_SYSTEM, code, CONCEPTS[code][0])


def code_system_resource() -> dict[str, Any]:
    """The LimbGuard CodeSystem as a FHIR R4 resource (for documentation and export)."""
    return {
        "resourceType": "CodeSystem",
        "id": "limbguard",
        "url": CODE_SYSTEM,
        "name": "LimbGuard",
        "title": "LimbGuard vascular measurements and staging",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": [
            {"code": code, "display": display, "definition": definition}
            for code, (display, _unit, definition) in CONCEPTS.items()
        ],
    }
