"""Upload jobs: store the files, run the import inline (small) or in the worker (large).

`do_create_import_job` is the one state change of the upload page; `run_import_job`
does the work and keeps the job row's progress current for the page to poll.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django_tasks import task

from limbguard.accounts.models import User
from limbguard.clinics.models import Center
from limbguard.fhir.importer import import_paths
from limbguard.fhir.models import ImportJob, JobStatus
from limbguard.fhir.reader import InputError

# Uploads up to this size are imported during the request; larger ones by the worker.
INLINE_MAX_BYTES: Final = 2 * 1024 * 1024
ALLOWED_SUFFIXES: Final = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")
PROGRESS_EVERY_SECONDS: Final = 1.0


def job_folder(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "fhir-imports" / str(job.folder)


def _safe_name(name: str) -> str:
    base = Path(name).name
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:120] or "upload"


def check_file_names(files: Sequence[UploadedFile[bytes]]) -> list[str]:
    """Problems with the uploaded files' names (none: all acceptable)."""
    problems = []
    if not files:
        problems.append("Choose at least one file.")
    for upload in files:
        name = upload.name or ""
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            problems.append(
                f"{name}: send .json (Bundle), .ndjson or .jsonl files, or .gz of them."
            )
    return problems


def do_create_import_job(
    *,
    acting_user: User,
    files: Sequence[UploadedFile[bytes]],
    default_center: Center | None,
    ip_address: str | None = None,
) -> ImportJob:
    """Store the files and queue (or run) their import. The import itself writes the
    registry through its services, with `acting_user` in every audit row."""
    job = ImportJob.objects.create(
        uploaded_by=acting_user, default_center=default_center, ip_address=ip_address
    )
    folder = job_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    total = 0
    for upload in files:
        name = _safe_name(upload.name or "upload")
        while name in names:
            name = f"1-{name}"
        with (folder / name).open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        names.append(name)
        total += upload.size or 0
    job.file_names, job.total_bytes = names, total
    job.save(update_fields=["file_names", "total_bytes"])
    if total <= INLINE_MAX_BYTES:
        run_import_job.call(job.pk)
        job.refresh_from_db()
    else:
        # The task row is written in this transaction: queued with the job or not at all.
        run_import_job.enqueue(job.pk)
    return job


@task()
def run_import_job(job_id: int) -> str:
    """Import a job's files. Safe to run again: the import is idempotent."""
    job = ImportJob.objects.select_related("uploaded_by", "default_center").get(pk=job_id)
    if job.finished:
        return job.status
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_SECONDS:
            last[0] = now
            ImportJob.objects.filter(pk=job.pk).update(done_bytes=done)

    folder = job_folder(job)
    try:
        report = import_paths(
            [folder / name for name in job.file_names],
            acting_user=job.uploaded_by,
            default_center=job.default_center,
            source_system=f"upload {job.folder}",
            ip_address=job.ip_address,
            progress=progress,
        )
    except (InputError, OSError) as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=str(error)[:500], finished_at=timezone.now()
        )
        return JobStatus.FAILED
    data = report.as_dict()
    data["errors"] = [e.replace(f"{folder}/", "") for e in data["errors"]]
    data["ignored_files"] = [Path(p).name for p in data["ignored_files"]]
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        report=data,
        done_bytes=job.total_bytes,
        finished_at=timezone.now(),
    )
    return JobStatus.DONE
