"""Public forms (each with the challenge and the honeypot) and the staff's forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.clinics.models import Center, Provider
from limbguard.intake.antiabuse import HONEYPOT_FIELD
from limbguard.intake.models import RequestStatus
from limbguard.intake.rules import RED_FLAG_LABELS
from limbguard.scheduling.models import VisitType

npi_validator = RegexValidator(r"^\d{10}$", "An NPI is 10 digits.")
phone_validator = RegexValidator(
    r"^[0-9 ()+.\-]{7,30}$", "A phone number: digits, spaces, + ( ) -."
)


class DateInput(forms.DateInput):
    input_type = "date"


def _check_birth_date(value: dt.date | None) -> dt.date | None:
    if value is None:
        return None
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError("The date of birth cannot be in the future.")
    if value < today.replace(year=today.year - 120):
        raise forms.ValidationError("Please check the year of birth.")
    return value


class PublicForm(forms.Form):
    """The checks every public form carries. `answer` is labelled with the question."""

    form_name = "public"
    center = forms.ModelChoiceField(
        queryset=Center.objects.filter(is_active=True),
        required=False,
        empty_label="Any center",
        label="Preferred center",
    )
    challenge = forms.CharField(widget=forms.HiddenInput())
    answer = forms.CharField(max_length=4, label="Security question")
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    CHECK_FIELDS = ("challenge", "answer", HONEYPOT_FIELD)

    def request_fields(self) -> dict[str, Any]:
        """The cleaned values that the request stores."""
        raise NotImplementedError

    def flags(self) -> list[str]:
        return list(self.cleaned_data.get("red_flags") or [])


RED_FLAG_CHOICES = [(flag.value, label) for flag, label in RED_FLAG_LABELS.items()]


class VisitRequestForm(PublicForm):
    form_name = "visit"
    given_name = forms.CharField(max_length=100, label="First name")
    family_name = forms.CharField(max_length=100, label="Last name")
    birth_date = forms.DateField(label="Date of birth", widget=DateInput())
    email = forms.EmailField(label="E-mail")
    phone = forms.CharField(max_length=30, validators=[phone_validator], label="Phone")
    preferred_times = forms.CharField(
        max_length=200, required=False, label="Days or times that suit you"
    )
    reason = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 5}), label="What is the visit for?"
    )
    red_flags = forms.MultipleChoiceField(
        choices=RED_FLAG_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Do any of these apply to you?",
    )

    field_order = ["given_name", "family_name", "birth_date", "email", "phone", "center"]

    def clean_birth_date(self) -> dt.date | None:
        return _check_birth_date(self.cleaned_data.get("birth_date"))

    def request_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "center": d["center"],
            "requester_name": f"{d['given_name']} {d['family_name']}",
            "requester_email": d["email"],
            "requester_phone": d["phone"],
            "patient_given_name": d["given_name"],
            "patient_family_name": d["family_name"],
            "patient_birth_date": d["birth_date"],
            "patient_phone": d["phone"],
            "patient_email": d["email"],
            "preferred_times": d["preferred_times"],
            "reason": d["reason"],
        }


class ReferralForm(PublicForm):
    form_name = "referral"
    referrer_name = forms.CharField(max_length=120, label="Your name (referring clinician)")
    referrer_organization = forms.CharField(max_length=150, label="Practice or hospital")
    referrer_npi = forms.CharField(
        max_length=10, required=False, validators=[npi_validator], label="Your NPI (optional)"
    )
    referrer_email = forms.EmailField(label="Your e-mail (for status updates)")
    referrer_phone = forms.CharField(
        max_length=30, validators=[phone_validator], label="Your phone"
    )
    patient_given_name = forms.CharField(max_length=100, label="Patient's first name")
    patient_family_name = forms.CharField(max_length=100, label="Patient's last name")
    patient_birth_date = forms.DateField(label="Patient's date of birth", widget=DateInput())
    patient_phone = forms.CharField(
        max_length=30, validators=[phone_validator], label="Patient's phone"
    )
    patient_email = forms.EmailField(required=False, label="Patient's e-mail (optional)")
    reason = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 6}), label="Reason for referral"
    )
    red_flags = forms.MultipleChoiceField(
        choices=RED_FLAG_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Red flags",
    )

    field_order = [
        "referrer_name",
        "referrer_organization",
        "referrer_npi",
        "referrer_email",
        "referrer_phone",
        "patient_given_name",
        "patient_family_name",
        "patient_birth_date",
        "patient_phone",
        "patient_email",
        "center",
        "reason",
        "red_flags",
    ]

    def clean_patient_birth_date(self) -> dt.date | None:
        return _check_birth_date(self.cleaned_data.get("patient_birth_date"))

    def request_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "center": d["center"],
            "requester_name": d["referrer_name"],
            "requester_email": d["referrer_email"],
            "requester_phone": d["referrer_phone"],
            "referrer_organization": d["referrer_organization"],
            "referrer_npi": d["referrer_npi"],
            "patient_given_name": d["patient_given_name"],
            "patient_family_name": d["patient_family_name"],
            "patient_birth_date": d["patient_birth_date"],
            "patient_phone": d["patient_phone"],
            "patient_email": d["patient_email"],
            "reason": d["reason"],
        }


class ContactForm(PublicForm):
    form_name = "contact"
    name = forms.CharField(max_length=120, label="Your name")
    email = forms.EmailField(label="E-mail")
    phone = forms.CharField(
        max_length=30, required=False, validators=[phone_validator], label="Phone (optional)"
    )
    subject = forms.CharField(max_length=150)
    message = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 6}))

    field_order = ["name", "email", "phone", "center", "subject", "message"]

    def request_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "center": d["center"],
            "requester_name": d["name"],
            "requester_email": d["email"],
            "requester_phone": d["phone"],
            "subject": d["subject"],
            "reason": d["message"],
        }


PUBLIC_FORMS: dict[str, type[PublicForm]] = {
    "visit": VisitRequestForm,
    "referral": ReferralForm,
    "contact": ContactForm,
}


def _compile_validator_patterns(forms_: Iterable[type[forms.Form]]) -> None:
    """Django compiles a validator's regular expression on first use; the e-mail
    domain's (a large Unicode class) takes about 40 ms. Compiled when this module is
    imported (a web worker's first page), so that no worker's first submission waits
    for it. The validators themselves are unchanged."""
    for form in forms_:
        for field in form.base_fields.values():
            for validator in field.validators:
                for name in ("regex", "user_regex", "domain_regex", "literal_regex"):
                    pattern = getattr(validator, name, None)
                    if pattern is not None:
                        pattern.pattern  # noqa: B018 (evaluates the lazy pattern)


_compile_validator_patterns(PUBLIC_FORMS.values())


class ReplyForm(forms.Form):
    body = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label="Your message"
    )


class TriageForm(forms.Form):
    center = forms.ModelChoiceField(queryset=Center.objects.none(), required=False)
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.filter(is_active=True), required=False
    )
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Staff owner"
    )

    def __init__(self, *args: Any, centers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        center = self.fields["center"]
        assignee = self.fields["assignee"]
        assert isinstance(center, forms.ModelChoiceField)
        assert isinstance(assignee, forms.ModelChoiceField)
        center.queryset = centers
        assignee.queryset = (
            User.objects.filter(is_active=True, centers__in=centers).distinct().order_by("username")
        )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=RequestStatus.choices)
    note = forms.CharField(max_length=300, required=False)


class BookRequestForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(is_active=True))
    visit_type = forms.ModelChoiceField(queryset=VisitType.objects.filter(is_active=True))
    date = forms.DateField()
    time = forms.TimeField()
    fold = forms.IntegerField(min_value=0, max_value=1, required=False)
