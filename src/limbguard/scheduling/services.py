"""Every change to the schedule: one transaction, an explicit acting user, one audit row.

Booking checks everything a front desk would (in the future, inside the provider's
hours, the resources free, no overlap) and raises `ValidationError` with a message for
the person at the desk; the database's own overlap rule (migration 0002) backs the
check up against races, and its refusal is turned into the same clear message.
Notices and reminders are enqueued in the same transaction (see config/tasks.py).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AuditAction, User
from limbguard.clinics.models import Center, Provider
from limbguard.registry.models import Patient
from limbguard.scheduling import availability, notify
from limbguard.scheduling.models import (
    HOLDING,
    Appointment,
    AppointmentStatus,
    OfferStatus,
    ResourceBooking,
    VisitType,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from limbguard.scheduling.timeutil import contains

REMINDER_BEFORE = dt.timedelta(hours=48)
OFFER_VALID_FOR = dt.timedelta(hours=24)
OFFERS_PER_FREED_SLOT = 3
SLOT_TAKEN = "That time was just booked by someone else. Please choose another slot."
_OVERLAP_NAMES = ("appointment_no_provider_overlap", "booking_no_resource_overlap")


class SlotTaken(ValidationError):
    """The slot overlaps another booking (seen by the check or by the database)."""


def _fmt(moment: dt.datetime, center: Center) -> str:
    return moment.astimezone(center.zone).strftime("%a %Y-%m-%d %H:%M %Z")


def check_bookable(
    *,
    center: Center,
    provider: Provider,
    visit_type: VisitType,
    starts_at: dt.datetime,
    now: dt.datetime,
    ignore: int | None = None,
) -> dt.datetime:
    """Raise ValidationError unless the visit can be booked; return its end."""
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "The start time needs a time zone."})
    if not visit_type.is_active:
        raise ValidationError({"visit_type": "This visit type is no longer offered."})
    if not provider.centers.filter(pk=center.pk).exists():
        raise ValidationError({"provider": f"{provider} does not see patients at {center}."})
    ends_at = starts_at + dt.timedelta(minutes=visit_type.duration_minutes)
    if starts_at <= now:
        raise ValidationError({"starts_at": "That time is in the past. Choose a future time."})
    zone = center.zone
    first, last = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    free = availability.provider_free(center, provider, first, last, ignore=ignore)
    if not contains(free, starts_at, ends_at):
        booked = Appointment.objects.filter(
            provider=provider,
            status__in=HOLDING,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        if ignore is not None:
            booked = booked.exclude(pk=ignore)
        if booked.exists():
            raise SlotTaken({"starts_at": SLOT_TAKEN})
        raise ValidationError(
            {
                "starts_at": f"{provider} is not available at {center} "
                f"{_fmt(starts_at, center)}–{ends_at.astimezone(zone):%H:%M} "
                "(outside working hours, a holiday or leave)."
            }
        )
    return ends_at


def _is_overlap(error: IntegrityError) -> bool:
    return any(name in str(error) for name in _OVERLAP_NAMES)


def _insert(
    *,
    acting_user: User | None,
    patient: Patient,
    center: Center,
    provider: Provider,
    visit_type: VisitType,
    starts_at: dt.datetime,
    now: dt.datetime,
    contact_email: str,
    note: str,
    rescheduled_from: Appointment | None,
) -> Appointment:
    ignore = rescheduled_from.pk if rescheduled_from is not None else None
    ends_at = check_bookable(
        center=center,
        provider=provider,
        visit_type=visit_type,
        starts_at=starts_at,
        now=now,
        ignore=ignore,
    )
    resources = availability.pick_resources(center, visit_type, starts_at, ends_at, ignore=ignore)
    if resources is None:
        kinds = ", ".join(k.replace("_", " ") for k in visit_type.resource_kinds)
        raise ValidationError({"starts_at": f"No {kinds} is free at {_fmt(starts_at, center)}."})
    appointment = Appointment(
        center=center,
        provider=provider,
        visit_type=visit_type,
        patient=patient,
        starts_at=starts_at,
        ends_at=ends_at,
        contact_email=contact_email or patient.email,
        note=note,
        booked_by=acting_user if acting_user is not None and acting_user.pk else None,
        rescheduled_from=rescheduled_from,
    )
    appointment.full_clean(exclude=["rescheduled_from"])
    appointment.save()
    ResourceBooking.objects.bulk_create(
        ResourceBooking(appointment=appointment, resource=r, starts_at=starts_at, ends_at=ends_at)
        for r in resources
    )
    return appointment


def _after_booking(
    appointment: Appointment, now: dt.datetime, event: str, *, notice: bool = True
) -> None:
    if notice:
        notify.send_appointment_notice.enqueue(appointment.pk, event)
    remind_at = appointment.starts_at - REMINDER_BEFORE
    if remind_at > now:
        notify.send_appointment_reminder.using(run_after=remind_at).enqueue(
            appointment.pk, appointment.starts_at.isoformat()
        )


def do_book_appointment(
    *,
    acting_user: User | None,
    patient: Patient,
    center: Center,
    provider: Provider,
    visit_type: VisitType,
    starts_at: dt.datetime,
    contact_email: str = "",
    note: str = "",
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    send_notice: bool = True,
) -> Appointment:
    """Book a visit; raises SlotTaken when another booking holds the time.

    `send_notice=False` when the caller tells the same person itself (intake e-mails
    its requester); the 48-hour reminder is enqueued either way."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            appointment = _insert(
                acting_user=acting_user,
                patient=patient,
                center=center,
                provider=provider,
                visit_type=visit_type,
                starts_at=starts_at,
                now=now,
                contact_email=contact_email,
                note=note,
                rescheduled_from=None,
            )
            audit.record(
                acting_user=acting_user,
                action=AuditAction.CREATE,
                patient_id=patient.pk,
                obj=appointment,
                summary=f"booked {visit_type.name} {_fmt(starts_at, center)} with {provider}",
                changes=audit.snapshot(
                    appointment, ("center", "provider", "visit_type", "starts_at", "ends_at")
                ),
                ip_address=ip_address,
            )
            _after_booking(appointment, now, "booked", notice=send_notice)
    except IntegrityError as error:
        if _is_overlap(error):
            raise SlotTaken({"starts_at": SLOT_TAKEN}) from None
        raise
    return appointment


def _release(appointment: Appointment, reason: str, now: dt.datetime) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:200]
    appointment.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    appointment.resource_bookings.update(active=False)


@transaction.atomic
def do_cancel_appointment(
    *,
    acting_user: User | None,
    appointment: Appointment,
    reason: str,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    notify_patient: bool = True,
) -> Appointment:
    """Cancel a booked visit, free its time and offer it to the waitlist."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": "Say why the visit is cancelled."})
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status != AppointmentStatus.BOOKED:
        raise ValidationError(
            f"Only a booked visit can be cancelled (this one is {locked.status})."
        )
    _release(locked, reason.strip(), now)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"cancelled: {reason.strip()}"[:300],
        changes={"status": ["booked", "cancelled"]},
        ip_address=ip_address,
    )
    if notify_patient:
        notify.send_appointment_notice.enqueue(locked.pk, "cancelled")
    if locked.starts_at > now:
        offer_freed_slot(appointment=locked, now=now)
    return locked


def do_reschedule_appointment(
    *,
    acting_user: User | None,
    appointment: Appointment,
    starts_at: dt.datetime,
    provider: Provider | None = None,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a booked visit: the old one is cancelled and linked to the new one, in one
    transaction, so the patient never holds both times nor neither."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            old = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if old.status != AppointmentStatus.BOOKED:
                raise ValidationError("Only a booked visit can be moved.")
            old_start = old.starts_at
            # Free the old time first, so that a move by a few minutes (overlapping
            # itself) is not refused; a failure below rolls the release back too.
            _release(old, f"rescheduled to {_fmt(starts_at, old.center)}", now)
            new = _insert(
                acting_user=acting_user,
                patient=old.patient,
                center=old.center,
                provider=provider or old.provider,
                visit_type=old.visit_type,
                starts_at=starts_at,
                now=now,
                contact_email=old.contact_email,
                note=old.note,
                rescheduled_from=old,
            )
            audit.record(
                acting_user=acting_user,
                action=AuditAction.UPDATE,
                patient_id=old.patient_id,
                obj=new,
                summary=f"rescheduled from {_fmt(old_start, old.center)} "
                f"to {_fmt(starts_at, old.center)}",
                changes={
                    "starts_at": [old_start.isoformat(), new.starts_at.isoformat()],
                    "provider": [old.provider_id, new.provider_id],
                },
                ip_address=ip_address,
            )
            _after_booking(new, now, "rescheduled")
            if old_start > now and not (
                new.provider_id == old.provider_id
                and new.starts_at < old.ends_at
                and old.starts_at < new.ends_at
            ):
                offer_freed_slot(appointment=old, now=now)
    except IntegrityError as error:
        if _is_overlap(error):
            raise SlotTaken({"starts_at": SLOT_TAKEN}) from None
        raise
    return new


@transaction.atomic
def do_set_attendance(
    *,
    acting_user: User | None,
    appointment: Appointment,
    status: str,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Mark a visit seen or not attended, once it has started."""
    now = now or timezone.now()
    if status not in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise ValidationError({"status": "Mark the visit seen or not attended."})
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status != AppointmentStatus.BOOKED:
        raise ValidationError("Only a booked visit can be marked.")
    if locked.starts_at > now:
        raise ValidationError("A visit can be marked only once it has started.")
    locked.status = status
    locked.save(update_fields=["status"])
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary=f"visit {locked.get_status_display().lower()}",
        changes={"status": ["booked", status]},
        ip_address=ip_address,
    )
    return locked


# --- waitlist ---------------------------------------------------------------------


@transaction.atomic
def do_add_to_waitlist(
    *,
    acting_user: User | None,
    patient: Patient,
    center: Center,
    visit_type: VisitType,
    earliest: dt.date,
    latest: dt.date,
    provider: Provider | None = None,
    contact_email: str = "",
    note: str = "",
    ip_address: str | None = None,
) -> WaitlistEntry:
    entry = WaitlistEntry(
        patient=patient,
        center=center,
        visit_type=visit_type,
        provider=provider,
        earliest=earliest,
        latest=latest,
        contact_email=contact_email or patient.email,
        note=note,
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    entry.full_clean(exclude=["appointment"])
    if latest < earliest:
        raise ValidationError({"latest": "The last date is before the first."})
    entry.save()
    audit.record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient_id=patient.pk,
        obj=entry,
        summary=f"waitlist for {visit_type.name} {earliest}–{latest}",
        ip_address=ip_address,
    )
    return entry


def offer_freed_slot(*, appointment: Appointment, now: dt.datetime) -> list[WaitlistOffer]:
    """Offer a freed time to the first waiting patients it suits (same center and visit
    type, provider if they asked for one, within their dates); first to accept books it.
    Called inside the cancelling transaction."""
    local_day = appointment.starts_at.astimezone(appointment.center.zone).date()
    entries = (
        WaitlistEntry.objects.select_for_update()
        .filter(
            center=appointment.center,
            visit_type=appointment.visit_type,
            status=WaitlistStatus.WAITING,
            earliest__lte=local_day,
            latest__gte=local_day,
        )
        .filter(Q(provider__isnull=True) | Q(provider=appointment.provider))
        .exclude(patient=appointment.patient)
        .order_by("created_at", "id")[:OFFERS_PER_FREED_SLOT]
    )
    offers = []
    for entry in entries:
        offer = WaitlistOffer.objects.create(
            entry=entry,
            provider=appointment.provider,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            expires_at=min(now + OFFER_VALID_FOR, appointment.starts_at),
        )
        entry.status = WaitlistStatus.OFFERED
        entry.save(update_fields=["status"])
        notify.send_waitlist_offer.enqueue(offer.pk)
        offers.append(offer)
    return offers


def do_accept_offer(
    *, offer: WaitlistOffer, ip_address: str | None = None, now: dt.datetime | None = None
) -> Appointment:
    """The waiting patient takes the offered slot (through their private link)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            WaitlistOffer.objects.select_for_update()
            .select_related("entry", "entry__patient", "entry__center", "entry__visit_type")
            .get(pk=offer.pk)
        )
        expired = locked.status == OfferStatus.OPEN and locked.expires_at <= now
        if expired:
            locked.status = OfferStatus.EXPIRED
            locked.save(update_fields=["status"])
            _back_to_waiting(locked.entry)
    if expired:
        raise ValidationError("This offer has expired.")
    if locked.status != OfferStatus.OPEN:
        raise ValidationError("This offer is no longer open.")
    entry = locked.entry
    try:
        with transaction.atomic():
            appointment = do_book_appointment(
                acting_user=None,
                patient=entry.patient,
                center=entry.center,
                provider=locked.provider,
                visit_type=entry.visit_type,
                starts_at=locked.starts_at,
                contact_email=entry.contact_email,
                note="from the waitlist",
                ip_address=ip_address,
                now=now,
            )
            locked.status = OfferStatus.ACCEPTED
            locked.save(update_fields=["status"])
            entry.status, entry.appointment = WaitlistStatus.BOOKED, appointment
            entry.save(update_fields=["status", "appointment"])
            for other in WaitlistOffer.objects.select_for_update().filter(
                starts_at=locked.starts_at, provider=locked.provider, status=OfferStatus.OPEN
            ):
                other.status = OfferStatus.TAKEN
                other.save(update_fields=["status"])
                _back_to_waiting(other.entry)
    except ValidationError:
        with transaction.atomic():
            WaitlistOffer.objects.filter(pk=locked.pk).update(status=OfferStatus.TAKEN)
            _back_to_waiting(entry)
        raise ValidationError("Sorry, someone else took this time a moment ago.") from None
    return appointment


def _back_to_waiting(entry: WaitlistEntry) -> None:
    if not entry.offers.filter(status=OfferStatus.OPEN).exists():
        WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistStatus.OFFERED).update(
            status=WaitlistStatus.WAITING
        )


@transaction.atomic
def do_remove_from_waitlist(
    *, acting_user: User | None, entry: WaitlistEntry, ip_address: str | None = None
) -> WaitlistEntry:
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status in (WaitlistStatus.BOOKED, WaitlistStatus.REMOVED):
        return locked
    locked.status = WaitlistStatus.REMOVED
    locked.save(update_fields=["status"])
    locked.offers.filter(status=OfferStatus.OPEN).update(status=OfferStatus.EXPIRED)
    audit.record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient_id=locked.patient_id,
        obj=locked,
        summary="removed from the waitlist",
        ip_address=ip_address,
    )
    return locked


def audit_view(
    *, acting_user: User, obj: Appointment, ip_address: str | None, summary: str = "opened"
) -> None:
    audit.record(
        acting_user=acting_user,
        action=AuditAction.VIEW,
        patient_id=obj.patient_id,
        obj=obj,
        summary=f"appointment {summary}",
        ip_address=ip_address,
    )
