"""`sqlrows.insert` writes the row `Model.save()` writes: each test saves the same
instance both ways and compares the two rows column by column, as stored (run on
SQLite and, with DATABASE_URL, on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from limbguard import sqlrows
from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.clinics.models import Center
from limbguard.config.demo import ensure_centers
from limbguard.intake.models import (
    Attachment,
    AuthorKind,
    ChallengeUse,
    IntakeRequest,
    Message,
    RateLimitHit,
    StatusChange,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 8, 9, 59, 58, 123456, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto_now(_add) fields read `timezone.now()` in pre_save: one instant for both rows."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def stored(model: type[Model], pk: Any) -> dict[str, Any]:
    """The row as the database holds it, every column but the key."""
    meta = model._meta
    assert meta.pk is not None
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {quote(meta.db_table)} WHERE {quote(meta.pk.attname)} = %s",  # noqa: S608
            [meta.pk.get_db_prep_value(pk, connection)],
        )
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    assert row is not None
    return {name: value for name, value in zip(names, row, strict=True) if name != meta.pk.attname}


def both_ways(make: Callable[[], Model]) -> tuple[dict[str, Any], dict[str, Any], Model]:
    by_orm, by_sql = make(), make()
    by_orm.save()
    with CaptureQueriesContext(connection) as queries:
        sqlrows.insert(by_sql)
    assert len(queries) == 1
    assert by_sql.pk is not None
    assert by_sql.pk != by_orm.pk
    assert not by_sql._state.adding
    assert by_sql._state.db == "default"
    return stored(type(by_orm), by_orm.pk), stored(type(by_sql), by_sql.pk), by_sql


@pytest.fixture
def harbor() -> Center:
    ensure_centers()
    return Center.objects.order_by("id").first()  # type: ignore[return-value]


def intake_request(center: Center) -> IntakeRequest:
    return IntakeRequest(
        kind="referral",
        center=center,
        red_flags=["gangrene", "rest_pain"],
        urgency="emergent",
        urgency_rule="Gangrene: same day.",
        urgency_rank=0,
        requester_name="Dr. Rita Référent",
        requester_email="rita@example.invalid",
        patient_given_name="Walter",
        patient_family_name="Gangi",
        patient_birth_date=dt.date(1948, 9, 30),
        reason="<script>alert(1)</script> dry gangrene",
        link_key="fixed-link-key",
        submitted_ip="2001:db8::1",
    )


def test_request_row_is_the_orms(harbor: Center) -> None:
    orm, sql, written = both_ways(lambda: intake_request(harbor))
    assert sql == orm
    fresh = IntakeRequest.objects.get(pk=written.pk)
    assert fresh.red_flags == ["gangrene", "rest_pain"]
    assert fresh.created_at == NOW
    assert fresh.updated_at == NOW
    assert fresh.patient_birth_date == dt.date(1948, 9, 30)


def test_default_values_are_the_orms(harbor: Center) -> None:
    """Defaults filled by __init__ (status, urgency, a fresh link key) go in as given."""

    def make() -> IntakeRequest:
        return IntakeRequest(
            kind="contact", requester_name="C", requester_email="c@example.invalid", reason="r"
        )

    orm, sql, written = both_ways(make)
    assert orm.pop("link_key") != sql.pop("link_key")  # each instance draws its own
    assert sql == orm
    assert IntakeRequest.objects.get(pk=written.pk).link_key == written.link_key  # type: ignore[attr-defined]


def test_related_rows_are_the_orms(harbor: Center) -> None:
    request = intake_request(harbor)
    sqlrows.insert(request)
    for make in (
        lambda: Message(request=request, author_kind=AuthorKind.PUBLIC, body="Ça fait mal."),
        lambda: StatusChange(request=request, to_status="received"),
        lambda: Attachment(
            request=request,
            file="intake/0123abcd",
            original_name="scan.pdf",
            content_type="application/pdf",
            size=1234,
            sha256="a" * 64,
        ),
        lambda: RateLimitHit(scope="public_form", address="192.0.2.7", at=NOW),
    ):
        orm, sql, _ = both_ways(make)
        assert sql == orm


def test_audit_row_is_the_orms(harbor: Center) -> None:
    def make() -> AuditEvent:
        return AuditEvent(
            at=NOW,
            actor=None,
            actor_name="system",
            action=AuditAction.CREATE,
            object_type="intake.intakerequest",
            object_id="12",
            summary="public referral received",
            changes={"urgency": "emergent", "red_flags": ["gangrene"], "note": "é"},
            ip_address="127.0.0.1",
        )

    orm, sql, _ = both_ways(make)
    assert sql == orm


def test_a_given_key_goes_in_as_a_parameter() -> None:
    by_orm = RateLimitHit(id=900_001, scope="public_form", address="192.0.2.9", at=NOW)
    by_sql = RateLimitHit(id=900_002, scope="public_form", address="192.0.2.9", at=NOW)
    by_orm.save(force_insert=True)
    with CaptureQueriesContext(connection) as queries:
        sqlrows.insert(by_sql)
    assert len(queries) == 1
    assert "RETURNING" not in queries[0]["sql"]
    assert by_sql.pk == 900_002
    assert stored(RateLimitHit, 900_002) == stored(RateLimitHit, 900_001)


def test_a_pre_save_receiver_sets_a_value_before_it_is_read() -> None:
    """django_tasks_db fills an unset run_after in a pre_save receiver."""

    def make() -> DBTaskResult[Any, Any]:
        return DBTaskResult(
            args_kwargs={"args": [12], "kwargs": {}},
            task_path="limbguard.intake.notify.notify_received",
            backend_name="default",
        )

    by_orm, by_sql = make(), make()
    assert by_sql.run_after is None
    by_orm.save()
    with CaptureQueriesContext(connection) as queries:
        sqlrows.insert(by_sql)
    assert len(queries) == 1
    assert by_sql.run_after is not None
    assert stored(DBTaskResult, by_sql.pk) == stored(DBTaskResult, by_orm.pk)


def test_a_duplicate_raises_integrity_error() -> None:
    sqlrows.insert(ChallengeUse(nonce="spent"))
    with pytest.raises(IntegrityError), transaction.atomic():
        sqlrows.insert(ChallengeUse(nonce="spent"))
    assert ChallengeUse.objects.filter(nonce="spent").count() == 1


@pytest.mark.parametrize("write", ["orm", "sql"])
def test_a_failed_insert_marks_the_transaction_for_rollback(write: str) -> None:
    ChallengeUse.objects.create(nonce="spent")
    with transaction.atomic():
        try:
            if write == "orm":
                ChallengeUse(nonce="spent").save()
            else:
                sqlrows.insert(ChallengeUse(nonce="spent"))
        except IntegrityError:
            pass
        assert connection.needs_rollback


def test_save_signals_are_sent_as_by_save() -> None:
    sent: list[tuple[str, str, dict[str, Any]]] = []

    def receiver(signal: str) -> Callable[..., None]:
        def record(sender: type[Model], instance: Model, **kwargs: Any) -> None:
            kwargs.pop("signal")
            sent.append((signal, instance.address, kwargs))  # type: ignore[attr-defined]
            assert instance._state.adding == (signal == "pre")

        return record

    pre, post = receiver("pre"), receiver("post")
    pre_save.connect(pre, sender=RateLimitHit)
    post_save.connect(post, sender=RateLimitHit)
    try:
        RateLimitHit(scope="public_form", address="192.0.2.8", at=NOW).save()
        sqlrows.insert(RateLimitHit(scope="public_form", address="192.0.2.9", at=NOW))
    finally:
        pre_save.disconnect(pre, sender=RateLimitHit)
        post_save.disconnect(post, sender=RateLimitHit)
    by_orm = [(signal, kwargs) for signal, address, kwargs in sent if address == "192.0.2.8"]
    by_sql = [(signal, kwargs) for signal, address, kwargs in sent if address == "192.0.2.9"]
    assert [signal for signal, _ in by_orm] == ["pre", "post"]
    assert by_sql == by_orm


def test_a_saved_instance_is_refused_as_by_force_insert(harbor: Center) -> None:
    event = AuditEvent(at=NOW, actor_name="system", action=AuditAction.VIEW)
    sqlrows.insert(event)
    with pytest.raises(Exception, match="append-only"):
        sqlrows.insert(event)


def test_names_are_the_models_own_quoted() -> None:
    from limbguard.intake.models import RateLimitHit
    from limbguard.registry.models import Limb, Patient

    quote = connection.ops.quote_name
    assert sqlrows.table_name(Patient) == quote(Patient._meta.db_table)
    assert sqlrows.column_name(Limb, "patient") == quote("patient_id")  # a key: its column
    assert sqlrows.column_name(RateLimitHit, "at") == quote("at")
    with pytest.raises(TypeError, match=r"Patient\.limbs is not a column"):
        sqlrows.column_name(Patient, "limbs")  # a reverse relation
