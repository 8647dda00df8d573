"""Wound area and healing trajectory of limbguard.vascular.wound.

Sources: Sheehan P et al., "Percent change in wound area of diabetic foot ulcers over a
4-week period is a robust predictor of complete healing in a 12-week prospective
trial", Diabetes Care 2003;26:1879-1882 (>= 50 % at 4 weeks as applied by GVG and
IWGDF); US Wound Registry QCDR measure CDR3 (< 30 % closure at 4 weeks -> plan of
care); Kantor & Margolis, Br J Dermatol 2000;142:960-964 and Gelfand et al., J Invest
Dermatol 2002;119:1420-1425 (venous leg ulcers, 40 % labelled project default); Cukjati
D et al., Med Biol Eng Comput 2001;39:263-271 (absolute area healed per day).
clinical_reference.md section 9 and interop.md (US Wound Registry).
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import wound
from limbguard.vascular.wound import (
    AreaMethod,
    FourWeekCriteria,
    UlcerType,
    area,
    four_week_check,
    percent_area_reduction,
    project_healing,
)

areas = st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False)
positive_areas = st.floats(min_value=0.01, max_value=10_000.0, allow_nan=False)

# --- area ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "width", "method", "expected"),
    [
        (2.3, 1.1, AreaMethod.RECTANGLE, 2.53),  # decimal, not 2.5300000000000002
        (4.0, 2.0, "length_x_width", 8.0),
        (4.0, 2.0, AreaMethod.ELLIPSE, 6.28),  # pi/4 x 8 = 6.2832
        (1.0, 1.0, "ellipse", 0.79),  # 0.7854 rounds half-up
        (0.0, 0.0, AreaMethod.ELLIPSE, 0.0),
        (100.0, 100.0, AreaMethod.RECTANGLE, 10_000.0),
    ],
)
def test_area(length: float, width: float, method: str, expected: float) -> None:
    assert area(length_cm=length, width_cm=width, method=method) == expected


def test_area_defaults_to_length_times_width() -> None:
    assert area(length_cm=3, width_cm=2) == 6.0


@given(
    st.floats(min_value=0.0, max_value=100.0),
    st.floats(min_value=0.0, max_value=100.0),
)
def test_ellipse_never_exceeds_the_rectangle(length: float, width: float) -> None:
    rectangle = area(length_cm=length, width_cm=width)
    ellipse = area(length_cm=length, width_cm=width, method="ellipse")
    assert 0.0 <= ellipse <= rectangle
    assert ellipse == pytest.approx(rectangle * math.pi / 4, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length_cm": -0.1, "width_cm": 1.0}, "length_cm"),
        ({"length_cm": 100.1, "width_cm": 1.0}, "length_cm"),
        ({"length_cm": "2", "width_cm": 1.0}, "length_cm"),
        ({"length_cm": 2.0, "width_cm": float("nan")}, "width_cm"),
        ({"length_cm": 2.0, "width_cm": None}, "width_cm"),
        ({"length_cm": 2.0, "width_cm": 1.0, "method": "planimetry"}, "method"),
    ],
)
def test_area_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        area(**kwargs)  # type: ignore[arg-type]


# --- percent area reduction ----------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        (10.0, 5.0, 50.0),
        (0.3, 0.15, 50.0),  # binary floats give 49.99...; decimal gives 50.0
        (10.0, 0.0, 100.0),
        (10.0, 10.0, 0.0),
        (10.0, 15.0, -50.0),
        (100.0, 50.05, 50.0),  # 49.95 rounds half-up to 50.0
        (100.0, 50.06, 49.9),  # 49.94
        (3.0, 1.0, 66.7),
        (0.01, 10_000.0, -99_999_900.0),  # the extremes stay exact
    ],
)
def test_percent_area_reduction(baseline: float, current: float, expected: float) -> None:
    assert percent_area_reduction(baseline_cm2=baseline, current_cm2=current) == expected


@given(positive_areas, areas)
def test_area_reduction_never_exceeds_100_percent(baseline: float, current: float) -> None:
    percent = percent_area_reduction(baseline_cm2=baseline, current_cm2=current)
    assert percent <= 100.0
    if current == 0:
        assert percent == 100.0
    if current > baseline:
        assert percent <= 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"baseline_cm2": 0.0, "current_cm2": 1.0}, "baseline_cm2"),
        ({"baseline_cm2": 0.009, "current_cm2": 0.0}, "baseline_cm2"),
        ({"baseline_cm2": -1.0, "current_cm2": 1.0}, "baseline_cm2"),
        ({"baseline_cm2": 10_001.0, "current_cm2": 1.0}, "baseline_cm2"),
        ({"baseline_cm2": True, "current_cm2": 1.0}, "baseline_cm2"),
        ({"baseline_cm2": 5.0, "current_cm2": -0.01}, "current_cm2"),
        ({"baseline_cm2": 5.0, "current_cm2": float("inf")}, "current_cm2"),
    ],
)
def test_percent_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        percent_area_reduction(**kwargs)  # type: ignore[arg-type]


# --- the 4-week check ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "on_track", "review"),
    [
        (0.0, True, False),
        (4.0, True, False),
        (5.0, True, False),  # exactly 50 %: on track (Sheehan, applied as >= 50 %)
        (5.01, False, False),  # 49.9 %
        (7.0, False, False),  # exactly 30 %: not below 30, no review
        (7.01, False, True),  # 29.9 %: plan-of-care review (USWR CDR3)
        (10.0, False, True),
        (12.0, False, True),  # the ulcer grew
    ],
)
def test_diabetic_foot_ulcer_boundaries(current: float, on_track: bool, review: bool) -> None:
    result = four_week_check(baseline_cm2=10.0, current_cm2=current, days_elapsed=28)
    assert result.ulcer_type is UlcerType.DIABETIC_FOOT
    assert result.on_track is on_track
    assert result.plan_of_care_review is review
    assert result.source == f"{wound.SHEEHAN_SOURCE}; {wound.USWR_SOURCE}"
    assert ("review the plan of care" in " ".join(result.reasons)) is review
    assert ("reassess perfusion" in " ".join(result.reasons)) is not on_track


def test_the_check_reports_the_rounded_percent_it_judged() -> None:
    result = four_week_check(baseline_cm2=100.0, current_cm2=50.05, days_elapsed=28)
    assert result.percent_reduction == 50.0
    assert result.on_track
    assert result.reasons[0] == "area reduced 50.0 % in 28 days; on track from 50 %: yes"


@pytest.mark.parametrize(("current", "on_track"), [(6.0, True), (6.01, False), (9.0, False)])
def test_venous_leg_ulcer_uses_the_labelled_40_percent_default(
    current: float, on_track: bool
) -> None:
    result = four_week_check(
        baseline_cm2=10.0, current_cm2=current, days_elapsed=28, ulcer_type="venous_leg"
    )
    assert result.on_track is on_track
    assert result.plan_of_care_review is False
    assert "no plan-of-care review threshold" in result.reasons[1]
    assert result.source == wound.VENOUS_SOURCE
    assert "no single source" in result.source


@pytest.mark.parametrize("days", [21, 28, 35])
def test_four_weeks_plus_or_minus_one_visit(days: int) -> None:
    assert four_week_check(baseline_cm2=10.0, current_cm2=4.0, days_elapsed=days).on_track


def test_a_programme_can_supply_its_own_rule() -> None:
    rule = FourWeekCriteria(
        on_track_from_percent=Decimal(53),
        review_below_percent=Decimal(25),
        source="Programme rule: Sheehan midpoint",
    )
    result = four_week_check(baseline_cm2=10.0, current_cm2=4.8, days_elapsed=28, criteria=rule)
    assert not result.on_track  # 52 % < 53 %
    assert not result.plan_of_care_review
    assert result.source == "Programme rule: Sheehan midpoint"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days_elapsed": 20}, "days_elapsed"),
        ({"days_elapsed": 36}, "days_elapsed"),
        ({"days_elapsed": 28.0}, "days_elapsed"),
        ({"days_elapsed": True}, "days_elapsed"),
        ({"ulcer_type": "pressure"}, "ulcer_type"),
        ({"criteria": "strict"}, "criteria"),
        ({"baseline_cm2": 0.0}, "baseline_cm2"),
        ({"current_cm2": -1.0}, "current_cm2"),
    ],
)
def test_four_week_check_rejects_bad_input_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"baseline_cm2": 10.0, "current_cm2": 5.0, "days_elapsed": 28}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        four_week_check(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"on_track_from_percent": Decimal(0)}, "on_track_from_percent"),
        ({"on_track_from_percent": Decimal(101)}, "on_track_from_percent"),
        ({"on_track_from_percent": 50}, "on_track_from_percent"),
        ({"review_below_percent": Decimal(60)}, "review_below_percent"),
        ({"review_below_percent": Decimal(0)}, "review_below_percent"),
        ({"review_below_percent": 30.0}, "review_below_percent"),
        ({"source": "  "}, "source"),
    ],
)
def test_four_week_criteria_refuse_bad_rules(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "on_track_from_percent": Decimal(50),
        "review_below_percent": Decimal(30),
        "source": "test",
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        FourWeekCriteria(**arguments)  # type: ignore[arg-type]


# --- projected healing ---------------------------------------------------------------


def test_projection_extrapolates_the_area_healed_per_day() -> None:
    result = project_healing(baseline_cm2=10.0, current_cm2=6.0, days_elapsed=28)
    assert result.rate_cm2_per_day == 0.143  # 4 cm² / 28 days
    assert result.days_to_closure == 42  # 6 / (4 / 28), exact
    assert result.source == wound.PROJECTION_SOURCE
    assert "likely optimistic" in result.reasons[1]


def test_projection_rounds_the_days_up() -> None:
    result = project_healing(baseline_cm2=10.0, current_cm2=7.0, days_elapsed=28)
    assert result.days_to_closure == 66  # 7 / (3 / 28) = 65.33


@pytest.mark.parametrize(
    ("baseline", "current", "days", "expected_days", "phrase"),
    [
        (10.0, 0.0, 14, 0, "the wound is closed"),
        (0.0, 0.0, 14, 0, "the wound is closed"),
        (10.0, 10.0, 14, None, "not shrinking"),
        (10.0, 12.5, 14, None, "not shrinking"),
        (0.0, 2.0, 7, None, "not shrinking"),  # a new wound
    ],
)
def test_projection_edge_cases(
    baseline: float, current: float, days: int, expected_days: int | None, phrase: str
) -> None:
    result = project_healing(baseline_cm2=baseline, current_cm2=current, days_elapsed=days)
    assert result.days_to_closure == expected_days
    assert phrase in result.reasons[-1]


@given(areas, areas, st.integers(1, 3650))
def test_projection_is_never_negative_and_exists_only_when_shrinking(
    baseline: float, current: float, days: int
) -> None:
    result = project_healing(baseline_cm2=baseline, current_cm2=current, days_elapsed=days)
    if result.days_to_closure is None:
        assert current >= baseline
        assert current > 0
    else:
        assert result.days_to_closure >= 0
        assert (result.days_to_closure == 0) == (current == 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days_elapsed": 0}, "days_elapsed"),
        ({"days_elapsed": 3651}, "days_elapsed"),
        ({"days_elapsed": "28"}, "days_elapsed"),
        ({"baseline_cm2": -2.0}, "baseline_cm2"),
        ({"current_cm2": 10_000.5}, "current_cm2"),
    ],
)
def test_projection_rejects_bad_input_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"baseline_cm2": 10.0, "current_cm2": 5.0, "days_elapsed": 28}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{field}: "):
        project_healing(**arguments)  # type: ignore[arg-type]
