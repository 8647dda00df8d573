"""Import jobs: FHIR files uploaded on the staff page and their report."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from limbguard.clinics.models import Center


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One upload of one or more FHIR files (Bundle JSON, Bulk NDJSON, .gz).

    The files are kept under MEDIA_ROOT/fhir-imports/<folder>/ (outside the web root);
    the report is the importer's (`ImportReport.as_dict()`), the first errors included.
    """

    folder = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    default_center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_names = models.JSONField(default=list)
    total_bytes = models.BigIntegerField(default=0)
    done_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    report: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        default=dict, blank=True
    )
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return int(100 * self.done_bytes / self.total_bytes) if self.total_bytes else 0

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
