"""Kaplan-Meier and Aalen-Johansen estimates over lifelines, returned as plain data.

No Django here: the functions take durations in days (from the index date) and event
codes, and return frozen dataclasses that the page, the CSV, the report and the tests
read. Two lifelines pitfalls are handled (interop.md §D):

* Aalen-Johansen jitters tied event times of different types at random, so results
  change between runs. We break such ties deterministically before fitting: at a time
  where the event of interest and a competing event tie, the competing events are moved
  a fraction of a day earlier (`break_ties`). With the events of one time taken one
  after another the estimator telescopes to exactly the tie-aware Aalen-Johansen value
  at every time (each event adds S(t-)/n to its cause), so nothing is lost; lifelines
  then sees no tie
  and never jitters.
* Its Aalen-Johansen drops an event at the very first time (time 0), and `timeline=`
  can produce NaNs. We never pass `timeline=`, read values off the full event table,
  place day-0 records a hundredth of a day later, and report every value at the
  original times.

Confidence bands: 95 %, log(-log) transformed ("exponential Greenwood" for KM; Collett's
Greenwood-type variance for the cumulative incidence, as lifelines computes it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

CONFIDENCE: Final = 0.95
# Day-level dates: an offset far below a day keeps every record inside its own day.
DAY_ZERO_OFFSET_DAYS: Final = 0.01
# The at-risk table's columns (days from the index date).
AT_RISK_DAYS: Final = (0, 90, 180, 365, 730, 1095)

CENSORED: Final = 0
EVENT: Final = 1  # the event of interest
COMPETING: Final = 2


class InvalidCohort(ValueError):
    """Durations or events that cannot be analysed (negative, non-finite, mismatched)."""


@dataclass(frozen=True)
class Estimate:
    value: float
    lower: float
    upper: float


@dataclass(frozen=True)
class AtRisk:
    day: int
    at_risk: int
    events: int  # cumulative events of interest up to and including this day
    censored: int  # cumulative censorings up to and including this day


@dataclass(frozen=True)
class Curve:
    """A step function over days: survival (KM) or cumulative incidence (AJ).

    `days[i]` is where the step to `value[i]` happens (day 0 first). `empty_reason` says
    why there is nothing to show (no subjects); with subjects but no events the curve is
    flat and `note` says so.
    """

    label: str
    kind: str  # "survival" or "incidence"
    subjects: int
    events: int
    competing: int
    days: tuple[float, ...]
    value: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    at_risk: tuple[AtRisk, ...]
    last_day: float
    empty_reason: str = ""
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.subjects == 0

    def at(self, day: float) -> Estimate | None:
        """The estimate on `day`, or None when no subject was followed that long."""
        if self.empty or day > self.last_day or not self.days:
            return None
        index = int(np.searchsorted(np.asarray(self.days), day, side="right")) - 1
        if index < 0:
            start = 1.0 if self.kind == "survival" else 0.0
            return Estimate(start, start, start)
        return Estimate(self.value[index], self.lower[index], self.upper[index])


def _arrays(
    durations: npt.ArrayLike, events: npt.ArrayLike, allowed: frozenset[int]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=np.int64)
    if t.shape != e.shape or t.ndim != 1:
        raise InvalidCohort("durations and events differ in length")
    if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
        raise InvalidCohort(
            "durations must be finite and not negative (an event before the index?)"
        )
    bad = set(np.unique(e).tolist()) - allowed
    if bad:
        raise InvalidCohort(f"unknown event codes {sorted(bad)}")
    return t, e


def _empty(label: str, kind: str) -> Curve:
    return Curve(
        label=label,
        kind=kind,
        subjects=0,
        events=0,
        competing=0,
        days=(),
        value=(),
        lower=(),
        upper=(),
        at_risk=(),
        last_day=0.0,
        empty_reason="no subjects in this cohort",
    )


def _at_risk(
    t: npt.NDArray[np.float64], e: npt.NDArray[np.int64], days: Sequence[int]
) -> tuple[AtRisk, ...]:
    """Subjects still at risk at the start of each day, with cumulative events and
    censorings up to it. Computed from the data itself (a plain count)."""
    rows = []
    for day in days:
        if day > t.max():
            break
        rows.append(
            AtRisk(
                day=day,
                at_risk=int(np.count_nonzero(t >= day)),
                events=int(np.count_nonzero((t <= day) & (e == EVENT))),
                censored=int(np.count_nonzero((t <= day) & (e == CENSORED))),
            )
        )
    return tuple(rows)


def _clean_bounds(
    value: npt.NDArray[np.float64], bound: npt.NDArray[np.float64]
) -> tuple[float, ...]:
    """log(-log) bounds are undefined where the estimate is exactly 0 or 1: there the
    band collapses onto the estimate."""
    fixed = np.where(np.isfinite(bound), bound, value)
    return tuple(float(x) for x in fixed)


def kaplan_meier(
    durations: npt.ArrayLike,
    events: npt.ArrayLike,
    *,
    label: str,
    at_risk_days: Sequence[int] = AT_RISK_DAYS,
) -> Curve:
    """Kaplan-Meier survival with 95 % log(-log) bands; `events` are 1 (event) or 0."""
    from lifelines import KaplanMeierFitter

    t, e = _arrays(durations, events, frozenset({CENSORED, EVENT}))
    if t.size == 0:
        return _empty(label, "survival")
    fitter = KaplanMeierFitter(alpha=1 - CONFIDENCE).fit(t, event_observed=e == EVENT)
    days = fitter.survival_function_.index.to_numpy(dtype=float)
    value = fitter.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    bands = fitter.confidence_interval_survival_function_
    lower = bands.iloc[:, 0].to_numpy(dtype=float)
    upper = bands.iloc[:, 1].to_numpy(dtype=float)
    events_seen = int(np.count_nonzero(e == EVENT))
    return Curve(
        label=label,
        kind="survival",
        subjects=int(t.size),
        events=events_seen,
        competing=0,
        days=tuple(float(d) for d in days),
        value=tuple(float(v) for v in value),
        lower=_clean_bounds(value, lower),
        upper=_clean_bounds(value, upper),
        at_risk=_at_risk(t, e, at_risk_days),
        last_day=float(t.max()),
        note="" if events_seen else "no events: the curve stays at 100 %",
    )


def _offset(durations: npt.NDArray[np.float64]) -> float:
    """An offset well inside the smallest gap between distinct durations (a hundredth of
    a day for day-level data)."""
    distinct = np.unique(np.concatenate([[0.0], durations]))
    gaps = np.diff(distinct)
    return float(min(DAY_ZERO_OFFSET_DAYS, gaps.min() / 4)) if gaps.size else DAY_ZERO_OFFSET_DAYS


def break_ties(
    durations: npt.NDArray[np.float64], events: npt.NDArray[np.int64], offset: float
) -> npt.NDArray[np.float64]:
    """Durations with day-0 records moved to `offset` and, where an event of interest
    and a competing event share a time, the competing ones moved `offset / 10` before
    it. Every record stays between the previous distinct time and its own."""
    t = np.where(durations == 0, offset, durations).astype(float)
    interest = set(np.unique(t[events == EVENT]).tolist())
    competing = set(np.unique(t[events == COMPETING]).tolist())
    for time in interest & competing:
        t[(t == time) & (events == COMPETING)] -= offset / 10
    return t


def aalen_johansen(
    durations: npt.ArrayLike,
    events: npt.ArrayLike,
    *,
    label: str,
    at_risk_days: Sequence[int] = AT_RISK_DAYS,
) -> Curve:
    """Cumulative incidence of event 1 with event 2 competing (0 = censored)."""
    from lifelines import AalenJohansenFitter

    t, e = _arrays(durations, events, frozenset({CENSORED, EVENT, COMPETING}))
    if t.size == 0:
        return _empty(label, "incidence")
    offset = _offset(t)
    shifted = break_ties(t, e, offset)
    fitter = AalenJohansenFitter(alpha=1 - CONFIDENCE, calculate_variance=True)
    with warnings.catch_warnings():
        # A jitter warning would mean our tie-breaking failed: make it an error.
        warnings.filterwarnings("error", message="Tied event times")
        fitter.fit(shifted, e, event_of_interest=EVENT)
    table = fitter.cumulative_density_
    fitted = table.index.to_numpy(dtype=float)
    bands = fitter.confidence_interval_cumulative_density_
    # lifelines labels its columns upper-then-lower; take the two by size, not name.
    first = bands.iloc[:, 0].to_numpy(dtype=float)
    second = bands.iloc[:, 1].to_numpy(dtype=float)
    # Back to the original times: the value at time T holds every record of T (day-0
    # records sit at `offset`, tied competing events just before T).
    days = np.unique(np.concatenate([[0.0], t]))
    rows = np.searchsorted(fitted, np.where(days == 0, offset, days), side="right") - 1
    value = table.iloc[:, 0].to_numpy(dtype=float)[rows]
    lower, upper = np.fmin(first, second)[rows], np.fmax(first, second)[rows]
    events_seen = int(np.count_nonzero(e == EVENT))
    return Curve(
        label=label,
        kind="incidence",
        subjects=int(t.size),
        events=events_seen,
        competing=int(np.count_nonzero(e == COMPETING)),
        days=tuple(float(d) for d in days),
        value=tuple(float(v) for v in value),
        lower=_clean_bounds(value, lower),
        upper=_clean_bounds(value, upper),
        at_risk=_at_risk(t, e, at_risk_days),
        last_day=float(t.max()),
        note="" if events_seen else "no events: the cumulative incidence stays at 0 %",
    )


@dataclass(frozen=True)
class Rate:
    """Events per 100 person-years with an exact (Garwood) Poisson 95 % interval."""

    events: int
    person_years: float

    @property
    def per_100(self) -> float | None:
        return 100 * self.events / self.person_years if self.person_years > 0 else None

    @property
    def interval(self) -> tuple[float, float] | None:
        from scipy.stats import chi2

        if self.person_years <= 0:
            return None
        alpha = 1 - CONFIDENCE
        low = chi2.ppf(alpha / 2, 2 * self.events) / 2 if self.events else 0.0
        high = chi2.ppf(1 - alpha / 2, 2 * self.events + 2) / 2
        return (100 * low / self.person_years, 100 * high / self.person_years)


def proportion_interval(events: int, total: int) -> tuple[float, float] | None:
    """Wilson score 95 % interval of a proportion (None for an empty denominator)."""
    if total <= 0:
        return None
    z = 1.959963984540054
    p = events / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))
