"""SNOMED CT value sets: one explicit table of concept id -> (term, categories).

Only concepts the reference verified (VSAC, OHDSI PhenotypeLibrary, Synthea, VistA,
HL7 IGs) are listed. Left out as UNVERIFIED or conflicting until checked on a
terminology server: a single "CLTI" concept; the diabetic foot ulcer pair 371087003 /
280137006 (public sources disagree); chronic venous insufficiency, venous ulcer and
May-Thurner concepts (28695004 seen once); peripheral PTA/stent, venous stent and
ablation procedures; the CMS123 amputation ids whose displays were not verified; and
CKD stage concepts (public tables disagree on the ids).

Broad or level-less concepts are deliberately not categorised: 233958001 peripheral
ischemia (includes acute), 13954005 ischemic ulcer (any site), 397117006 amputation
of lower limb and 161622006 history of lower limb amputation (no level).

Sources: codes_and_epidemiology.md section 3 (per-row verification there). The
diabetes concepts 73211009, 44054006 and 46635009 were confirmed by the LimbGuard
team in SNOMED International tooling and FHIR examples (V-secondary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from limbguard.vascular.codes.vocabulary import Category

SOURCE: Final = "codes_and_epidemiology 3 (SNOMED CT concepts, verified rows only)"

# SCTID: 6-18 digits, no leading zero; the last digit is a Verhoeff check digit and
# the two before it are the partition: 00 (core concept) or 10 (extension concept).
_FORM: Final = re.compile(r"[1-9][0-9]{5,17}")
_CONCEPT_PARTITIONS: Final = frozenset({"00", "10"})

# Verhoeff's dihedral-group tables (Verhoeff 1969), as used by SNOMED CT identifiers.
_D: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Verhoeff check digit."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


@dataclass(frozen=True)
class SnomedEntry:
    term: str
    categories: frozenset[Category]


def _categories(*members: Category) -> frozenset[Category]:
    return frozenset(members)


_PAD: Final = _categories(Category.PAD)
_DIABETIC_PAD: Final = _categories(Category.PAD, Category.DIABETES)
_CLTI: Final = _categories(Category.PAD, Category.CLTI)
_DIABETES: Final = _categories(Category.DIABETES)
_DVT: Final = _categories(Category.DVT)
_OSTEO: Final = _categories(Category.OSTEOMYELITIS)
_CURRENT_SMOKER: Final = _categories(Category.SMOKING, Category.SMOKING_STATUS)
_SMOKING_ANSWER: Final = _categories(Category.SMOKING_STATUS)
_MAJOR: Final = _categories(Category.MAJOR_AMPUTATION)
_MINOR: Final = _categories(Category.MINOR_AMPUTATION)
_BYPASS: Final = _categories(Category.OPEN_BYPASS)

SNOMED_TABLE: Final = MappingProxyType(
    {
        # PAD (VSAC "Atherosclerosis and Peripheral Arterial Disease"; OHDSI-PL).
        "399957001": SnomedEntry("Peripheral arterial occlusive disease", _PAD),
        "840580004": SnomedEntry("Peripheral arterial disease", _PAD),
        "400047006": SnomedEntry("Peripheral vascular disease", _PAD),
        "51274000": SnomedEntry("Atherosclerosis of arteries of the extremities", _PAD),
        "724440007": SnomedEntry("Atherosclerosis of artery of lower limb", _PAD),
        "63491006": SnomedEntry("Intermittent claudication", _PAD),
        "792845002": SnomedEntry(
            "Intermittent claudication due to atherosclerosis of artery of limb", _PAD
        ),
        "233956002": SnomedEntry("Aortoiliac atherosclerosis", _PAD),
        "442439008": SnomedEntry("Atherosclerosis of bypass graft of limb", _PAD),
        "709584004": SnomedEntry("Atherosclerosis of bypass graft of lower limb", _PAD),
        "442693003": SnomedEntry("Atherosclerosis of autologous vein bypass graft of limb", _PAD),
        "709585003": SnomedEntry(
            "Atherosclerosis of nonautologous biological bypass graft of lower limb", _PAD
        ),
        "442735001": SnomedEntry("Atherosclerosis of nonautologous bypass graft of limb", _PAD),
        "442701004": SnomedEntry(
            "Atherosclerosis of nonautologous biological bypass graft of limb", _PAD
        ),
        "127014009": SnomedEntry("Peripheral angiopathy due to diabetes mellitus", _DIABETIC_PAD),
        "421895002": SnomedEntry(
            "Peripheral vascular disorder due to diabetes mellitus", _DIABETIC_PAD
        ),
        "421365002": SnomedEntry(
            "Peripheral circulatory disorder due to type 1 diabetes mellitus", _DIABETIC_PAD
        ),
        "422166005": SnomedEntry(
            "Peripheral circulatory disorder due to type 2 diabetes mellitus", _DIABETIC_PAD
        ),
        # CLTI: rest pain, gangrene and ischemic tissue loss of the lower limb (VSAC).
        "792844003": SnomedEntry(
            "Limb pain at rest due to atherosclerosis of artery of lower limb", _CLTI
        ),
        "792843009": SnomedEntry(
            "Gangrene of limb due to atherosclerosis of artery of limb",
            _categories(Category.PAD, Category.CLTI, Category.GANGRENE),
        ),
        "238794007": SnomedEntry("Ischemic foot ulcer", _CLTI),
        "429768000": SnomedEntry("Ischemic ulcer of toe", _CLTI),
        # Diabetes.
        "73211009": SnomedEntry("Diabetes mellitus", _DIABETES),
        "44054006": SnomedEntry("Diabetes mellitus type 2", _DIABETES),
        "46635009": SnomedEntry("Diabetes mellitus type 1", _DIABETES),
        "368581000119106": SnomedEntry("Neuropathy due to type 2 diabetes mellitus", _DIABETES),
        "424736006": SnomedEntry("Diabetic peripheral neuropathy", _DIABETES),
        # Chronic venous disease (two public mapping tables; V-secondary, medium).
        "72866009": SnomedEntry("Varicose veins of lower extremity", _categories(Category.CVI)),
        # DVT (OHDSI-PL cohorts 247/639; Synthea).
        "128053003": SnomedEntry("Deep venous thrombosis", _DVT),
        "132281000119108": SnomedEntry("Acute deep venous thrombosis", _DVT),
        "15760351000119105": SnomedEntry("Chronic deep venous thrombosis", _DVT),
        "703277001": SnomedEntry("Deep venous thrombosis of femoropopliteal vein", _DVT),
        "309735004": SnomedEntry("Thrombosis of vein of lower limb", _DVT),
        "444816006": SnomedEntry("Embolism from thrombosis of vein of lower extremity", _DVT),
        # Gangrene.
        "372070002": SnomedEntry("Gangrenous disorder", _categories(Category.GANGRENE)),
        # Osteomyelitis of the ankle and foot (OHDSI-PL).
        "268019002": SnomedEntry("Chronic osteomyelitis of ankle and/or foot", _OSTEO),
        "268017000": SnomedEntry("Acute osteomyelitis of ankle and/or foot", _OSTEO),
        "28769004": SnomedEntry("Osteomyelitis of ankle AND/OR foot", _OSTEO),
        "710231001": SnomedEntry(
            "Chronic osteomyelitis of ankle and/or foot with draining sinus", _OSTEO
        ),
        # Smoking-status answers for LOINC 72166-2 (C-CDA / Meaningful Use set). Only
        # the current-smoker answers also mean "smoking"; 77176002 does not say current.
        "449868002": SnomedEntry("Current every day smoker", _CURRENT_SMOKER),
        "428041000124106": SnomedEntry("Current some day smoker", _CURRENT_SMOKER),
        "428071000124103": SnomedEntry("Heavy tobacco smoker", _CURRENT_SMOKER),
        "428061000124105": SnomedEntry("Light tobacco smoker", _CURRENT_SMOKER),
        "77176002": SnomedEntry("Smoker, current status unknown", _SMOKING_ANSWER),
        "8517006": SnomedEntry("Former smoker", _SMOKING_ANSWER),
        "266919005": SnomedEntry("Never smoker", _SMOKING_ANSWER),
        "266927001": SnomedEntry("Unknown if ever smoked", _SMOKING_ANSWER),
        # CKD: end-stage renal disease (Synthea).
        "46177005": SnomedEntry("End-stage renal disease", _categories(Category.CKD)),
        # Amputation above the ankle: major (OHDSI-PL, VSAC CMS123, Synthea).
        "79733001": SnomedEntry("Above-knee amputation", _MAJOR),
        "88312006": SnomedEntry("Amputation of leg through tibia and fibula", _MAJOR),
        "265736004": SnomedEntry("Through-knee amputation", _MAJOR),
        "405449003": SnomedEntry("Revision of above-knee amputation", _MAJOR),
        "287644000": SnomedEntry("Supramalleolar ankle amputation", _MAJOR),
        # Amputation at or below the ankle: minor (OHDSI-PL, Synthea); 429280009 is a
        # history (status) concept, like Z89.43-.
        "397218006": SnomedEntry("Amputation of ankle", _MINOR),
        "180030006": SnomedEntry("Amputation of the foot", _MINOR),
        "265739006": SnomedEntry("Amputation through metatarsal bones", _MINOR),
        "209724005": SnomedEntry("Midtarsal amputation of foot", _MINOR),
        "211570009": SnomedEntry("Amputation through foot", _MINOR),
        "371186005": SnomedEntry("Amputation of toe", _MINOR),
        "429280009": SnomedEntry("History of amputation of foot", _MINOR),
        # Open bypass (OHDSI-PL cohorts 865/1289).
        "405469008": SnomedEntry("Arterial bypass of lower limb artery", _BYPASS),
        "51018000": SnomedEntry("Iliofemoral shunt", _BYPASS),
        # Vascular study result (HL7 Lithuania CVD IG; V-secondary).
        "446841001": SnomedEntry(
            "Ankle brachial pressure index", _categories(Category.VASCULAR_STUDY)
        ),
    }
)


def canonical(code: str) -> str | None:
    """The digits of a well-formed SNOMED CT *concept* id (Verhoeff check digit and
    concept partition), or None. Says nothing about whether the concept exists."""
    text = code.strip()
    if _FORM.fullmatch(text) is None or text[-3:-1] not in _CONCEPT_PARTITIONS:
        return None
    return text if verhoeff_valid(text) else None
