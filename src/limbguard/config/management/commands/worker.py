"""`limbguard worker`: run background tasks from the database queue until stopped.

No extra server: the queue is a table (`django_tasks_db`) in LimbGuard's own database,
SQLite or PostgreSQL. Start one or more workers next to `limbguard serve`:

    limbguard worker                  # runs tasks as they become due; Ctrl-C stops
    limbguard worker --batch          # runs what is due now, then exits (cron, tests)
    limbguard worker --queue-name '*' # every queue (default: the "default" queue)

How another app enqueues work (FHIR import uploads, reminders, e-mail):

    # myapp/tasks.py
    from django_tasks import task

    @task()
    def import_bundle(upload_id: int) -> int:
        ...                     # plain JSON-serialisable arguments and return value

    # in a service, inside its transaction.atomic():
    import_bundle.enqueue(upload.pk)
    import_bundle.using(run_after=moment).enqueue(upload.pk)   # deferred (aware datetime)

The task row is written in the caller's transaction, so it commits with the change or
not at all. Results, failures and their tracebacks stay in the table (admin: "Task
results"); `limbguard prune_db_task_results` trims old ones. See config/tasks.py.
"""

from __future__ import annotations

from django_tasks_db.management.commands import db_worker


class Command(db_worker.Command):
    help = "Run LimbGuard's background tasks (reminders, e-mail, imports) from the database."
