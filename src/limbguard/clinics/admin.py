from django.contrib import admin

from limbguard.clinics.models import Center, OpeningHours, Provider


class OpeningHoursInline(admin.TabularInline[OpeningHours, Center]):
    model = OpeningHours
    extra = 0


@admin.register(Center)
class CenterAdmin(admin.ModelAdmin[Center]):
    list_display = ("name", "city", "phone", "time_zone", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OpeningHoursInline]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin[Provider]):
    list_display = ("name", "credentials", "specialty", "is_active")
    filter_horizontal = ("centers",)
