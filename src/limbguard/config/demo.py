"""Demo data: four Southern California centers, one user per role, synthetic patients.

Idempotent: centers, users and patients that exist (by slug, user name, FHIR id) are
kept as they are, so `make run` can be repeated. Patients come from `limbguard synth`
through the FHIR importer, which writes them with the registry's (batch) services, so
the audit trail shows them like any import.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.accounts.roles import Role, group_for, sync_roles
from limbguard.clinics.models import Center, OpeningHours, Provider
from limbguard.fhir.importer import import_paths
from limbguard.registry.models import Patient
from limbguard.synth.export import write_export

DEMO_PASSWORD = "limbguard-demo"  # noqa: S105 (printed demo login, synthetic data only)
DEMO_SEED = 2026
DEMO_SOURCE = "limbguard demo (synth)"

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
    """The demo's synthetic patients, entering LimbGuard the way real data does:
    `limbguard synth` (a clinic cohort across the centers) → `limbguard import`.

    Idempotent: once `count` demo patients are in, nothing is generated again; an
    import of the same export changes nothing anyway. Returns the patients created.
    """
    if Patient.objects.filter(source_system=DEMO_SOURCE).count() >= count:
        return 0
    with tempfile.TemporaryDirectory(prefix="limbguard-demo-") as folder:
        write_export(
            Path(folder),
            patients=count,
            seed=DEMO_SEED,
            as_of=timezone.localdate(),
            centers=tuple(sorted(centers)),
            cohort="clinic",
        )
        report = import_paths(
            [Path(folder)], acting_user=None, source_system=DEMO_SOURCE, parallel=False
        )
    if report.rejected:
        raise RuntimeError(f"demo import rejected records: {report.errors[:3]}")
    return report.by_type["Patient"]["created"]
