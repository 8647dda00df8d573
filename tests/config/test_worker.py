"""The database task queue behind `limbguard worker`: enqueue in a transaction, run
due tasks, leave deferred ones alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from limbguard.config.tasks import run_due_tasks

pytestmark = pytest.mark.django_db


@task()
def double(number: int) -> int:
    return number * 2


def test_a_due_task_runs_and_keeps_its_result() -> None:
    result = double.enqueue(21)
    assert run_due_tasks() == 1
    stored = DBTaskResult.objects.get(id=result.id)
    assert stored.status == "SUCCESSFUL"
    assert stored.task_result.return_value == 42


def test_a_deferred_task_waits_for_its_time() -> None:
    double.using(run_after=timezone.now() + dt.timedelta(hours=48)).enqueue(1)
    assert run_due_tasks() == 0
    assert DBTaskResult.objects.ready().count() == 0


def test_a_task_enqueued_in_a_rolled_back_transaction_is_gone() -> None:
    def failing_change() -> None:
        with transaction.atomic():
            double.enqueue(2)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert DBTaskResult.objects.count() == 0


def test_the_worker_command_in_batch_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker recycles its connection between tasks, which would end the test's
    # transaction on PostgreSQL; here the command's options and loop are what is tested.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    double.enqueue(5)
    call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
