"""Treatment records. For now: what the amputation gate needs.

* `LimbSalvageReview`: a vascular specialist's signed review of one limb. With recent
  vascular imaging it opens the gate (`gate.py`).
* `AmputationOrder`: every attempt to plan an amputation, kept whether it was refused,
  planned through an open gate, or planned by a senior clinician's override.

Procedures, care-team tasks, follow-ups and outcome events (issue 6) are in their own
modules (procedures.py, care_team.py, followup.py, events.py), registered at the end of
this file, and written by `treatment.actions`. Keep `gate.py` pure so that the CDS Hooks
service (issue 8) can share it. Rows are never hard-deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from limbguard.registry.models import AmputationLevel, Limb, Patient
from limbguard.treatment.gate import OVERRIDE_LABELS


class ReviewConclusion(models.TextChoices):
    REVASCULARIZE = "revascularize", "Salvageable: revascularization planned or done"
    WOUND_CARE = "wound_care", "Salvageable: wound care and risk-factor control"
    AMPUTATION_INDICATED = "amputation_indicated", "Not salvageable: amputation indicated"
    PALLIATIVE = "palliative", "Palliative care"


class LimbSalvageReview(models.Model):
    """A vascular specialist's signed limb salvage review of one limb."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="limb_salvage_reviews"
    )
    limb = models.ForeignKey(Limb, on_delete=models.PROTECT, related_name="salvage_reviews")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(max_length=150, help_text="name at signing time")
    signed_on = models.DateField()
    signed_at = models.DateTimeField(auto_now_add=True)
    conclusion = models.CharField(max_length=30, choices=ReviewConclusion.choices)
    summary = models.TextField(max_length=4000)
    entered_in_error = models.BooleanField(default=False)

    class Meta:
        ordering = ["-signed_on", "-id"]
        permissions = [
            ("sign_limbsalvagereview", "Can sign a limb salvage review (vascular specialist)")
        ]

    def __str__(self) -> str:
        return f"limb salvage review of {self.limb} on {self.signed_on}"


class OrderStatus(models.TextChoices):
    REFUSED = "refused", "Refused by the gate"
    PLANNED = "planned", "Planned (gate open)"
    OVERRIDDEN = "overridden", "Planned by override"


class AmputationOrder(models.Model):
    """One attempt to plan an amputation of a limb, and what the gate said."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="amputation_orders")
    limb = models.ForeignKey(Limb, on_delete=models.PROTECT, related_name="amputation_orders")
    level = models.CharField(max_length=20, choices=AmputationLevel.choices)
    indication = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=OrderStatus.choices)
    gate_open = models.BooleanField()
    gate_reasons = models.JSONField(default=list)
    override_reason = models.CharField(
        max_length=40, blank=True, choices=[(k.value, v) for k, v in OVERRIDE_LABELS.items()]
    )
    override_text = models.TextField(blank=True, max_length=2000)
    refusal = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            (
                "override_amputation_gate",
                "Can override the amputation gate (senior clinician; granted per user)",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} amputation of {self.limb}: {self.status}"


# Issue 6: the procedure log, care team, follow-up and outcome events live in their own
# modules; imported here so that Django registers them with this app.
from limbguard.treatment.care_team import CareTask  # noqa: E402
from limbguard.treatment.events import OutcomeEvent  # noqa: E402
from limbguard.treatment.followup import SurveillancePlan, SurveillanceVisit  # noqa: E402
from limbguard.treatment.procedures import (  # noqa: E402
    Intervention,
    InterventionDevice,
    TreatedLesion,
)

__all__ = [
    "AmputationOrder",
    "CareTask",
    "Intervention",
    "InterventionDevice",
    "LimbSalvageReview",
    "OutcomeEvent",
    "SurveillancePlan",
    "SurveillanceVisit",
    "TreatedLesion",
]
