"""WIfI grades, clinical stage and revascularization benefit.

Source: Mills JL Sr, Conte MS, Armstrong DG, et al. The Society for Vascular Surgery
Lower Extremity Threatened Limb Classification System: risk stratification based on
Wound, Ischemia, and foot Infection (WIfI). J Vasc Surg 2014;59:220-234, the figure
grids "estimate risk of amputation at 1 year" and "estimate likelihood of benefit of /
requirement for revascularization" (2014), as restated and cross-checked in
clinical_reference.md sections 1.4, 1.5 and 1.8. The grids below are typed in the
paper's printed shape (rows W0-W3, column blocks I0-I3 of fI0-fI3, letters VL/L/M/H),
not in the implementation's layout.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import wifi
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.infection import InfectionSigns
from limbguard.vascular.wifi import Gangrene, PerfusionMeasure, Ulcer

LETTER = {"VL": 1, "L": 2, "M": 3, "H": 4}

#             |------ I0 -------|------ I1 -------|------ I2 -------|------ I3 -------|
#              fI0 fI1 fI2 fI3   fI0 fI1 fI2 fI3   fI0 fI1 fI2 fI3   fI0 fI1 fI2 fI3
AMPUTATION_GRID = """
W0             VL  VL  L   M     VL  L   M   H     L   L   M   H     L   M   M   H
W1             VL  VL  L   M     VL  L   M   H     L   M   H   H     M   M   H   H
W2             L   L   M   H     M   M   H   H     M   H   H   H     H   H   H   H
W3             M   M   H   H     H   H   H   H     H   H   H   H     H   H   H   H
"""
BENEFIT_GRID = """
W0             VL  VL  VL  VL    VL  L   L   M     L   L   M   M     M   H   H   H
W1             VL  VL  VL  VL    L   M   M   M     M   H   H   H     H   H   H   H
W2             VL  VL  VL  VL    M   M   H   H     H   H   H   H     H   H   H   H
W3             VL  VL  VL  VL    M   M   M   H     H   H   H   H     H   H   H   H
"""


def cells(grid: str) -> list[tuple[int, int, int, int]]:
    """(w, i, fi, value) for every cell of a printed grid."""
    rows = []
    for line in grid.strip().splitlines():
        label, *letters = line.split()
        assert len(letters) == 16, line
        for column, letter in enumerate(letters):
            rows.append((int(label[1]), column // 4, column % 4, LETTER[letter]))
    return rows


def cell_id(row: tuple[int, int, int, int]) -> str:
    return f"W{row[0]}-I{row[1]}-fI{row[2]}"


AMPUTATION = cells(AMPUTATION_GRID)
BENEFIT = cells(BENEFIT_GRID)
grades = st.integers(min_value=0, max_value=3)


@pytest.mark.parametrize(("w", "i", "fi", "stage"), AMPUTATION, ids=map(cell_id, AMPUTATION))
def test_clinical_stage_matches_published_cell(w: int, i: int, fi: int, stage: int) -> None:
    assert wifi.clinical_stage(w, i, fi) == stage


@pytest.mark.parametrize(("w", "i", "fi", "benefit"), BENEFIT, ids=map(cell_id, BENEFIT))
def test_revascularization_benefit_matches_published_cell(
    w: int, i: int, fi: int, benefit: int
) -> None:
    assert wifi.revascularization_benefit(w, i, fi) == benefit


def test_grids_cover_all_64_cells_once() -> None:
    for grid in (AMPUTATION, BENEFIT):
        assert len({(w, i, fi) for w, i, fi, _ in grid}) == 64


def test_stage_cell_counts_match_reference() -> None:
    # clinical_reference 1.4: stage 1 = 6, 2 = 10, 3 = 16, 4 = 32 cells.
    counts = Counter(stage for *_, stage in AMPUTATION)
    assert counts == {1: 6, 2: 10, 3: 16, 4: 32}


def test_stage_is_a_lookup_not_a_sum_of_grades() -> None:
    # Same grade sum (3), different stages: W3 I0 fI0 = 3 (moderate), W0 I3 fI0 = 2 (low).
    assert wifi.clinical_stage(3, 0, 0) == 3
    assert wifi.clinical_stage(0, 3, 0) == 2
    assert wifi.clinical_stage(1, 1, 1) == 2


def worse_neighbours(w: int, i: int, fi: int) -> list[tuple[int, int, int]]:
    cell = [w, i, fi]
    out = []
    for axis in range(3):
        if cell[axis] < 3:
            worse = list(cell)
            worse[axis] += 1
            out.append((worse[0], worse[1], worse[2]))
    return out


def test_stage_never_falls_when_any_grade_worsens() -> None:
    for w, i, fi, stage in AMPUTATION:
        for worse in worse_neighbours(w, i, fi):
            assert wifi.clinical_stage(*worse) >= stage


def test_benefit_falls_only_at_the_documented_cells() -> None:
    decreases = {
        ((w, i, fi), worse)
        for w, i, fi, benefit in BENEFIT
        for worse in worse_neighbours(w, i, fi)
        if wifi.revascularization_benefit(*worse) < benefit
    }
    assert decreases == wifi.BENEFIT_DECREASES == {((2, 1, 2), (3, 1, 2))}


@given(
    w=grades,
    i=grades,
    fi=grades,
    dw=st.integers(0, 3),
    di=st.integers(0, 3),
    dfi=st.integers(0, 3),
)
def test_property_worse_grades_never_lower_stage(
    w: int, i: int, fi: int, dw: int, di: int, dfi: int
) -> None:
    worse = (min(w + dw, 3), min(i + di, 3), min(fi + dfi, 3))
    assert wifi.clinical_stage(*worse) >= wifi.clinical_stage(w, i, fi)


@given(w=grades, i=grades, fi=grades, axis=st.integers(0, 2))
def test_property_benefit_monotone_except_documented(w: int, i: int, fi: int, axis: int) -> None:
    cell = (w, i, fi)
    worse_list = list(cell)
    worse_list[axis] = min(worse_list[axis] + 1, 3)
    worse = (worse_list[0], worse_list[1], worse_list[2])
    if (cell, worse) in wifi.BENEFIT_DECREASES:
        assert wifi.revascularization_benefit(*worse) < wifi.revascularization_benefit(*cell)
    else:
        assert wifi.revascularization_benefit(*worse) >= wifi.revascularization_benefit(*cell)


def test_classify_reports_stage_benefit_reasons_and_source() -> None:
    result = wifi.classify(2, 2, 1)
    assert result.code == "W2 I2 fI1"
    assert (result.clinical_stage, result.table_stage, result.amputation_risk) == (4, 4, "high")
    assert (result.revascularization_benefit, result.benefit) == (4, "high")
    assert not result.unsalvageable
    assert any("lookup table" in reason for reason in result.reasons)
    assert "J Vasc Surg 2014" in result.source


def test_stage_5_only_from_explicit_clinician_judgement() -> None:
    assert max(stage for *_, stage in AMPUTATION) == 4
    result = wifi.classify(3, 3, 3, unsalvageable=True)
    assert result.clinical_stage == wifi.STAGE_5_UNSALVAGEABLE == 5
    assert result.table_stage == 4
    assert result.unsalvageable
    assert result.amputation_risk == "unsalvageable foot"
    assert any("clinician" in reason for reason in result.reasons)


def test_disputed_cells_are_flagged_in_reasons() -> None:
    assert any("ESC 2017" in r for r in wifi.classify(0, 2, 3).reasons)
    assert any("disputed" in r for r in wifi.classify(1, 3, 0).reasons)
    assert not any("disputed" in r for r in wifi.classify(0, 0, 0).reasons)


@pytest.mark.parametrize(
    ("ulcer", "gangrene", "expected"),
    [
        (Ulcer.NONE, Gangrene.NONE, 0),
        (Ulcer.SMALL_SHALLOW, Gangrene.NONE, 1),
        (Ulcer.DEEP_EXPOSED_BONE_JOINT_TENDON, Gangrene.NONE, 2),
        (Ulcer.SHALLOW_HEEL, Gangrene.NONE, 2),
        (Ulcer.EXTENSIVE_DEEP_FOREFOOT_MIDFOOT, Gangrene.NONE, 3),
        (Ulcer.DEEP_HEEL, Gangrene.NONE, 3),
        (Ulcer.NONE, Gangrene.DIGITS, 2),
        (Ulcer.SMALL_SHALLOW, Gangrene.DIGITS, 2),
        (Ulcer.NONE, Gangrene.EXTENSIVE_FOREFOOT_MIDFOOT, 3),
        (Ulcer.NONE, Gangrene.HEEL_FULL_THICKNESS, 3),
        (Ulcer.DEEP_HEEL, Gangrene.DIGITS, 3),
    ],
)
def test_wound_grade_from_findings(ulcer: Ulcer, gangrene: Gangrene, expected: int) -> None:
    assert wifi.wound_grade(ulcer=ulcer, gangrene=gangrene) == expected
    explained = wifi.explain_wound_grade(ulcer=ulcer, gangrene=gangrene)
    assert explained.value == expected
    assert explained.reasons[-1] == f"W{expected}: the worse of the two"


def test_wound_grade_default_is_no_wound() -> None:
    assert wifi.wound_grade() == 0


@pytest.mark.parametrize(
    ("measure", "value", "grade"),
    [
        ("abi", 0.80, 0),
        ("abi", 0.795, 0),  # rounds half-up to 0.80
        ("abi", 0.79, 1),
        ("abi", 0.60, 1),
        ("abi", 0.59, 2),
        ("abi", 0.40, 2),
        ("abi", 0.395, 2),  # rounds half-up to 0.40
        ("abi", 0.39, 3),
        ("abi", 0.0, 3),
        ("abi", 1.40, 0),  # still compressible
        ("ankle_pressure", 101, 0),
        ("ankle_pressure", 100, 1),
        ("ankle_pressure", 71, 1),
        ("ankle_pressure", 70, 2),  # in both published bands: project decision I2
        ("ankle_pressure", 50, 2),
        ("ankle_pressure", 49, 3),
        ("ankle_pressure", 0, 3),
        ("toe_pressure", 60, 0),
        ("toe_pressure", 59, 1),
        ("toe_pressure", 40, 1),
        ("toe_pressure", 39, 2),
        ("toe_pressure", 30, 2),
        ("toe_pressure", 29, 3),
        ("tcpo2", 60, 0),
        ("tcpo2", 59, 1),
        ("tcpo2", 40, 1),
        ("tcpo2", 39, 2),
        ("tcpo2", 30, 2),
        ("tcpo2", 29, 3),
    ],
)
def test_ischemia_grade_boundaries(measure: str, value: float, grade: int) -> None:
    kwargs: dict[str, Any] = {measure: value}
    assert wifi.ischemia_grade(**kwargs) == grade


def test_ankle_70_project_decision_is_named() -> None:
    assert wifi.ANKLE_AT_70_MMHG_GRADE == 2
    assessment = wifi.explain_ischemia(ankle_pressure=70)
    assert assessment.grade == 2
    assert any("project rule" in reason for reason in assessment.reasons)


def test_ischemia_none_when_nothing_usable() -> None:
    assert wifi.ischemia_grade() is None
    assert wifi.ischemia_grade(abi=1.41) is None
    assessment = wifi.explain_ischemia()
    assert (assessment.grade, assessment.measure_used, assessment.grades) == (None, None, ())


def test_noncompressible_abi_sets_aside_abi_and_ankle_pressure() -> None:
    assert wifi.ischemia_grade(abi=1.5, ankle_pressure=250, tcpo2=35) == 2
    assessment = wifi.explain_ischemia(abi=1.5, ankle_pressure=250, toe_pressure=25)
    assert assessment.grade == 3
    assert assessment.grades == ((PerfusionMeasure.TOE_PRESSURE, 3),)
    assert any("noncompressible" in reason for reason in assessment.reasons)


def test_discordant_measures_are_flagged_and_priority_applies() -> None:
    # clinical_reference 1.2 example: ABI 0.33 (I3) but ankle pressure 50 (I2).
    assessment = wifi.explain_ischemia(abi=0.33, ankle_pressure=50)
    assert assessment.grade == 3
    assert assessment.measure_used is PerfusionMeasure.ABI
    assert assessment.discordant
    assert any("discordance" in reason for reason in assessment.reasons)
    # Toe pressure takes priority over ABI.
    assessment = wifi.explain_ischemia(abi=0.9, toe_pressure=35, tcpo2=20)
    assert (assessment.grade, assessment.measure_used) == (2, PerfusionMeasure.TOE_PRESSURE)
    assert dict(assessment.grades) == {
        PerfusionMeasure.TOE_PRESSURE: 2,
        PerfusionMeasure.ABI: 0,
        PerfusionMeasure.TCPO2: 3,
    }
    concordant = wifi.explain_ischemia(abi=0.5, ankle_pressure=60)
    assert not concordant.discordant
    assert concordant.grade == wifi.ischemia_grade(abi=0.5, ankle_pressure=60) == 2


@pytest.mark.parametrize(
    ("signs", "fi"),
    [
        (InfectionSigns(), 0),
        (InfectionSigns(warmth=True, purulent_discharge=True), 1),
        (InfectionSigns(warmth=True, purulent_discharge=True, erythema_cm=3.0), 2),
        (InfectionSigns(osteomyelitis=True), 2),
        (
            InfectionSigns(
                warmth=True, purulent_discharge=True, heart_rate=100, temperature_c=38.5
            ),
            3,
        ),
    ],
)
def test_foot_infection_grade(signs: InfectionSigns, fi: int) -> None:
    assert wifi.foot_infection_grade(signs) == fi


BAD_GRADES = [-1, 4, 1.0, "2", None, True]


@pytest.mark.parametrize("field", ["w", "i", "fi"])
@pytest.mark.parametrize("bad", BAD_GRADES)
def test_tables_reject_bad_grades_naming_the_field(field: str, bad: object) -> None:
    args: dict[str, object] = {"w": 1, "i": 1, "fi": 1} | {field: bad}
    for rule in (wifi.clinical_stage, wifi.revascularization_benefit, wifi.classify):
        with pytest.raises(InvalidInput, match=f"^{field}:"):
            rule(**args)  # type: ignore[arg-type]


@given(
    field=st.sampled_from(["w", "i", "fi"]),
    bad=st.one_of(
        st.integers().filter(lambda n: not 0 <= n <= 3),
        st.floats(allow_nan=True),
        st.text(max_size=3),
        st.booleans(),
        st.none(),
    ),
)
def test_property_bad_grades_raise_value_error_naming_field(field: str, bad: object) -> None:
    args: dict[str, object] = {"w": 0, "i": 0, "fi": 0} | {field: bad}
    with pytest.raises(ValueError, match=f"^{field}:"):
        wifi.clinical_stage(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"abi": -0.1}, "abi"),
        ({"abi": "0.5"}, "abi"),
        ({"abi": float("nan")}, "abi"),
        ({"ankle_pressure": -1}, "ankle_pressure"),
        ({"ankle_pressure": 70.0}, "ankle_pressure"),
        ({"ankle_pressure": 401}, "ankle_pressure"),
        ({"toe_pressure": True}, "toe_pressure"),
        ({"toe_pressure": 401}, "toe_pressure"),
        ({"tcpo2": -5}, "tcpo2"),
        ({"tcpo2": "40"}, "tcpo2"),
    ],
)
def test_ischemia_rejects_bad_measures(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        wifi.ischemia_grade(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        wifi.explain_ischemia(**kwargs)  # type: ignore[arg-type]


def test_other_bad_inputs_name_their_field() -> None:
    with pytest.raises(InvalidInput, match=r"^ulcer:"):
        wifi.wound_grade(ulcer="deep_heel")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^gangrene:"):
        wifi.wound_grade(gangrene=2)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^unsalvageable:"):
        wifi.classify(1, 1, 1, unsalvageable=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^signs:"):
        wifi.foot_infection_grade({"warmth": True})  # type: ignore[arg-type]
