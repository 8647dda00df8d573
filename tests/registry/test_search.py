"""Patient search by name prefix, MRN and birth date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.registry.models import Patient, name_key
from limbguard.registry.search import search_patients

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(patient_at: Callable[..., Patient]) -> dict[str, Patient]:
    return {
        "nunez": patient_at(
            mrn="LG0000001", given_name="José", family_name="Núñez", birth_date=dt.date(1948, 2, 29)
        ),
        "smith": patient_at(
            mrn="LG0000002", given_name="Maria", family_name="Smith", birth_date=dt.date(1955, 7, 1)
        ),
        "smithers": patient_at(mrn="LG0000003", given_name="John", family_name="Smithers"),
        "johnson": patient_at(mrn="LG0000004", given_name="Smitty", family_name="Johnson"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"nunez", "smith", "smithers", "johnson"}),
        ("smi", {"smith", "smithers", "johnson"}),
        ("SMITH", {"smith", "smithers"}),
        ("nunez", {"nunez"}),
        ("Núñ", {"nunez"}),
        ("smith ma", {"smith"}),
        ("maria smith", {"smith"}),
        ("Smithers, J", {"smithers"}),
        ("lg0000004", {"johnson"}),
        ("LG000000", set()),
        ("1948-02-29", {"nunez"}),
        ("07/01/1955", {"smith"}),
        ("zzz", set()),
    ],
)
def test_search(people: dict[str, Patient], query: str, expected: set[str]) -> None:
    found = set(search_patients(Patient.objects.all(), query).values_list("pk", flat=True))
    assert found == {people[k].pk for k in expected}


@given(st.text(max_size=40))
def test_name_key_is_idempotent_and_lowercase(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert key == key.casefold()
