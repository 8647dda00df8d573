"""Outcome events and follow-up surveillance: the issue's bad input (event before birth or
after death, follow-up without an intervention), death closing the record, the VQI
9-21-month window and each center's follow-up rate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from limbguard.registry.models import Patient, PatientStatus
from limbguard.testing import Personas
from limbguard.treatment import lists
from limbguard.treatment.actions.events import do_record_event, do_retire_event
from limbguard.treatment.actions.followup import (
    do_close_plan,
    do_create_surveillance_plan,
    do_record_followup,
)
from limbguard.treatment.followup import SurveillancePlan
from tests.treatment.support import ago, log_angioplasty

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(patient_at: Callable[..., Patient]) -> Patient:
    return patient_at()


def event(personas: Personas, patient: Patient, **fields: object) -> object:
    return do_record_event(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        **fields,  # type: ignore[arg-type]
    )


def test_event_before_birth_after_death_or_in_the_future_is_refused(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    young = patient_at(birth_date=ago(100))
    limb = young.limbs.get(side="left")
    with pytest.raises(ValidationError, match="before the patient's birth"):
        event(personas, young, kind="wound_healed", limb=limb, occurred_on=ago(101))
    with pytest.raises(ValidationError, match="future"):
        event(personas, young, kind="wound_healed", limb=limb, occurred_on=ago(-3))
    dead = patient_at(status="deceased", deceased_date=ago(10))
    with pytest.raises(ValidationError, match="after the patient's death"):
        event(personas, dead, kind="status", occurred_on=ago(5), ambulatory="wheelchair")


def test_death_marks_the_registry_closes_plans_and_refuses_later_records(
    personas: Personas, patient: Patient
) -> None:
    intervention = log_angioplasty(personas, patient, performed_on=ago(40))
    with pytest.raises(ValidationError, match="Records dated after"):
        event(personas, patient, kind="death", occurred_on=ago(50))
    event(personas, patient, kind="death", occurred_on=ago(20), cause_of_death="sepsis")
    patient.refresh_from_db()
    assert (patient.status, patient.deceased_date) == (PatientStatus.DECEASED, ago(20))
    assert SurveillancePlan.objects.get(intervention=intervention).status == "closed"
    with pytest.raises(ValidationError, match="already recorded"):
        event(personas, patient, kind="death", occurred_on=ago(20))
    with pytest.raises(ValidationError, match="after the patient's death"):
        log_angioplasty(personas, patient, performed_on=ago(5))


def test_event_fields_must_fit_the_kind(personas: Personas, patient: Patient) -> None:
    limb = patient.limbs.get(side="left")
    with pytest.raises(ValidationError) as error:
        event(personas, patient, kind="wound_healed", occurred_on=ago(1))
    assert "limb" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        event(personas, patient, kind="status", occurred_on=ago(1))
    assert "ambulatory" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        event(
            personas,
            patient,
            kind="major_amputation",
            limb=limb,
            occurred_on=ago(1),
            amputation_level="below_knee",
        )
    assert "performed_elsewhere" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        event(
            personas,
            patient,
            kind="minor_amputation",
            limb=limb,
            occurred_on=ago(1),
            amputation_level="below_knee",
            performed_elsewhere=True,
        )
    assert "amputation_level" in error.value.message_dict
    with pytest.raises(ValidationError):
        event(
            personas,
            patient,
            kind="wound_healed",
            limb=limb,
            occurred_on=ago(1),
            major_reintervention=True,
        )


def test_status_over_time_and_outside_amputation(personas: Personas, patient: Patient) -> None:
    event(
        personas,
        patient,
        kind="status",
        occurred_on=ago(30),
        ambulatory="independent",
        living="home",
    )
    event(personas, patient, kind="status", occurred_on=ago(3), ambulatory="wheelchair")
    limb = patient.limbs.get(side="right")
    amputation = event(
        personas,
        patient,
        kind="major_amputation",
        limb=limb,
        occurred_on=ago(2),
        amputation_level="above_knee",
        performed_elsewhere=True,
    )
    limb.refresh_from_db()
    assert limb.status == "major_amputation"
    with pytest.raises(ValidationError, match="registry"):
        do_retire_event(
            acting_user=personas["vascular_specialist"],
            event=amputation,  # type: ignore[arg-type]
            reason="typo",
        )
    statuses = list(patient.outcome_events.filter(kind="status").order_by("occurred_on"))
    assert [s.ambulatory for s in statuses] == ["independent", "wheelchair"]


def test_follow_up_without_an_intervention_is_refused(personas: Personas, patient: Patient) -> None:
    with pytest.raises(ValidationError, match="needs an intervention"):
        do_create_surveillance_plan(acting_user=personas["vascular_specialist"], intervention=None)
    with pytest.raises(ValidationError, match="No intervention on this limb"):
        do_record_followup(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            limb=patient.limbs.get(side="left"),
            done_on=ago(1),
        )


def test_follow_up_fills_the_visit_whose_window_holds_it(
    personas: Personas, patient: Patient
) -> None:
    intervention = log_angioplasty(personas, patient, performed_on=ago(400))
    limb = patient.limbs.get(side="left")
    with pytest.raises(ValidationError, match="before the first intervention"):
        do_record_followup(
            acting_user=personas["vascular_specialist"],
            patient=patient,
            limb=limb,
            done_on=ago(401),
        )
    one = do_record_followup(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        limb=limb,
        done_on=ago(370),
        abi=Decimal("0.92"),
        duplex="patent",
    )
    assert one.label == "1 month"
    late = do_record_followup(
        acting_user=personas["vascular_specialist"], patient=patient, limb=limb, done_on=ago(20)
    )
    assert late.label == "12 months"
    assert late.long_term
    assert intervention.surveillance.visits.filter(done_on__isnull=True).count() == 1


def test_due_overdue_lists_and_center_follow_up_rate(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    today = timezone.localdate()
    recent = patient_at()
    log_angioplasty(personas, recent, performed_on=ago(75))  # 1 month: overdue after day 60
    rows = lists.followups(Patient.objects.all(), today=today)
    assert [(r.visit.label, r.status) for r in rows] == [("1 month", "overdue")]
    # Two procedures whose 9-21-month window has closed; one followed inside the window.
    followed, lost = patient_at(), patient_at()
    for p in (followed, lost):
        log_angioplasty(personas, p, performed_on=ago(700))
    do_record_followup(
        acting_user=personas["vascular_specialist"],
        patient=followed,
        limb=followed.limbs.get(side="left"),
        done_on=ago(700 - 300),
    )
    (harbor,) = lists.followup_rates([personas.centers["harbor"]], today=today)
    assert (harbor.eligible, harbor.followed, harbor.rate) == (2, 1, 0.5)
    plan = recent.surveillance_plans.get()
    do_close_plan(acting_user=personas["vascular_specialist"], plan=plan, reason="moved away")
    assert lists.followups(Patient.objects.all(), today=today) == []
    assert today - dt.timedelta(days=1) == ago(1)
