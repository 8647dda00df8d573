"""Centers of the program, their opening hours and providers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone")


class Center(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    address_line = models.CharField(max_length=200)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=20)
    time_zone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def is_open_at(self, moment: dt.datetime) -> bool:
        """Whether `moment` (aware) falls inside opening hours in the center's own zone."""
        local = moment.astimezone(self.zone)
        return any(
            h.opens <= local.time() < h.closes
            for h in self.hours.all()
            if h.weekday == local.weekday()
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningHours(models.Model):
    """One opening interval in the center's local time; a day may have several."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="hours")
    weekday = models.IntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["center", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")), name="hours_open_before_close"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Provider(models.Model):
    """A clinician who sees patients at one or more centers."""

    class Specialty(models.TextChoices):
        VASCULAR_SURGERY = "vascular_surgery", "Vascular surgery"
        INTERVENTIONAL_RADIOLOGY = "interventional_radiology", "Interventional radiology"
        PODIATRY = "podiatry", "Podiatry"
        WOUND_CARE = "wound_care", "Wound care"
        INFECTIOUS_DISEASE = "infectious_disease", "Infectious disease"
        ENDOCRINOLOGY = "endocrinology", "Endocrinology"

    name = models.CharField(max_length=120)
    credentials = models.CharField(max_length=40, blank=True)
    specialty = models.CharField(max_length=40, choices=Specialty.choices)
    npi = models.CharField(max_length=10, blank=True)
    centers = models.ManyToManyField(Center, related_name="providers")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name
