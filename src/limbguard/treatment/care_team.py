"""Care-team tasks and referrals, with loop closure (completed with a note).

A task comes from a person or from the pathway's care-team needs in one click
(`source_rule` holds the pathway's rule code and `source` its citation). Written only by
`treatment.actions.care_team`; never hard-deleted (cancelled with a reason instead).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from limbguard.registry.models import Limb, Patient
from limbguard.treatment.vocab import Discipline, TaskKind, TaskStatus


class CareTask(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_tasks")
    limb = models.ForeignKey(
        Limb, null=True, blank=True, on_delete=models.PROTECT, related_name="care_tasks"
    )
    discipline = models.CharField(max_length=30, choices=Discipline.choices)
    kind = models.CharField(max_length=10, choices=TaskKind.choices, default=TaskKind.TASK)
    title = models.CharField(max_length=200)
    details = models.TextField(max_length=2000, blank=True)
    refer_to = models.CharField(max_length=200, blank=True, help_text="referral recipient")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_tasks",
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source_rule = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_on = models.DateField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        indexes = [models.Index(fields=["discipline", "status", "due_on"])]
        permissions = [("close_caretask", "Can complete or cancel a care-team task")]

    def __str__(self) -> str:
        return f"{self.get_discipline_display()}: {self.title}"
