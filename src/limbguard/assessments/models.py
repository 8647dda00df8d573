"""Assessments of one limb at one visit, their findings, wounds, photos and staging.

Nothing here is hard-deleted: wrong entries are marked entered-in-error with a reason,
and every change goes through `services.py`, which writes the audit row in the same
transaction and stores a new `StagingSnapshot` (inputs, outputs, rules version).
`Assessment.version` guards edits: a save based on an older version is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from limbguard.assessments.staging import ArterialSegment, Modality
from limbguard.registry.models import Limb, Patient
from limbguard.vascular import abi, ceap, duplex, glass, rutherford, rvcss, wifi, wound

# Issue 5: an ABI input above 300 mmHg is impossible (cuffs inflate to about 300 mmHg);
# the library's own ceiling (400) only refuses typing errors.
MAX_PRESSURE_MMHG: Final = 300
MAX_TCPO2_MMHG: Final = abi.MAX_TCPO2_MMHG
# Wound dimensions: the library's ceiling (100 cm); depth: project decision, 10 cm.
MAX_WOUND_DIMENSION_CM: Final = Decimal(str(wound.MAX_DIMENSION_CM))
MAX_WOUND_DEPTH_CM: Final = Decimal(10)
MAX_CLAUDICATION_DISTANCE_M: Final = 10_000
MAX_SYMPTOM_WEEKS: Final = 52 * 80

_pressure = [MinValueValidator(0), MaxValueValidator(MAX_PRESSURE_MMHG)]


def _choices(members: type[object], labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [
        (m.value, (labels or {}).get(m.value, m.value.replace("_", " ").capitalize()))
        for m in members  # type: ignore[attr-defined]
    ]


class Pulse(models.TextChoices):
    NOT_EXAMINED = "", "Not examined"
    NORMAL = "2", "Normal (2+)"
    DIMINISHED = "1", "Diminished (1+)"
    DOPPLER = "D", "Doppler signal only"
    ABSENT = "0", "Absent"


CLAUDICATION_CHOICES = _choices(rutherford.Claudication)
SENSORY_CHOICES = [("", "No acute ischaemia"), *_choices(rutherford.SensoryLoss)]
MOTOR_CHOICES = [("", "No acute ischaemia"), *_choices(rutherford.MuscleWeakness)]
PEDAL_CHOICES = [
    ("", "Not assessed"),
    (glass.Pedal.P0.value, "P0: target crosses the ankle, pedal arch intact"),
    (glass.Pedal.P1.value, "P1: target crosses the ankle, arch absent or severely diseased"),
    (glass.Pedal.P2.value, "P2: no target artery crosses the ankle"),
]
RVCSS_ITEMS: Final = tuple(item.value for item in rvcss.Item)


class Assessment(models.Model):
    """One limb of one patient at one visit."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    limb = models.ForeignKey(Limb, on_delete=models.PROTECT, related_name="assessments")
    visit_date = models.DateField()
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Symptoms
    claudication = models.CharField(
        max_length=10, choices=CLAUDICATION_CHOICES, default=rutherford.Claudication.NONE.value
    )
    claudication_distance_m = models.PositiveIntegerField(
        "pain-free walking distance (m)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_CLAUDICATION_DISTANCE_M)],
    )
    rest_pain = models.BooleanField(default=False)
    symptom_duration_weeks = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_SYMPTOM_WEEKS)]
    )
    major_tissue_loss = models.BooleanField(
        default=False, help_text="Tissue loss above the transmetatarsal level (Rutherford 6)"
    )
    acute_sensory_loss = models.CharField(max_length=20, choices=SENSORY_CHOICES, blank=True)
    acute_muscle_weakness = models.CharField(max_length=20, choices=MOTOR_CHOICES, blank=True)
    # Pulses of this limb
    pulse_femoral = models.CharField(max_length=1, choices=Pulse.choices, blank=True)
    pulse_popliteal = models.CharField(max_length=1, choices=Pulse.choices, blank=True)
    pulse_dp = models.CharField("pulse DP", max_length=1, choices=Pulse.choices, blank=True)
    pulse_pt = models.CharField("pulse PT", max_length=1, choices=Pulse.choices, blank=True)
    # Pressures (mmHg); empty = not obtainable, 0 = absent Doppler signal
    brachial_left = models.PositiveSmallIntegerField(null=True, blank=True, validators=_pressure)
    brachial_right = models.PositiveSmallIntegerField(null=True, blank=True, validators=_pressure)
    ankle_dp = models.PositiveSmallIntegerField(
        "ankle DP", null=True, blank=True, validators=_pressure
    )
    ankle_pt = models.PositiveSmallIntegerField(
        "ankle PT", null=True, blank=True, validators=_pressure
    )
    toe_pressure = models.PositiveSmallIntegerField(null=True, blank=True, validators=_pressure)
    tcpo2 = models.PositiveSmallIntegerField(
        "TcPO2", null=True, blank=True, validators=[MaxValueValidator(MAX_TCPO2_MMHG)]
    )
    # Imaging done at (or brought to) this visit
    arterial_duplex_done = models.BooleanField("arterial duplex performed", default=False)
    angiography_done = models.BooleanField("angiography performed", default=False)
    venous_duplex_done = models.BooleanField("venous duplex performed", default=False)
    pedal_descriptor = models.CharField(max_length=2, choices=PEDAL_CHOICES, blank=True)
    # Foot infection (IWGDF/IDSA findings)
    swelling_or_induration = models.BooleanField(default=False)
    erythema_cm = models.DecimalField(
        "erythema beyond the wound (cm)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    tenderness_or_pain = models.BooleanField(default=False)
    warmth = models.BooleanField(default=False)
    purulent_discharge = models.BooleanField(default=False)
    other_cause_of_inflammation = models.BooleanField(default=False)
    deep_tissue_infection = models.BooleanField(default=False)
    osteomyelitis = models.BooleanField(default=False)
    temperature_c = models.DecimalField(
        "temperature (°C)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(25)), MaxValueValidator(Decimal(45))],
    )
    heart_rate = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(300)]
    )
    respiratory_rate = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(300)]
    )
    wbc_per_ul = models.PositiveIntegerField(
        "WBC (/µL)", null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    # Venous
    ceap = models.CharField("CEAP", max_length=ceap.MAX_TEXT_LENGTH, blank=True)
    rvcss_pain = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_varicose_veins = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_venous_edema = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_skin_pigmentation = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_inflammation = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_induration = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_active_ulcer_number = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_active_ulcer_duration = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_active_ulcer_size = models.PositiveSmallIntegerField(null=True, blank=True)
    rvcss_compression_therapy = models.PositiveSmallIntegerField(null=True, blank=True)
    unsalvageable = models.BooleanField("foot judged unsalvageable (WIfI stage 5)", default=False)
    notes = models.TextField(blank=True, max_length=4000)
    version = models.PositiveIntegerField(default=1, editable=False)
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-visit_date", "-id"]
        indexes = [models.Index(fields=["limb", "visit_date"])]

    def __str__(self) -> str:
        return f"{self.limb} assessment {self.visit_date}"


class Calcification(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class ArterialFinding(models.Model):
    """One arterial segment seen on duplex or angiography at this assessment."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="arterial_findings"
    )
    segment = models.CharField(max_length=12, choices=[(s.value, s.label) for s in ArterialSegment])
    modality = models.CharField(
        max_length=12, choices=_choices(Modality), default=Modality.DUPLEX.value
    )
    psv_cm_s = models.DecimalField(
        "PSV (cm/s)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.1")),
            MaxValueValidator(Decimal(str(duplex.MAX_PSV_CM_S))),
        ],
    )
    velocity_ratio = models.DecimalField(
        "PSV ratio (Vr)",
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.01")),
            MaxValueValidator(Decimal(str(duplex.MAX_PSV_RATIO))),
        ],
    )
    stenosis_percent = models.PositiveSmallIntegerField(
        "stenosis (%) on angiography", null=True, blank=True, validators=[MaxValueValidator(99)]
    )
    occluded = models.BooleanField(default=False)
    calcification = models.CharField(
        max_length=10, choices=Calcification.choices, default=Calcification.NONE
    )
    length_cm = models.DecimalField(
        "lesion length (cm)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.1")),
            MaxValueValidator(Decimal(glass.MAX_LESION_LENGTH_CM)),
        ],
    )
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_segment_display()} ({self.modality})"


class Thrombus(models.TextChoices):
    NONE = "", "None"
    ACUTE = "acute", "Acute"
    CHRONIC = "chronic", "Chronic / post-thrombotic"


class VenousFinding(models.Model):
    """One vein segment on venous duplex (CEAP 2020 segment names)."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="venous_findings"
    )
    segment = models.CharField(max_length=6, choices=[(s.value, s.value) for s in ceap.Segment])
    reflux_ms = models.PositiveIntegerField(
        "reflux time (ms)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(duplex.MAX_REFLUX_MS)],
    )
    diameter_mm = models.DecimalField(
        "diameter (mm)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.1")),
            MaxValueValidator(Decimal(str(duplex.MAX_VEIN_DIAMETER_MM))),
        ],
    )
    obstruction = models.BooleanField(default=False)
    thrombus = models.CharField(max_length=10, choices=Thrombus.choices, blank=True)
    iliac_compression = models.BooleanField(
        "iliac vein compression (e.g. May-Thurner)", default=False
    )
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.segment} venous finding"


class WoundLocation(models.TextChoices):
    """Zones of the foot/leg diagram (templates/assessments/_limb_diagram.svg)."""

    HALLUX = "hallux", "Hallux"
    LESSER_TOES = "lesser_toes", "Lesser toes"
    FOREFOOT_DORSAL = "forefoot_dorsal", "Forefoot, dorsal"
    FOREFOOT_PLANTAR = "forefoot_plantar", "Forefoot, plantar (metatarsal heads)"
    MIDFOOT_DORSAL = "midfoot_dorsal", "Midfoot, dorsal"
    MIDFOOT_PLANTAR = "midfoot_plantar", "Midfoot, plantar"
    HEEL = "heel", "Heel"
    MEDIAL_MALLEOLUS = "medial_malleolus", "Medial malleolus"
    LATERAL_MALLEOLUS = "lateral_malleolus", "Lateral malleolus"
    GAITER = "gaiter", "Gaiter area (lower leg)"
    SHIN = "shin", "Shin"
    CALF = "calf", "Calf"
    KNEE = "knee", "Knee"
    THIGH = "thigh", "Thigh"


FOOT_LOCATIONS: Final = frozenset(
    {
        WoundLocation.HALLUX,
        WoundLocation.LESSER_TOES,
        WoundLocation.FOREFOOT_DORSAL,
        WoundLocation.FOREFOOT_PLANTAR,
        WoundLocation.MIDFOOT_DORSAL,
        WoundLocation.MIDFOOT_PLANTAR,
        WoundLocation.HEEL,
    }
)


class WoundType(models.TextChoices):
    DIABETIC_FOOT = wound.UlcerType.DIABETIC_FOOT.value, "Diabetic foot ulcer"
    VENOUS_LEG = wound.UlcerType.VENOUS_LEG.value, "Venous leg ulcer"
    ARTERIAL = "arterial", "Arterial (ischaemic) ulcer"
    PRESSURE = "pressure", "Pressure injury"
    SURGICAL = "surgical", "Surgical wound"
    OTHER = "other", "Other"


class Wound(models.Model):
    """A wound followed over time; each visit adds a `WoundObservation`."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="wounds")
    limb = models.ForeignKey(Limb, on_delete=models.PROTECT, related_name="wounds")
    label = models.CharField(max_length=60)
    location = models.CharField(max_length=20, choices=WoundLocation.choices)
    wound_type = models.CharField(max_length=20, choices=WoundType.choices)
    first_seen = models.DateField()
    healed_on = models.DateField(null=True, blank=True)
    entered_in_error = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_seen", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_location_display()})"

    @property
    def is_open(self) -> bool:
        return self.healed_on is None and not self.entered_in_error


class Tissue(models.TextChoices):
    GRANULATION = "granulation", "Granulation"
    SLOUGH = "slough", "Slough"
    ESCHAR = "eschar", "Eschar"
    NECROTIC = "necrotic", "Necrotic"
    EPITHELIAL = "epithelial", "Epithelialising"
    MIXED = "mixed", "Mixed"


class WoundObservation(models.Model):
    """A wound's size and state at one assessment."""

    wound = models.ForeignKey(Wound, on_delete=models.PROTECT, related_name="observations")
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="wound_observations"
    )
    length_cm = models.DecimalField(
        "length (cm)",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_WOUND_DIMENSION_CM)],
    )
    width_cm = models.DecimalField(
        "width (cm)",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_WOUND_DIMENSION_CM)],
    )
    depth_cm = models.DecimalField(
        "depth (cm)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_WOUND_DEPTH_CM)],
    )
    area_cm2 = models.DecimalField(max_digits=8, decimal_places=2, editable=False)
    tissue = models.CharField(max_length=12, choices=Tissue.choices, default=Tissue.GRANULATION)
    full_thickness = models.BooleanField(default=False)
    exposed_bone_joint_or_tendon = models.BooleanField(default=False)
    extensive_forefoot_midfoot = models.BooleanField(
        "extensive deep ulcer of forefoot/midfoot", default=False
    )
    gangrene = models.CharField(
        max_length=30,
        choices=_choices(wifi.Gangrene),
        default=wifi.Gangrene.NONE.value,
    )
    wet_gangrene = models.BooleanField(default=False)
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assessment__visit_date", "id"]
        constraints = [
            # A measurement marked entered in error may be measured again at the same visit.
            models.UniqueConstraint(
                fields=["wound", "assessment"],
                condition=models.Q(entered_in_error=False),
                name="one_valid_observation_per_wound_per_assessment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.wound.label}: {self.length_cm} x {self.width_cm} cm"


class WoundPhoto(models.Model):
    """A photo of a wound, stored under MEDIA_ROOT (outside the web root).

    Served only by `views.photo`, which checks permission and writes an audit row.
    `path` and `thumbnail_path` are relative to MEDIA_ROOT and generated, never taken
    from the upload's name.
    """

    observation = models.ForeignKey(
        WoundObservation, on_delete=models.PROTECT, related_name="photos"
    )
    path = models.CharField(max_length=200, unique=True)
    thumbnail_path = models.CharField(max_length=200, unique=True)
    content_type = models.CharField(max_length=20)
    byte_size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    entered_in_error = models.BooleanField(default=False)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of {self.observation_id}"


class StagingSnapshot(models.Model):
    """Inputs, outputs and rules version of one staging run, stored together.

    A new snapshot is stored each time the assessment or its findings change; the
    newest one is the assessment's current staging. Snapshots are never changed.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="snapshots")
    assessment_version = models.PositiveIntegerField()
    inputs = models.JSONField()
    outputs = models.JSONField()
    rules_version = models.CharField(max_length=300)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"staging of assessment {self.assessment_id} v{self.assessment_version}"
