"""The staff upload page: who may use it, small uploads inline, large ones through the
background worker with progress, and the report."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from limbguard.accounts.models import AuditEvent, User
from limbguard.config.tasks import run_due_tasks
from limbguard.fhir import jobs
from limbguard.fhir.models import ImportJob, JobStatus
from limbguard.registry.models import Patient
from limbguard.testing import Personas

pytestmark = pytest.mark.django_db

UPLOAD = reverse("fhir:upload")


@pytest.fixture(autouse=True)
def _media(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _file(synth_export: Path, name: str = "Patient.ndjson") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (synth_export / name).read_bytes())


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("administrator", 200),
        ("program_lead", 200),
        ("vascular_specialist", 403),
        ("front_desk", 403),
        ("wound_care", 403),
    ],
)
def test_who_may_open_the_upload_page(personas: Personas, role: str, status: int) -> None:
    assert _client(role).get(UPLOAD).status_code == status


def test_anonymous_users_are_sent_to_sign_in(personas: Personas) -> None:
    response = Client().get(UPLOAD)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_small_upload_is_imported_at_once(personas: Personas, synth_export: Path) -> None:
    client = _client("administrator")
    response = client.post(UPLOAD, {"files": [_file(synth_export)]})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("fhir:job", args=[job.pk])
    assert job.status == JobStatus.DONE
    assert job.report["created"] == Patient.objects.count() == 120
    assert set(AuditEvent.objects.filter(action="create").values_list("actor_name", flat=True)) == {
        "administrator"
    }
    page = client.get(response["Location"])
    assert b"Done" in page.content
    assert b"120" in page.content


def test_a_large_upload_goes_to_the_worker_with_progress(
    personas: Personas,
    synth_export: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "INLINE_MAX_BYTES", 10)
    client = _client("program_lead")
    with pytest.MonkeyPatch.context():
        client.post(
            UPLOAD, {"files": [_file(synth_export), _file(synth_export, "Condition.ndjson")]}
        )
    job = ImportJob.objects.get()
    assert job.status == JobStatus.QUEUED
    polled = client.get(reverse("fhir:job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 2s"' in polled.content
    assert run_due_tasks() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.percent == 100
    assert job.report["by_type"]["Condition"]["created"] > 0
    done = client.get(reverse("fhir:job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert b"every 2s" not in done.content


def test_rejected_lines_are_listed_by_file_and_line(personas: Personas) -> None:
    bad = SimpleUploadedFile("Patient.ndjson", b'{"resourceType": "Patient"}\n{oops\n')
    client = _client("administrator")
    response = client.post(UPLOAD, {"files": [bad]}, follow=True)
    job = ImportJob.objects.get()
    assert job.report["rejected"] == 2
    assert "Patient.ndjson:2: malformed JSON" in job.report["errors"][1]
    assert b"Patient.ndjson:2: malformed JSON" in response.content


def test_files_of_other_kinds_are_refused(personas: Personas) -> None:
    client = _client("administrator")
    response = client.post(UPLOAD, {"files": [SimpleUploadedFile("notes.docx", b"x")]})
    assert response.status_code == 200
    assert b"notes.docx" in response.content
    assert not ImportJob.objects.exists()


def test_a_job_that_already_ran_is_not_run_again(personas: Personas, synth_export: Path) -> None:
    client = _client("administrator")
    client.post(UPLOAD, {"files": [_file(synth_export)]})
    job = ImportJob.objects.get()
    assert jobs.run_import_job.call(job.pk) == JobStatus.DONE
    assert orjson.dumps(ImportJob.objects.get().report) == orjson.dumps(job.report)
