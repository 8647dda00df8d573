"""Local wall-clock time ⇄ UTC for a center, with the daylight-saving edge cases named.

Times are stored in UTC and shown and entered in the center's own zone. Two local
times need a rule:

* a time that does not exist (the spring-forward gap, e.g. 02:30 on the second Sunday
  of March in America/Los_Angeles) is refused with `NonexistentLocalTime`;
* a time that happens twice (the fall-back hour, e.g. 01:30 on the first Sunday of
  November) means its *first* occurrence (daylight time, `fold=0`), as people read a
  clock; pass `fold=1` for the second.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

UTC = dt.UTC


class NonexistentLocalTime(ValueError):
    """The wall-clock time falls in a daylight-saving gap."""


def localize(day: dt.date, time: dt.time, zone: zoneinfo.ZoneInfo, *, fold: int = 0) -> dt.datetime:
    """The aware moment for `day` `time` on the wall clocks of `zone`."""
    naive = dt.datetime.combine(day, time).replace(fold=fold)
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None, fold=0) != naive.replace(fold=0):
        raise NonexistentLocalTime(
            f"{day:%Y-%m-%d} {time:%H:%M} does not exist in {zone.key} "
            "(clocks spring forward at that hour)"
        )
    return aware.astimezone(UTC)


def local_bounds(day: dt.date, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local calendar day in UTC: 23, 24 or 25 hours long."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end.astimezone(UTC)


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


Interval = tuple[dt.datetime, dt.datetime]


def subtract(windows: list[Interval], busy: list[Interval]) -> list[Interval]:
    """`windows` minus every `busy` interval; half-open [start, end) throughout."""
    result: list[Interval] = []
    blocks = sorted(busy)
    for start, end in sorted(windows):
        cursor = start
        for b_start, b_end in blocks:
            if b_end <= cursor or b_start >= end:
                continue
            if b_start > cursor:
                result.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def contains(windows: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether [start, end) lies inside one of `windows` (merged when they touch)."""
    merged: list[Interval] = []
    for w_start, w_end in sorted(windows):
        if merged and w_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], w_end))
        else:
            merged.append((w_start, w_end))
    return any(w_start <= start and end <= w_end for w_start, w_end in merged)
