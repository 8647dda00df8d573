"""Demo patients that show the pathway: each urgency, missing work-up, an off-track wound,
and both gate states (open, closed, and a closed gate overridden by a senior clinician).

Idempotent: a scenario whose MRN exists is left as it is. Everything goes through the
services, as the UI would, so the audit trail shows it. Synthetic people only.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from limbguard.accounts.models import User
from limbguard.assessments import photos, services
from limbguard.assessments.models import Assessment
from limbguard.clinics.models import Center
from limbguard.registry import services as registry
from limbguard.registry.models import DiabetesType, LabKind, Patient, SmokingStatus
from limbguard.treatment import services as treatment

# The demo's senior clinician: may override the amputation gate (granted per user).
SENIOR_CLINICIAN = "vascular"


@dataclass(frozen=True)
class Scenario:
    mrn: str
    given: str
    family: str
    birth: dt.date
    sex: str
    center: str
    build: Callable[[Patient, User, dt.date], None]


def _days(today: dt.date, n: int) -> dt.date:
    return today - dt.timedelta(days=n)


def _photo(color: tuple[int, int, int], size: int) -> SimpleUploadedFile:
    """A synthetic wound picture (an ellipse on skin tone): no real patient image."""
    image = Image.new("RGB", (480, 360), (224, 186, 160))
    ImageDraw.Draw(image).ellipse(
        (240 - size, 180 - size // 2, 240 + size, 180 + size // 2), fill=color
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("wound.png", buffer.getvalue(), content_type="image/png")


def _assess(patient: Patient, user: User, side: str, **fields: Any) -> Assessment:
    limb = patient.limbs.get(side=side)
    fields.setdefault("claudication", "none")
    return services.do_create_assessment(acting_user=user, patient=patient, limb=limb, **fields)


def _risk(
    patient: Patient, *, diabetic: bool, smoker: bool, hba1c: str | None, on: dt.date
) -> None:
    registry.do_update_risk_profile(
        acting_user=None,
        patient=patient,
        diabetes=DiabetesType.TYPE_2 if diabetic else DiabetesType.NONE,
        smoking=SmokingStatus.CURRENT if smoker else SmokingStatus.FORMER,
    )
    if hba1c is not None:
        registry.do_add_lab(
            acting_user=None,
            patient=patient,
            kind=LabKind.HBA1C,
            value=Decimal(hba1c),
            observed_on=on,
        )


ARMS = {"brachial_left": 138, "brachial_right": 132}


def _emergent(patient: Patient, user: User, today: dt.date) -> None:
    """Wet gangrene of the hallux with SIRS: emergent; gate closed, refused attempt."""
    _risk(patient, diabetic=True, smoker=False, hba1c="10.4", on=_days(today, 2))
    a = _assess(
        patient,
        user,
        "right",
        visit_date=today,
        ankle_dp=62,
        ankle_pt=58,
        toe_pressure=22,
        swelling_or_induration=True,
        erythema_cm=Decimal("3.5"),
        warmth=True,
        purulent_discharge=True,
        temperature_c=Decimal("38.9"),
        heart_rate=112,
        **ARMS,
    )
    services.do_record_wound(
        acting_user=user,
        assessment=a,
        new_wound={
            "label": "Right hallux gangrene",
            "location": "hallux",
            "wound_type": "diabetic_foot",
        },
        length_cm=Decimal("3.0"),
        width_cm=Decimal("2.5"),
        tissue="necrotic",
        gangrene="digits",
        wet_gangrene=True,
    )
    treatment.do_request_amputation(
        acting_user=user, patient=patient, limb=a.limb, level="toe", indication="wet gangrene"
    )


def _urgent(patient: Patient, user: User, today: dt.date) -> None:
    """The issue's diabetic smoker: W2-I2-fI2, no duplex, HbA1c 9.1 %."""
    _risk(patient, diabetic=True, smoker=True, hba1c="9.1", on=_days(today, 10))
    a = _assess(
        patient,
        user,
        "left",
        visit_date=_days(today, 3),
        ankle_dp=70,
        ankle_pt=64,
        toe_pressure=34,
        swelling_or_induration=True,
        erythema_cm=Decimal("2.5"),
        tenderness_or_pain=True,
        **ARMS,
    )
    services.do_record_wound(
        acting_user=user,
        assessment=a,
        new_wound={
            "label": "Left first metatarsal head ulcer",
            "location": "forefoot_plantar",
            "wound_type": "diabetic_foot",
        },
        length_cm=Decimal("2.2"),
        width_cm=Decimal("1.8"),
        depth_cm=Decimal("0.8"),
        tissue="slough",
        full_thickness=True,
        exposed_bone_joint_or_tendon=True,
        photos=[photos.check_photo(_photo((150, 60, 60), 60))],
    )


def _routine(patient: Patient, user: User, today: dt.date) -> None:
    """Stable claudicant with a recent ABI and duplex: routine, nothing missing."""
    _risk(patient, diabetic=False, smoker=False, hba1c=None, on=today)
    a = _assess(
        patient,
        user,
        "right",
        visit_date=_days(today, 20),
        claudication="moderate",
        claudication_distance_m=150,
        ankle_dp=98,
        ankle_pt=104,
        toe_pressure=72,
        arterial_duplex_done=True,
        **ARMS,
    )
    services.do_add_arterial_finding(
        acting_user=user,
        assessment=a,
        segment="sfa",
        modality="duplex",
        velocity_ratio=Decimal("2.6"),
        psv_cm_s=Decimal("240"),
        occluded=False,
        calcification="mild",
        length_cm=Decimal("6"),
    )


def _missing_workup(patient: Patient, user: User, today: dt.date) -> None:
    """Venous ulcer (C6), ABI four months old, no venous duplex; noncompressible other leg."""
    _risk(patient, diabetic=True, smoker=False, hba1c="7.2", on=_days(today, 200))
    a = _assess(
        patient,
        user,
        "left",
        visit_date=_days(today, 120),
        ankle_dp=128,
        ankle_pt=134,
        ceap="C6 Ep As Pr",
        **ARMS,
    )
    services.do_record_wound(
        acting_user=user,
        assessment=a,
        new_wound={
            "label": "Left medial gaiter ulcer",
            "location": "medial_malleolus",
            "wound_type": "venous_leg",
        },
        length_cm=Decimal("4.0"),
        width_cm=Decimal("3.0"),
        tissue="granulation",
    )
    _assess(patient, user, "right", visit_date=_days(today, 5), ankle_dp=220, ankle_pt=230, **ARMS)


def _off_track(patient: Patient, user: User, today: dt.date) -> None:
    """Diabetic foot ulcer that shrank only 20 % in 4 weeks: off track, review the plan."""
    _risk(patient, diabetic=True, smoker=False, hba1c="7.6", on=_days(today, 30))
    first = _assess(
        patient,
        user,
        "left",
        visit_date=_days(today, 35),
        ankle_dp=96,
        ankle_pt=90,
        toe_pressure=48,
        arterial_duplex_done=True,
        **ARMS,
    )
    observation = services.do_record_wound(
        acting_user=user,
        assessment=first,
        new_wound={"label": "Left heel ulcer", "location": "heel", "wound_type": "diabetic_foot"},
        length_cm=Decimal("2.5"),
        width_cm=Decimal("2.0"),
        tissue="slough",
        photos=[photos.check_photo(_photo((170, 80, 70), 80))],
    )
    for days_ago, length, width, size in ((21, "2.4", "1.9", 75), (7, "2.2", "1.8", 70)):
        later = _assess(
            patient,
            user,
            "left",
            visit_date=_days(today, days_ago),
            ankle_dp=96,
            ankle_pt=90,
            toe_pressure=48,
            **ARMS,
        )
        services.do_record_wound(
            acting_user=user,
            assessment=later,
            wound=observation.wound,
            length_cm=Decimal(length),
            width_cm=Decimal(width),
            tissue="slough",
            photos=[photos.check_photo(_photo((170, 80, 70), size))],
        )


def _gate_open(patient: Patient, user: User, today: dt.date) -> None:
    """Non-reconstructable forefoot: duplex 10 days ago and a signed review: gate open."""
    _risk(patient, diabetic=True, smoker=False, hba1c="8.4", on=_days(today, 20))
    a = _assess(
        patient,
        user,
        "right",
        visit_date=_days(today, 10),
        rest_pain=True,
        ankle_dp=40,
        ankle_pt=0,
        toe_pressure=12,
        arterial_duplex_done=True,
        pedal_descriptor="P2",
        **ARMS,
    )
    for segment, length in (("ata", "30"), ("pta", "28"), ("peroneal", "26")):
        services.do_add_arterial_finding(
            acting_user=user,
            assessment=a,
            segment=segment,
            modality="duplex",
            occluded=True,
            calcification="severe",
            length_cm=Decimal(length),
        )
    services.do_record_wound(
        acting_user=user,
        assessment=a,
        new_wound={
            "label": "Right forefoot gangrene",
            "location": "forefoot_dorsal",
            "wound_type": "arterial",
        },
        length_cm=Decimal("6.0"),
        width_cm=Decimal("5.0"),
        tissue="necrotic",
        gangrene="extensive_forefoot_midfoot",
    )
    treatment.do_sign_review(
        acting_user=user,
        patient=patient,
        limb=a.limb,
        conclusion="amputation_indicated",
        summary="All three tibial arteries occluded with no pedal target (P2); no vein for "
        "bypass. Transmetatarsal amputation after demarcation.",
    )
    treatment.do_request_amputation(
        acting_user=user,
        patient=patient,
        limb=a.limb,
        level="transmetatarsal",
        indication="non-reconstructable forefoot gangrene",
    )


def _override(patient: Patient, user: User, today: dt.date) -> None:
    """Severe infection, no imaging yet: gate closed, overridden by a senior clinician."""
    _risk(patient, diabetic=True, smoker=True, hba1c="11.2", on=_days(today, 1))
    a = _assess(
        patient,
        user,
        "left",
        visit_date=today,
        swelling_or_induration=True,
        erythema_cm=Decimal("6"),
        warmth=True,
        purulent_discharge=True,
        deep_tissue_infection=True,
        temperature_c=Decimal("39.4"),
        heart_rate=124,
        respiratory_rate=26,
        wbc_per_ul=21000,
    )
    services.do_record_wound(
        acting_user=user,
        assessment=a,
        new_wound={
            "label": "Left midfoot abscess",
            "location": "midfoot_plantar",
            "wound_type": "diabetic_foot",
        },
        length_cm=Decimal("5.0"),
        width_cm=Decimal("4.0"),
        tissue="necrotic",
        exposed_bone_joint_or_tendon=True,
        extensive_forefoot_midfoot=True,
    )
    treatment.do_request_amputation(
        acting_user=user,
        patient=patient,
        limb=a.limb,
        level="below_knee",
        indication="necrotising infection with sepsis",
        override_reason="life_threatening_infection",
        override_text="Septic shock from necrotising midfoot infection; guillotine amputation "
        "tonight, vascular imaging before definitive closure.",
    )


SCENARIOS = (
    Scenario("PW-1001", "Ramon", "Alvarado", dt.date(1951, 6, 2), "male", "harbor", _emergent),
    Scenario("PW-1002", "Gloria", "Beltran", dt.date(1958, 9, 17), "female", "harbor", _urgent),
    Scenario("PW-1003", "Walter", "Chen", dt.date(1947, 1, 25), "male", "harbor", _routine),
    Scenario(
        "PW-1004", "Denise", "Okafor", dt.date(1955, 11, 8), "female", "inland", _missing_workup
    ),
    Scenario("PW-1005", "Hector", "Ibarra", dt.date(1962, 3, 30), "male", "harbor", _off_track),
    Scenario("PW-1006", "Irene", "Kowalski", dt.date(1944, 7, 14), "female", "inland", _gate_open),
    Scenario("PW-1007", "Marcus", "Reyes", dt.date(1960, 12, 1), "male", "harbor", _override),
)


def ensure_pathway_demo(centers: dict[str, Center]) -> int:
    """Create the pathway demo patients that do not exist yet; returns how many."""
    user = User.objects.get(username=SENIOR_CLINICIAN)
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="treatment", codename="override_amputation_gate"
        )
    )
    user = User.objects.get(pk=user.pk)  # drop the cached permissions
    today = timezone.localdate()
    existing = set(Patient.objects.values_list("mrn", flat=True))
    created = 0
    for s in SCENARIOS:
        if s.mrn in existing:
            continue
        with transaction.atomic():
            patient = registry.do_create_patient(
                acting_user=None,
                home_center=centers[s.center],
                mrn=s.mrn,
                given_name=s.given,
                family_name=s.family,
                birth_date=s.birth,
                sex=s.sex,
            )
            s.build(patient, user, today)
        created += 1
    return created
