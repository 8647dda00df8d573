"""Scheduling demo data: visit types, rooms and devices, weekly hours, a holiday, and a
populated week of appointments. Idempotent (keyed by codes, names and times).

`ensure_setup()` is also what the tests use to get a realistic schedule.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from limbguard.clinics.models import Center, Provider
from limbguard.registry.models import Patient
from limbguard.scheduling import availability, services
from limbguard.scheduling.models import (
    Appointment,
    AvailabilityException,
    AvailabilityTemplate,
    Resource,
    ResourceKind,
    VisitType,
)
from limbguard.scheduling.timeutil import localize

# The visit types: durations and the resource each needs.
VISIT_TYPES: tuple[tuple[str, str, int, list[str]], ...] = (
    ("new-consult", "New consultation", 60, []),
    ("follow-up", "Follow-up", 30, []),
    ("duplex", "Duplex ultrasound", 45, [ResourceKind.DUPLEX_LAB]),
    ("procedure", "Procedure", 120, [ResourceKind.PROCEDURE_ROOM]),
)
RESOURCES = (
    ("Duplex lab", ResourceKind.DUPLEX_LAB),
    ("Procedure room", ResourceKind.PROCEDURE_ROOM),
)
OPENS, CLOSES = dt.time(8), dt.time(17)


def ensure_visit_types() -> dict[str, VisitType]:
    types = {}
    for code, name, minutes, kinds in VISIT_TYPES:
        types[code], _ = VisitType.objects.get_or_create(
            code=code,
            defaults={"name": name, "duration_minutes": minutes, "resource_kinds": list(kinds)},
        )
    return types


def _weekdays_at(provider: Provider, center: Center) -> list[int]:
    """Mon–Fri at a provider's only center; spread over the week when they have several
    (a person is in one place at a time: Mon/Wed/Fri at the first, Tue/Thu at the next…)."""
    slugs = sorted(provider.centers.values_list("slug", flat=True))
    if len(slugs) <= 1:
        return [0, 1, 2, 3, 4]
    index = slugs.index(center.slug)
    return [day for day in range(5) if day % len(slugs) == index]


@transaction.atomic
def ensure_setup(centers: dict[str, Center]) -> dict[str, VisitType]:
    """Visit types; a duplex lab and a procedure room per center, open Mon–Fri 8–17;
    each provider's weekly hours at each of their centers."""
    types = ensure_visit_types()
    for center in centers.values():
        for name, kind in RESOURCES:
            resource, created = Resource.objects.get_or_create(
                center=center, name=name, defaults={"kind": kind}
            )
            if created:
                AvailabilityTemplate.objects.bulk_create(
                    AvailabilityTemplate(
                        center=center,
                        resource=resource,
                        weekday=day,
                        start_time=OPENS,
                        end_time=CLOSES,
                    )
                    for day in range(5)
                )
        for provider in center.providers.all():
            if AvailabilityTemplate.objects.filter(center=center, provider=provider).exists():
                continue
            AvailabilityTemplate.objects.bulk_create(
                AvailabilityTemplate(
                    center=center,
                    provider=provider,
                    weekday=day,
                    start_time=OPENS,
                    end_time=CLOSES,
                )
                for day in _weekdays_at(provider, center)
            )
    return types


def ensure_demo_schedule(centers: dict[str, Center]) -> int:
    """The set-up, a staff-training closure at Valley two Fridays ahead, and a week of
    appointments; returns how many appointments were booked."""
    ensure_setup(centers)
    today = timezone.localdate()
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7 + 7)
    ensure_holiday(centers["valley"], friday, "Staff training")
    return ensure_week(centers)


def ensure_holiday(center: Center, day: dt.date, reason: str) -> None:
    zone = center.zone
    start = localize(day, dt.time(0), zone)
    end = localize(day + dt.timedelta(days=1), dt.time(0), zone)
    AvailabilityException.objects.get_or_create(
        center=center,
        provider=None,
        resource=None,
        starts_at=start,
        defaults={"ends_at": end, "reason": reason},
    )


def ensure_week(centers: dict[str, Center], *, first: dt.date | None = None) -> int:
    """Fill the next working days (tomorrow through next week's Friday) at every center,
    four visits per provider per day, for the demo patients of that center; returns how
    many appointments were created. Days that already hold appointments are kept."""
    types = ensure_setup(centers)
    first = first or timezone.localdate() + dt.timedelta(days=1)
    last = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 7)
    now = timezone.now()
    created = 0
    mix = itertools.cycle(["new-consult", "follow-up", "duplex", "follow-up", "procedure"])
    for center in centers.values():
        patients = list(Patient.objects.filter(home_center=center).order_by("id")[:60])
        if not patients:
            continue
        who = itertools.cycle(patients)
        day = first
        while day <= last:
            start, end = (
                localize(day, dt.time(0), center.zone),
                localize(day + dt.timedelta(days=1), dt.time(0), center.zone),
            )
            busy = Appointment.objects.filter(
                center=center, starts_at__gte=start, starts_at__lt=end
            )
            if day.weekday() < 5 and not busy.exists():
                created += _fill_day(center, day, types, mix, who, now)
            day += dt.timedelta(days=1)
    return created


def _fill_day(
    center: Center,
    day: dt.date,
    types: dict[str, VisitType],
    mix: itertools.cycle[str],
    who: itertools.cycle[Patient],
    now: dt.datetime,
) -> int:
    created = 0
    for provider in availability.providers_for(center, None):
        for hour in (dt.time(8), dt.time(9, 30), dt.time(11), dt.time(13, 30)):
            try:
                services.do_book_appointment(
                    acting_user=None,
                    patient=next(who),
                    center=center,
                    provider=provider,
                    visit_type=types[next(mix)],
                    starts_at=localize(day, hour, center.zone),
                    now=now,
                )
            except ValidationError:
                continue
            created += 1
    return created
