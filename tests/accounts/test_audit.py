"""The audit trail is append-only, filterable by program leads, and exportable as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from limbguard.accounts import audit
from limbguard.accounts.models import AppendOnlyError, AuditAction, AuditEvent
from limbguard.registry.models import Patient
from limbguard.testing import PASSWORD, Personas

pytestmark = pytest.mark.django_db


def _event() -> AuditEvent:
    return audit.record(acting_user=None, action=AuditAction.VIEW, summary="x")


def test_model_refuses_change_and_delete() -> None:
    event = _event()
    event.summary = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == "x"


def test_database_trigger_refuses_raw_sql() -> None:
    event = _event()
    table = AuditEvent._meta.db_table
    for statement in (f"UPDATE {table} SET summary = 'edited'", f"DELETE FROM {table}"):  # noqa: S608
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.get(pk=event.pk).summary == "x"


def test_admin_is_read_only(personas: Personas) -> None:
    admin = personas["administrator"]
    admin.is_staff = True
    admin.save()
    client = Client()
    client.force_login(admin)
    event = _event()
    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert (
        client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk])).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_sign_in_and_failure_are_audited(personas: Personas) -> None:
    client = Client()
    client.post(
        reverse("login"), {"username": "front_desk", "password": "wrong"}, REMOTE_ADDR="10.1.2.3"
    )
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.ip_address == "10.1.2.3"
    assert "front_desk" in failed.summary
    assert "wrong" not in failed.summary
    client.post(
        reverse("login"), {"username": "front_desk", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    assert (
        AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=personas["front_desk"]).count()
        == 1
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("program_lead", 200),
        ("administrator", 200),
        ("vascular_specialist", 403),
        ("front_desk", 403),
        ("wound_care", 403),
    ],
)
def test_audit_pages_permission(personas: Personas, role: str, status: int) -> None:
    client = Client()
    client.force_login(personas[role])
    assert client.get(reverse("accounts:audit_list")).status_code == status
    assert client.get(reverse("accounts:audit_export")).status_code == status


def test_audit_search_by_user_patient_and_dates(personas: Personas, patient_at: object) -> None:
    rosa: Patient = patient_at(mrn="MRN-ROSA")  # type: ignore[operator]
    other: Patient = patient_at(mrn="MRN-OTHER")  # type: ignore[operator]
    vascular = personas["vascular_specialist"]
    viewer = Client()
    viewer.force_login(vascular)
    viewer.get(reverse("registry:patient_chart", args=[rosa.pk]))
    viewer.get(reverse("registry:patient_chart", args=[other.pk]))
    lead = Client()
    lead.force_login(personas["program_lead"])

    page = lead.get(
        reverse("accounts:audit_list"), {"user": "vascular_specialist", "mrn": "mrn-rosa"}
    )
    events = list(page.context["page"].object_list)
    assert [(e.action, e.patient_id) for e in events] == [(AuditAction.VIEW, rosa.pk)]

    today = timezone.localdate()
    future = lead.get(reverse("accounts:audit_list"), {"start": str(today + dt.timedelta(days=1))})
    assert future.context["page"].paginator.count == 0
    backwards = lead.get(
        reverse("accounts:audit_list"),
        {"start": str(today), "end": str(today - dt.timedelta(days=1))},
    )
    assert "The end date is before the start date." in backwards.content.decode()
    assert backwards.context["page"].paginator.count == 0


def test_csv_export_is_filtered_and_itself_audited(personas: Personas, patient_at: object) -> None:
    rosa: Patient = patient_at(mrn="MRN-ROSA")  # type: ignore[operator]
    viewer = Client()
    viewer.force_login(personas["vascular_specialist"])
    viewer.get(reverse("registry:patient_chart", args=[rosa.pk]))
    lead = Client()
    lead.force_login(personas["program_lead"])
    response = lead.get(reverse("accounts:audit_export"), {"mrn": "MRN-ROSA"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["action"] for r in rows} == {"create", "view"}
    assert all(r["patient_id"] == str(rosa.pk) and r["patient_mrn"] == "MRN-ROSA" for r in rows)
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, actor=personas["program_lead"]
    ).exists()
