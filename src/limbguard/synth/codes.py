"""The codes the generator writes, each checked against LimbGuard's value sets.

Codes are built from the documented structure of the code systems (ICD-10-CM I70.2
severity ladder, L97 site/laterality/severity; codes_and_epidemiology.md §1-§2) or
drawn from `limbguard.vascular.codes.value_set`; `check()` proves at import that each
one is in the category it is written for, so a change to the value sets cannot leave
the generator writing codes the screening rules would not recognise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from limbguard.vascular import codes

# ICD-10-CM 6th character for laterality in I70.2x, I87.3x, I82.4x/5x, M86.x7x, Z89.
SIDE_DIGIT: Final = {"right": "1", "left": "2"}


def check(system: str, code: str, category: str) -> str:
    """`code`, after proving it is in `category`; ValueError otherwise."""
    if category not in codes.categorize(system, code):
        raise ValueError(f"synth writes {system} {code} as {category}, but it is not in it")
    return code


def label(system: str, code: str) -> str:
    return codes.label(system, code) or code


@lru_cache(maxsize=64)
def icd(category: str, code: str) -> tuple[str, str]:
    """(code, CMS title) of an ICD-10-CM code checked to be in `category`."""
    return check("ICD10CM", code, category), label("ICD10CM", code)


def icd_plain(code: str) -> tuple[str, str]:
    """An ICD-10-CM code that is in no category (e.g. L97 ulcer site), checked to exist."""
    if codes.normalize("ICD10CM", code) is None:
        raise ValueError(f"synth writes ICD-10-CM {code}, which is not a CMS code")
    return code, label("ICD10CM", code)


@lru_cache(maxsize=64)
def snomed(category: str, code: str) -> tuple[str, str]:
    return check("SNOMED", code, category), label("SNOMED", code)


@lru_cache(maxsize=64)
def cpt(category: str, code: str) -> tuple[str, str]:
    return check("CPT", code, category), label("CPT", code)


@lru_cache(maxsize=16)
def loinc(category: str, code: str) -> tuple[str, str]:
    return check("LOINC", code, category), label("LOINC", code)


def cpt_choices(category: str, *wanted: str) -> tuple[tuple[str, str], ...]:
    """CPT codes of `category`, limited to `wanted` (each must be in the value set)."""
    value_set = codes.value_set(category, "CPT")
    missing = [code for code in wanted if code not in value_set]
    if missing:
        raise ValueError(f"CPT {missing} not in {category}")
    return tuple(cpt(category, code) for code in wanted)


# Procedures (codes_and_epidemiology §2): territory and technique choices.
FEMPOP_ENDO: Final = cpt_choices("endovascular_arterial", "37224", "37225", "37226", "37227")
TIBIAL_ENDO: Final = cpt_choices("endovascular_arterial", "37228", "37229", "37230")
ILIAC_ENDO: Final = cpt_choices("endovascular_arterial", "37220", "37221")
BYPASS: Final = cpt_choices("open_bypass", "35556", "35566", "35656")
VENOUS_ABLATION: Final = cpt_choices("venous_intervention", "36475", "36478", "36482")
VENOUS_THROMBECTOMY: Final = cpt_choices("venous_intervention", "37187")
ABI_STUDY: Final = cpt_choices("vascular_study", "93922", "93923")
ARTERIAL_DUPLEX: Final = cpt_choices("vascular_study", "93925", "93926")
VENOUS_DUPLEX: Final = cpt_choices("vascular_study", "93970", "93971")
# Amputation CPT by level (the registry's AmputationLevel values), §2.4.
MAJOR_AMPUTATIONS: Final = {
    "below_knee": cpt("major_amputation", "27880"),
    "above_knee": cpt("major_amputation", "27590"),
}
MINOR_AMPUTATIONS: Final = {
    "toe": cpt("minor_amputation", "28820"),
    "ray": cpt("minor_amputation", "28810"),
    "transmetatarsal": cpt("minor_amputation", "28805"),
}
