"""Admin: user management, and a read-only audit trail (no add, change or delete)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from limbguard.accounts.models import AuditEvent, User


@admin.register(User)
class LimbGuardUserAdmin(UserAdmin[User]):
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Centers", {"fields": ("centers",)}))
    filter_horizontal = ("groups", "user_permissions", "centers")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = (
        "at",
        "actor_name",
        "action",
        "patient_id",
        "object_type",
        "summary",
        "ip_address",
    )
    list_filter = ("action",)
    search_fields = ("actor_name", "summary")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
