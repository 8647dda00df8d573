"""What the CDS Hooks service keeps: seen token ids (replay guard), the cards it issued,
and the feedback EHRs sent about them.

`IssuedCard` and `CardFeedback` are append-only, like the audit trail: the models
refuse updates and deletes, and database triggers (migration 0002) refuse them too.
`UsedToken` rows are short-lived by design and are purged once their token expired.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from limbguard.accounts.models import AppendOnlyError


class UsedToken(models.Model):
    """A JWT `jti` already accepted from an issuer, kept until the token expires.

    `key` is sha256(iss NUL jti), so arbitrarily long claims index in 64 characters.
    The unique constraint makes a replay fail on insert, across every worker process.
    """

    key = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"token {self.key[:12]}… until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class _AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} is append-only")


class _AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} is append-only")


class CardKind(models.TextChoices):
    NO_EVALUATION = "no_evaluation", "Amputation ordered, no vascular evaluation on record"
    UNVERIFIED = "unverified", "Amputation ordered, evaluation could not be verified"
    EVALUATION_FOUND = "evaluation_found", "Amputation ordered, vascular evaluation on record"
    LIMB_STATUS = "limb_status", "Limb status"


class Indicator(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class IssuedCard(_AppendOnly):
    """A card LimbGuard returned, so that feedback can be tied to it (and only to it)."""

    uuid = models.UUIDField(unique=True)
    service_id = models.CharField(max_length=64)
    hook = models.CharField(max_length=40)
    hook_instance = models.UUIDField()
    client = models.CharField(max_length=40, help_text="client name from the clients file")
    kind = models.CharField(max_length=20, choices=CardKind.choices)
    indicator = models.CharField(max_length=10, choices=Indicator.choices)
    suggestion_uuids = models.JSONField(default=list, blank=True)
    # The LimbGuard patient and center, when the registry knows the patient (plain ids,
    # like the audit trail, so this app does not depend on the registry's schema).
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    center_id = models.BigIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["service_id", "issued_at"])]

    def __str__(self) -> str:
        return f"{self.service_id} {self.indicator} card {self.uuid}"


class Outcome(models.TextChoices):
    """cds-fb-1: accepted | overridden."""

    ACCEPTED = "accepted", "Accepted"
    OVERRIDDEN = "overridden", "Overridden"


class CardFeedback(_AppendOnly):
    """One feedback entry (CDS Hooks 2.0.1 "Feedback"). A card may get several."""

    card = models.ForeignKey(IssuedCard, on_delete=models.PROTECT, related_name="feedback")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    accepted_suggestions = models.JSONField(default=list, blank=True)
    reason_system = models.CharField(max_length=255, blank=True)
    reason_code = models.CharField(max_length=100, blank=True)
    reason_display = models.CharField(max_length=255, blank=True)
    user_comment = models.TextField(blank=True)
    outcome_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    client = models.CharField(max_length=40)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-outcome_at", "-id"]
        indexes = [models.Index(fields=["card", "outcome_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} {self.card_id} at {self.outcome_at:%Y-%m-%d %H:%M}"
