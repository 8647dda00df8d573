"""The procedure log: validation per kind (issue 6 'Bad input'), GLASS from the library,
CPT codes from the value sets, amputations only through the gate, and what a procedure
implies (surveillance plan, reintervention and amputation events, the registry limb)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from limbguard.accounts.models import AuditEvent
from limbguard.registry.models import LimbStatus, Patient
from limbguard.testing import Personas
from limbguard.treatment.actions.events import do_record_event
from limbguard.treatment.actions.procedures import (
    LesionInput,
    do_log_procedure,
    do_retire_procedure,
)
from limbguard.treatment.events import OutcomeEvent
from limbguard.treatment.vocab import EventKind
from tests.treatment.support import SFA_STENT, ago, log_angioplasty, planned_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at()


def test_endovascular_procedure_is_logged_with_glass_cpt_plan_and_audit(
    personas: Personas, patient: Patient
) -> None:
    intervention = log_angioplasty(personas, patient)
    # 12 cm non-flush SFA occlusion: FP3 (GVG 2019 FP figure), moderate calcium adds none.
    assert intervention.lesions.get().glass_grade == 3
    assert intervention.technical_success is True  # residual 10 % < 30 %
    # DES in the femoropopliteal territory: stent code 37226 (§2.1).
    assert intervention.cpt_codes == ["37226"]
    assert [v.label for v in intervention.surveillance.visits.all()] == [
        "1 month",
        "6 months",
        "12 months",
    ]
    event = AuditEvent.objects.filter(object_type="treatment.intervention").get()
    assert event.patient_id == patient.pk
    assert event.changes["lesions"] == ["sfa occlusion 12 cm"]


def test_glass_stage_from_fp_and_assessed_ip_grades(personas: Personas, patient: Patient) -> None:
    tibial = LesionInput(
        segment="anterior_tibial",
        lesion_type="stenosis",
        length_cm=Decimal("4"),
        techniques=("pta",),
        glass_grade=3,
    )
    intervention = log_angioplasty(personas, patient, lesions=(SFA_STENT, tibial))
    # FP3 x IP3 -> GLASS III (GVG 2019 stage matrix).
    assert intervention.glass_stage == "III"
    assert intervention.cpt_codes == ["37226", "37228"]


def test_cpt_codes_outside_the_kinds_value_set_are_refused(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(ValidationError) as error:
        log_angioplasty(personas, patient, cpt_codes=["27880"])
    assert "value set" in str(error.value.message_dict["cpt_codes"])
    with pytest.raises(ValidationError):
        log_angioplasty(personas, patient, cpt_codes=["not-a-code"])
    intervention = log_angioplasty(personas, patient, cpt_codes=["37227", "37227"])
    assert intervention.cpt_codes == ["37227"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"access": ""}, "access"),
        ({"lesions": ()}, "lesions"),
        ({"conduit": "gsv_reversed"}, "conduit"),
        ({"indication": "bored"}, "indication"),
        ({"complications": ["gremlins"]}, "complications"),
        ({"wifi_stage": 5}, "wifi_stage"),
        (
            {"lesions": (LesionInput("gsv", "reflux", Decimal(30), techniques=("rfa",)),)},
            "lesions",
        ),
        (
            {"lesions": (LesionInput("sfa", "stenosis", Decimal(3), techniques=("rfa",)),)},
            "lesions",
        ),
        ({"lesions": (LesionInput("sfa", "stenosis", Decimal(61)),)}, "lesions"),
        (
            {
                "technical_success": True,
                "lesions": (LesionInput("sfa", "stenosis", Decimal(3), residual_stenosis_pct=40),),
            },
            "technical_success",
        ),
    ],
)
def test_bad_procedure_input_names_the_field(
    personas: Personas, patient: Patient, extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        log_angioplasty(personas, patient, **extra)
    assert field in error.value.message_dict
    assert not patient.interventions.exists()


def test_procedure_before_birth_after_death_or_in_the_future_is_refused(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    young = patient_at(birth_date=ago(400))
    with pytest.raises(ValidationError, match="before the patient's birth"):
        log_angioplasty(personas, young, performed_on=ago(500))
    dead = patient_at(status="deceased", deceased_date=ago(30))
    with pytest.raises(ValidationError, match="after the patient's death"):
        log_angioplasty(personas, dead, performed_on=ago(10))
    with pytest.raises(ValidationError, match="future"):
        log_angioplasty(personas, young, performed_on=ago(-1))


def test_only_permitted_users_log(personas: Personas, patient: Patient) -> None:
    with pytest.raises(PermissionDenied):
        do_log_procedure(
            acting_user=personas["wound_care"],
            patient=patient,
            limb=patient.limbs.get(side="left"),
            kind="arterial_endovascular",
            performed_on=ago(1),
            indication="claudication",
            access="femoral_antegrade",
            lesions=(SFA_STENT,),
        )


def test_a_second_revascularization_is_a_reintervention_and_bypass_is_major(
    personas: Personas, patient: Patient
) -> None:
    first = log_angioplasty(personas, patient, performed_on=ago(200))
    staged = log_angioplasty(personas, patient, performed_on=ago(190), staged_from=first)
    assert not OutcomeEvent.objects.filter(kind=EventKind.REINTERVENTION).exists()
    log_angioplasty(personas, patient, performed_on=ago(100))
    bypass = log_angioplasty(
        personas,
        patient,
        kind="bypass",
        access="",
        conduit="gsv_reversed",
        lesions=(),
        performed_on=ago(50),
    )
    events = list(
        OutcomeEvent.objects.filter(kind=EventKind.REINTERVENTION).order_by("occurred_on")
    )
    assert [e.major_reintervention for e in events] == [False, True]
    assert events[1].is_male
    assert bypass.cpt_codes == ["35556"]
    assert staged.staged_from == first


def test_staged_procedure_must_follow_on_the_same_limb(
    personas: Personas, patient: Patient
) -> None:
    first = log_angioplasty(personas, patient, performed_on=ago(20))
    with pytest.raises(ValidationError, match="before the first"):
        log_angioplasty(personas, patient, performed_on=ago(30), staged_from=first)
    with pytest.raises(ValidationError, match="same limb"):
        log_angioplasty(personas, patient, side="right", staged_from=first)


def amputate(personas: Personas, patient: Patient, level: str, **extra: object) -> object:
    order = planned_order(personas, patient, level)
    return do_log_procedure(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        limb=patient.limbs.get(side="left"),
        kind="amputation",
        performed_on=ago(0),
        indication="tissue_loss",
        amputation_order=order,
        **extra,  # type: ignore[arg-type]
    )


def test_amputation_needs_a_planned_order_and_updates_the_limb(
    personas: Personas, patient: Patient
) -> None:
    with pytest.raises(ValidationError, match="amputation gate"):
        do_log_procedure(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            limb=patient.limbs.get(side="left"),
            kind="amputation",
            performed_on=ago(0),
            indication="tissue_loss",
        )
    amputate(personas, patient, "below_knee")
    limb = patient.limbs.get(side="left")
    assert (limb.status, limb.amputation_level) == (LimbStatus.MAJOR_AMPUTATION, "below_knee")
    event = OutcomeEvent.objects.get(kind=EventKind.MAJOR_AMPUTATION)
    assert event.amputation_level == "below_knee"
    assert event.intervention is not None
    assert event.intervention.cpt_codes == ["27880"]
    assert not hasattr(event.intervention, "surveillance")


def test_an_order_is_performed_once_and_never_when_refused(
    personas: Personas, patient: Patient
) -> None:
    order = planned_order(personas, patient, "toe")
    args = {
        "acting_user": personas["vascular_specialist"],
        "patient": patient,
        "limb": patient.limbs.get(side="left"),
        "kind": "amputation",
        "performed_on": ago(0),
        "indication": "tissue_loss",
        "amputation_order": order,
        "digit": 2,
    }
    do_log_procedure(**args)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="already been performed"):
        do_log_procedure(**args)  # type: ignore[arg-type]


def test_amputation_of_an_already_amputated_level_is_refused(
    personas: Personas, patient: Patient
) -> None:
    amputate(personas, patient, "toe", digit=2)
    with pytest.raises(ValidationError, match="Digit 2 of this limb"):
        amputate(personas, patient, "toe", digit=2)
    amputate(personas, patient, "toe", digit=3)  # another toe is fine
    amputate(personas, patient, "transmetatarsal")
    with pytest.raises(ValidationError, match="more proximal"):
        amputate(personas, patient, "ray", digit=4)
    amputate(personas, patient, "above_knee")
    with pytest.raises(ValidationError, match="already had a major amputation"):
        do_record_event(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            limb=patient.limbs.get(side="left"),
            kind="major_amputation",
            occurred_on=ago(0),
            amputation_level="hip",
            performed_elsewhere=True,
        )


def test_retiring_a_procedure_keeps_it_and_its_events_struck(
    personas: Personas, patient: Patient
) -> None:
    log_angioplasty(personas, patient, performed_on=ago(100))
    second = log_angioplasty(personas, patient, performed_on=ago(50))
    with pytest.raises(ValidationError):
        do_retire_procedure(
            acting_user=personas["vascular_specialist"], intervention=second, reason=" "
        )
    do_retire_procedure(
        acting_user=personas["vascular_specialist"], intervention=second, reason="wrong patient"
    )
    second.refresh_from_db()
    assert second.entered_in_error
    assert OutcomeEvent.objects.get(kind=EventKind.REINTERVENTION).entered_in_error
    assert second.surveillance.status == "closed"
