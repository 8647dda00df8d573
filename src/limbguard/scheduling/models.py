"""Bookable time: resources, visit types, weekly availability with exceptions,
appointments that never overlap, and the waitlist.

Every moment is stored in UTC; templates hold local wall-clock times of their center
(see timeutil.py for the daylight-saving rules). No provider and no resource can hold
two overlapping appointments: the database refuses it (an exclusion constraint on
PostgreSQL, triggers on SQLite; migration 0002), and `services.py` checks first so the
user gets a clear message instead of an error.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from limbguard.clinics.models import Center, Provider, Weekday
from limbguard.registry.models import Patient


def new_link_key() -> str:
    return secrets.token_urlsafe(16)


class ResourceKind(models.TextChoices):
    DUPLEX_LAB = "duplex_lab", "Duplex lab"
    PROCEDURE_ROOM = "procedure_room", "Procedure room"
    EXAM_ROOM = "exam_room", "Exam room"


class Resource(models.Model):
    """A room or device that a visit needs, at one center."""

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["center", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["center", "name"], name="resource_name_per_center")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.center.name})"


class VisitType(models.Model):
    """A kind of visit: how long it takes and which resource kinds it needs (one each)."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(8 * 60)]
    )
    resource_kinds = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["duration_minutes", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"

    def clean(self) -> None:
        kinds = self.resource_kinds
        if not isinstance(kinds, list) or any(k not in ResourceKind.values for k in kinds):
            raise ValidationError({"resource_kinds": "A list of resource kinds."})
        if len(set(kinds)) != len(kinds):
            raise ValidationError({"resource_kinds": "Each kind once."})


def _one_owner() -> models.Q:
    return models.Q(provider__isnull=False, resource__isnull=True) | models.Q(
        provider__isnull=True, resource__isnull=False
    )


class AvailabilityTemplate(models.Model):
    """A weekly window, in the center's local time, when a provider or a resource can
    be booked there (e.g. Monday 08:00–17:00). A day may hold several windows."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="availability")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="availability"
    )
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.CASCADE, related_name="availability"
    )
    weekday = models.IntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["center", "provider", "resource", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=_one_owner(), name="template_provider_or_resource"),
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="template_starts_before_end",
            ),
        ]

    def __str__(self) -> str:
        who = self.provider or self.resource
        return f"{who} {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def applies_on(self, day: dt.date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class AvailabilityException(models.Model):
    """Time when nothing can be booked: a holiday closes the whole center (no provider,
    no resource); leave closes one provider, maintenance one resource."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="closures")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="closures"
    )
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.CASCADE, related_name="closures"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="exception_starts_before_end",
            ),
            models.CheckConstraint(
                condition=models.Q(provider__isnull=True) | models.Q(resource__isnull=True),
                name="exception_not_both_provider_and_resource",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason}: {self.starts_at:%Y-%m-%d %H:%M}Z–{self.ends_at:%Y-%m-%d %H:%M}Z"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Seen"
    NO_SHOW = "no_show", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


# Every status but "cancelled" holds its time: the overlap rule applies to them.
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


class Appointment(models.Model):
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    visit_type = models.ForeignKey(VisitType, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    contact_email = models.EmailField(blank=True, help_text="where notices and reminders go")
    note = models.CharField(max_length=300, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rescheduled_to"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    link_key = models.CharField(max_length=32, default=new_link_key, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="appointment_starts_before_end",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "starts_at"]),
            models.Index(fields=["center", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.visit_type.name} {self.starts_at:%Y-%m-%d %H:%M}Z with {self.provider}"

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING


class ResourceBooking(models.Model):
    """The resource an appointment holds; inactive once the appointment is cancelled.
    The times copy the appointment's so the database can compare them directly."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="resource_bookings"
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="resource_booking_starts_before_end",
            ),
        ]
        indexes = [models.Index(fields=["resource", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.resource} for appointment {self.appointment_id}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a slot"
    BOOKED = "booked", "Booked"
    REMOVED = "removed", "Removed"


class WaitlistEntry(models.Model):
    """A patient who wants an earlier time; offered freed slots that fit, first come."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="waitlist")
    visit_type = models.ForeignKey(VisitType, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist"
    )
    earliest = models.DateField()
    latest = models.DateField()
    contact_email = models.EmailField(blank=True)
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(earliest__lte=models.F("latest")),
                name="waitlist_earliest_before_latest",
            ),
        ]

    def __str__(self) -> str:
        return f"Waitlist {self.pk}: patient {self.patient_id} for {self.visit_type}"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    TAKEN = "taken", "Taken by someone else"
    EXPIRED = "expired", "Expired"


class WaitlistOffer(models.Model):
    """A freed slot offered to a waiting patient through a private link."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    link_key = models.CharField(max_length=32, default=new_link_key, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Offer {self.pk} to waitlist {self.entry_id}"
