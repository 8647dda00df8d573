"""Care-team tasks and referrals: loop closure, one-click suggestions from the pathway,
and the worklist per discipline (overdue first) in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from limbguard.registry.models import Patient
from limbguard.registry.services import do_update_risk_profile
from limbguard.testing import Personas
from limbguard.treatment import lists
from limbguard.treatment.actions.care_team import (
    do_cancel_task,
    do_complete_task,
    do_create_task,
)
from limbguard.treatment.care_team import CareTask
from tests.treatment.support import ago

pytestmark = pytest.mark.django_db


def task(personas: Personas, patient: Patient, **fields: object) -> CareTask:
    values: dict[str, object] = {"discipline": "wound_care", "title": "Debride and dress"}
    values.update(fields)
    return do_create_task(
        acting_user=personas["vascular_specialist"],
        patient=patient,
        **values,  # type: ignore[arg-type]
    )


def test_task_closes_only_with_a_note(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at()
    made = task(personas, patient, due_on=timezone.localdate())
    with pytest.raises(ValidationError, match="Close the loop"):
        do_complete_task(acting_user=personas["wound_care"], task=made, note="  ")
    done = do_complete_task(acting_user=personas["wound_care"], task=made, note="Dressed; healing")
    assert (done.status, done.closed_by) == ("completed", personas["wound_care"])
    with pytest.raises(ValidationError, match="already"):
        do_cancel_task(acting_user=personas["wound_care"], task=made, reason="dup")


def test_bad_task_input(personas: Personas, patient_at: Callable[..., Patient]) -> None:
    patient = patient_at()
    with pytest.raises(ValidationError) as error:
        task(personas, patient, kind="referral", discipline="nope", title="", due_on=ago(1))
    assert set(error.value.message_dict) >= {"refer_to", "discipline", "title", "due_on"}
    with pytest.raises(PermissionDenied):
        do_create_task(
            acting_user=personas["front_desk"], patient=patient, discipline="podiatry", title="x"
        )
    dead = patient_at(status="deceased", deceased_date=ago(3))
    with pytest.raises(ValidationError, match="died"):
        task(personas, dead)


def test_pathway_needs_become_suggestions_until_a_task_is_open(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    patient = patient_at()
    do_update_risk_profile(acting_user=None, patient=patient, smoking="current")
    found = lists.suggestions(patient, today=timezone.localdate())
    assert [s.discipline for s in found] == ["smoking_cessation"]
    assert "Class I" in found[0].source
    suggestion = found[0]
    task(
        personas,
        patient,
        discipline=suggestion.discipline,
        title=suggestion.text,
        source_rule=suggestion.rule,
        source=suggestion.source,
    )
    assert lists.suggestions(patient, today=timezone.localdate()) == []
    with pytest.raises(ValidationError, match="already has an open task"):
        task(personas, patient, discipline="smoking_cessation", source_rule=suggestion.rule)


def test_worklist_puts_overdue_first_in_one_query(
    personas: Personas, patient_at: Callable[..., Patient]
) -> None:
    today = timezone.localdate()
    made = []
    for index in range(6):
        patient = patient_at()
        made.append(task(personas, patient, due_on=today if index % 2 else None))
    overdue = made[0]
    CareTask.objects.filter(pk=overdue.pk).update(due_on=ago(5))  # due date passed since
    task(personas, patient_at(), discipline="podiatry")
    with CaptureQueriesContext(connection) as queries:
        rows = lists.worklist(Patient.objects.all(), discipline="wound_care", today=today)
        [(r.task.patient.home_center.name, r.task.limb, r.task.owner) for r in rows]
    assert len(queries) == 1
    assert rows[0].task == overdue
    assert rows[0].overdue
    assert len(rows) == 6
    assert [r.task.due_on is None for r in rows] == [False, False, False, False, True, True]
