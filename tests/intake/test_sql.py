"""The public pages' plain-SQL reads give the ORM's answer (run on SQLite and, with
DATABASE_URL, on PostgreSQL)."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.models import ModelChoiceIterator

from limbguard.clinics.models import Center
from limbguard.config.demo import ensure_centers
from limbguard.intake import sql
from limbguard.intake.forms import PUBLIC_FORMS

pytestmark = pytest.mark.django_db


def _offered_by_the_form() -> list[tuple[int, str]]:
    """(id, label) of the "Preferred center" choices a public form renders."""
    field = PUBLIC_FORMS["visit"]().fields["center"]
    assert isinstance(field, forms.ModelChoiceField)
    choices = field.choices
    assert isinstance(choices, ModelChoiceIterator)
    return [(int(str(value)), str(label)) for value, label in choices if value != ""]


def test_active_centers_are_the_forms_choices() -> None:
    ensure_centers()
    assert len(sql.active_center_choices()) >= 2
    assert list(sql.active_center_choices()) == _offered_by_the_form()


def test_an_inactive_center_is_left_out_and_names_keep_the_models_order() -> None:
    ensure_centers()
    first, second = Center.objects.order_by("id")[:2]
    first.is_active = False
    first.save()
    second.name = "Aardvark Vascular Center"  # sorts first by name, not by id
    second.save()
    choices = sql.active_center_choices()
    assert first.pk not in [pk for pk, _ in choices]
    assert choices[0] == (second.pk, "Aardvark Vascular Center")
    assert list(choices) == _offered_by_the_form()
    assert Center._meta.ordering == ["name"]  # what the statement's ORDER BY copies


def test_no_centers() -> None:
    Center.objects.update(is_active=False)
    assert sql.active_center_choices() == ()
    assert _offered_by_the_form() == []
