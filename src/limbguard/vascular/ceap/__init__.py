"""CEAP 2020: parse, validate and print the classification of chronic venous disorders.

    >>> c = parse("C2,4as Ep As,p Pr GSVa,CPV")
    >>> c.clinical, c.highest, c.symptomatic
    (['C2', 'C4a'], 4, True)
    >>> str(c)
    'C2,4a,S Ep As,p Pr GSVa,CPV'

Source: Lurie F et al., J Vasc Surg Venous Lymphat Disord 2020;8:342-352; parsing
conventions in clinical_reference.md §4.6 (documented in `_parser`).
"""

from limbguard.vascular.ceap._model import Ceap, SegmentGroup
from limbguard.vascular.ceap._parser import MAX_TEXT_LENGTH, CeapError, parse
from limbguard.vascular.ceap._vocab import (
    EXCLUSIVE,
    LEGACY_SEGMENTS,
    PARENT,
    SOURCE,
    AnatomicSystem,
    ClinicalClass,
    Etiology,
    Level,
    Pathophysiology,
    Segment,
)

__all__ = [
    "EXCLUSIVE",
    "LEGACY_SEGMENTS",
    "MAX_TEXT_LENGTH",
    "PARENT",
    "SOURCE",
    "AnatomicSystem",
    "Ceap",
    "CeapError",
    "ClinicalClass",
    "Etiology",
    "Level",
    "Pathophysiology",
    "Segment",
    "SegmentGroup",
    "parse",
]
