"""Forms of the gate pages: parse only; the services decide."""

from __future__ import annotations

from django import forms

from limbguard.registry.forms import DateInput
from limbguard.registry.models import AmputationLevel
from limbguard.treatment.gate import OVERRIDE_LABELS
from limbguard.treatment.models import ReviewConclusion


class AmputationForm(forms.Form):
    level = forms.ChoiceField(choices=[("", "—"), *AmputationLevel.choices])
    indication = forms.CharField(max_length=300, required=False)
    override_reason = forms.ChoiceField(
        choices=[("", "No override"), *((k.value, v) for k, v in OVERRIDE_LABELS.items())],
        required=False,
        label="Override reason (senior clinician)",
    )
    override_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Override explanation",
    )


class ReviewForm(forms.Form):
    conclusion = forms.ChoiceField(choices=[("", "—"), *ReviewConclusion.choices])
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    signed_on = forms.DateField(widget=DateInput(), required=False, help_text="Default: today")
