"""The closed vocabularies of the code tables: categories and code systems."""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final


class Category(enum.StrEnum):
    """Clinical categories a code can fall into (DESIGN.md, codes.categorize).

    In ICD-10-CM, ``major_amputation`` and ``minor_amputation`` hold acquired-absence
    *status* codes (Z89.-): a history of limb loss, not a new amputation. New events
    come from procedure codes (CPT, SNOMED CT procedures).
    """

    PAD = "pad"
    CLTI = "clti"
    DIABETES = "diabetes"
    DIABETIC_FOOT_ULCER = "diabetic_foot_ulcer"
    CVI = "cvi"
    DVT = "dvt"
    VENOUS_ULCER = "venous_ulcer"
    GANGRENE = "gangrene"
    OSTEOMYELITIS = "osteomyelitis"
    SMOKING = "smoking"
    CKD = "ckd"
    MAJOR_AMPUTATION = "major_amputation"
    MINOR_AMPUTATION = "minor_amputation"
    ENDOVASCULAR_ARTERIAL = "endovascular_arterial"
    OPEN_BYPASS = "open_bypass"
    VENOUS_INTERVENTION = "venous_intervention"
    VASCULAR_STUDY = "vascular_study"
    HBA1C = "hba1c"
    EGFR = "egfr"
    SMOKING_STATUS = "smoking_status"
    WOUND_MEASUREMENT = "wound_measurement"


class CodeSystem(enum.StrEnum):
    """Code systems accepted by ``categorize``; the value is the contract string."""

    ICD10CM = "ICD10CM"
    CPT = "CPT"
    SNOMED = "SNOMED"
    LOINC = "LOINC"

    @property
    def fhir_uri(self) -> str:
        """The FHIR ``Coding.system`` URI (codes_and_epidemiology.md, introduction)."""
        return _FHIR_URI[self]


# HL7 terminology conventions; the CPT URI was not re-verified by the reference.
_FHIR_URI: Final = MappingProxyType(
    {
        CodeSystem.ICD10CM: "http://hl7.org/fhir/sid/icd-10-cm",
        CodeSystem.CPT: "http://www.ama-assn.org/go/cpt",
        CodeSystem.SNOMED: "http://snomed.info/sct",
        CodeSystem.LOINC: "http://loinc.org",
    }
)
