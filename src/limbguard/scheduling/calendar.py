"""Day and week calendars of a center, a provider or a resource, laid out on the
center's wall clock (15-minute rows from 07:00 to 19:00)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from limbguard.clinics.models import Center, Provider
from limbguard.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    Resource,
)
from limbguard.scheduling.timeutil import local_bounds

FIRST_HOUR, LAST_HOUR = 7, 19
ROW_MINUTES = 15


@dataclass(frozen=True)
class Entry:
    appointment: Appointment
    local_start: dt.datetime
    local_end: dt.datetime
    row: int
    span: int


@dataclass(frozen=True)
class Day:
    date: dt.date
    column: int
    entries: tuple[Entry, ...]
    closures: tuple[str, ...]


@dataclass(frozen=True)
class Calendar:
    center: Center
    days: tuple[Day, ...]
    hours: tuple[tuple[int, str], ...]  # (grid row, label)
    rows: int


def appointments_in(
    center: Center,
    start: dt.datetime,
    end: dt.datetime,
    *,
    provider: Provider | None = None,
    resource: Resource | None = None,
) -> QuerySet[Appointment]:
    qs = Appointment.objects.filter(center=center, starts_at__lt=end, ends_at__gt=start).exclude(
        status=AppointmentStatus.CANCELLED
    )
    if provider is not None:
        qs = qs.filter(provider=provider)
    if resource is not None:
        qs = qs.filter(resource_bookings__resource=resource, resource_bookings__active=True)
    return qs.select_related("patient", "provider", "visit_type").order_by("starts_at")


def _row(moment: dt.datetime) -> int:
    minutes = (moment.hour - FIRST_HOUR) * 60 + moment.minute
    return max(0, min(minutes, (LAST_HOUR - FIRST_HOUR) * 60)) // ROW_MINUTES + 2


def build(
    center: Center,
    first: dt.date,
    days: int,
    *,
    provider: Provider | None = None,
    resource: Resource | None = None,
) -> Calendar:
    zone = center.zone
    start, _ = local_bounds(first, zone)
    _, end = local_bounds(first + dt.timedelta(days=days - 1), zone)
    by_day: dict[dt.date, list[Entry]] = {}
    for appointment in appointments_in(center, start, end, provider=provider, resource=resource):
        local_start = appointment.starts_at.astimezone(zone)
        local_end = appointment.ends_at.astimezone(zone)
        row = _row(local_start)
        span = max(1, _row(local_end) - row)
        by_day.setdefault(local_start.date(), []).append(
            Entry(appointment, local_start, local_end, row, span)
        )
    closures: dict[dt.date, list[str]] = {}
    owner = Q(provider__isnull=True, resource__isnull=True)
    if provider is not None:
        owner |= Q(provider=provider)
    if resource is not None:
        owner |= Q(resource=resource)
    for closure in AvailabilityException.objects.filter(
        owner, center=center, starts_at__lt=end, ends_at__gt=start
    ):
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            d_start, d_end = local_bounds(day, zone)
            if closure.starts_at < d_end and closure.ends_at > d_start:
                closures.setdefault(day, []).append(closure.reason)
    day_list = tuple(
        Day(
            date=first + dt.timedelta(days=i),
            column=i + 2,
            entries=tuple(by_day.get(first + dt.timedelta(days=i), [])),
            closures=tuple(closures.get(first + dt.timedelta(days=i), [])),
        )
        for i in range(days)
    )
    hours = tuple(
        ((hour - FIRST_HOUR) * 60 // ROW_MINUTES + 2, f"{hour:02d}:00")
        for hour in range(FIRST_HOUR, LAST_HOUR)
    )
    return Calendar(
        center=center,
        days=day_list,
        hours=hours,
        rows=(LAST_HOUR - FIRST_HOUR) * 60 // ROW_MINUTES,
    )
