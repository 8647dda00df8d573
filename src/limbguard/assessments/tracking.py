"""One wound's healing timeline and the 4-week rule: pure functions over measurements.

Areas come from `limbguard.vascular.wound.area` (length x width), the 4-week check and
the projection from the same module. This module only picks the baseline (the first
measurement) and the measurement that counts as "4 weeks" (the one closest to day 28
inside the library's 21-35 day window; on a tie the later one).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from limbguard.vascular import wound

FOUR_WEEK_SOURCE: Final = wound.SHEEHAN_SOURCE


class FourWeekStatus(enum.StrEnum):
    ON_TRACK = "on track"
    OFF_TRACK = "off track"
    PENDING = "pending"  # less than 4 weeks (- tolerance) since the baseline
    MISSED = "missed"  # the 3-5 week window passed without a measurement
    NOT_APPLICABLE = "not applicable"  # no 4-week rule for this wound type, or healed early


@dataclass(frozen=True)
class Measurement:
    on: dt.date
    area_cm2: float


@dataclass(frozen=True)
class Point:
    on: dt.date
    day: int
    area_cm2: float
    percent_reduction: float | None


@dataclass(frozen=True)
class Trajectory:
    points: tuple[Point, ...]
    status: FourWeekStatus
    check: wound.FourWeekCheck | None
    projection: wound.HealingProjection | None
    reasons: tuple[str, ...]
    source: str

    @property
    def off_track(self) -> bool:
        return self.status is FourWeekStatus.OFF_TRACK


def trajectory(
    measurements: Sequence[Measurement], *, ulcer_type: str | None, today: dt.date
) -> Trajectory:
    """The timeline and 4-week verdict; `ulcer_type` is a `wound.UlcerType` value or None."""
    ordered = sorted(measurements, key=lambda m: m.on)
    if not ordered:
        return Trajectory((), FourWeekStatus.PENDING, None, None, ("no measurement yet",), "")
    baseline = ordered[0]
    points = []
    for m in ordered:
        percent = (
            wound.percent_area_reduction(baseline_cm2=baseline.area_cm2, current_cm2=m.area_cm2)
            if baseline.area_cm2 >= float(wound.MIN_BASELINE_CM2)
            else None
        )
        points.append(Point(m.on, (m.on - baseline.on).days, m.area_cm2, percent))
    latest = ordered[-1]
    projection = None
    if len(ordered) > 1 and latest.on > baseline.on:
        projection = wound.project_healing(
            baseline_cm2=baseline.area_cm2,
            current_cm2=latest.area_cm2,
            days_elapsed=min((latest.on - baseline.on).days, wound.MAX_INTERVAL_DAYS),
        )
    low = wound.FOUR_WEEKS_DAYS - wound.FOUR_WEEK_TOLERANCE_DAYS
    high = wound.FOUR_WEEKS_DAYS + wound.FOUR_WEEK_TOLERANCE_DAYS
    if ulcer_type is None:
        reason = "no published 4-week rule for this wound type; trajectory shown only"
        return Trajectory(
            tuple(points), FourWeekStatus.NOT_APPLICABLE, None, projection, (reason,), ""
        )
    in_window = [p for p in points if low <= p.day <= high]
    if in_window and baseline.area_cm2 >= float(wound.MIN_BASELINE_CM2):
        chosen = min(in_window, key=lambda p: (abs(p.day - wound.FOUR_WEEKS_DAYS), -p.day))
        check = wound.four_week_check(
            baseline_cm2=baseline.area_cm2,
            current_cm2=chosen.area_cm2,
            days_elapsed=chosen.day,
            ulcer_type=ulcer_type,
        )
        status = FourWeekStatus.ON_TRACK if check.on_track else FourWeekStatus.OFF_TRACK
        reasons = (f"baseline {baseline.on}, 4-week measurement {chosen.on}", *check.reasons)
        return Trajectory(tuple(points), status, check, projection, reasons, check.source)
    if latest.area_cm2 == 0 and latest.on <= baseline.on + dt.timedelta(days=high):
        reason = "closed before the 4-week measurement"
        return Trajectory(
            tuple(points), FourWeekStatus.NOT_APPLICABLE, None, projection, (reason,), ""
        )
    elapsed = (today - baseline.on).days
    if elapsed <= high:
        due = baseline.on + dt.timedelta(days=wound.FOUR_WEEKS_DAYS)
        reason = f"4-week measurement due on {due} (accepted from day {low} to day {high})"
        return Trajectory(
            tuple(points), FourWeekStatus.PENDING, None, projection, (reason,), FOUR_WEEK_SOURCE
        )
    reason = f"no measurement between day {low} and day {high} after the baseline"
    return Trajectory(
        tuple(points), FourWeekStatus.MISSED, None, projection, (reason,), FOUR_WEEK_SOURCE
    )
