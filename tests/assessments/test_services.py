"""Assessment services and forms: snapshots, audit, bad input refused with field errors
and nothing saved, optimistic concurrency, entered-in-error, photos by content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.assessments import photos, services
from limbguard.assessments.models import (
    Assessment,
    StagingSnapshot,
    WoundObservation,
    WoundPhoto,
)
from limbguard.assessments.staging import RULES_VERSION
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from tests.assessments.conftest import ARMS, Seeded, assess, image_bytes, upload

pytestmark = pytest.mark.django_db
MakePatient = Callable[..., Patient]


def _client(personas: Personas, role: str = "vascular_specialist") -> Client:
    client = Client()
    client.force_login(personas[role])
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "visit_date": timezone.localdate().isoformat(),
        "claudication": "none",
        "brachial_left": "140",
        "brachial_right": "136",
        "ankle_dp": "70",
        "ankle_pt": "64",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_stores_inputs_outputs_and_rules_version_together(
    patient_at: MakePatient,
) -> None:
    patient = patient_at()
    assessment = assess(patient, ankle_dp=70, ankle_pt=64, toe_pressure=34, **ARMS)
    snapshot = StagingSnapshot.objects.get(assessment=assessment)
    assert snapshot.rules_version == RULES_VERSION
    assert snapshot.assessment_version == 1
    assert snapshot.inputs["pressures"]["toe"] == 34
    assert snapshot.outputs["values"]["abi"] == 0.5
    assert snapshot.outputs["values"]["i"] == 2
    assert {s["title"] for s in snapshot.outputs["sections"]} >= {"ABI / TBI", "WIfI"}
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="assessments.assessment")
    assert event.patient_id == patient.pk
    assert event.changes["snapshot"] == snapshot.pk


def test_findings_restage_and_keep_every_snapshot(seeded: Callable[..., Seeded]) -> None:
    s = seeded()
    snapshots = list(s.assessment.snapshots.all())
    assert len(snapshots) == 4  # created, arterial, venous, wound
    latest = snapshots[0].outputs["values"]
    assert latest["glass_label"] == "GLASS I"
    assert latest["pathological_reflux"] is True
    assert latest["open_wounds"] == 1
    services.do_retire_finding(acting_user=None, finding=s.arterial)
    assert s.assessment.snapshots.first().outputs["values"]["glass_label"] is None  # type: ignore[union-attr]
    assert s.assessment.snapshots.count() == 5


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"brachial_left": "-10"}, "brachial_left", "greater than or equal to 0"),
        ({"ankle_dp": "301"}, "ankle_dp", "less than or equal to 300"),
        ({"toe_pressure": "1200"}, "toe_pressure", "less than or equal to 300"),
        ({"visit_date": "2999-01-01"}, "visit_date", "cannot be in the future"),
        ({"visit_date": "1900-01-01"}, "visit_date", "before the patient's birth date"),
        ({"ceap": "C9 Ep"}, "ceap", "text:"),
        ({"rvcss_pain": "2"}, "rvcss_pain", "all ten rVCSS items"),
        ({"erythema_cm": "-1"}, "erythema_cm", "greater than or equal to 0"),
        ({"temperature_c": "60"}, "temperature_c", "less than or equal to 45"),
    ],
)
def test_impossible_assessment_values_are_field_errors_and_nothing_is_saved(
    personas: Personas, patient_at: MakePatient, overrides: dict[str, str], field: str, message: str
) -> None:
    patient = patient_at()
    client = _client(personas)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("assessments:new", args=[patient.pk, "left"]), _form(**overrides)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Assessment.objects.exists()
    assert AuditEvent.objects.count() == before


def test_the_live_preview_names_bad_fields_and_saves_nothing(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at()
    response = _client(personas).post(
        reverse("assessments:preview", args=[patient.pk, "left"]), _form(ankle_pt="999")
    )
    assert response.status_code == 200
    assert "Ankle PT" in response.content.decode()
    assert not Assessment.objects.exists()


def _wound_post(client: Client, s: Seeded, **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "label": "New ulcer",
        "location": "heel",
        "wound_type": "diabetic_foot",
        "length_cm": "2.0",
        "width_cm": "1.0",
        "tissue": "granulation",
        "gangrene": "none",
    }
    data.update(overrides)
    return client.post(
        reverse("assessments:wound_record", args=[s.patient.pk, s.assessment.pk]), data
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"length_cm": "200"}, "length_cm"),  # a 2 m wound
        ({"width_cm": "-1"}, "width_cm"),
        ({"depth_cm": "25"}, "depth_cm"),
        ({"label": ""}, "label"),
        ({"wet_gangrene": "on"}, "wet_gangrene"),
    ],
)
def test_impossible_wounds_are_field_errors_and_nothing_is_saved(
    personas: Personas, seeded: Callable[..., Seeded], overrides: dict[str, str], field: str
) -> None:
    s = seeded()
    observations = WoundObservation.objects.count()
    response = _wound_post(_client(personas), s, **overrides)
    assert response.status_code == 400
    assert field in response.context["wound_form"].errors
    assert WoundObservation.objects.count() == observations


def test_an_executable_disguised_as_a_photo_is_refused_and_nothing_is_stored(
    personas: Personas, seeded: Callable[..., Seeded], media: Path
) -> None:
    s = seeded()
    files_before = sorted(media.rglob("*"))
    fake = upload(b"MZ\x90\x00\x03" + b"\x00" * 200, name="wound.jpg", content_type="image/jpeg")
    response = _wound_post(_client(personas), s, photos=fake)
    assert response.status_code == 400
    assert "not a readable JPEG or PNG" in " ".join(response.context["wound_form"].errors["photos"])
    assert WoundObservation.objects.count() == 1
    assert WoundPhoto.objects.count() == 1
    assert sorted(media.rglob("*")) == files_before


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (image_bytes("GIF"), "wound.png", "not a JPEG or PNG"),
        (image_bytes("PNG")[:60], "wound.png", "not a readable"),
        (b"", "wound.png", "empty"),
    ],
)
def test_photos_are_checked_by_content(data: bytes, name: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        photos.check_photo(upload(data, name=name))
    assert message in str(error.value)


def test_a_photo_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "MAX_PHOTO_BYTES", 100)
    with pytest.raises(ValidationError, match="larger than"):
        photos.check_photo(upload(image_bytes(size=(200, 200))))


def test_jpeg_and_png_are_stored_outside_the_web_root_with_thumbnails(
    personas: Personas, seeded: Callable[..., Seeded], media: Path
) -> None:
    s = seeded()
    jpeg = upload(image_bytes("JPEG", (900, 600)), name="x.exe", content_type="application/x")
    response = _wound_post(_client(personas), s, photos=jpeg)
    assert response.status_code == 302
    stored = WoundPhoto.objects.latest("id")
    assert stored.content_type == "image/jpeg"
    assert (stored.width, stored.height) == (900, 600)
    original = media / stored.path
    assert original.read_bytes()[:2] == b"\xff\xd8"
    assert original.stat().st_mode & 0o777 == 0o600
    assert "x.exe" not in stored.path
    from PIL import Image

    with Image.open(media / stored.thumbnail_path) as thumb:
        assert max(thumb.size) == photos.THUMBNAIL_PX


def test_the_second_of_two_concurrent_edits_is_told_and_nothing_is_overwritten(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at()
    assessment = assess(patient, ankle_dp=70, ankle_pt=64, **ARMS)
    url = reverse("assessments:edit", args=[patient.pk, assessment.pk])
    first, second = _client(personas), _client(personas, "wound_care")
    form_one = first.get(url).context["form"]
    form_two = second.get(url).context["form"]
    assert form_one["version"].value() == form_two["version"].value() == 1
    assert first.post(url, _form(version="1", ankle_dp="80")).status_code == 302
    response = second.post(url, _form(version="1", ankle_dp="55"))
    assert response.status_code == 200
    assert "changed by someone else" in " ".join(response.context["form"].non_field_errors())
    assessment.refresh_from_db()
    assert (assessment.ankle_dp, assessment.version) == (80, 2)
    assert assessment.snapshots.count() == 2


def test_stale_edit_through_the_service(patient_at: MakePatient) -> None:
    assessment = assess(patient_at(), **ARMS)
    services.do_update_assessment(
        acting_user=None, assessment=assessment, expected_version=1, ankle_dp=90
    )
    with pytest.raises(services.StaleEdit):
        services.do_update_assessment(
            acting_user=None, assessment=assessment, expected_version=1, ankle_dp=70
        )


def test_an_unchanged_save_is_not_a_new_version(patient_at: MakePatient) -> None:
    assessment = assess(patient_at(), **ARMS)
    saved = services.do_update_assessment(
        acting_user=None, assessment=assessment, expected_version=1, brachial_left=140
    )
    assert saved.version == 1
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_entered_in_error_keeps_history_and_leaves_the_pathway(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at()
    assessment = assess(patient, ankle_dp=70, ankle_pt=64, **ARMS)
    with pytest.raises(ValidationError):
        services.do_retire_assessment(acting_user=None, assessment=assessment, reason=" ")
    services.do_retire_assessment(acting_user=None, assessment=assessment, reason="wrong leg")
    assessment.refresh_from_db()
    assert assessment.entered_in_error
    assert Assessment.objects.filter(pk=assessment.pk).exists()
    with pytest.raises(ValidationError):
        services.do_update_assessment(
            acting_user=None, assessment=assessment, expected_version=2, ankle_dp=1
        )
    from limbguard.assessments.queries import limb_rows

    rows = limb_rows(Patient.objects.filter(pk=patient.pk), today=timezone.localdate())
    assert all(r.pathway.last_evaluated_on is None for r in rows)


def test_duplex_finding_rules(seeded: Callable[..., Seeded]) -> None:
    s = seeded()
    with pytest.raises(ValidationError) as no_ratio:
        services.do_add_arterial_finding(
            acting_user=None, assessment=s.assessment, segment="pta", modality="duplex"
        )
    assert "velocity_ratio" in no_ratio.value.error_dict
    with pytest.raises(ValidationError) as angio:
        services.do_add_arterial_finding(
            acting_user=None,
            assessment=s.assessment,
            segment="pta",
            modality="angiography",
            velocity_ratio=Decimal("2"),
        )
    assert "velocity_ratio" in angio.value.error_dict
    with pytest.raises(ValidationError) as diameter:
        services.do_add_venous_finding(
            acting_user=None, assessment=s.assessment, segment="GSVa", diameter_mm=Decimal("6")
        )
    assert "diameter_mm" in diameter.value.error_dict


def test_a_wound_is_measured_once_per_visit_and_heals_not_in_the_future(
    seeded: Callable[..., Seeded],
) -> None:
    s = seeded()
    with pytest.raises(ValidationError):
        services.do_record_wound(
            acting_user=None,
            assessment=s.assessment,
            wound=s.wound,
            length_cm=Decimal(1),
            width_cm=Decimal(1),
        )
    with pytest.raises(ValidationError) as future:
        services.do_mark_wound_healed(
            acting_user=None, wound=s.wound, healed_on=timezone.localdate() + dt.timedelta(days=1)
        )
    assert "healed_on" in future.value.error_dict
    healed = services.do_mark_wound_healed(
        acting_user=None, wound=s.wound, healed_on=timezone.localdate()
    )
    assert not healed.is_open


def test_a_wrong_measurement_is_struck_through_and_measured_again(
    personas: Personas, seeded: Callable[..., Seeded]
) -> None:
    s = seeded()
    observation = s.photo.observation
    client = _client(personas, "wound_care")
    url = reverse("assessments:observation_retire", args=[s.patient.pk, observation.pk])
    client.post(url, {"reason": ""})
    observation.refresh_from_db()
    assert not observation.entered_in_error  # a reason is required
    client.post(url, {"reason": "measured the wrong ulcer"})
    observation.refresh_from_db()
    s.photo.refresh_from_db()
    s.wound.refresh_from_db()
    assert observation.entered_in_error
    assert s.photo.entered_in_error
    assert s.wound.entered_in_error  # it had no other measurement
    photo_url = reverse("assessments:photo", args=[s.patient.pk, s.photo.pk, "full"])
    assert client.get(photo_url).status_code == 404
    latest = s.assessment.snapshots.first()
    assert latest is not None
    assert latest.outputs["values"]["open_wounds"] == 0
    event = AuditEvent.objects.filter(action=AuditAction.RETIRE).latest("id")
    assert event.changes["photos_retired"] == 1
    again = services.do_record_wound(
        acting_user=None,
        assessment=s.assessment,
        new_wound={
            "label": "Left hallux ulcer",
            "location": "hallux",
            "wound_type": "diabetic_foot",
        },
        length_cm=Decimal("1.0"),
        width_cm=Decimal("1.0"),
    )
    assert again.area_cm2 == Decimal("1.00")


def test_a_wrong_photo_is_kept_but_no_longer_served(
    personas: Personas, seeded: Callable[..., Seeded], media: Path
) -> None:
    s = seeded()
    client = _client(personas, "podiatry")
    client.post(
        reverse("assessments:photo_retire", args=[s.patient.pk, s.photo.pk]),
        {"reason": "another patient's foot"},
    )
    s.photo.refresh_from_db()
    assert s.photo.entered_in_error
    assert (media / s.photo.path).exists()
    url = reverse("assessments:photo", args=[s.patient.pk, s.photo.pk, "thumb"])
    assert client.get(url).status_code == 404


def test_an_oversized_upload_is_refused_before_it_is_read(
    personas: Personas, seeded: Callable[..., Seeded]
) -> None:
    s = seeded()
    from limbguard.assessments.views import MAX_UPLOAD_BYTES

    url = reverse("assessments:wound_record", args=[s.patient.pk, s.assessment.pk])
    response = _client(personas).post(
        url,
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(MAX_UPLOAD_BYTES + 1),
    )
    assert response.status_code == 413
    assert WoundObservation.objects.count() == 1


def test_the_live_preview_of_an_edit_includes_the_recorded_wounds(
    personas: Personas, seeded: Callable[..., Seeded]
) -> None:
    s = seeded()
    url = reverse("assessments:preview", args=[s.patient.pk, "left"])
    data = _form(toe_pressure="34")
    plain = _client(personas).post(url, data).content.decode()
    editing = _client(personas).post(f"{url}?assessment={s.assessment.pk}", data).content.decode()
    assert "W0 I2 fI0" in plain
    assert "W1 I2 fI0" in editing
    other_limb = reverse("assessments:preview", args=[s.patient.pk, "right"])
    response = _client(personas).post(f"{other_limb}?assessment={s.assessment.pk}", data)
    assert response.status_code == 404
