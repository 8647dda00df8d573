"""SVS WIfI: Wound, Ischemia, foot Infection grades, clinical stage, revascularization benefit.

Grades are ints 0-3. The clinical stage (estimated 1-year amputation risk) and the
estimated benefit of / need for revascularization are read from the published 4x4x4
lookup tables, never computed from a sum or maximum of the grades. Stage 5
(unsalvageable foot) lies outside the tables: it is only ever a clinician's explicit
judgement (``classify(..., unsalvageable=True)``).

Source: Mills JL Sr, Conte MS, Armstrong DG, et al. The Society for Vascular Surgery
Lower Extremity Threatened Limb Classification System: risk stratification based on
Wound, Ischemia, and foot Infection (WIfI). J Vasc Surg 2014;59:220-234.e1-2;
clinical_reference.md section 1 (tables cross-checked against five implementations).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from limbguard.vascular import abi as abi_rules
from limbguard.vascular._base import Explained, InvalidInput, check_int, check_optional_int
from limbguard.vascular.infection import InfectionSigns, classify_infection

SOURCE: Final = (
    "Mills JL Sr et al. SVS Lower Extremity Threatened Limb Classification System (WIfI). "
    "J Vasc Surg 2014;59:220-234"
)

RISK_LABELS: Final = MappingProxyType({1: "very low", 2: "low", 3: "moderate", 4: "high"})
# Mills 2014 and later cohorts (Causey 2016, Robinson 2017): stage 5 = unsalvageable foot,
# a clinical judgement outside the 64-cell matrix (clinical_reference section 1.6).
STAGE_5_UNSALVAGEABLE: Final = 5


class Ulcer(enum.StrEnum):
    """The worst ulcer, in the words of the WIfI wound table (Mills 2014)."""

    NONE = "none"
    SMALL_SHALLOW = "small_shallow"  # distal leg or foot; exposed bone only at distal phalanx
    DEEP_EXPOSED_BONE_JOINT_TENDON = "deep_exposed_bone_joint_tendon"  # generally not heel
    SHALLOW_HEEL = "shallow_heel"  # without calcaneal involvement
    EXTENSIVE_DEEP_FOREFOOT_MIDFOOT = "extensive_deep_forefoot_midfoot"
    DEEP_HEEL = "deep_heel"  # full thickness, with or without calcaneal involvement


class Gangrene(enum.StrEnum):
    """The extent of gangrene, in the words of the WIfI wound table (Mills 2014)."""

    NONE = "none"
    DIGITS = "digits"
    EXTENSIVE_FOREFOOT_MIDFOOT = "extensive_forefoot_midfoot"
    HEEL_FULL_THICKNESS = "heel_full_thickness"  # with or without calcaneal involvement


# Mills 2014, wound grade table: W is the worse of the ulcer and gangrene grades.
ULCER_GRADE: Final = MappingProxyType(
    {
        Ulcer.NONE: 0,
        Ulcer.SMALL_SHALLOW: 1,
        Ulcer.DEEP_EXPOSED_BONE_JOINT_TENDON: 2,
        Ulcer.SHALLOW_HEEL: 2,
        Ulcer.EXTENSIVE_DEEP_FOREFOOT_MIDFOOT: 3,
        Ulcer.DEEP_HEEL: 3,
    }
)
GANGRENE_GRADE: Final = MappingProxyType(
    {
        Gangrene.NONE: 0,
        Gangrene.DIGITS: 2,
        Gangrene.EXTENSIVE_FOREFOOT_MIDFOOT: 3,
        Gangrene.HEEL_FULL_THICKNESS: 3,
    }
)


class PerfusionMeasure(enum.StrEnum):
    TOE_PRESSURE = "toe_pressure"
    ABI = "abi"
    ANKLE_PRESSURE = "ankle_pressure"
    TCPO2 = "tcpo2"


# Mills 2014 ischaemia table. Lower bounds of I0, I1, I2; anything lower is I3.
ABI_GRADE_FLOORS: Final = (Decimal("0.80"), Decimal("0.60"), Decimal("0.40"))
TOE_PRESSURE_GRADE_FLOORS: Final = (60, 40, 30)  # mmHg
TCPO2_GRADE_FLOORS: Final = (60, 40, 30)  # mmHg
# Ankle systolic pressure: I0 > 100, I1 70-100, I2 50-70, I3 < 50 mmHg.
ANKLE_I0_OVER_MMHG: Final = 100
ANKLE_I1_OVER_MMHG: Final = 70
ANKLE_I2_FROM_MMHG: Final = 50
# Project decision: the published bands put exactly 70 mmHg in both I1 (70-100) and
# I2 (50-70); the more conservative I2 is used (clinical_reference section 1.2).
ANKLE_AT_70_MMHG_GRADE: Final = 2
# Project decision on which measure sets the grade when they disagree (the paper gives
# no rule the reference could verify, clinical_reference section 1.2): toe pressure
# first, as the WIfI ischaemia-table footnote is widely reproduced ("TP will be the
# primary determinant"), then ABI and ankle pressure, then TcPO2, which Mills reserves
# for calcified arteries and GVG Table 3.1 calls inaccurate with oedema or infection.
# Every measure's grade is kept and discordance is flagged by explain_ischemia.
MEASURE_PRIORITY: Final = (
    PerfusionMeasure.TOE_PRESSURE,
    PerfusionMeasure.ABI,
    PerfusionMeasure.ANKLE_PRESSURE,
    PerfusionMeasure.TCPO2,
)


def _table(rows_by_ischemia: tuple[tuple[str, str, str, str], ...]) -> tuple[tuple[int, ...], ...]:
    """[i][w] -> digits for fI0..fI3, flattened to [i * 4 + w][fi] ints."""
    return tuple(tuple(int(d) for d in row) for rows in rows_by_ischemia for row in rows)


# Mills 2014, "estimate risk of amputation at 1 year" (1 very low ... 4 high).
# One tuple per ischaemia grade I0-I3; in it one string per wound grade W0-W3, whose
# digits are the stages for fI0, fI1, fI2, fI3.
_STAGE: Final = _table(
    (
        ("1123", "1123", "2234", "3344"),
        ("1234", "1234", "3344", "4444"),
        ("2234", "2344", "3444", "4444"),
        ("2334", "3344", "4444", "4444"),
    )
)
# Mills 2014, "estimate likelihood of benefit of/requirement for revascularization",
# assuming infection is controlled first. Same layout.
_BENEFIT: Final = _table(
    (
        ("1111", "1111", "1111", "1111"),
        ("1223", "2333", "3344", "3334"),
        ("2233", "3444", "4444", "4444"),
        ("3444", "4444", "4444", "4444"),
    )
)

# Cells where sources disagree (clinical_reference sections 1.4, 1.5, 1.8); the
# majority value is used. Keys are (w, i, fi).
DISPUTED_STAGE_CELLS: Final = MappingProxyType(
    {(0, 2, 3): "ESC 2017 interactive table gives 3; four implementations give 4"}
)
_SPANISH_APP: Final = "the Spanish Streamlit app (Angiologia 2016) gives 1"
_CSHARP_TOOL: Final = "LimbPreservationTool gives 3"
DISPUTED_BENEFIT_CELLS: Final = MappingProxyType(
    {
        (1, 1, 0): _SPANISH_APP,
        (2, 1, 0): _SPANISH_APP,
        (3, 1, 0): _SPANISH_APP,
        (1, 3, 0): _CSHARP_TOOL,
        (2, 3, 0): _CSHARP_TOOL,
        (3, 3, 0): _CSHARP_TOOL,
    }
)
# The only place where a worse grade lowers a published value: the benefit table at
# I1 fI2 gives W2 = 4 (high) but W3 = 3 (moderate). Every source reproduces it, so it is
# kept as published. Pairs of (w, i, fi): (cell, worse cell).
BENEFIT_DECREASES: Final = frozenset({((2, 1, 2), (3, 1, 2))})


def _cell(w: object, i: object, fi: object) -> tuple[int, int]:
    wound = check_int("w", w, 0, 3)
    ischemia = check_int("i", i, 0, 3)
    return ischemia * 4 + wound, check_int("fi", fi, 0, 3)


def clinical_stage(w: int, i: int, fi: int) -> int:
    """WIfI clinical stage 1-4 (estimated 1-year amputation risk) from the Mills 2014 table."""
    row, column = _cell(w, i, fi)
    return _STAGE[row][column]


def revascularization_benefit(w: int, i: int, fi: int) -> int:
    """Estimated benefit of / need for revascularization 1-4 from the Mills 2014 table."""
    row, column = _cell(w, i, fi)
    return _BENEFIT[row][column]


def wound_grade(*, ulcer: Ulcer = Ulcer.NONE, gangrene: Gangrene = Gangrene.NONE) -> int:
    """W 0-3: the worse of the ulcer and gangrene grades. Rest pain alone is W0."""
    if not isinstance(ulcer, Ulcer):
        raise InvalidInput("ulcer", f"must be a wifi.Ulcer, got {ulcer!r}")
    if not isinstance(gangrene, Gangrene):
        raise InvalidInput("gangrene", f"must be a wifi.Gangrene, got {gangrene!r}")
    return max(ULCER_GRADE[ulcer], GANGRENE_GRADE[gangrene])


def explain_wound_grade(
    *, ulcer: Ulcer = Ulcer.NONE, gangrene: Gangrene = Gangrene.NONE
) -> Explained[int]:
    """``wound_grade`` with the grade each finding gives."""
    grade = wound_grade(ulcer=ulcer, gangrene=gangrene)
    reasons = (
        f"ulcer {ulcer.value}: W{ULCER_GRADE[ulcer]}",
        f"gangrene {gangrene.value}: W{GANGRENE_GRADE[gangrene]}",
        f"W{grade}: the worse of the two",
    )
    return Explained(grade, reasons, SOURCE)


def _floor_grade(value: Decimal | int, floors: tuple[Decimal | int, ...]) -> int:
    for grade, floor in enumerate(floors):
        if Decimal(value) >= floor:
            return grade
    return len(floors)


def _ankle_grade(pressure: int) -> int:
    if pressure > ANKLE_I0_OVER_MMHG:
        return 0
    if pressure > ANKLE_I1_OVER_MMHG:
        return 1
    if pressure == ANKLE_I1_OVER_MMHG:
        return ANKLE_AT_70_MMHG_GRADE
    return 2 if pressure >= ANKLE_I2_FROM_MMHG else 3


def _graded(
    abi: object, ankle_pressure: object, toe_pressure: object, tcpo2: object
) -> tuple[dict[PerfusionMeasure, int], bool]:
    """Grade of every usable measure, and whether the ABI was noncompressible."""
    index = None if abi is None else abi_rules.round_index(abi, field="abi")
    ankle = check_optional_int("ankle_pressure", ankle_pressure, 0, abi_rules.MAX_PRESSURE_MMHG)
    toe = check_optional_int("toe_pressure", toe_pressure, 0, abi_rules.MAX_PRESSURE_MMHG)
    oxygen = check_optional_int("tcpo2", tcpo2, 0, abi_rules.MAX_TCPO2_MMHG)
    noncompressible = index is not None and index > abi_rules.NONCOMPRESSIBLE_ABOVE
    found: dict[PerfusionMeasure, int] = {}
    if toe is not None:
        found[PerfusionMeasure.TOE_PRESSURE] = _floor_grade(toe, TOE_PRESSURE_GRADE_FLOORS)
    if index is not None and not noncompressible:
        found[PerfusionMeasure.ABI] = _floor_grade(index, ABI_GRADE_FLOORS)
    if ankle is not None and not noncompressible:
        found[PerfusionMeasure.ANKLE_PRESSURE] = _ankle_grade(ankle)
    if oxygen is not None:
        found[PerfusionMeasure.TCPO2] = _floor_grade(oxygen, TCPO2_GRADE_FLOORS)
    return found, noncompressible


def ischemia_grade(
    *,
    abi: float | None = None,
    ankle_pressure: int | None = None,
    toe_pressure: int | None = None,
    tcpo2: int | None = None,
) -> int | None:
    """WIfI ischaemia grade 0-3, or ``None`` when nothing usable was given.

    ABI (rounded half-up to 2 decimals): I0 >= 0.80, I1 0.60-0.79, I2 0.40-0.59,
    I3 <= 0.39. Ankle pressure (mmHg): I0 > 100, I1 71-100, I2 50-70 (70 is I2 by
    project decision), I3 < 50. Toe pressure or TcPO2 (mmHg): I0 >= 60, I1 40-59,
    I2 30-39, I3 < 30. A noncompressible ABI (> 1.40) is not used, nor is the ankle
    pressure measured with it. When several measures are given, the first of
    MEASURE_PRIORITY sets the grade (see ``explain_ischemia`` for discordance).
    """
    found, _ = _graded(abi, ankle_pressure, toe_pressure, tcpo2)
    for measure in MEASURE_PRIORITY:
        if measure in found:
            return found[measure]
    return None


@dataclass(frozen=True)
class IschemiaAssessment:
    """The ischaemia grade, the measure that set it, every measure's grade, discordance."""

    grade: int | None
    measure_used: PerfusionMeasure | None
    grades: tuple[tuple[PerfusionMeasure, int], ...]
    discordant: bool
    reasons: tuple[str, ...]
    source: str


def explain_ischemia(
    *,
    abi: float | None = None,
    ankle_pressure: int | None = None,
    toe_pressure: int | None = None,
    tcpo2: int | None = None,
) -> IschemiaAssessment:
    """``ischemia_grade`` with the grade of every measure and a discordance flag."""
    found, noncompressible = _graded(abi, ankle_pressure, toe_pressure, tcpo2)
    grades = tuple((m, found[m]) for m in MEASURE_PRIORITY if m in found)
    given = {
        PerfusionMeasure.TOE_PRESSURE: f"toe pressure {toe_pressure} mmHg",
        PerfusionMeasure.ABI: f"ABI {abi}",
        PerfusionMeasure.ANKLE_PRESSURE: f"ankle pressure {ankle_pressure} mmHg",
        PerfusionMeasure.TCPO2: f"TcPO2 {tcpo2} mmHg",
    }
    reasons = [f"{given[measure]}: I{grade}" for measure, grade in grades]
    if noncompressible:
        reasons.append("ABI > 1.40 (noncompressible): ABI and ankle pressure not used")
    if ankle_pressure == ANKLE_I1_OVER_MMHG and not noncompressible:
        reasons.append("ankle pressure 70 mmHg lies in both I1 and I2 bands: I2 (project rule)")
    discordant = len({grade for _, grade in grades}) > 1
    if not grades:
        reasons.append("no usable perfusion measure: ischaemia grade unknown")
        return IschemiaAssessment(None, None, (), False, tuple(reasons), SOURCE)
    measure, grade = grades[0]
    if discordant:
        reasons.append(f"measures disagree: discordance flagged; {given[measure]} takes priority")
    reasons.append(f"I{grade} from {given[measure]}")
    return IschemiaAssessment(grade, measure, grades, discordant, tuple(reasons), SOURCE)


def foot_infection_grade(signs: InfectionSigns) -> int:
    """WIfI fI 0-3 from bedside findings, graded by IWGDF/IDSA (see ``infection``)."""
    return classify_infection(signs).wifi_fi


@dataclass(frozen=True)
class WifiClassification:
    """A full WIfI staging with the reasons and the citation.

    ``clinical_stage`` is the table stage 1-4, or 5 when the clinician judged the foot
    unsalvageable; ``table_stage`` always holds the table value.
    """

    w: int
    i: int
    fi: int
    code: str
    table_stage: int
    clinical_stage: int
    amputation_risk: str
    revascularization_benefit: int
    benefit: str
    unsalvageable: bool
    reasons: tuple[str, ...]
    source: str


def classify(w: int, i: int, fi: int, *, unsalvageable: bool = False) -> WifiClassification:
    """Stage and benefit for one limb; ``unsalvageable=True`` records a clinician's stage 5."""
    if not isinstance(unsalvageable, bool):
        raise InvalidInput("unsalvageable", f"must be True or False, got {unsalvageable!r}")
    stage = clinical_stage(w, i, fi)
    benefit = revascularization_benefit(w, i, fi)
    code = f"W{w} I{i} fI{fi}"
    reasons = [
        f"{code}: stage {stage} ({RISK_LABELS[stage]} 1-year amputation risk) "
        "from the WIfI lookup table, not a sum of grades",
        f"{code}: {RISK_LABELS[benefit]} benefit of revascularization "
        "(assuming infection is controlled first)",
    ]
    if (w, i, fi) in DISPUTED_STAGE_CELLS:
        reasons.append(f"stage cell disputed: {DISPUTED_STAGE_CELLS[w, i, fi]}")
    if (w, i, fi) in DISPUTED_BENEFIT_CELLS:
        reasons.append(f"benefit cell disputed: {DISPUTED_BENEFIT_CELLS[w, i, fi]}")
    final_stage, risk = stage, RISK_LABELS[stage]
    if unsalvageable:
        final_stage, risk = STAGE_5_UNSALVAGEABLE, "unsalvageable foot"
        reasons.append("stage 5: clinician judged the foot unsalvageable")
    return WifiClassification(
        w=w,
        i=i,
        fi=fi,
        code=code,
        table_stage=stage,
        clinical_stage=final_stage,
        amputation_risk=risk,
        revascularization_benefit=benefit,
        benefit=RISK_LABELS[benefit],
        unsalvageable=unsalvageable,
        reasons=tuple(reasons),
        source=SOURCE,
    )
