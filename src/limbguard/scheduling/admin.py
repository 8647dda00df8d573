"""The schedule's set-up for administrators: rooms and devices, visit types, weekly
hours and closures. Appointments and the waitlist change only through services.py
(audited), so they are not editable here.

Closures are entered in UTC here; the calendar shows them in the center's time.
"""

from django.contrib import admin

from limbguard.scheduling.models import (
    AvailabilityException,
    AvailabilityTemplate,
    Resource,
    VisitType,
)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin[Resource]):
    list_display = ("name", "kind", "center", "is_active")
    list_filter = ("center", "kind", "is_active")


@admin.register(VisitType)
class VisitTypeAdmin(admin.ModelAdmin[VisitType]):
    list_display = ("name", "code", "duration_minutes", "resource_kinds", "is_active")


@admin.register(AvailabilityTemplate)
class AvailabilityTemplateAdmin(admin.ModelAdmin[AvailabilityTemplate]):
    list_display = ("center", "provider", "resource", "weekday", "start_time", "end_time")
    list_filter = ("center", "weekday")


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(admin.ModelAdmin[AvailabilityException]):
    list_display = ("reason", "center", "provider", "resource", "starts_at", "ends_at")
    list_filter = ("center",)
