"""Survival and cumulative incidence pinned to independent computations, to 1e-9:

* Kaplan-Meier on the 6-MP arm of Freireich's leukaemia trial (Gehan 1965; the worked
  example in Kleinbaum & Klein, Survival Analysis, 3rd ed., ch. 2): product-limit
  fractions and exponential-Greenwood bands worked by hand below;
* Aalen-Johansen on a small data set with an event on day 0, ties of both causes and a
  censoring on an event day, worked by hand (Putter, Fiocco & Geskus, Stat Med
  2007;26:2389-2430, eq. for the cumulative incidence: sum of S(t-) d_k / n);
* both against statsmodels (SurvfuncRight, CumIncidenceRight) on seeded day-level data
  with many ties.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from limbguard.outcomes.survival import (
    InvalidCohort,
    Rate,
    aalen_johansen,
    kaplan_meier,
    proportion_interval,
)

Z = 1.959963984540054  # the 97.5th normal percentile

# 6-MP arm: weeks in remission; 0 = censored.
MP6_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP6_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
# (week, at risk, relapses) at each relapse time, counted by hand from the data above.
MP6_STEPS = [(6, 21, 3), (7, 17, 1), (10, 15, 1), (13, 12, 1), (16, 11, 1), (22, 7, 1), (23, 6, 1)]


def hand_km() -> list[tuple[int, float, float, float]]:
    out = []
    survival = Fraction(1)
    greenwood = 0.0
    for week, n, d in MP6_STEPS:
        survival *= Fraction(n - d, n)
        greenwood += d / (n * (n - d))
        s = float(survival)
        theta, se = math.log(-math.log(s)), math.sqrt(greenwood) / abs(math.log(s))
        out.append(
            (week, s, math.exp(-math.exp(theta + Z * se)), math.exp(-math.exp(theta - Z * se)))
        )
    return out


def test_kaplan_meier_matches_the_hand_worked_6mp_example() -> None:
    curve = kaplan_meier(MP6_TIMES, MP6_EVENTS, label="6-MP")
    assert (curve.subjects, curve.events) == (21, 9)
    for week, s, low, high in hand_km():
        found = curve.at(week)
        assert found is not None
        assert found.value == pytest.approx(s, abs=1e-9)
        assert found.lower == pytest.approx(low, abs=1e-9)
        assert found.upper == pytest.approx(high, abs=1e-9)
    # Textbook values (Kleinbaum & Klein table 2.2): 0.857, 0.807, 0.753, 0.690, 0.627,
    # 0.538, 0.448.
    assert [round(curve.at(w).value, 3) for w, *_ in MP6_STEPS] == [  # type: ignore[union-attr]
        0.857,
        0.807,
        0.753,
        0.690,
        0.627,
        0.538,
        0.448,
    ]
    assert curve.at(36) is None  # nobody followed beyond week 35


def seeded(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Day-level data: many ties, both causes, censoring on event days."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 120, n).astype(float)
    causes = rng.choice([0, 1, 2], size=n, p=[0.4, 0.3, 0.3])
    return days, causes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kaplan_meier_matches_statsmodels(seed: int) -> None:
    days, causes = seeded(seed)
    events = (causes != 0).astype(int)
    curve = kaplan_meier(days, events, label="x")
    reference = SurvfuncRight(days, events)
    for day, s, se in zip(
        reference.surv_times, reference.surv_prob, reference.surv_prob_se, strict=True
    ):
        found = curve.at(day)
        assert found is not None
        assert found.value == pytest.approx(s, abs=1e-9)
        if 0 < s < 1:
            # Band from statsmodels' Greenwood standard error, log(-log) transformed.
            theta, se_theta = math.log(-math.log(s)), se / (s * abs(math.log(s)))
            assert found.lower == pytest.approx(math.exp(-math.exp(theta + Z * se_theta)), abs=1e-9)
            assert found.upper == pytest.approx(math.exp(-math.exp(theta - Z * se_theta)), abs=1e-9)


# Hand example: day, cause (0 censored, 1 amputation, 2 death).
AJ_DAYS = [0, 2, 3, 3, 3, 5, 6, 6, 8, 9, 10, 12]
AJ_CAUSES = [1, 1, 2, 1, 0, 2, 1, 2, 0, 1, 2, 0]
# CIF(t) = sum over event days of S(t-) * d1 / n, by hand (see the module docstring):
# day 0: 1/12; day 2: +11/12*1/11; day 3: +10/12*1/10 (censoring on day 3 still at
# risk); day 6: +4/7*1/6; day 9: +8/21*1/3.
AJ_HAND = {
    0: Fraction(1, 12),
    1: Fraction(1, 12),
    2: Fraction(2, 12),
    3: Fraction(3, 12),
    5: Fraction(3, 12),
    6: Fraction(29, 84),
    8: Fraction(29, 84),
    9: Fraction(119, 252),
    12: Fraction(119, 252),
}


def test_aalen_johansen_matches_the_hand_worked_example() -> None:
    curve = aalen_johansen(AJ_DAYS, AJ_CAUSES, label="amputation")
    assert (curve.subjects, curve.events, curve.competing) == (12, 5, 4)
    for day, value in AJ_HAND.items():
        found = curve.at(day)
        assert found is not None
        assert found.value == pytest.approx(float(value), abs=1e-9)
        assert found.lower <= found.value <= found.upper


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_aalen_johansen_matches_statsmodels_and_is_deterministic(seed: int) -> None:
    days, causes = seeded(seed)
    curve = aalen_johansen(days, causes, label="x")
    reference = CumIncidenceRight(days, causes)
    for day, value in zip(reference.times, reference.cinc[0], strict=True):
        found = curve.at(day)
        assert found is not None
        assert found.value == pytest.approx(value, abs=1e-9)
    assert aalen_johansen(days, causes, label="x") == curve


def test_empty_cohort_and_cohort_without_events_are_labelled() -> None:
    empty = kaplan_meier([], [], label="none")
    assert empty.empty
    assert empty.empty_reason == "no subjects in this cohort"
    assert empty.at(365) is None
    assert aalen_johansen([], [], label="none").empty
    flat = aalen_johansen([10, 20, 30], [0, 0, 0], label="x")
    assert flat.note.startswith("no events")
    assert flat.at(15) == pytest.approx(flat.at(15))
    assert flat.at(15).value == 0.0  # type: ignore[union-attr]
    alive = kaplan_meier([10, 20, 30], [0, 0, 0], label="x")
    assert alive.at(25).value == 1.0  # type: ignore[union-attr]
    assert alive.at(25).lower == 1.0  # type: ignore[union-attr]


def test_at_risk_table_counts() -> None:
    curve = kaplan_meier(MP6_TIMES, MP6_EVENTS, label="6-MP", at_risk_days=(0, 10, 20, 30, 40))
    assert [(r.day, r.at_risk, r.events, r.censored) for r in curve.at_risk] == [
        (0, 21, 0, 0),
        (10, 15, 5, 3),
        (20, 8, 7, 7),
        (30, 4, 9, 8),
    ]


@pytest.mark.parametrize(
    ("days", "events"),
    [([1, -1], [1, 0]), ([1, float("nan")], [1, 0]), ([1, 2], [1]), ([1, 2], [1, 3])],
)
def test_bad_input_is_refused(days: list[float], events: list[int]) -> None:
    with pytest.raises(InvalidCohort):
        aalen_johansen(days, events, label="x")


def test_rates_and_proportions_match_scipy_and_statsmodels() -> None:
    rate = Rate(events=7, person_years=140.0)
    assert rate.per_100 == pytest.approx(5.0)
    low, high = rate.interval  # type: ignore[misc]
    # Garwood exact limits for 7 events: 2.814 and 14.423 (standard Poisson tables).
    assert low * 140 / 100 == pytest.approx(2.814, abs=1e-3)
    assert high * 140 / 100 == pytest.approx(14.423, abs=1e-3)
    assert Rate(0, 0).per_100 is None
    ours = proportion_interval(13, 48)
    reference = proportion_confint(13, 48, alpha=0.05, method="wilson")
    assert ours == pytest.approx(reference, abs=1e-9)
    assert proportion_interval(0, 0) is None
