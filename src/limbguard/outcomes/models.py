"""No tables: outcomes reads the treatment records. This unmanaged model only carries
the permission to see the program analytics (page, CSV, report)."""

from __future__ import annotations

from django.db import models


class ProgramAnalytics(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_analytics", "Can see program analytics (outcomes, benchmarks)")]

    def __str__(self) -> str:
        return "program analytics"
