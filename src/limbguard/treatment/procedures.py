"""The procedure log: every intervention on a limb, its lesions and devices.

One `Intervention` per procedure: arterial or venous endovascular, venous ablation,
open bypass or endarterectomy, or an amputation (which must come through the gate: it
names the planned `AmputationOrder`). Staged procedures point to their first stage.
Rows are never hard-deleted; a wrong entry is marked entered in error with a reason.
Written only by `treatment.actions.procedures`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from limbguard.clinics.models import Center
from limbguard.registry.models import AmputationLevel, Limb, Patient
from limbguard.treatment.models import AmputationOrder
from limbguard.treatment.vocab import (
    Access,
    Calcification,
    Conduit,
    DeviceKind,
    Indication,
    InterventionKind,
    LesionType,
    Segment,
)


class Intervention(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="interventions")
    limb = models.ForeignKey(Limb, on_delete=models.PROTECT, related_name="interventions")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=30, choices=InterventionKind.choices)
    performed_on = models.DateField()
    indication = models.CharField(max_length=30, choices=Indication.choices)
    # WIfI clinical stage of the limb when treated (1-4); from the latest staging
    # unless given.
    wifi_stage = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    glass_stage = models.CharField(max_length=3, blank=True)
    access = models.CharField(max_length=30, choices=Access.choices, blank=True)
    conduit = models.CharField(max_length=30, choices=Conduit.choices, blank=True)
    technical_success = models.BooleanField(null=True, blank=True)
    complications = models.JSONField(default=list, blank=True)
    complication_notes = models.CharField(max_length=500, blank=True)
    cpt_codes = models.JSONField(default=list, blank=True)
    staged_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="later_stages"
    )
    amputation_order = models.OneToOneField(
        AmputationOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="intervention",
    )
    amputation_level = models.CharField(max_length=20, choices=AmputationLevel.choices, blank=True)
    digit = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    operator_name = models.CharField(max_length=150)
    notes = models.TextField(max_length=4000, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    entered_in_error = models.BooleanField(default=False)
    retire_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-performed_on", "-id"]
        indexes = [
            models.Index(fields=["limb", "performed_on"]),
            models.Index(fields=["center", "performed_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of the {self.limb.side} limb on {self.performed_on}"

    @property
    def is_major_amputation(self) -> bool:
        from limbguard.registry.models import MINOR_LEVELS

        return (
            self.kind == InterventionKind.AMPUTATION
            and bool(self.amputation_level)
            and self.amputation_level not in MINOR_LEVELS
        )


class TreatedLesion(models.Model):
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="lesions")
    segment = models.CharField(max_length=30, choices=Segment.choices)
    lesion_type = models.CharField(max_length=20, choices=LesionType.choices)
    length_cm = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal(60))],
    )
    calcification = models.CharField(
        max_length=10, choices=Calcification.choices, default=Calcification.NONE
    )
    techniques = models.JSONField(default=list, blank=True)
    # The GLASS grade (0-4) of the segment the lesion lies in: computed by
    # limbguard.vascular.glass for femoropopliteal lesions, as assessed for tibial ones.
    glass_grade = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(4)]
    )
    stenosis_before_pct = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    residual_stenosis_pct = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["intervention", "id"]

    def __str__(self) -> str:
        return f"{self.get_segment_display()} {self.lesion_type} {self.length_cm} cm"


class InterventionDevice(models.Model):
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="devices")
    kind = models.CharField(max_length=30, choices=DeviceKind.choices)
    manufacturer = models.CharField(max_length=100, blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    diameter_mm = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(40))],
    )
    length_mm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    udi = models.CharField("UDI", max_length=120, blank=True)

    class Meta:
        ordering = ["intervention", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model_name}".strip()
