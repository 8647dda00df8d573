"""Surveillance after an intervention: a plan of dated visits (duplex/ABI).

Defaults (issue 6): visits at 1, 6 and 12 months. The 12-month visit's window is the
VQI long-term follow-up window, 9-21 months: only a visit inside it counts towards the
center's follow-up rate. A plan exists only for an intervention (never on its own).
Written only by `treatment.actions.followup`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from limbguard.registry.models import Limb, Patient
from limbguard.treatment.procedures import Intervention
from limbguard.treatment.vocab import DuplexResult, PlanStatus


class SurveillancePlan(models.Model):
    intervention = models.OneToOneField(
        Intervention, on_delete=models.PROTECT, related_name="surveillance"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="surveillance_plans"
    )
    limb = models.ForeignKey(Limb, on_delete=models.PROTECT, related_name="surveillance_plans")
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    closed_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-intervention__performed_on", "-id"]
        permissions = [("record_followup", "Can record a follow-up visit")]

    def __str__(self) -> str:
        return f"surveillance after {self.intervention}"


class SurveillanceVisit(models.Model):
    plan = models.ForeignKey(SurveillancePlan, on_delete=models.PROTECT, related_name="visits")
    label = models.CharField(max_length=40)
    offset_days = models.PositiveIntegerField()
    due_on = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    overdue_after = models.DateField()
    long_term = models.BooleanField(default=False, help_text="inside the VQI 9-21-month window")
    done_on = models.DateField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    abi = models.DecimalField(
        "ABI",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal("3.00"))],
    )
    duplex = models.CharField(max_length=20, choices=DuplexResult.choices, blank=True)
    notes = models.CharField(max_length=1000, blank=True)
    unscheduled = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "due_on", "id"]
        indexes = [models.Index(fields=["done_on", "overdue_after"])]

    def __str__(self) -> str:
        return f"{self.label} follow-up due {self.due_on}"
