"""Fixtures of the assessment tests: photo bytes, a private MEDIA_ROOT, and a patient
with an assessment, findings and a photographed wound, built through the services."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from pytest_django.fixtures import Settings

from limbguard.assessments import photos, services
from limbguard.assessments.models import (
    ArterialFinding,
    Assessment,
    VenousFinding,
    Wound,
    WoundPhoto,
)
from limbguard.registry.models import Patient

ARMS: dict[str, Any] = {"brachial_left": 140, "brachial_right": 136}


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 90, 80)).save(buffer, format=image_format)
    return buffer.getvalue()


def upload(data: bytes, name: str = "wound.png", content_type: str = "image/png") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    """MEDIA_ROOT in a temporary folder (outside any web root)."""
    settings.MEDIA_ROOT = tmp_path / "private"
    return Path(settings.MEDIA_ROOT)


def assess(patient: Patient, side: str = "left", **fields: Any) -> Assessment:
    values: dict[str, Any] = {"visit_date": timezone.localdate(), "claudication": "none"}
    values.update(fields)
    return services.do_create_assessment(
        acting_user=None, patient=patient, limb=patient.limbs.get(side=side), **values
    )


@dataclass
class Seeded:
    patient: Patient
    assessment: Assessment
    arterial: ArterialFinding
    venous: VenousFinding
    wound: Wound
    photo: WoundPhoto


def seed(patient: Patient, *, days_ago: int = 0) -> Seeded:
    """A left-limb assessment with one finding of each kind and a photographed wound."""
    assessment = assess(
        patient,
        visit_date=timezone.localdate() - dt.timedelta(days=days_ago),
        ankle_dp=70,
        ankle_pt=64,
        toe_pressure=34,
        arterial_duplex_done=True,
        **ARMS,
    )
    arterial = services.do_add_arterial_finding(
        acting_user=None,
        assessment=assessment,
        segment="sfa",
        modality="duplex",
        velocity_ratio=Decimal("2.5"),
        length_cm=Decimal("8"),
    )
    venous = services.do_add_venous_finding(
        acting_user=None, assessment=assessment, segment="GSVa", reflux_ms=800
    )
    observation = services.do_record_wound(
        acting_user=None,
        assessment=assessment,
        new_wound={
            "label": "Left hallux ulcer",
            "location": "hallux",
            "wound_type": "diabetic_foot",
        },
        length_cm=Decimal("2.0"),
        width_cm=Decimal("1.5"),
        photos=[photos.check_photo(upload(image_bytes()))],
    )
    return Seeded(
        patient, assessment, arterial, venous, observation.wound, observation.photos.get()
    )


@pytest.fixture
def seeded(patient_at: Callable[..., Patient], media: Path) -> Callable[..., Seeded]:
    def make(center: str = "harbor", **fields: Any) -> Seeded:
        return seed(patient_at(center, **fields))

    return make
