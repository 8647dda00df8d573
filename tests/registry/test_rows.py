"""Fast row helpers of the batch services (`registry.rows`): the same objects and
verdicts as Django's own constructor and `Model.clean_fields`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from limbguard.clinics.models import Center
from limbguard.registry import rows
from limbguard.registry.models import Observation, Patient, RiskProfile

OBSERVATION: dict[str, Any] = {
    "patient_id": 5,
    "fhir_id": "obs-1",
    "source_system": "test",
    "encounter_id": None,
    "status": "final",
    "category": "exam",
    "system": "http://limbguard.org/fhir/CodeSystem/limbguard",
    "code": "abi",
    "display": "Ankle-brachial index",
    "value_decimal": Decimal("0.82"),
    "laterality": "right",
    "effective_date": dt.date(2025, 10, 26),
}


def _columns(obj: models.Model) -> dict[str, Any]:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


def test_maker_builds_what_the_constructor_builds() -> None:
    made = rows.maker(Observation)(OBSERVATION)
    assert _columns(made) == _columns(Observation(**OBSERVATION))
    assert made._state.adding
    assert made._state.db is None
    # Mutable defaults are fresh for every instance, as the constructor makes them.
    again = rows.maker(Observation)(OBSERVATION)
    assert made.components == []
    assert made.components is not again.components


def test_maker_sets_a_relation_by_name_through_its_descriptor() -> None:
    center = Center(slug="harbor", name="Harbor")
    center.pk = 7
    values = {
        "mrn": "M-1",
        "given_name": "Rosa",
        "family_name": "Example",
        "birth_date": dt.date(1950, 3, 14),
        "sex": "female",
        "home_center": center,
    }
    made = rows.maker(Patient)(values)
    built = Patient(**values)
    assert {k: v for k, v in _columns(made).items() if k != "fhir_id"} == {
        k: v for k, v in _columns(built).items() if k != "fhir_id"
    }
    assert made.home_center_id == 7
    assert made.home_center is center
    assert made.fhir_id
    assert made.fhir_id != built.fhir_id


def test_maker_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="colour"):
        rows.maker(Observation)({**OBSERVATION, "colour": "red"})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": "bogus"},
        {"laterality": "middle", "code": ""},
        {"value_decimal": Decimal("123456789.5")},
        {"fhir_id": "not valid!"},
    ],
)
def test_clean_fields_gives_the_verdicts_of_django(changes: dict[str, Any]) -> None:
    def verdict(clean: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
        obj = Observation(**{**OBSERVATION, **changes})
        try:
            clean(obj)
        except ValidationError as error:
            return _columns(obj), error.message_dict
        return _columns(obj), {}

    exclude = ["patient", "encounter"]
    django = verdict(lambda obj: obj.clean_fields(exclude=exclude))
    for _ in range(2):  # the second time from the remembered verdicts
        assert verdict(lambda obj: rows.clean_fields(obj, exclude=exclude)) == django


@pytest.mark.django_db
def test_among_selects_what_in_selects(patient_at: Callable[..., Patient]) -> None:
    patients = [patient_at() for _ in range(3)]
    fhir_ids = [patients[0].fhir_id, patients[2].fhir_id, "not-there", None]
    assert set(Patient.objects.filter(fhir_id__among=fhir_ids)) == {patients[0], patients[2]}
    assert set(Patient.objects.filter(fhir_id__among=fhir_ids)) == set(
        Patient.objects.filter(fhir_id__in=fhir_ids)
    )
    keys = {patients[1].pk, patients[2].pk}  # a foreign key, by its column
    assert set(RiskProfile.objects.filter(patient_id__among=keys)) == set(
        RiskProfile.objects.filter(patient_id__in=keys)
    )
    assert RiskProfile.objects.filter(patient_id__among=keys).count() == 2


@pytest.mark.django_db
def test_among_nothing_asks_nothing() -> None:
    with CaptureQueriesContext(connection) as captured:
        assert list(Patient.objects.filter(fhir_id__among=[])) == []
        assert list(Patient.objects.filter(fhir_id__among=[None])) == []
    assert len(captured) == 0
