"""iCalendar (RFC 5545) invitations for appointments, in the center's time zone."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from limbguard.scheduling.models import Appointment, AppointmentStatus


def appointment_ics(appointment: Appointment) -> bytes:
    """One VEVENT with the center's VTIMEZONE; a cancelled visit is STATUS:CANCELLED,
    so a calendar that imported it drops it. The patient's name is left out."""
    center = appointment.center
    zone = center.zone
    calendar = Calendar()
    calendar.add("prodid", "-//LimbGuard//Scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add(
        "method", "CANCEL" if appointment.status == AppointmentStatus.CANCELLED else "PUBLISH"
    )
    calendar.add_component(
        Timezone.from_tzid(
            center.time_zone,
            first_date=appointment.starts_at.astimezone(zone).date(),
            last_date=appointment.ends_at.astimezone(zone).date(),
        )
    )
    event = Event()
    host = settings.PUBLIC_BASE_URL.split("://", 1)[-1]
    event.add("uid", f"appointment-{appointment.pk}@{host}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    event.add("summary", f"{appointment.visit_type.name} at {center.name}")
    event.add(
        "location",
        f"{center.name}, {center.address_line}, {center.city}, {center.state} {center.postal_code}",
    )
    event.add("description", f"With {appointment.provider}. Questions: {center.phone}.")
    event.add(
        "status", "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED"
    )
    event.add("sequence", 1 if appointment.status == AppointmentStatus.CANCELLED else 0)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
