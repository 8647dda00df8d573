"""LOINC value sets: one explicit table of code -> (display, categories).

Left out as UNVERIFIED: per-side ABI, TBI, toe and ankle pressure codes (no
trustworthy ids found; 41979-6 seen as "ABI" is a calorie code), and 33437-5
(transcutaneous pO2, not limb-specific). 2160-0 (creatinine) is never an eGFR.

Source: codes_and_epidemiology.md section 4 (per-row verification there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from limbguard.vascular.codes.vocabulary import Category

SOURCE: Final = "codes_and_epidemiology 4 (LOINC codes)"

# LOINC code: 1-7 digits, a hyphen and a mod-10 check digit.
_FORM: Final = re.compile(r"[1-9][0-9]{0,6}-[0-9]")


def check_digit(number: str) -> int:
    """The LOINC mod-10 check digit of the digits before the hyphen.

    LOINC's rule (double every other digit from the right, add all the digits, take
    the distance to the next multiple of ten) is the Luhn check digit.
    """
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit // 10 + digit % 10
    return -total % 10


@dataclass(frozen=True)
class LoincEntry:
    display: str
    categories: frozenset[Category]


_HBA1C: Final = frozenset({Category.HBA1C})
_EGFR: Final = frozenset({Category.EGFR})
_WOUND: Final = frozenset({Category.WOUND_MEASUREMENT})

LOINC_TABLE: Final = MappingProxyType(
    {
        "4548-4": LoincEntry("Hemoglobin A1c/Hemoglobin.total in Blood", _HBA1C),
        "17856-6": LoincEntry("Hemoglobin A1c/Hemoglobin.total in Blood by HPLC", _HBA1C),
        "33914-3": LoincEntry("Glomerular filtration rate/1.73 sq M.predicted (MDRD)", _EGFR),
        "62238-1": LoincEntry(
            "Glomerular filtration rate/1.73 sq M.predicted by creatinine-based formula "
            "(CKD-EPI 2009)",
            _EGFR,
        ),
        "98979-8": LoincEntry(
            "Glomerular filtration rate/1.73 sq M.predicted by creatinine-based formula "
            "(CKD-EPI 2021)",
            _EGFR,
        ),
        "72166-2": LoincEntry("Tobacco smoking status", frozenset({Category.SMOKING_STATUS})),
        "72287-6": LoincEntry("Wound size panel", _WOUND),
        "39126-8": LoincEntry("Length of Wound", _WOUND),
        "39125-0": LoincEntry("Width of Wound", _WOUND),
        "39127-6": LoincEntry("Depth of Wound", _WOUND),
        "89260-4": LoincEntry("Area of wound", _WOUND),
        "94083-3": LoincEntry("Wound volume", _WOUND),
        # Display from DICOM CID 3620; accepted on input as the reference advises
        # (V-secondary: confirm the LOINC long name and laterality).
        "8581-1": LoincEntry("Tibial/brachial index", frozenset({Category.VASCULAR_STUDY})),
    }
)


def canonical(code: str) -> str | None:
    """``code`` stripped, when it is shaped like LOINC with a valid check digit."""
    text = code.strip()
    if _FORM.fullmatch(text) is None:
        return None
    number, _, check = text.partition("-")
    return text if check_digit(number) == int(check) else None
