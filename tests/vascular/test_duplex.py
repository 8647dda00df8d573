"""Duplex criteria of limbguard.vascular.duplex.

Sources: arterial stenosis table of Cossman DV et al., J Vasc Surg 1989;10:522-529 and
Weitz JI et al. (AHA), Circulation 1996;94:3026-3049, as restated in
clinical_reference.md section 7.1; venous reflux cut-offs of the SVS/AVF guideline,
Gloviczki P et al., J Vasc Surg 2011;53(5 Suppl):2S-48S, recommendations 2.4 and 2.5,
and Labropoulos N et al., J Vasc Surg 2003;38:793-798 (clinical_reference 7.2).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import duplex
from limbguard.vascular.ceap import AnatomicSystem, Segment
from limbguard.vascular.duplex import (
    ArterialCriteria,
    RefluxCriteria,
    StenosisGrade,
    assess_reflux,
    classify_stenosis,
)

# --- arterial: every band and every boundary of the Cossman table --------------------


@pytest.mark.parametrize(
    ("ratio", "grade"),
    [
        (0.8, StenosisGrade.UNDER_20),
        (1.0, StenosisGrade.UNDER_20),
        (1.49, StenosisGrade.UNDER_20),
        (1.5, StenosisGrade.FROM_20_TO_49),  # "1.5-2.0" band starts at 1.5
        (1.99, StenosisGrade.FROM_20_TO_49),
        (2.0, StenosisGrade.FROM_50_TO_74),  # ">= 2.0" is >= 50 %
        (3.99, StenosisGrade.FROM_50_TO_74),
        (4.0, StenosisGrade.FROM_75_TO_99),  # ">= 4.0" is 75-99 %
        (7.5, StenosisGrade.FROM_75_TO_99),
        (50.0, StenosisGrade.FROM_75_TO_99),
    ],
)
def test_velocity_ratio_bands(ratio: float, grade: StenosisGrade) -> None:
    result = classify_stenosis(psv_ratio=ratio)
    assert result.grade is grade
    assert result.significant == (ratio >= 2.0)
    assert result.psv_discordant is None
    assert result.source == duplex.ARTERIAL_SOURCE
    assert str(grade) in result.reasons[0]


def test_no_flow_is_an_occlusion() -> None:
    result = classify_stenosis(flow=False)
    assert result.grade is StenosisGrade.OCCLUSION
    assert result.significant
    assert result.reasons == ("no flow in the segment: occlusion",)


@pytest.mark.parametrize(
    ("ratio", "psv", "discordant", "band"),
    [
        (1.2, 149.9, False, "<20%"),
        (1.2, 150.0, True, "20-49%"),  # PSV 150 starts the 150-200 band
        (1.7, 150.0, False, "20-49%"),
        (1.7, 200.0, False, "20-49%"),  # "> 200 cm/s" for >= 50 %: 200 is not above
        (1.7, 200.1, True, ">=50%"),
        (2.5, 200.1, False, ">=50%"),
        (2.5, 180.0, True, "20-49%"),
        (4.5, 450.0, False, ">=50%"),  # PSV cannot split 50-74 from 75-99
    ],
)
def test_psv_corroborates_without_overruling_the_ratio(
    ratio: float, psv: float, discordant: bool, band: str
) -> None:
    result = classify_stenosis(psv_ratio=ratio, psv_cm_s=psv)
    assert result.grade is classify_stenosis(psv_ratio=ratio).grade
    assert result.psv_discordant is discordant
    assert f"the {band} PSV band" in result.reasons[1]


def test_lab_criteria_replace_the_defaults_and_report_their_source() -> None:
    ranke = ArterialCriteria(ratio_50=Decimal("2.5"), source="Lab protocol: Ranke 1992 >= 2.5")
    assert classify_stenosis(psv_ratio=2.4, criteria=ranke).grade is StenosisGrade.FROM_20_TO_49
    result = classify_stenosis(psv_ratio=2.5, criteria=ranke)
    assert result.grade is StenosisGrade.FROM_50_TO_74
    assert result.source == "Lab protocol: Ranke 1992 >= 2.5"
    strict = ArterialCriteria(ratio_75=Decimal("3.5"), source="lab")
    assert classify_stenosis(psv_ratio=3.5, criteria=strict).grade is StenosisGrade.FROM_75_TO_99
    assert classify_stenosis(flow=False, criteria=strict).source == "lab"
    ints = ArterialCriteria(psv_20=100, psv_50=250)  # type: ignore[arg-type]
    assert ints.psv_20 == Decimal(100)


@given(st.floats(min_value=0.01, max_value=50.0), st.floats(min_value=0.01, max_value=50.0))
def test_a_higher_ratio_never_gives_a_lower_grade(first: float, second: float) -> None:
    order = list(StenosisGrade)
    low, high = sorted((first, second))
    assert order.index(classify_stenosis(psv_ratio=low).grade) <= order.index(
        classify_stenosis(psv_ratio=high).grade
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "psv_ratio"),
        ({"psv_ratio": 0}, "psv_ratio"),
        ({"psv_ratio": -1.0}, "psv_ratio"),
        ({"psv_ratio": 50.01}, "psv_ratio"),
        ({"psv_ratio": float("nan")}, "psv_ratio"),
        ({"psv_ratio": "2.0"}, "psv_ratio"),
        ({"psv_ratio": True}, "psv_ratio"),
        ({"psv_ratio": 2.0, "psv_cm_s": 0}, "psv_cm_s"),
        ({"psv_ratio": 2.0, "psv_cm_s": 1000.5}, "psv_cm_s"),
        ({"flow": False, "psv_ratio": 2.0}, "psv_ratio"),
        ({"flow": False, "psv_cm_s": 250.0}, "psv_cm_s"),
        ({"flow": 0}, "flow"),
        ({"psv_ratio": 2.0, "criteria": {"ratio_50": 2.5}}, "criteria"),
    ],
)
def test_stenosis_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        classify_stenosis(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ratio_50": Decimal("1.5")}, "ratio_50"),
        ({"ratio_75": Decimal("1.9")}, "ratio_50"),
        ({"ratio_20": Decimal(0)}, "ratio_20"),
        ({"ratio_20": 1.5}, "ratio_20"),
        ({"ratio_20": True}, "ratio_20"),
        ({"psv_50": Decimal(150)}, "psv_50"),
        ({"source": " "}, "source"),
    ],
)
def test_arterial_criteria_refuse_inconsistent_thresholds(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        ArterialCriteria(**kwargs)  # type: ignore[arg-type]


# --- venous reflux -------------------------------------------------------------------

SEGMENT_THRESHOLDS = [
    (Segment.CFV, AnatomicSystem.AD, 1000),
    (Segment.FV, AnatomicSystem.AD, 1000),
    (Segment.POPV, AnatomicSystem.AD, 1000),
    (Segment.DFV, AnatomicSystem.AD, 500),
    (Segment.TIBV, AnatomicSystem.AD, 500),
    (Segment.PRV, AnatomicSystem.AD, 500),
    (Segment.ATV, AnatomicSystem.AD, 500),
    (Segment.PTV, AnatomicSystem.AD, 500),
    (Segment.MUSV, AnatomicSystem.AD, 500),
    (Segment.GAV, AnatomicSystem.AD, 500),
    (Segment.SOV, AnatomicSystem.AD, 500),
    (Segment.GSVA, AnatomicSystem.AS, 500),
    (Segment.GSVB, AnatomicSystem.AS, 500),
    (Segment.SSV, AnatomicSystem.AS, 500),
    (Segment.AASV, AnatomicSystem.AS, 500),
    (Segment.NSV, AnatomicSystem.AS, 500),
    (Segment.TPV, AnatomicSystem.AP, 500),
    (Segment.CPV, AnatomicSystem.AP, 500),
]


NO_REFLUX_CRITERION = [Segment.TEL, Segment.RET, Segment.IVC, Segment.CIV, Segment.IIV]
NO_REFLUX_CRITERION += [Segment.EIV, Segment.PELV]


def test_every_ceap_segment_has_a_threshold_row_or_is_refused() -> None:
    rows = {row[0] for row in SEGMENT_THRESHOLDS}
    assert rows | set(NO_REFLUX_CRITERION) == set(Segment)
    assert not rows & set(NO_REFLUX_CRITERION)


@pytest.mark.parametrize("segment", NO_REFLUX_CRITERION)
def test_segments_without_a_published_reflux_duration_are_refused(segment: Segment) -> None:
    with pytest.raises(ValueError, match=r"^segment: must be a segment with reflux criteria"):
        assess_reflux(segment=segment, reflux_ms=1500)


@pytest.mark.parametrize(("segment", "system", "threshold"), SEGMENT_THRESHOLDS)
def test_reflux_is_pathological_only_above_the_segment_threshold(
    segment: Segment, system: AnatomicSystem, threshold: int
) -> None:
    at = assess_reflux(segment=segment, reflux_ms=threshold)
    above = assess_reflux(segment=segment.value, reflux_ms=threshold + 1)
    assert at.system is system
    assert at.threshold_ms == threshold
    assert not at.pathological_reflux
    assert above.pathological_reflux
    assert above.source == duplex.VENOUS_SOURCE
    assert f"threshold > {threshold} ms: pathological" in above.reasons[0]
    if system is not AnatomicSystem.AP:
        assert above.pathological_perforator is None


@pytest.mark.parametrize(
    ("reflux_ms", "diameter_mm", "beneath_ulcer", "expected"),
    [
        (500, 3.5, True, True),  # every boundary of SVS/AVF rec. 2.5 met exactly
        (1200, 6.0, True, True),
        (499, 3.5, True, False),
        (500, 3.49, True, False),
        (500, 3.5, False, False),
        (500, None, True, None),
        (500, 3.5, None, None),
        (400, None, None, False),  # the flow already rules it out
        (900, 2.0, None, False),
        (0, None, False, False),
    ],
)
def test_pathological_perforator_rule(
    reflux_ms: int, diameter_mm: float | None, beneath_ulcer: bool | None, expected: bool | None
) -> None:
    result = assess_reflux(
        segment="CPV",
        reflux_ms=reflux_ms,
        diameter_mm=diameter_mm,
        beneath_venous_ulcer=beneath_ulcer,
    )
    assert result.pathological_perforator is expected
    word = {True: "yes", False: "no", None: "undecided"}[expected]
    assert word in result.reasons[1]


def test_perforator_at_exactly_500_ms_follows_both_published_operators() -> None:
    # Rec. 2.4 calls perforator reflux pathological above 500 ms; rec. 2.5 makes a
    # perforator a treatment target from 500 ms. Both are kept as published.
    result = assess_reflux(segment="TPV", reflux_ms=500, diameter_mm=4.0, beneath_venous_ulcer=True)
    assert not result.pathological_reflux
    assert result.pathological_perforator is True


def test_labropoulos_perforator_cut_off_is_available_as_a_preset() -> None:
    criteria = duplex.LABROPOULOS_2003_REFLUX
    assert not assess_reflux(segment="CPV", reflux_ms=350, criteria=criteria).pathological_reflux
    result = assess_reflux(segment="CPV", reflux_ms=351, criteria=criteria)
    assert result.pathological_reflux
    assert result.threshold_ms == 350
    assert duplex.LABROPOULOS_SOURCE in result.source
    assert assess_reflux(segment="FV", reflux_ms=1000, criteria=criteria).threshold_ms == 1000


def test_lab_reflux_criteria() -> None:
    lab = RefluxCriteria(superficial_ms=350, perforator_target_mm=Decimal(3), source="Lab B")
    assert assess_reflux(segment="GSVa", reflux_ms=351, criteria=lab).pathological_reflux
    result = assess_reflux(
        segment="CPV", reflux_ms=600, diameter_mm=3.0, beneath_venous_ulcer=True, criteria=lab
    )
    assert result.pathological_perforator is True
    assert result.source == "Lab B"
    assert RefluxCriteria(perforator_target_mm=4).perforator_target_mm == Decimal(4)  # type: ignore[arg-type]


@given(st.sampled_from(SEGMENT_THRESHOLDS), st.integers(0, 20_000), st.integers(0, 20_000))
def test_longer_reflux_is_never_less_pathological(
    row: tuple[Segment, AnatomicSystem, int], first: int, second: int
) -> None:
    segment = row[0]
    low, high = sorted((first, second))
    if assess_reflux(segment=segment, reflux_ms=low).pathological_reflux:
        assert assess_reflux(segment=segment, reflux_ms=high).pathological_reflux


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"segment": "CFA", "reflux_ms": 1500}, "segment"),
        ({"segment": "gsva", "reflux_ms": 600}, "segment"),
        ({"segment": None, "reflux_ms": 600}, "segment"),
        ({"segment": "FV", "reflux_ms": -1}, "reflux_ms"),
        ({"segment": "FV", "reflux_ms": 20_001}, "reflux_ms"),
        ({"segment": "FV", "reflux_ms": 1000.5}, "reflux_ms"),
        ({"segment": "FV", "reflux_ms": True}, "reflux_ms"),
        ({"segment": "FV", "reflux_ms": "1200"}, "reflux_ms"),
        ({"segment": "GSVa", "reflux_ms": 600, "diameter_mm": 5.0}, "diameter_mm"),
        ({"segment": "FV", "reflux_ms": 600, "beneath_venous_ulcer": True}, "beneath_venous_ulcer"),
        ({"segment": "CPV", "reflux_ms": 600, "diameter_mm": 0}, "diameter_mm"),
        ({"segment": "CPV", "reflux_ms": 600, "diameter_mm": 41.0}, "diameter_mm"),
        (
            {"segment": "CPV", "reflux_ms": 600, "beneath_venous_ulcer": "yes"},
            "beneath_venous_ulcer",
        ),
        ({"segment": "CPV", "reflux_ms": 600, "criteria": None}, "criteria"),
    ],
)
def test_reflux_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        assess_reflux(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"deep_femoropopliteal_ms": 0}, "deep_femoropopliteal_ms"),
        ({"superficial_ms": 500.0}, "superficial_ms"),
        ({"perforator_ms": 20_001}, "perforator_ms"),
        ({"perforator_target_ms": False}, "perforator_target_ms"),
        ({"perforator_target_mm": Decimal(0)}, "perforator_target_mm"),
        ({"perforator_target_mm": 3.5}, "perforator_target_mm"),
        ({"source": ""}, "source"),
    ],
)
def test_reflux_criteria_refuse_bad_thresholds(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        RefluxCriteria(**kwargs)  # type: ignore[arg-type]
