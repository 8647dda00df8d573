"""Wound timelines and the 4-week rule (pure: no database).

Source of the rule: Sheehan P et al., Diabetes Care 2003;26:1879-1882 (diabetic foot
ulcers, >= 50 % at 4 weeks as applied by GVG recs 6.9/6.10); US Wound Registry CDR3
(< 30 %: review the plan of care); venous leg ulcers 40 % (labelled project default).
The library computes; these tests check which measurements are compared.
"""

from __future__ import annotations

import datetime as dt

import pytest

from limbguard.assessments.tracking import FourWeekStatus, Measurement, trajectory

START = dt.date(2026, 1, 5)


def at(day: int, area: float) -> Measurement:
    return Measurement(START + dt.timedelta(days=day), area)


def test_dfu_halved_at_four_weeks_is_on_track() -> None:
    result = trajectory(
        [at(0, 4.0), at(14, 3.0), at(28, 2.0)],
        ulcer_type="diabetic_foot",
        today=START + dt.timedelta(days=30),
    )
    assert result.status is FourWeekStatus.ON_TRACK
    assert result.check is not None
    assert result.check.percent_reduction == 50.0
    assert [p.percent_reduction for p in result.points] == [0.0, 25.0, 50.0]


def test_dfu_reduced_20_percent_is_off_track_with_a_plan_of_care_review() -> None:
    result = trajectory(
        [at(0, 5.0), at(28, 4.0)], ulcer_type="diabetic_foot", today=START + dt.timedelta(days=40)
    )
    assert result.off_track
    assert result.check is not None
    assert result.check.plan_of_care_review
    assert "Sheehan" in result.source


def test_venous_ulcer_uses_the_40_percent_default() -> None:
    result = trajectory(
        [at(0, 10.0), at(27, 5.8)], ulcer_type="venous_leg", today=START + dt.timedelta(days=27)
    )
    assert result.status is FourWeekStatus.ON_TRACK  # 42 %


def test_the_measurement_closest_to_day_28_counts() -> None:
    measurements = [at(0, 4.0), at(22, 1.0), at(30, 3.9)]
    result = trajectory(
        measurements, ulcer_type="diabetic_foot", today=START + dt.timedelta(days=31)
    )
    assert result.check is not None
    assert result.check.percent_reduction == 2.5
    assert result.off_track


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [(20, FourWeekStatus.PENDING), (35, FourWeekStatus.PENDING), (36, FourWeekStatus.MISSED)],
)
def test_pending_until_the_window_closes_then_missed(elapsed: int, status: FourWeekStatus) -> None:
    result = trajectory(
        [at(0, 4.0), at(10, 3.5)],
        ulcer_type="diabetic_foot",
        today=START + dt.timedelta(days=elapsed),
    )
    assert result.status is status


def test_a_wound_closed_before_week_four_is_not_judged() -> None:
    result = trajectory(
        [at(0, 1.0), at(14, 0.0)], ulcer_type="diabetic_foot", today=START + dt.timedelta(days=60)
    )
    assert result.status is FourWeekStatus.NOT_APPLICABLE


def test_wound_types_without_a_published_rule_show_the_trend_only() -> None:
    result = trajectory(
        [at(0, 4.0), at(28, 3.9)], ulcer_type=None, today=START + dt.timedelta(days=28)
    )
    assert result.status is FourWeekStatus.NOT_APPLICABLE
    assert result.projection is not None
    assert result.projection.days_to_closure is not None


def test_no_measurement_yet() -> None:
    result = trajectory([], ulcer_type="diabetic_foot", today=START)
    assert (result.points, result.status) == ((), FourWeekStatus.PENDING)
