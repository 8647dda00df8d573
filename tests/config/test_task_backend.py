"""Our task backend writes the task row django_tasks_db's own backend writes (compared
column by column, as stored: SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task, task_backends
from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.models import DBTaskResult

from limbguard.config.tasks import DatabaseBackend

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 1, 8, 59, 59, 654321, tzinfo=dt.UTC)


@task(priority=5)
def sample(request_id: int, event: str) -> None:
    """Enqueued only."""


def stored(pk: Any) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {connection.ops.quote_name(DBTaskResult._meta.db_table)} "  # noqa: S608
            "WHERE id = %s",
            [DBTaskResult._meta.pk.get_db_prep_value(pk, connection)],
        )
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    return {name: value for name, value in zip(names, row, strict=True) if name != "id"}


def test_settings_use_our_backend() -> None:
    backend: Any = task_backends["default"]
    assert type(backend) is DatabaseBackend


@pytest.mark.parametrize("later", [False, True])
def test_the_task_row_is_the_librarys(monkeypatch: pytest.MonkeyPatch, later: bool) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    params = {"QUEUES": ["default"]}
    job = sample.using(run_after=NOW + dt.timedelta(days=2)) if later else sample
    library: Any = LibraryDatabaseBackend("default", params)
    backend: Any = DatabaseBackend("default", params)
    theirs = library.enqueue(job, (12,), {"event": "new"})
    with CaptureQueriesContext(connection) as queries:
        ours = backend.enqueue(job, (12,), {"event": "new"})
    assert len(queries) == 1
    assert ours.id != theirs.id
    assert stored(ours.id) == stored(theirs.id)
    assert stored(ours.id)["run_after"] is not None
    assert (ours.status, ours.args, ours.kwargs, ours.enqueued_at) == (
        theirs.status,
        theirs.args,
        theirs.kwargs,
        theirs.enqueued_at,
    )
