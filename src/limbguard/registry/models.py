"""The patient registry: patients, limbs, coded problems, risk factors and labs.

Nothing here is hard-deleted. Wrong entries are marked entered-in-error, and every
change goes through `services.py`, which writes the audit row (with the old and new
values) in the same transaction.
"""

from __future__ import annotations

import unicodedata
import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Upper

from limbguard.clinics.models import Center


def name_key(text: str) -> str:
    """Lower-case, accents removed: 'Núñez' and 'nunez' search alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


class Sex(models.TextChoices):
    """FHIR administrative gender."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DECEASED = "deceased", "Deceased"


mrn_validator = RegexValidator(r"^[A-Za-z0-9-]{3,32}$", "MRN: 3–32 letters, digits or hyphens.")
# FHIR id: 1-64 letters, digits, hyphens and dots (FHIR R4 datatypes, id).
fhir_id_validator = RegexValidator(
    r"^[A-Za-z0-9.-]{1,64}$", "FHIR id: 1–64 letters, digits, - or ."
)


def new_fhir_id() -> str:
    """The FHIR id of a record made in LimbGuard; imported records keep their source's id."""
    return str(uuid.uuid4())


class FhirRecord(models.Model):
    """What every registry record shares for FHIR import and export.

    ``fhir_id`` is the resource id LimbGuard exports, unique per record type: an import
    keeps the id the source gave, so that importing the same resource again finds it
    (idempotent import). ``source_system`` says where it came from ("" = LimbGuard).
    """

    fhir_id = models.CharField(
        "FHIR id", max_length=64, unique=True, default=new_fhir_id, validators=[fhir_id_validator]
    )
    source_system = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


class Patient(FhirRecord):
    mrn = models.CharField("MRN", max_length=32, unique=True, validators=[mrn_validator])
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    # Normalised copies for prefix search; on PostgreSQL Django also builds a
    # varchar_pattern_ops index for each, which `startswith` uses.
    given_key = models.CharField(max_length=100, db_index=True, editable=False)
    family_key = models.CharField(max_length=100, db_index=True, editable=False)
    birth_date = models.DateField(db_index=True)
    sex = models.CharField(max_length=10, choices=Sex.choices)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    home_center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="patients")
    status = models.CharField(
        max_length=10, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    deceased_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_key", "given_key", "id"]
        permissions = [("view_all_centers", "Can see the patients of every center")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="deceased") | models.Q(deceased_date__isnull=True),
                name="patient_deceased_date_only_when_deceased",
            ),
        ]
        indexes = [
            models.Index(fields=["home_center", "family_key", "given_key"]),
            # MRN search is case-blind (`mrn__iexact` → UPPER(mrn) = UPPER(%s) on PostgreSQL).
            models.Index(Upper("mrn"), name="registry_patient_mrn_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.given_key = name_key(self.given_name)
        self.family_key = name_key(self.family_name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class LimbStatus(models.TextChoices):
    INTACT = "intact", "Intact"
    MINOR_AMPUTATION = "minor_amputation", "Minor amputation"
    MAJOR_AMPUTATION = "major_amputation", "Major amputation"


class AmputationLevel(models.TextChoices):
    """Minor: at or below the ankle. Major: above the ankle (SVS reporting standards)."""

    TOE = "toe", "Toe (digit)"
    RAY = "ray", "Ray"
    TRANSMETATARSAL = "transmetatarsal", "Transmetatarsal"
    LISFRANC = "lisfranc", "Lisfranc"
    CHOPART = "chopart", "Chopart"
    SYME = "syme", "Syme (ankle disarticulation)"
    BELOW_KNEE = "below_knee", "Below knee"
    THROUGH_KNEE = "through_knee", "Through knee"
    ABOVE_KNEE = "above_knee", "Above knee"
    HIP = "hip", "Hip disarticulation"


MINOR_LEVELS = frozenset(
    {
        AmputationLevel.TOE,
        AmputationLevel.RAY,
        AmputationLevel.TRANSMETATARSAL,
        AmputationLevel.LISFRANC,
        AmputationLevel.CHOPART,
        AmputationLevel.SYME,
    }
)


class Limb(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="limbs")
    side = models.CharField(max_length=5, choices=Side.choices)
    status = models.CharField(max_length=20, choices=LimbStatus.choices, default=LimbStatus.INTACT)
    amputation_level = models.CharField(max_length=20, choices=AmputationLevel.choices, blank=True)
    amputation_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "side"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "side"], name="one_limb_per_side"),
            models.CheckConstraint(
                condition=models.Q(status="intact", amputation_level="")
                | (~models.Q(status="intact") & ~models.Q(amputation_level="")),
                name="limb_level_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} leg"


class CodeSystem(models.TextChoices):
    ICD10CM = "ICD10CM", "ICD-10-CM"
    SNOMED = "SNOMED", "SNOMED CT"


class ProblemStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    RESOLVED = "resolved", "Resolved"


class Laterality(models.TextChoices):
    NONE = "", "Not applicable"
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"


class Problem(FhirRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="problems")
    system = models.CharField(max_length=10, choices=CodeSystem.choices)
    code = models.CharField(max_length=20)
    display = models.CharField(max_length=250)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    onset_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.ACTIVE
    )
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-onset_date", "display"]
        indexes = [models.Index(fields=["system", "code"])]

    def __str__(self) -> str:
        return f"{self.display} ({self.system} {self.code})"


class DiabetesType(models.TextChoices):
    NONE = "none", "No diabetes"
    TYPE_1 = "type1", "Type 1"
    TYPE_2 = "type2", "Type 2"
    OTHER = "other", "Other"


class SmokingStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    NEVER = "never", "Never smoked"
    FORMER = "former", "Former smoker"
    CURRENT = "current", "Current smoker"


class CkdStage(models.TextChoices):
    """KDIGO GFR categories."""

    NONE = "none", "No CKD"
    G1 = "G1", "G1"
    G2 = "G2", "G2"
    G3A = "G3a", "G3a"
    G3B = "G3b", "G3b"
    G4 = "G4", "G4"
    G5 = "G5", "G5"


class RiskProfile(models.Model):
    """Comorbidities and risk factors, one row per patient, edited in place (audited)."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="risk")
    diabetes = models.CharField(
        max_length=10, choices=DiabetesType.choices, default=DiabetesType.NONE
    )
    smoking = models.CharField(
        max_length=10, choices=SmokingStatus.choices, default=SmokingStatus.UNKNOWN
    )
    ckd_stage = models.CharField(
        "CKD stage", max_length=5, choices=CkdStage.choices, default=CkdStage.NONE
    )
    on_dialysis = models.BooleanField(default=False)
    coronary_disease = models.BooleanField(default=False)
    heart_failure = models.BooleanField(default=False)
    prior_stroke = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Risk profile of {self.patient_id}"


class LabKind(models.TextChoices):
    HBA1C = "hba1c", "HbA1c"
    EGFR = "egfr", "eGFR"


# Units and plausible ranges per lab; the LOINC codes are what FHIR import/export use.
LAB_UNITS: dict[str, str] = {LabKind.HBA1C: "%", LabKind.EGFR: "mL/min/1.73m2"}
LAB_LOINC: dict[str, str] = {
    LabKind.HBA1C: "4548-4",
    LabKind.EGFR: "98979-8",
}  # CKD-EPI 2021, race-free
LAB_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    LabKind.HBA1C: (Decimal("3.0"), Decimal("20.0")),
    LabKind.EGFR: (Decimal("0"), Decimal("200")),
}


class LabResult(FhirRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="labs")
    kind = models.CharField(max_length=10, choices=LabKind.choices)
    # The LOINC code as recorded (e.g. the MDRD 33914-3 or CKD-EPI 98979-8 eGFR);
    # blank: the kind's default in LAB_LOINC.
    loinc = models.CharField("LOINC", max_length=10, blank=True)
    value = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(200))],
    )
    unit = models.CharField(max_length=20)
    observed_on = models.DateField()
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_on", "kind"]
        indexes = [models.Index(fields=["patient", "kind", "observed_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} {self.unit} on {self.observed_on}"


class PatientIdentifier(models.Model):
    """An identifier another system gives the patient (FHIR ``Patient.identifier``).

    The LimbGuard MRN is the patient's own field, not a row here. (system, value) is
    unique: an import that meets a known identifier updates that patient.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identifiers")
    system = models.CharField(max_length=200)
    value = models.CharField(max_length=200)
    type_code = models.CharField(max_length=20, blank=True, help_text="v2-0203 code, e.g. MR")

    class Meta:
        ordering = ["patient", "system", "value"]
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="identifier_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class EncounterStatus(models.TextChoices):
    """FHIR R4 Encounter.status."""

    PLANNED = "planned", "Planned"
    ARRIVED = "arrived", "Arrived"
    TRIAGED = "triaged", "Triaged"
    IN_PROGRESS = "in-progress", "In progress"
    ONLEAVE = "onleave", "On leave"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"
    UNKNOWN = "unknown", "Unknown"


class Encounter(FhirRecord):
    """A visit or admission, as recorded by the EHR (imported; LimbGuard's own visits
    are scheduling appointments)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="encounters")
    status = models.CharField(max_length=20, choices=EncounterStatus.choices)
    encounter_class = models.CharField(max_length=20, help_text="v3 ActCode: AMB, IMP, EMER, …")
    type_system = models.CharField(max_length=200, blank=True)
    type_code = models.CharField(max_length=64, blank=True)
    type_display = models.CharField(max_length=250, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "id"]
        indexes = [models.Index(fields=["patient", "start"])]

    def __str__(self) -> str:
        return f"{self.type_display or self.encounter_class} {self.start or ''}".strip()


class Observation(FhirRecord):
    """A coded observation other than the registry's labs: vascular measurements (ABI,
    toe pressure, TcPO2), duplex findings, wound sizes, smoking status, staging.

    The value is one of: a quantity (``value_decimal`` + ``value_unit``), a coding
    (``value_system``/``value_code``/``value_display``), a text, or components only.
    Time: ``effective_date`` always; ``effective_at`` too when the source gave a time.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="observations")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    status = models.CharField(max_length=20)
    category = models.CharField(max_length=40, blank=True)
    system = models.CharField(max_length=200)
    code = models.CharField(max_length=64)
    display = models.CharField(max_length=250, blank=True)
    value_decimal = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    value_unit = models.CharField(max_length=40, blank=True)
    value_system = models.CharField(max_length=200, blank=True)
    value_code = models.CharField(max_length=64, blank=True)
    value_display = models.CharField(max_length=250, blank=True)
    value_text = models.CharField(max_length=500, blank=True)
    # [{"system", "code", "display", "value", "unit"}]: parts of a panel (wound size).
    components = models.JSONField(default=list, blank=True)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    effective_date = models.DateField()
    effective_at = models.DateTimeField(null=True, blank=True)
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "id"]
        indexes = [
            models.Index(fields=["patient", "code", "effective_date"]),
            models.Index(fields=["system", "code"]),
        ]

    def __str__(self) -> str:
        return f"{self.display or self.code} on {self.effective_date}"


class Procedure(FhirRecord):
    """A coded procedure from the record (CPT, SNOMED CT, ICD-10-PCS …): studies,
    revascularizations, amputations."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="coded_procedures")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    status = models.CharField(max_length=20)
    system = models.CharField(max_length=200)
    code = models.CharField(max_length=64)
    display = models.CharField(max_length=250, blank=True)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    performed_date = models.DateField(null=True, blank=True)
    performed_at = models.DateTimeField(null=True, blank=True)
    entered_in_error = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_date", "id"]
        indexes = [
            models.Index(fields=["patient", "performed_date"]),
            models.Index(fields=["system", "code"]),
        ]

    def __str__(self) -> str:
        return f"{self.display or self.code} on {self.performed_date}"
