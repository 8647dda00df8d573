"""The background task queue: a table in our own database, run by `limbguard worker`.

Any app enqueues work the same way (see config/management/commands/worker.py):

    from django_tasks import task

    @task()
    def import_upload(upload_id: int) -> int: ...

    import_upload.enqueue(upload_id)                              # as soon as a worker is free
    import_upload.using(run_after=moment).enqueue(upload_id)      # not before `moment` (aware)

Arguments and return values must be JSON-serialisable (ids, not model instances).
Enqueued inside `transaction.atomic()`, the task row commits or rolls back with the
change that asked for it, so a task is never lost nor run for a change that failed.
Tasks should be idempotent: a worker killed mid-task leaves it for a rerun.
"""

from __future__ import annotations

from typing import Any

from django.utils.crypto import get_random_string
from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.compat import Task, normalize_json
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from limbguard import sqlrows


class DatabaseBackend(LibraryDatabaseBackend):
    """django_tasks_db's backend, with a task's row written by `sqlrows.insert` (the row
    `DBTaskResult.objects.create` wrote, its pre_save receiver included): enqueueing
    cost 0.18 ms of CPU, most of it the ORM's save, inside the transaction that asks
    for the task (a public form holds SQLite's write lock there)."""

    def _task_to_db_task(
        self, task: Task[Any, Any], args: Any, kwargs: Any
    ) -> DBTaskResult[Any, Any]:
        # The same values as the library's own `_task_to_db_task` (django-tasks-db 0.13.0).
        row: DBTaskResult[Any, Any] = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            # None: the library's pre_save receiver stores "no earlier than" as its maximum date.
            run_after=task.run_after,  # type: ignore[misc]
            backend_name=self.alias,
        )
        sqlrows.insert(row)
        return row


def run_due_tasks(*, max_tasks: int | None = None) -> int:
    """Run every task that is due now, in this process, then return how many ran.

    The worker's own loop (claim under lock, run, record the result) without its
    connection recycling, so it also works inside a test's transaction; tests call it
    instead of starting `limbguard worker`.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )
    ran = 0
    while max_tasks is None or ran < max_tasks:
        with exclusive_transaction(DBTaskResult.objects.db):
            due = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if due is None:
                break
            due.claim(worker.worker_id)
        worker.run_task(due)
        ran += 1
    return ran
