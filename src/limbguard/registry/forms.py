from __future__ import annotations

from typing import Any

from django import forms

from limbguard.accounts.models import User
from limbguard.clinics.models import Center
from limbguard.registry.models import LabKind, LabResult, Limb, Patient, Problem, RiskProfile


class DateInput(forms.DateInput):
    input_type = "date"


class PatientForm(forms.ModelForm[Patient]):
    class Meta:
        model = Patient
        fields = [
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "phone",
            "email",
            "address_line",
            "city",
            "state",
            "postal_code",
            "home_center",
            "status",
            "deceased_date",
        ]
        widgets = {"birth_date": DateInput(), "deceased_date": DateInput()}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        centers = Center.objects.all() if user.sees_all_centers else user.centers.all()
        home_center = self.fields["home_center"]
        assert isinstance(home_center, forms.ModelChoiceField)
        home_center.queryset = centers


class ProblemForm(forms.ModelForm[Problem]):
    class Meta:
        model = Problem
        fields = ["system", "code", "display", "laterality", "onset_date", "status"]
        widgets = {"onset_date": DateInput()}


class RiskProfileForm(forms.ModelForm[RiskProfile]):
    class Meta:
        model = RiskProfile
        fields = [
            "diabetes",
            "smoking",
            "ckd_stage",
            "on_dialysis",
            "coronary_disease",
            "heart_failure",
            "prior_stroke",
        ]


class LabForm(forms.ModelForm[LabResult]):
    kind = forms.ChoiceField(choices=LabKind.choices)

    class Meta:
        model = LabResult
        fields = ["kind", "value", "observed_on"]
        widgets = {"observed_on": DateInput()}


class LimbForm(forms.ModelForm[Limb]):
    class Meta:
        model = Limb
        fields = ["status", "amputation_level", "amputation_date"]
        widgets = {"amputation_date": DateInput()}
