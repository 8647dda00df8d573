"""What imported codes say about the registry's summary fields: risk factors and limbs.

Each mapping from an external code is one explicit table (tests check completeness
against the value sets). Derived values only ever add information: diabetes is set when
the profile says none, a CKD stage only rises, a limb's amputation status only becomes
more severe; the latest smoking-status observation sets smoking.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from limbguard.fhir import terminology as term
from limbguard.registry.models import AmputationLevel, CkdStage, DiabetesType, SmokingStatus
from limbguard.vascular import codes
from limbguard.vascular.codes.cpt import AMPUTATION_REVISION_CPT

# ICD-10-CM category (3 characters) → diabetes type (codes_and_epidemiology §1.2).
DIABETES_BY_ICD_CATEGORY: Final = MappingProxyType(
    {
        "E10": DiabetesType.TYPE_1,
        "E11": DiabetesType.TYPE_2,
        "E08": DiabetesType.OTHER,
        "E09": DiabetesType.OTHER,
        "E13": DiabetesType.OTHER,
    }
)
DIABETES_BY_SNOMED: Final = MappingProxyType(
    {"46635009": DiabetesType.TYPE_1, "44054006": DiabetesType.TYPE_2}
)
# ICD-10-CM N18.x → KDIGO GFR category (§1.8); N18.6 (ESRD) is G5 on dialysis.
CKD_BY_ICD: Final = MappingProxyType(
    {
        "N18.1": CkdStage.G1,
        "N18.2": CkdStage.G2,
        "N18.30": CkdStage.G3A,
        "N18.31": CkdStage.G3A,
        "N18.32": CkdStage.G3B,
        "N18.4": CkdStage.G4,
        "N18.5": CkdStage.G5,
        "N18.6": CkdStage.G5,
    }
)
DIALYSIS_ICD: Final = frozenset({"N18.6", "Z99.2"})
CKD_ORDER: Final = (
    CkdStage.NONE,
    CkdStage.G1,
    CkdStage.G2,
    CkdStage.G3A,
    CkdStage.G3B,
    CkdStage.G4,
    CkdStage.G5,
)
SMOKING_STATUS_LOINC: Final = "72166-2"
# Answers to LOINC 72166-2 (§3 smoking-status answers) → registry smoking status.
SMOKING_BY_SNOMED: Final = MappingProxyType(
    {
        "449868002": SmokingStatus.CURRENT,
        "428041000124106": SmokingStatus.CURRENT,
        "428071000124103": SmokingStatus.CURRENT,
        "428061000124105": SmokingStatus.CURRENT,
        "77176002": SmokingStatus.CURRENT,
        "8517006": SmokingStatus.FORMER,
        "266919005": SmokingStatus.NEVER,
        "266927001": SmokingStatus.UNKNOWN,
    }
)
# Amputation procedure → level (registry AmputationLevel; §2.4 CPT, §3 SNOMED CT).
# Stump revisions (AMPUTATION_REVISION_CPT) change no level and are left out, as are
# SNOMED concepts that name no level (180030006 "amputation of the foot", 211570009).
AMPUTATION_LEVEL_BY_CPT: Final = MappingProxyType(
    {
        "27590": AmputationLevel.ABOVE_KNEE,
        "27591": AmputationLevel.ABOVE_KNEE,
        "27592": AmputationLevel.ABOVE_KNEE,
        "27596": AmputationLevel.ABOVE_KNEE,
        "27598": AmputationLevel.THROUGH_KNEE,
        "27295": AmputationLevel.HIP,
        "27290": AmputationLevel.HIP,
        "27880": AmputationLevel.BELOW_KNEE,
        "27881": AmputationLevel.BELOW_KNEE,
        "27882": AmputationLevel.BELOW_KNEE,
        "27886": AmputationLevel.BELOW_KNEE,
        "27888": AmputationLevel.SYME,
        "27889": AmputationLevel.SYME,
        "28800": AmputationLevel.CHOPART,
        "28805": AmputationLevel.TRANSMETATARSAL,
        "28810": AmputationLevel.RAY,
        "28820": AmputationLevel.TOE,
        "28825": AmputationLevel.TOE,
    }
)
AMPUTATION_LEVEL_BY_SNOMED: Final = MappingProxyType(
    {
        "79733001": AmputationLevel.ABOVE_KNEE,
        "88312006": AmputationLevel.BELOW_KNEE,
        "265736004": AmputationLevel.THROUGH_KNEE,
        "287644000": AmputationLevel.BELOW_KNEE,  # supramalleolar: above the ankle
        "397218006": AmputationLevel.SYME,
        "265739006": AmputationLevel.TRANSMETATARSAL,
        "209724005": AmputationLevel.CHOPART,
        "371186005": AmputationLevel.TOE,
    }
)
REVISIONS: Final = AMPUTATION_REVISION_CPT


def diabetes_type(system: str, code: str) -> DiabetesType | None:
    """The diabetes type a problem code states, or None when it is not a diabetes code."""
    if "diabetes" not in codes.categorize(system, code):
        return None
    if system == "ICD10CM":
        return DIABETES_BY_ICD_CATEGORY.get(code[:3], DiabetesType.OTHER)
    return DIABETES_BY_SNOMED.get(code, DiabetesType.OTHER)


def ckd(system: str, code: str) -> tuple[CkdStage | None, bool]:
    """(KDIGO stage or None, dialysis) stated by a problem code."""
    if system != "ICD10CM":
        return None, False
    return CKD_BY_ICD.get(code), code in DIALYSIS_ICD


def worse_ckd(a: str, b: str) -> str:
    return a if CKD_ORDER.index(CkdStage(a)) >= CKD_ORDER.index(CkdStage(b)) else b


def amputation_level(system_uri: str, code: str) -> AmputationLevel | None:
    if system_uri == term.CPT:
        return AMPUTATION_LEVEL_BY_CPT.get(code)
    if system_uri == term.SNOMED:
        return AMPUTATION_LEVEL_BY_SNOMED.get(code)
    return None


def matters(model_name: str, fields: dict[str, object]) -> bool:
    """Whether a written record can change a risk factor or a limb's status."""
    system, code = str(fields.get("system", "")), str(fields.get("code", ""))
    if model_name == "Problem":
        return bool(
            codes.categorize(system, code) & {"diabetes", "ckd", "smoking"} or code in DIALYSIS_ICD
        )
    if model_name == "Observation":
        return system == term.LOINC and code == SMOKING_STATUS_LOINC
    if model_name == "Procedure":
        return amputation_level(system, code) is not None
    return False
