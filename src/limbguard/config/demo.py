"""Demo data: four Southern California centers, one user per role, synthetic patients.

Idempotent: centers, users and patients that exist (by slug, user name, MRN) are kept
as they are, so `make run` can be repeated. Patients are created through the registry
services, exactly as the UI would, so the audit trail shows them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import simple_icd_10_cm as icd
from django.db import transaction
from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.accounts.roles import Role, group_for, sync_roles
from limbguard.clinics.models import Center, OpeningHours, Provider
from limbguard.registry import services
from limbguard.registry.models import CkdStage, DiabetesType, LabKind, Patient, SmokingStatus
from limbguard.synth.people import person

DEMO_PASSWORD = "limbguard-demo"  # noqa: S105 (printed demo login, synthetic data only)
DEMO_SEED = 2026

CENTERS = (
    ("Harbor Vascular Center", "harbor", "1200 Harbor Dr", "San Diego", "92101", "(619) 555-0110"),
    (
        "Inland Limb Salvage Clinic",
        "inland",
        "450 Mission Inn Ave",
        "Riverside",
        "92501",
        "(951) 555-0120",
    ),
    (
        "Coastal Vascular Institute",
        "coastal",
        "88 Pacific Coast Hwy",
        "Long Beach",
        "90802",
        "(562) 555-0130",
    ),
    (
        "Valley Wound & Vascular",
        "valley",
        "2100 Ventura Blvd",
        "Los Angeles",
        "91364",
        "(818) 555-0140",
    ),
)

PROVIDERS = (
    ("Dr. Elena Ruiz", "MD", "vascular_surgery", ("harbor", "inland")),
    ("Dr. Samuel Okoye", "MD", "vascular_surgery", ("coastal",)),
    ("Dr. Grace Lin", "MD", "interventional_radiology", ("valley", "coastal")),
    ("Dr. Noah Feld", "DPM", "podiatry", ("harbor", "valley")),
    ("Ivy Morgan", "RN, CWOCN", "wound_care", ("harbor", "inland", "coastal", "valley")),
    ("Dr. Amir Haddad", "MD", "infectious_disease", ("inland", "harbor")),
    ("Dr. Keiko Sato", "MD", "endocrinology", ("coastal", "valley")),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    centers: tuple[str, ...]


USERS = (
    DemoUser("frontdesk", "Fran Desk", Role.FRONT_DESK, ("harbor", "inland")),
    DemoUser("vascular", "Elena Ruiz", Role.VASCULAR_SPECIALIST, ("harbor", "inland")),
    DemoUser("vascular2", "Samuel Okoye", Role.VASCULAR_SPECIALIST, ("coastal",)),
    DemoUser("woundcare", "Ivy Morgan", Role.WOUND_CARE, ("harbor",)),
    DemoUser("podiatry", "Noah Feld", Role.PODIATRY, ("harbor", "valley")),
    DemoUser("infectious", "Amir Haddad", Role.INFECTIOUS_DISEASE, ("inland", "harbor")),
    DemoUser("endocrine", "Keiko Sato", Role.ENDOCRINOLOGY, ("coastal", "valley")),
    DemoUser("lead", "Pat Lead", Role.PROGRAM_LEAD, ()),
    DemoUser("admin", "Ada Admin", Role.ADMINISTRATOR, ("harbor",)),
)

# A few problem codes per phenotype (ICD-10-CM, reference/codes_and_epidemiology §1);
# their displays come from the CMS tables.
PROBLEM_CODES = ("I70.213", "I70.221", "I70.245", "E11.621", "E11.51", "I87.2", "N18.4")


def ensure_centers() -> dict[str, Center]:
    centers: dict[str, Center] = {}
    for name, slug, address, city, postal, phone in CENTERS:
        center, created = Center.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "address_line": address,
                "city": city,
                "state": "CA",
                "postal_code": postal,
                "phone": phone,
                "time_zone": "America/Los_Angeles",
            },
        )
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(center=center, weekday=day, opens=dt.time(8), closes=dt.time(17))
                for day in range(5)
            )
        centers[slug] = center
    for name, credentials, specialty, slugs in PROVIDERS:
        provider, created = Provider.objects.get_or_create(
            name=name, defaults={"credentials": credentials, "specialty": specialty}
        )
        if created:
            provider.centers.set([centers[s] for s in slugs])
    return centers


def ensure_users(centers: dict[str, Center]) -> list[tuple[DemoUser, bool]]:
    sync_roles()
    made = []
    for spec in USERS:
        user = User.objects.filter(username=spec.username).first()
        created = user is None
        if user is None:
            first, _, last = spec.full_name.partition(" ")
            user = User.objects.create_user(
                spec.username, password=DEMO_PASSWORD, first_name=first, last_name=last
            )
            user.groups.set([group_for(spec.role)])
            user.centers.set([centers[s] for s in spec.centers])
            if spec.role is Role.ADMINISTRATOR:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        made.append((spec, created))
    return made


def ensure_patients(centers: dict[str, Center], count: int) -> int:
    """Create the first `count` synthetic patients that do not exist yet."""
    today = timezone.localdate()
    slugs = sorted(centers)
    existing = set(Patient.objects.values_list("mrn", flat=True))
    created = 0
    for index in range(count):
        who = person(DEMO_SEED, index, today=today)
        if who.mrn in existing:
            continue
        rng = random.Random(f"demo:{index}")
        with transaction.atomic():
            patient = services.do_create_patient(
                acting_user=None,
                home_center=centers[slugs[index % len(slugs)]],
                mrn=who.mrn,
                given_name=who.given_name,
                family_name=who.family_name,
                birth_date=who.birth_date,
                sex=who.sex,
                phone=who.phone,
                address_line=who.address_line,
                city=centers[slugs[index % len(slugs)]].city,
                state="CA",
            )
            diabetic = rng.random() < 0.45
            services.do_update_risk_profile(
                acting_user=None,
                patient=patient,
                diabetes=DiabetesType.TYPE_2 if diabetic else DiabetesType.NONE,
                smoking=rng.choice(list(SmokingStatus)),
                ckd_stage=rng.choice([CkdStage.NONE, CkdStage.NONE, CkdStage.G3A, CkdStage.G4]),
                coronary_disease=rng.random() < 0.3,
                heart_failure=rng.random() < 0.1,
                prior_stroke=rng.random() < 0.08,
            )
            for code in rng.sample(PROBLEM_CODES, k=rng.randint(1, 3)):
                services.do_add_problem(
                    acting_user=None,
                    patient=patient,
                    system="ICD10CM",
                    code=code,
                    display=icd.get_description(code),
                    onset_date=today - dt.timedelta(days=rng.randint(30, 3000)),
                )
            if diabetic:
                services.do_add_lab(
                    acting_user=None,
                    patient=patient,
                    kind=LabKind.HBA1C,
                    value=Decimal(rng.randint(55, 120)) / 10,
                    observed_on=today - dt.timedelta(days=rng.randint(1, 180)),
                )
            services.do_add_lab(
                acting_user=None,
                patient=patient,
                kind=LabKind.EGFR,
                value=Decimal(rng.randint(12, 105)),
                observed_on=today - dt.timedelta(days=rng.randint(1, 365)),
            )
        created += 1
    return created
