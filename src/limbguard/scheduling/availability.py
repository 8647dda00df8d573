"""When providers and resources are free: weekly templates, minus exceptions, minus
appointments, as UTC intervals. Read-only; `services.py` books."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from limbguard.clinics.models import Center, Provider
from limbguard.scheduling.models import (
    HOLDING,
    Appointment,
    AvailabilityException,
    AvailabilityTemplate,
    Resource,
    ResourceBooking,
    VisitType,
)
from limbguard.scheduling.timeutil import (
    Interval,
    NonexistentLocalTime,
    contains,
    localize,
    subtract,
)

SLOT_STEP = dt.timedelta(minutes=15)
MAX_SEARCH_DAYS = 31


@dataclass(frozen=True)
class Slot:
    """A bookable start: the provider and one free resource of each kind the visit needs."""

    provider: Provider
    starts_at: dt.datetime
    ends_at: dt.datetime
    resources: tuple[Resource, ...] = field(default=())


def _template_windows(
    templates: Iterable[AvailabilityTemplate], center: Center, first: dt.date, last: dt.date
) -> list[Interval]:
    zone = center.zone
    windows: list[Interval] = []
    day = first
    templates = list(templates)
    while day <= last:
        for t in templates:
            if not t.applies_on(day):
                continue
            start, end = _wall(day, t.start_time, zone), _wall(day, t.end_time, zone)
            if start < end:
                windows.append((start, end))
        day += dt.timedelta(days=1)
    return windows


def _wall(day: dt.date, time: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A template boundary in UTC; one inside the spring-forward gap moves to when the
    clocks resume (02:30 → 03:30), as a wall clock would show it."""
    try:
        return localize(day, time, zone)
    except NonexistentLocalTime:
        later = dt.datetime.combine(day, time) + dt.timedelta(hours=1)
        return localize(day, later.time(), zone)


def _closures(center: Center, owner: Q, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    rows = AvailabilityException.objects.filter(
        Q(center=center) & (Q(provider__isnull=True, resource__isnull=True) | owner),
        starts_at__lt=end,
        ends_at__gt=start,
    ).values_list("starts_at", "ends_at")
    return list(rows)


def _search_bounds(
    center: Center, first: dt.date, last: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    zone = center.zone
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end.astimezone(dt.UTC)


def provider_free(
    center: Center, provider: Provider, first: dt.date, last: dt.date, *, ignore: int | None = None
) -> list[Interval]:
    """The provider's bookable intervals at `center` between two local dates (inclusive)."""
    start, end = _search_bounds(center, first, last)
    templates = AvailabilityTemplate.objects.filter(center=center, provider=provider)
    windows = _template_windows(templates, center, first, last)
    busy = _closures(center, Q(provider=provider), start, end)
    appointments = Appointment.objects.filter(
        provider=provider, status__in=HOLDING, starts_at__lt=end, ends_at__gt=start
    )
    if ignore is not None:
        appointments = appointments.exclude(pk=ignore)
    busy += list(appointments.values_list("starts_at", "ends_at"))
    return subtract(windows, busy)


def resource_free(
    center: Center, resource: Resource, first: dt.date, last: dt.date, *, ignore: int | None = None
) -> list[Interval]:
    start, end = _search_bounds(center, first, last)
    templates = AvailabilityTemplate.objects.filter(center=center, resource=resource)
    windows = _template_windows(templates, center, first, last)
    busy = _closures(center, Q(resource=resource), start, end)
    bookings = ResourceBooking.objects.filter(
        resource=resource, active=True, starts_at__lt=end, ends_at__gt=start
    )
    if ignore is not None:
        bookings = bookings.exclude(appointment_id=ignore)
    busy += list(bookings.values_list("starts_at", "ends_at"))
    return subtract(windows, busy)


def pick_resources(
    center: Center,
    visit_type: VisitType,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    free: dict[int, list[Interval]] | None = None,
    ignore: int | None = None,
) -> tuple[Resource, ...] | None:
    """One free resource of each kind the visit needs, or None when a kind has none."""
    zone = center.zone
    day = starts_at.astimezone(zone).date()
    last = ends_at.astimezone(zone).date()
    chosen: list[Resource] = []
    for kind in visit_type.resource_kinds:
        found = None
        for resource in Resource.objects.filter(center=center, kind=kind, is_active=True):
            windows = (
                free[resource.pk]
                if free is not None and resource.pk in free
                else resource_free(center, resource, day, last, ignore=ignore)
            )
            if contains(windows, starts_at, ends_at):
                found = resource
                break
        if found is None:
            return None
        chosen.append(found)
    return tuple(chosen)


def providers_for(center: Center, provider: Provider | None) -> list[Provider]:
    if provider is not None:
        return [provider]
    return list(
        Provider.objects.filter(
            centers=center, is_active=True, availability__center=center
        ).distinct()
    )


def free_slots(
    *,
    center: Center,
    visit_type: VisitType,
    first: dt.date,
    days: int,
    now: dt.datetime,
    provider: Provider | None = None,
    limit: int = 60,
) -> list[Slot]:
    """Bookable starts (every 15 minutes) from `first` for `days` local days, after `now`,
    ordered by time then provider; at most `limit`."""
    days = max(1, min(days, MAX_SEARCH_DAYS))
    last = first + dt.timedelta(days=days - 1)
    length = dt.timedelta(minutes=visit_type.duration_minutes)
    resources = {
        r.pk: resource_free(center, r, first, last)
        for r in Resource.objects.filter(
            center=center, kind__in=visit_type.resource_kinds, is_active=True
        )
    }
    slots: list[Slot] = []
    for who in providers_for(center, provider):
        for start, end in provider_free(center, who, first, last):
            cursor = _align(start)
            while cursor + length <= end:
                if cursor > now:
                    picked = pick_resources(
                        center, visit_type, cursor, cursor + length, free=resources
                    )
                    if picked is not None:
                        slots.append(Slot(who, cursor, cursor + length, picked))
                cursor += SLOT_STEP
    slots.sort(key=lambda s: (s.starts_at, s.provider.name))
    return slots[:limit]


def _align(moment: dt.datetime) -> dt.datetime:
    """Round up to the next quarter hour (UTC quarter hours are local ones in every US zone)."""
    minutes = (moment.minute // 15) * 15
    aligned = moment.replace(minute=minutes, second=0, microsecond=0)
    return aligned if aligned == moment else aligned + SLOT_STEP
