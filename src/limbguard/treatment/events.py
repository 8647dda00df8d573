"""Outcome events per limb and patient: wound healed, target-limb reintervention, minor
and major amputation (with level), death (date, cause when known), and ambulatory and
living status over time.

MALE (major adverse limb event) is not stored: it is derived, as the SVS objective
performance goals define it, from a major amputation or a major reintervention
(`major_reintervention`). Written only by `treatment.actions.events` (and by the
procedure log, which records the amputation and reintervention a procedure implies).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from limbguard.registry.models import AmputationLevel, Limb, Patient
from limbguard.treatment.procedures import Intervention
from limbguard.treatment.vocab import AmbulatoryStatus, EventKind, LivingStatus


class OutcomeEvent(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outcome_events")
    limb = models.ForeignKey(
        Limb, null=True, blank=True, on_delete=models.PROTECT, related_name="outcome_events"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    occurred_on = models.DateField()
    intervention = models.ForeignKey(
        Intervention,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_events",
    )
    amputation_level = models.CharField(max_length=20, choices=AmputationLevel.choices, blank=True)
    digit = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    major_reintervention = models.BooleanField(default=False)
    performed_elsewhere = models.BooleanField(default=False)
    cause_of_death = models.CharField(max_length=200, blank=True)
    ambulatory = models.CharField(max_length=20, choices=AmbulatoryStatus.choices, blank=True)
    living = models.CharField(max_length=20, choices=LivingStatus.choices, blank=True)
    notes = models.CharField(max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    entered_in_error = models.BooleanField(default=False)
    retire_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["patient", "kind", "occurred_on"]),
            models.Index(fields=["limb", "kind", "occurred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}"

    @property
    def is_male(self) -> bool:
        return self.kind == EventKind.MAJOR_AMPUTATION or (
            self.kind == EventKind.REINTERVENTION and self.major_reintervention
        )
