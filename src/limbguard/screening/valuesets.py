"""The value sets of `limbguard.vascular.codes` as one (system, code, category) table for
the screening SQL, plus the few screening-only groups, each with its source.

Codes are stored normalised (trimmed, upper case); the rules compare
``upper(trim(code))`` against them. ICD-10-CM codes are stored with and without the
dot, and each non-billable header (``I70.22``) with the categories shared by every
billable code below it (the contract of ``codes.categorize``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from limbguard.fhir import terminology as term
from limbguard.vascular import codes
from limbguard.vascular.codes import cpt
from limbguard.vascular.codes.vocabulary import Category, CodeSystem

# Screening-only groups (not clinical categories of the rules library):
EVALUATION: Final = "evaluation"  # a vascular evaluation on record (issue 9 item 3)
ABI: Final = "abi"  # an ankle-brachial index value
TBI: Final = "tbi"  # a toe-brachial index value
AMPUTATION_REVISION: Final = "amputation_revision"  # surgery on an existing stump
REST_PAIN: Final = "rest_pain"  # coded ischaemic rest pain (a symptom, for intake red flags)
ISCHAEMIC_ULCER: Final = "ischaemic_ulcer"  # coded ischaemic ulceration (likewise)

# The ICD-10-CM I70.2-I70.7 severity ladder (codes_and_epidemiology 1.1): 5th character
# 2 = rest pain, 3/4/5 = ulceration (thigh, calf, ankle, heel/midfoot, other foot).
_ICD_REST_PAIN: Final = re.compile(r"^I70\.[2-7]2")
_ICD_ULCERATION: Final = re.compile(r"^I70\.[2-7][345]")
SNOMED_REST_PAIN: Final = ("792844003",)  # limb pain at rest due to atherosclerosis
SNOMED_ISCHAEMIC_ULCER: Final = ("238794007", "429768000")  # ischaemic foot / toe ulcer

# A vascular evaluation: every code of the vascular_study value set (CPT 93922-93926,
# 93970/93971, SNOMED 446841001, LOINC 8581-1; codes_and_epidemiology 2.5, 3, 4) and
# LimbGuard's own measurement concepts, for which no verified LOINC exists
# (fhir.terminology; codes_and_epidemiology 4). Angiography and vascular-consult codes
# are not in the value sets yet, so they do not count (closing note of issue 9).
LIMBGUARD_EVALUATIONS: Final = (
    "abi",
    "tbi",
    "ankle-pressure",
    "toe-pressure",
    "tcpo2",
    "arterial-duplex",
)
# ABI values: LimbGuard "abi", SNOMED CT 446841001 (ankle brachial pressure index) and
# LOINC 8581-1, which the reference accepts on input as the ABI (codes_and_epidemiology 4).
ABI_CODES: Final = ((term.CODE_SYSTEM, "abi"), (term.SNOMED, "446841001"), (term.LOINC, "8581-1"))
TBI_CODES: Final = ((term.CODE_SYSTEM, "tbi"),)
# Stump revision or re-closure is not a new limb loss: CPT 27594/27884 (OHDSI cohort 999
# leaves out 27884; codes_and_epidemiology 2.4 and 7) and SNOMED CT 405449003
# "Revision of above-knee amputation" (same reasoning).
REVISION_CODES: Final = (
    *((term.CPT, code) for code in sorted(cpt.AMPUTATION_REVISION_CPT)),
    (term.SNOMED, "405449003"),
)


def normalize(code: str) -> str:
    return code.strip().upper()


@cache
def rows() -> tuple[tuple[str, str, str], ...]:
    """(system URI, normalised code, category), sorted, without duplicates."""
    found: set[tuple[str, str, str]] = set()
    for category in Category:
        for system in CodeSystem:
            for code in codes.value_set(category.value, system.value):
                found.add((system.fhir_uri, normalize(code), category.value))
                if system is CodeSystem.ICD10CM:
                    found.add((system.fhir_uri, normalize(code.replace(".", "")), category.value))
                if category is Category.VASCULAR_STUDY:
                    found.add((system.fhir_uri, normalize(code), EVALUATION))
    icd = CodeSystem.ICD10CM
    headers = {
        code[:length]
        for (system, code, _) in found
        if system == icd.fhir_uri and "." in code
        for length in range(5, len(code))
        if code[length - 1] != "."
    }
    for header in headers:
        for shared in codes.categorize(icd.value, header):
            found.add((icd.fhir_uri, header, str(shared)))
            found.add((icd.fhir_uri, header.replace(".", ""), str(shared)))
    for system_uri, code, _category in list(found):
        if system_uri == icd.fhir_uri and "." in code:
            if _ICD_REST_PAIN.match(code):
                found.add((system_uri, code, REST_PAIN))
                found.add((system_uri, code.replace(".", ""), REST_PAIN))
            if _ICD_ULCERATION.match(code):
                found.add((system_uri, code, ISCHAEMIC_ULCER))
                found.add((system_uri, code.replace(".", ""), ISCHAEMIC_ULCER))
    for code in SNOMED_REST_PAIN:
        found.add((term.SNOMED, code, REST_PAIN))
    for code in SNOMED_ISCHAEMIC_ULCER:
        found.add((term.SNOMED, code, ISCHAEMIC_ULCER))
    for concept in LIMBGUARD_EVALUATIONS:
        found.add((term.CODE_SYSTEM, normalize(concept), EVALUATION))
    for group, members in (
        (ABI, ABI_CODES),
        (TBI, TBI_CODES),
        (AMPUTATION_REVISION, REVISION_CODES),
    ):
        for system_uri, code in members:
            found.add((system_uri, normalize(code), group))
    return tuple(sorted(found))
