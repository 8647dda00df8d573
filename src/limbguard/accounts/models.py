"""Users (with their centers) and the append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from limbguard.accounts.roles import ROLE_LABELS, Role


class User(AbstractUser):
    """A staff member. Belongs to one or more centers; sees only their patients."""

    centers = models.ManyToManyField("clinics.Center", blank=True, related_name="staff")

    def roles(self) -> list[Role]:
        by_label = {label: role for role, label in ROLE_LABELS.items()}
        return [by_label[g.name] for g in self.groups.all() if g.name in by_label]

    @property
    def sees_all_centers(self) -> bool:
        return self.has_perm("registry.view_all_centers")


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    RETIRE = "retire", "Marked entered in error"
    EXPORT = "export", "Exported"
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGOUT = "logout", "Signed out"


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit row."""


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("the audit trail is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the audit trail is append-only")


class AuditEvent(models.Model):
    """Who did what to which patient record, when, and from where.

    Append-only: the model refuses updates and deletes, and a database trigger (see
    migration 0002) refuses them too, for anything that bypasses the ORM. The patient
    is kept as a plain id (patients are never hard-deleted) so the trail does not tie
    the accounts app to the registry's schema.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor_name = models.CharField(max_length=150, help_text="user name at the time")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["patient_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the audit trail is append-only")
