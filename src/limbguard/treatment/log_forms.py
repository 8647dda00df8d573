"""Forms of the procedure log, outcome events, follow-up and care-team pages: parse
only; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from limbguard.registry.forms import DateInput
from limbguard.registry.models import AmputationLevel, Side
from limbguard.treatment.models import AmputationOrder
from limbguard.treatment.vocab import (
    Access,
    AmbulatoryStatus,
    Calcification,
    Complication,
    Conduit,
    DeviceKind,
    Discipline,
    DuplexResult,
    EventKind,
    Indication,
    InterventionKind,
    LesionType,
    LivingStatus,
    Segment,
    TaskKind,
    Technique,
)

BLANK = [("", "—")]


class ProcedureForm(forms.Form):
    kind = forms.ChoiceField(choices=BLANK + InterventionKind.choices)
    performed_on = forms.DateField(widget=DateInput())
    indication = forms.ChoiceField(choices=BLANK + Indication.choices)
    access = forms.ChoiceField(choices=Access.choices, required=False)
    conduit = forms.ChoiceField(choices=Conduit.choices, required=False)
    wifi_stage = forms.TypedChoiceField(
        choices=[("", "From the latest staging"), *((str(n), str(n)) for n in range(1, 5))],
        coerce=int,
        empty_value=None,
        required=False,
        label="WIfI clinical stage",
    )
    technical_success = forms.NullBooleanField(
        required=False,
        widget=forms.Select(
            choices=[("unknown", "From residual stenosis"), ("true", "Yes"), ("false", "No")]
        ),
    )
    complications = forms.MultipleChoiceField(
        choices=Complication.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    complication_notes = forms.CharField(max_length=500, required=False)
    cpt_codes = forms.CharField(
        max_length=200,
        required=False,
        label="CPT codes",
        help_text="Separated by spaces or commas; leave empty for the suggested codes",
    )
    staged_from = forms.TypedChoiceField(
        choices=[], coerce=int, empty_value=None, required=False, label="Stage of"
    )
    amputation_order = forms.TypedChoiceField(
        choices=[], coerce=int, empty_value=None, required=False, label="Planned amputation"
    )
    digit = forms.TypedChoiceField(
        choices=[("", "—"), *((str(n), str(n)) for n in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
        label="Digit (toe or ray)",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(
        self,
        *args: Any,
        earlier: list[tuple[int, str]],
        orders: list[AmputationOrder],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["staged_from"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Not a staged procedure"), *earlier]
        order_field = self.fields["amputation_order"]
        assert isinstance(order_field, forms.ChoiceField)
        order_field.choices = [
            ("", "—"),
            *(
                (
                    o.pk,
                    f"{o.get_level_display()} planned {o.requested_at:%Y-%m-%d} "
                    f"({o.get_status_display()})",
                )
                for o in orders
            ),
        ]

    def codes(self) -> list[str] | None:
        text = self.cleaned_data.get("cpt_codes", "")
        parts = [p for p in text.replace(",", " ").split() if p]
        return parts or None


class LesionForm(forms.Form):
    segment = forms.ChoiceField(choices=BLANK + Segment.choices, required=False)
    lesion_type = forms.ChoiceField(choices=LesionType.choices, required=False)
    length_cm = forms.DecimalField(
        min_value=Decimal("0.1"), max_value=Decimal(60), decimal_places=1, required=False
    )
    calcification = forms.ChoiceField(choices=Calcification.choices, required=False)
    techniques = forms.MultipleChoiceField(
        choices=Technique.choices, required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    glass_grade = forms.TypedChoiceField(
        choices=[("", "—"), *((str(n), str(n)) for n in range(5))],
        coerce=int,
        empty_value=None,
        required=False,
        label="GLASS grade (tibial)",
    )
    residual_stenosis_pct = forms.IntegerField(
        min_value=0, max_value=100, required=False, label="Residual stenosis %"
    )


LesionFormSet = forms.formset_factory(LesionForm, extra=2, max_num=6)


class DeviceForm(forms.Form):
    kind = forms.ChoiceField(choices=BLANK + DeviceKind.choices, required=False)
    manufacturer = forms.CharField(max_length=100, required=False)
    model_name = forms.CharField(max_length=100, required=False)
    diameter_mm = forms.DecimalField(
        min_value=Decimal("0.5"), max_value=Decimal(40), decimal_places=1, required=False
    )
    length_mm = forms.IntegerField(min_value=1, max_value=600, required=False)


DeviceFormSet = forms.formset_factory(DeviceForm, extra=2, max_num=8)


class EventForm(forms.Form):
    kind = forms.ChoiceField(choices=BLANK + EventKind.choices)
    occurred_on = forms.DateField(widget=DateInput())
    side = forms.ChoiceField(choices=[("", "Patient (no limb)"), *Side.choices], required=False)
    amputation_level = forms.ChoiceField(choices=BLANK + AmputationLevel.choices, required=False)
    digit = forms.TypedChoiceField(
        choices=[("", "—"), *((str(n), str(n)) for n in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
    )
    major_reintervention = forms.BooleanField(required=False)
    performed_elsewhere = forms.BooleanField(
        required=False, label="Done elsewhere or before LimbGuard (not through the gate)"
    )
    cause_of_death = forms.CharField(max_length=200, required=False)
    ambulatory = forms.ChoiceField(choices=AmbulatoryStatus.choices, required=False)
    living = forms.ChoiceField(choices=LivingStatus.choices, required=False)
    notes = forms.CharField(max_length=1000, required=False)


class FollowupForm(forms.Form):
    side = forms.ChoiceField(choices=Side.choices)
    done_on = forms.DateField(widget=DateInput())
    abi = forms.DecimalField(
        min_value=Decimal(0), max_value=Decimal(3), decimal_places=2, required=False, label="ABI"
    )
    duplex = forms.ChoiceField(choices=DuplexResult.choices, required=False)
    notes = forms.CharField(max_length=1000, required=False)


class TaskForm(forms.Form):
    discipline = forms.ChoiceField(choices=BLANK + Discipline.choices)
    kind = forms.ChoiceField(choices=TaskKind.choices)
    title = forms.CharField(max_length=200)
    refer_to = forms.CharField(max_length=200, required=False, label="Refer to")
    due_on = forms.DateField(widget=DateInput(), required=False)
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class SuggestionForm(forms.Form):
    discipline = forms.ChoiceField(choices=Discipline.choices)
    rule = forms.CharField(max_length=60)


class CloseTaskForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )
    action = forms.ChoiceField(choices=[("complete", "Complete"), ("cancel", "Cancel")])
