"""Registry services: one transaction, one audit row with old and new values, nothing
saved on bad input, nothing clinical hard-deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.registry import services
from limbguard.registry.models import LabResult, Limb, Patient, Problem
from limbguard.testing import Personas

pytestmark = pytest.mark.django_db
MakePatient = Callable[..., Patient]


def test_create_patient_makes_two_intact_limbs_risk_profile_and_audit(personas: Personas) -> None:
    user = personas["vascular_specialist"]
    patient = services.do_create_patient(
        acting_user=user,
        ip_address="10.0.0.9",
        home_center=personas.centers["harbor"],
        mrn="H-0001",
        given_name="José",
        family_name="Núñez",
        birth_date=dt.date(1948, 2, 29),
        sex="male",
    )
    assert sorted(patient.limbs.values_list("side", "status")) == [
        ("left", "intact"),
        ("right", "intact"),
    ]
    assert patient.risk.diabetes == "none"
    assert (patient.given_key, patient.family_key) == ("jose", "nunez")
    event = AuditEvent.objects.get(action=AuditAction.CREATE, patient_id=patient.pk)
    assert (event.actor, event.ip_address, event.changes["mrn"]) == (user, "10.0.0.9", "H-0001")


def test_bad_patient_changes_nothing(personas: Personas, patient_at: MakePatient) -> None:
    patient_at(mrn="DUP-1")
    before = (Patient.objects.count(), AuditEvent.objects.count())
    bad: list[dict[str, Any]] = [
        {"mrn": "DUP-1"},
        {"mrn": "x"},
        {"birth_date": dt.date(2999, 1, 1)},
        {"status": "deceased"},
        {"deceased_date": dt.date(2020, 1, 1)},
        {"status": "deceased", "deceased_date": dt.date(1900, 1, 1)},
        {"sex": "robot"},
    ]
    for fields in bad:
        values: dict[str, Any] = {
            "mrn": "NEW-1",
            "given_name": "A",
            "family_name": "B",
            "birth_date": dt.date(1950, 1, 1),
            "sex": "female",
        }
        values.update(fields)
        with pytest.raises(ValidationError):
            services.do_create_patient(
                acting_user=None, home_center=personas.centers["harbor"], **values
            )
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


def test_update_patient_keeps_old_and_new_values(
    personas: Personas, patient_at: MakePatient
) -> None:
    patient = patient_at(family_name="Example", phone="")
    services.do_update_patient(
        acting_user=personas["front_desk"],
        patient=patient,
        family_name="Sample",
        phone="(619) 555-0100",
    )
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE).get()
    assert event.changes == {"family_name": ["Example", "Sample"], "phone": ["", "(619) 555-0100"]}
    patient.refresh_from_db()
    assert patient.family_key == "sample"


def test_update_without_change_writes_no_audit_row(patient_at: MakePatient) -> None:
    patient = patient_at()
    count = AuditEvent.objects.count()
    services.do_update_patient(acting_user=None, patient=patient, given_name=patient.given_name)
    assert AuditEvent.objects.count() == count


def test_death_is_recorded_with_a_date(patient_at: MakePatient) -> None:
    patient = patient_at()
    services.do_update_patient(
        acting_user=None, patient=patient, status="deceased", deceased_date=dt.date(2026, 1, 2)
    )
    patient.refresh_from_db()
    assert (patient.status, patient.deceased_date) == ("deceased", dt.date(2026, 1, 2))


def test_limb_status_moves_only_towards_more_loss(patient_at: MakePatient) -> None:
    patient = patient_at()
    limb = patient.limbs.get(side="right")
    with pytest.raises(ValidationError, match="Level does not match"):
        services.do_update_limb(
            acting_user=None, limb=limb, status="minor_amputation", amputation_level="below_knee"
        )
    with pytest.raises(ValidationError, match="Give the amputation level"):
        services.do_update_limb(acting_user=None, limb=limb, status="major_amputation")
    services.do_update_limb(
        acting_user=None,
        limb=limb,
        status="minor_amputation",
        amputation_level="toe",
        amputation_date=dt.date(2026, 5, 1),
    )
    services.do_update_limb(
        acting_user=None, limb=limb, status="major_amputation", amputation_level="below_knee"
    )
    with pytest.raises(ValidationError, match="lesser amputation status"):
        services.do_update_limb(acting_user=None, limb=limb, status="intact")
    assert Limb.objects.get(pk=limb.pk).amputation_level == "below_knee"
    assert AuditEvent.objects.filter(object_type="registry.limb").count() == 2


def test_problem_entered_in_error_is_kept_and_frozen(patient_at: MakePatient) -> None:
    patient = patient_at()
    problem = services.do_add_problem(
        acting_user=None,
        patient=patient,
        system="ICD10CM",
        code=" e11.621 ",
        display="T2DM with foot ulcer",
    )
    assert problem.code == "E11.621"
    services.do_update_problem(acting_user=None, problem=problem, entered_in_error=True)
    assert Problem.objects.filter(pk=problem.pk, entered_in_error=True).exists()
    assert AuditEvent.objects.filter(action=AuditAction.RETIRE, object_id=str(problem.pk)).exists()
    with pytest.raises(ValidationError):
        services.do_update_problem(acting_user=None, problem=problem, status="resolved")


def test_labs_have_canonical_units_and_plausible_values(patient_at: MakePatient) -> None:
    patient = patient_at()
    lab = services.do_add_lab(
        acting_user=None,
        patient=patient,
        kind="hba1c",
        value=Decimal("8.4"),
        observed_on=dt.date(2026, 10, 1),
    )
    assert lab.unit == "%"
    for kind, value in (("hba1c", Decimal("25")), ("egfr", Decimal("-1")), ("ldl", Decimal("1"))):
        with pytest.raises(ValidationError):
            services.do_add_lab(
                acting_user=None,
                patient=patient,
                kind=kind,
                value=value,
                observed_on=dt.date(2026, 1, 1),
            )
    with pytest.raises(ValidationError, match="future"):
        services.do_add_lab(
            acting_user=None,
            patient=patient,
            kind="egfr",
            value=Decimal(50),
            observed_on=dt.date(2999, 1, 1),
        )
    assert LabResult.objects.count() == 1
    with pytest.raises(ValidationError, match="Say why"):
        services.do_retire_lab(acting_user=None, lab=lab, reason=" ")
    services.do_retire_lab(acting_user=None, lab=lab, reason="wrong patient")
    assert LabResult.objects.get(pk=lab.pk).entered_in_error


def test_risk_profile_changes_are_audited(patient_at: MakePatient) -> None:
    patient = patient_at()
    services.do_update_risk_profile(
        acting_user=None, patient=patient, diabetes="type2", on_dialysis=True
    )
    event = AuditEvent.objects.get(object_type="registry.riskprofile")
    assert event.changes == {"diabetes": ["none", "type2"], "on_dialysis": [False, True]}
    with pytest.raises(ValidationError):
        services.do_update_risk_profile(acting_user=None, patient=patient, ckd_stage="G9")


def test_clinical_rows_cannot_be_hard_deleted(patient_at: MakePatient) -> None:
    patient = patient_at()
    with pytest.raises(ProtectedError):
        patient.delete()
