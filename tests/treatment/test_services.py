"""The amputation gate through the services and pages: every path of issue 5, with every
attempt, refusal and override recorded and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts.models import AuditEvent, User
from limbguard.registry.models import Patient
from limbguard.testing import Personas
from limbguard.treatment import services
from limbguard.treatment.models import AmputationOrder, LimbSalvageReview, OrderStatus
from tests.assessments.conftest import ARMS, assess

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def senior(user: User) -> User:
    user.user_permissions.add(
        Permission.objects.get(
            codename="override_amputation_gate", content_type__app_label="treatment"
        )
    )
    return User.objects.get(pk=user.pk)


def sign(
    personas: Personas, patient: Patient, side: str = "left", **extra: Any
) -> LimbSalvageReview:
    return services.do_sign_review(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        limb=patient.limbs.get(side=side),
        conclusion="amputation_indicated",
        summary="No target for revascularization.",
        **extra,
    )


def request(
    user: User, patient: Patient, side: str = "left", **extra: Any
) -> services.AmputationAttempt:
    return services.do_request_amputation(
        acting_user=user,
        patient=patient,
        limb=patient.limbs.get(side=side),
        level="below_knee",
        **extra,
    )


def duplex(patient: Patient, days: int, side: str = "left") -> None:
    assess(patient, side=side, visit_date=ago(days), arterial_duplex_done=True)


def last_event() -> AuditEvent:
    return AuditEvent.objects.filter(object_type="treatment.amputationorder").latest("id")


@pytest.fixture
def patient(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at()


def test_refused_without_imaging(personas: Personas, patient: Patient) -> None:
    sign(personas, patient)
    attempt = request(personas["vascular_specialist"], patient)
    assert not attempt.accepted
    assert attempt.order.status == OrderStatus.REFUSED
    assert "no vascular imaging of the left limb" in attempt.errors["__all__"]
    event = last_event()
    assert "refused" in event.summary
    assert event.changes["gate_open"] is False


def test_refused_for_imaging_older_than_30_days(personas: Personas, patient: Patient) -> None:
    duplex(patient, 31)
    sign(personas, patient)
    attempt = request(personas["vascular_specialist"], patient)
    assert not attempt.accepted
    assert "31 days old" in attempt.errors["__all__"]


def test_refused_for_imaging_of_the_other_limb(personas: Personas, patient: Patient) -> None:
    duplex(patient, 2, side="right")
    sign(personas, patient)
    assert not request(personas["vascular_specialist"], patient).accepted


def test_refused_without_a_review(personas: Personas, patient: Patient) -> None:
    duplex(patient, 2)
    attempt = request(personas["vascular_specialist"], patient)
    assert not attempt.accepted
    assert "no signed limb salvage review" in attempt.errors["__all__"]


def test_abi_without_toe_pressure_or_a_venous_duplex_is_not_imaging(
    personas: Personas, patient: Patient
) -> None:
    assess(patient, ankle_dp=70, ankle_pt=60, venous_duplex_done=True, **ARMS)
    sign(personas, patient)
    assert not request(personas["vascular_specialist"], patient).accepted
    assess(patient, ankle_dp=70, ankle_pt=60, toe_pressure=30, **ARMS)
    assert request(personas["vascular_specialist"], patient).accepted


def test_imaging_in_an_assessment_entered_in_error_does_not_count(
    personas: Personas, patient: Patient
) -> None:
    from limbguard.assessments.services import do_retire_assessment

    assessment = assess(patient, visit_date=ago(1), angiography_done=True)
    sign(personas, patient)
    do_retire_assessment(acting_user=None, assessment=assessment, reason="other patient's study")
    assert not request(personas["vascular_specialist"], patient).accepted


def test_accepted_with_recent_imaging_and_a_signed_review(
    personas: Personas, patient: Patient
) -> None:
    duplex(patient, 30)
    sign(personas, patient)
    attempt = request(personas["podiatry"], patient)
    assert attempt.accepted
    assert attempt.order.status == OrderStatus.PLANNED
    assert attempt.order.gate_open
    assert "amputation planned (gate open)" in last_event().summary


def test_override_with_a_coded_reason_by_a_senior_clinician(
    personas: Personas, patient: Patient
) -> None:
    user = senior(personas["vascular_specialist"])
    attempt = request(
        user,
        patient,
        override_reason="life_threatening_infection",
        override_text="Septic shock; guillotine amputation tonight.",
    )
    assert attempt.accepted
    assert attempt.order.status == OrderStatus.OVERRIDDEN
    assert not attempt.order.gate_open
    event = last_event()
    assert "OVERRIDDEN (life_threatening_infection)" in event.summary
    assert event.changes["override_text"] == "Septic shock; guillotine amputation tonight."
    assert event.actor == user


def test_override_without_a_reason_is_refused_and_recorded(
    personas: Personas, patient: Patient
) -> None:
    user = senior(personas["vascular_specialist"])
    attempt = request(user, patient, override_text="Patient is septic, needs it now.")
    assert not attempt.accepted
    assert "override_reason" in attempt.errors
    assert attempt.order.status == OrderStatus.REFUSED
    assert attempt.order.refusal.startswith("override refused")
    assert "refused" in last_event().summary


def test_override_without_an_explanation_is_refused(personas: Personas, patient: Patient) -> None:
    user = senior(personas["vascular_specialist"])
    attempt = request(user, patient, override_reason="other", override_text="ok")
    assert not attempt.accepted
    assert "override_text" in attempt.errors


def test_override_by_a_clinician_who_is_not_senior_is_refused(
    personas: Personas, patient: Patient
) -> None:
    attempt = request(
        personas["vascular_specialist"],
        patient,
        override_reason="patient_informed_choice",
        override_text="Patient chooses amputation after counselling.",
    )
    assert not attempt.accepted
    assert "senior clinician" in attempt.errors["override_reason"]


def test_every_attempt_is_kept(personas: Personas, patient: Patient) -> None:
    user = senior(personas["vascular_specialist"])
    request(user, patient)
    request(user, patient, override_reason="other", override_text="Documented elsewhere in detail.")
    statuses = list(AmputationOrder.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [OrderStatus.REFUSED, OrderStatus.OVERRIDDEN]
    assert AuditEvent.objects.filter(object_type="treatment.amputationorder").count() == 2


def test_a_bad_level_is_a_field_error_not_an_attempt(personas: Personas, patient: Patient) -> None:
    with pytest.raises(ValidationError) as error:
        services.do_request_amputation(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            limb=patient.limbs.get(side="left"),
            level="elbow",
        )
    assert "level" in error.value.error_dict
    assert not AmputationOrder.objects.exists()


def test_only_vascular_specialists_sign_reviews_and_not_in_the_future(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(ValidationError):
        services.do_sign_review(
            acting_user=personas["podiatry"],
            patient=patient,
            limb=patient.limbs.get(side="left"),
            conclusion="wound_care",
            summary="x",
        )
    with pytest.raises(ValidationError) as future:
        sign(personas, patient, signed_on=TODAY() + dt.timedelta(days=1))
    assert "signed_on" in future.value.error_dict
    review = sign(personas, patient)
    assert AuditEvent.objects.filter(object_type="treatment.limbsalvagereview").count() == 1
    user = personas["vascular_specialist"]
    assert review.signer_name == (user.get_full_name() or user.get_username())


def test_the_page_refuses_then_allows_after_the_evaluation(
    personas: Personas, patient: Patient
) -> None:
    client = Client()
    client.force_login(personas["vascular_specialist"])
    url = reverse("treatment:amputation", args=[patient.pk, "left"])
    page = client.get(url)
    assert page.context["gate"].state == "closed"
    assert "override_reason" not in page.content.decode()
    refused = client.post(url, {"level": "transmetatarsal"})
    assert refused.status_code == 409
    assert "Refused" in " ".join(refused.context["form"].non_field_errors())
    duplex(patient, 1)
    review_url = reverse("treatment:review", args=[patient.pk, "left"])
    assert (
        client.post(
            review_url, {"conclusion": "amputation_indicated", "summary": "No target."}
        ).status_code
        == 302
    )
    allowed = client.post(url, {"level": "transmetatarsal"})
    assert allowed.status_code == 302
    assert AmputationOrder.objects.latest("id").status == OrderStatus.PLANNED
    limb_page = client.get(reverse("assessments:limb", args=[patient.pk, "left"]))
    assert limb_page.context["row"].gate.open
