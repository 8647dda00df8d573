"""CEAP 2020 vocabularies: the closed code lists, their order, and the legacy numbers.

Source: Lurie F, Passman M, Meisner M, et al. The 2020 update of the CEAP
classification system and reporting standards. J Vasc Surg Venous Lymphat Disord
2020;8:342-352 (correction 2021;9:288), Tables I-IV. Declaration order is the
canonical order used when a classification is printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

SOURCE: Final = (
    "Lurie F et al. The 2020 update of the CEAP classification system and reporting "
    "standards. J Vasc Surg Venous Lymphat Disord 2020;8:342-352"
)


class ClinicalClass(StrEnum):
    """C classes; 2r, 4c and 6r are new in 2020. `level` is the integer class 0-6."""

    C0 = "C0"  # no visible or palpable signs of venous disease
    C1 = "C1"  # telangiectasias or reticular veins
    C2 = "C2"  # varicose veins (>= 3 mm, standing)
    C2R = "C2r"  # recurrent varicose veins
    C3 = "C3"  # oedema
    C4 = "C4"  # skin and subcutaneous changes secondary to CVD
    C4A = "C4a"  # pigmentation or eczema
    C4B = "C4b"  # lipodermatosclerosis or atrophie blanche
    C4C = "C4c"  # corona phlebectatica
    C5 = "C5"  # healed venous ulcer
    C6 = "C6"  # active venous ulcer
    C6R = "C6r"  # recurrent active venous ulcer

    @property
    def level(self) -> int:
        return int(self.value[1])


class Etiology(StrEnum):
    EP = "Ep"  # primary
    ES = "Es"  # secondary
    ESI = "Esi"  # secondary intravenous (vein wall or valve damage, e.g. post-thrombotic)
    ESE = "Ese"  # secondary extravenous (haemodynamics altered without vein damage)
    EC = "Ec"  # congenital
    EN = "En"  # no cause identified


class AnatomicSystem(StrEnum):
    """Order s, p, d as in the paper's example "As,p,d"."""

    AS = "As"  # superficial
    AP = "Ap"  # perforator
    AD = "Ad"  # deep
    AN = "An"  # no venous anatomic location identified


class Pathophysiology(StrEnum):
    PR = "Pr"  # reflux
    PO = "Po"  # obstruction (thrombotic or not)
    PN = "Pn"  # no venous pathophysiology identified


class Level(StrEnum):
    """Level of investigation recorded with advanced CEAP."""

    LI = "LI"  # clinical +/- hand-held Doppler
    LII = "LII"  # non-invasive: duplex +/- plethysmography
    LIII = "LIII"  # invasive or complex imaging


class Segment(StrEnum):
    """Venous segments, 2020 abbreviations, in the order of the 2004 numbering."""

    TEL = "Tel"
    RET = "Ret"
    GSVA = "GSVa"
    GSVB = "GSVb"
    SSV = "SSV"
    AASV = "AASV"  # new in 2020, no legacy number
    NSV = "NSV"
    IVC = "IVC"
    CIV = "CIV"
    IIV = "IIV"
    EIV = "EIV"
    PELV = "PELV"
    CFV = "CFV"
    DFV = "DFV"
    FV = "FV"
    POPV = "POPV"
    TIBV = "TIBV"
    PRV = "PRV"
    ATV = "ATV"
    PTV = "PTV"
    MUSV = "MUSV"
    GAV = "GAV"
    SOV = "SOV"
    TPV = "TPV"
    CPV = "CPV"

    @property
    def system(self) -> AnatomicSystem:
        return _SYSTEM_OF[self]


_SUPERFICIAL: Final = ("Tel", "Ret", "GSVa", "GSVb", "SSV", "AASV", "NSV")
_PERFORATOR: Final = ("TPV", "CPV")
_SYSTEM_OF: Final[Mapping[Segment, AnatomicSystem]] = MappingProxyType(
    {
        segment: AnatomicSystem.AS
        if segment.value in _SUPERFICIAL
        else AnatomicSystem.AP
        if segment.value in _PERFORATOR
        else AnatomicSystem.AD
        for segment in Segment
    }
)

# 2004 numbered segments -> 2020 abbreviations (Lurie 2020 Table III). Number 1 covered
# telangiectasias and reticular veins together, so it maps to both.
LEGACY_SEGMENTS: Final[Mapping[int, tuple[Segment, ...]]] = MappingProxyType(
    {
        1: (Segment.TEL, Segment.RET),
        2: (Segment.GSVA,),
        3: (Segment.GSVB,),
        4: (Segment.SSV,),
        5: (Segment.NSV,),
        6: (Segment.IVC,),
        7: (Segment.CIV,),
        8: (Segment.IIV,),
        9: (Segment.EIV,),
        10: (Segment.PELV,),
        11: (Segment.CFV,),
        12: (Segment.DFV,),
        13: (Segment.FV,),
        14: (Segment.POPV,),
        15: (Segment.TIBV,),
        16: (Segment.MUSV,),
        17: (Segment.TPV,),
        18: (Segment.CPV,),
    }
)

# Project decisions on combinations the paper does not spell out (clinical_reference
# §4.6 leaves them open). A code in EXCLUSIVE may not be listed with any other code of
# its letter ("no signs", "no cause", "no location", "no pathophysiology"). A subclass
# may not be listed with its own parent class: "C4,4a" says C4 twice.
EXCLUSIVE: Final = frozenset({ClinicalClass.C0, Etiology.EN, AnatomicSystem.AN, Pathophysiology.PN})
PARENT: Final[Mapping[StrEnum, StrEnum]] = MappingProxyType(
    {
        ClinicalClass.C2R: ClinicalClass.C2,
        ClinicalClass.C4A: ClinicalClass.C4,
        ClinicalClass.C4B: ClinicalClass.C4,
        ClinicalClass.C4C: ClinicalClass.C4,
        ClinicalClass.C6R: ClinicalClass.C6,
        Etiology.ESI: Etiology.ES,
        Etiology.ESE: Etiology.ES,
    }
)
