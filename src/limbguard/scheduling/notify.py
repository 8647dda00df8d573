"""E-mail about appointments, sent by `limbguard worker`. Each message carries only a
private link: no name, no date, no clinic, nothing about the patient. The link's page
shows the details and the .ics invitation.

Tasks take ids and re-read the row, so a stale task (a visit cancelled or moved since)
sends nothing; a reminder is sent at most once per appointment.
"""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from limbguard.scheduling.links import absolute, make_link_token

SUBJECTS = {
    "booked": "Your appointment is booked",
    "rescheduled": "Your appointment has moved",
    "cancelled": "Your appointment was cancelled",
    "reminder": "Reminder: your appointment is coming up",
    "offer": "An earlier appointment is available",
}


def appointment_link(appointment_id: int, link_key: str) -> str:
    token = make_link_token("appointment", appointment_id, link_key)
    return absolute(reverse("scheduling:public_appointment", args=[token]))


def offer_link(offer_id: int, link_key: str) -> str:
    token = make_link_token("offer", offer_id, link_key)
    return absolute(reverse("scheduling:public_offer", args=[token]))


def _send(to: str, event: str, link: str) -> None:
    body = (
        f"{SUBJECTS[event]}.\n\n"
        f"See the details on this private page:\n{link}\n\n"
        "For your privacy this e-mail holds no details; please do not forward the link.\n"
        "— LimbGuard limb salvage program\n"
    )
    send_mail(f"LimbGuard: {SUBJECTS[event]}", body, None, [to])


@task()
def send_appointment_notice(appointment_id: int, event: str) -> bool:
    from limbguard.scheduling.models import Appointment

    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None or not appointment.contact_email:
        return False
    _send(appointment.contact_email, event, appointment_link(appointment.pk, appointment.link_key))
    return True


@task()
def send_appointment_reminder(appointment_id: int, starts_at: str) -> bool:
    """Due 48 h before the visit; skipped when the visit was cancelled or moved."""
    from limbguard.scheduling.models import Appointment, AppointmentStatus

    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .filter(pk=appointment_id, status=AppointmentStatus.BOOKED, reminder_sent_at=None)
            .first()
        )
        if appointment is None or appointment.starts_at != dt.datetime.fromisoformat(starts_at):
            return False
        if appointment.starts_at <= timezone.now() or not appointment.contact_email:
            return False
        appointment.reminder_sent_at = timezone.now()
        appointment.save(update_fields=["reminder_sent_at"])
        _send(
            appointment.contact_email,
            "reminder",
            appointment_link(appointment.pk, appointment.link_key),
        )
    return True


@task()
def send_waitlist_offer(offer_id: int) -> bool:
    from limbguard.scheduling.models import OfferStatus, WaitlistOffer

    offer = WaitlistOffer.objects.select_related("entry").filter(pk=offer_id).first()
    if offer is None or offer.status != OfferStatus.OPEN or not offer.entry.contact_email:
        return False
    _send(offer.entry.contact_email, "offer", offer_link(offer.pk, offer.link_key))
    return True
