"""Requests from the public site (visit requests, referrals, messages), their
conversation, attachments and status history, and the anti-abuse bookkeeping.

A request may hold patient details typed by a member of the public or a referring
clinician; staff reads of it are audited like a chart. Attachments are stored under
MEDIA_ROOT (outside the web root) with random names, and only served through a
permission-checked view.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from limbguard.clinics.models import Center, Provider
from limbguard.registry.models import Patient
from limbguard.scheduling.models import Appointment


def new_link_key() -> str:
    return secrets.token_urlsafe(16)


class RequestKind(models.TextChoices):
    VISIT = "visit", "Visit request"
    REFERRAL = "referral", "Referral"
    CONTACT = "contact", "Message"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    TRIAGED = "triaged", "Triaged"
    SCHEDULED = "scheduled", "Scheduled"
    SEEN = "seen", "Seen"
    REPORT_SENT = "report_sent", "Report sent"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.TRIAGED)


class UrgencyLevel(models.TextChoices):
    EMERGENT = "emergent", "Emergent"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


class IntakeRequest(models.Model):
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    # Triage: computed from the red flags when received (rules.py), with the rule text.
    red_flags = models.JSONField(default=list, blank=True)
    urgency = models.CharField(
        max_length=10, choices=UrgencyLevel.choices, default=UrgencyLevel.ROUTINE
    )
    urgency_rule = models.CharField(max_length=300, blank=True)
    urgency_rank = models.SmallIntegerField(default=99, db_index=True)
    # Routing: the center asked for (or none: "any"), then the staff's assignment.
    center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_requests",
    )
    # Who wrote: the patient (visit, contact) or the referring clinician (referral).
    requester_name = models.CharField(max_length=120)
    requester_email = models.EmailField()
    requester_phone = models.CharField(max_length=30, blank=True)
    referrer_organization = models.CharField(max_length=150, blank=True)
    referrer_npi = models.CharField("referrer NPI", max_length=10, blank=True)
    # The patient, as typed (a referral or a visit request).
    patient_given_name = models.CharField(max_length=100, blank=True)
    patient_family_name = models.CharField(max_length=100, blank=True)
    patient_birth_date = models.DateField(null=True, blank=True)
    patient_phone = models.CharField(max_length=30, blank=True)
    patient_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=150, blank=True)
    preferred_times = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=4000)
    # Outcome.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    link_key = models.CharField(max_length=32, default=new_link_key, editable=False)
    submitted_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("triage_intakerequest", "Can triage, assign, convert and book requests")]
        indexes = [
            models.Index(fields=["status", "urgency_rank", "created_at"]),
            models.Index(fields=["center", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def patient_display(self) -> str:
        return f"{self.patient_family_name}, {self.patient_given_name}".strip(", ")


class AuthorKind(models.TextChoices):
    PUBLIC = "public", "Requester"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "LimbGuard"


class Message(models.Model):
    """One message of a request's conversation. Public messages are unread until a
    staff member opens the request; staff replies are unread until the requester
    opens their link."""

    request = models.ForeignKey(IntakeRequest, on_delete=models.PROTECT, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "author_kind", "read_at"])]

    def __str__(self) -> str:
        return f"{self.author_kind} message on request {self.request_id}"


class StatusChange(models.Model):
    request = models.ForeignKey(
        IntakeRequest, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=RequestStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random name without the sender's file name or extension."""
    return f"intake/{uuid.uuid4().hex}"


class Attachment(models.Model):
    request = models.ForeignKey(IntakeRequest, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=150)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class ChallengeUse(models.Model):
    """A spent arithmetic challenge: its nonce can never be answered again."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.nonce


class RateLimitHit(models.Model):
    """One public form submission attempt from an address, kept for the window."""

    scope = models.CharField(max_length=20)
    address = models.GenericIPAddressField()
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "address", "at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.address} {self.at:%H:%M:%S}"
