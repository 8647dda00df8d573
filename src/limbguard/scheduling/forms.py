from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from limbguard.clinics.models import Center, Provider
from limbguard.scheduling.models import VisitType
from limbguard.scheduling.timeutil import NonexistentLocalTime, localize


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class SlotSearchForm(forms.Form):
    center = forms.ModelChoiceField(queryset=Center.objects.none())
    visit_type = forms.ModelChoiceField(queryset=VisitType.objects.filter(is_active=True))
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(is_active=True), required=False, empty_label="Any"
    )
    first = forms.DateField(label="From", widget=DateInput())
    days = forms.IntegerField(min_value=1, max_value=31, initial=7)

    def __init__(self, *args: Any, centers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["center"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = centers


class BookForm(forms.Form):
    """A start entered (or picked from the free slots) in the center's local time."""

    center = forms.ModelChoiceField(queryset=Center.objects.none())
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True))
    visit_type = forms.ModelChoiceField(queryset=VisitType.objects.filter(is_active=True))
    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput())
    # Which 01:00–02:00 on the night clocks fall back: 0 the first, 1 the second.
    fold = forms.IntegerField(min_value=0, max_value=1, required=False, widget=forms.HiddenInput())
    contact_email = forms.EmailField(required=False, label="E-mail for notices")
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, centers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["center"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = centers

    def starts_at(self) -> dt.datetime:
        data = self.cleaned_data
        center: Center = data["center"]
        return localize(data["date"], data["time"], center.zone, fold=data.get("fold") or 0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(k in data for k in ("center", "date", "time")):
            try:
                self.starts_at()
            except NonexistentLocalTime as error:
                self.add_error("time", str(error))
        return data


class RescheduleForm(forms.Form):
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(is_active=True), required=False, empty_label="Same"
    )
    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput())


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200)


class WaitlistForm(forms.Form):
    center = forms.ModelChoiceField(queryset=Center.objects.none())
    visit_type = forms.ModelChoiceField(queryset=VisitType.objects.filter(is_active=True))
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(is_active=True), required=False, empty_label="Any"
    )
    earliest = forms.DateField(widget=DateInput())
    latest = forms.DateField(widget=DateInput())
    contact_email = forms.EmailField(required=False)
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, centers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["center"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = centers
