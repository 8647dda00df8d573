"""Forms of the assessment pages. They parse; the services validate and save."""

from __future__ import annotations

from typing import Any

from django import forms

from limbguard.assessments.models import (
    RVCSS_ITEMS,
    ArterialFinding,
    Assessment,
    VenousFinding,
    Wound,
    WoundLocation,
    WoundObservation,
    WoundType,
)
from limbguard.assessments.photos import MAX_PHOTO_BYTES
from limbguard.assessments.services import ASSESSMENT_FIELDS, OBSERVATION_FIELDS
from limbguard.registry.forms import DateInput

MAX_PHOTOS_PER_UPLOAD = 6


FIELDSETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Visit", ("visit_date",)),
    (
        "Pressures (mmHg) — empty: not obtainable; 0: absent signal",
        ("brachial_left", "brachial_right", "ankle_dp", "ankle_pt", "toe_pressure", "tcpo2"),
    ),
    ("Pulses", ("pulse_femoral", "pulse_popliteal", "pulse_dp", "pulse_pt")),
    (
        "Symptoms",
        (
            "claudication",
            "claudication_distance_m",
            "rest_pain",
            "symptom_duration_weeks",
            "major_tissue_loss",
            "acute_sensory_loss",
            "acute_muscle_weakness",
        ),
    ),
    (
        "Imaging",
        ("arterial_duplex_done", "angiography_done", "venous_duplex_done", "pedal_descriptor"),
    ),
    (
        "Foot infection",
        (
            "swelling_or_induration",
            "erythema_cm",
            "tenderness_or_pain",
            "warmth",
            "purulent_discharge",
            "other_cause_of_inflammation",
            "deep_tissue_infection",
            "osteomyelitis",
            "temperature_c",
            "heart_rate",
            "respiratory_rate",
            "wbc_per_ul",
        ),
    ),
    ("Venous: CEAP and rVCSS", ("ceap", *(f"rvcss_{i}" for i in RVCSS_ITEMS))),
    ("Judgement and notes", ("unsalvageable", "notes")),
)


class AssessmentForm(forms.ModelForm[Assessment]):
    """All of an assessment's own fields; `version` is the one the user started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Assessment
        fields = list(ASSESSMENT_FIELDS)
        widgets = {"visit_date": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, bound in self.fields.items():
            if isinstance(bound, forms.IntegerField | forms.DecimalField) and name != "version":
                bound.widget.attrs.setdefault("inputmode", "decimal")
                bound.widget.attrs.setdefault("class", "num")
        for name in self.fields:
            if name.startswith("rvcss_"):
                self.fields[name] = forms.TypedChoiceField(
                    label=name.removeprefix("rvcss_").replace("_", " ").capitalize(),
                    choices=[("", "—"), *((str(i), str(i)) for i in range(4))],
                    coerce=int,
                    empty_value=None,
                    required=False,
                )

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in FIELDSETS]


class ArterialFindingForm(forms.ModelForm[ArterialFinding]):
    prefix = "arterial"

    class Meta:
        model = ArterialFinding
        fields = [
            "segment",
            "modality",
            "velocity_ratio",
            "psv_cm_s",
            "stenosis_percent",
            "occluded",
            "calcification",
            "length_cm",
        ]


class VenousFindingForm(forms.ModelForm[VenousFinding]):
    prefix = "venous"

    class Meta:
        model = VenousFinding
        fields = [
            "segment",
            "reflux_ms",
            "diameter_mm",
            "obstruction",
            "thrombus",
            "iliac_compression",
        ]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files in one input; each is checked by content in the service layer."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > MAX_PHOTOS_PER_UPLOAD:
            raise forms.ValidationError(f"At most {MAX_PHOTOS_PER_UPLOAD} photos at a time.")
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class WoundRecordForm(forms.ModelForm[WoundObservation]):
    """Measure an existing wound of the limb, or describe a new one."""

    wound = forms.ModelChoiceField(
        queryset=Wound.objects.none(), required=False, empty_label="New wound…"
    )
    label = forms.CharField(max_length=60, required=False, help_text="e.g. 'Left hallux ulcer'")
    location = forms.ChoiceField(choices=[("", "—"), *WoundLocation.choices], required=False)
    wound_type = forms.ChoiceField(choices=[("", "—"), *WoundType.choices], required=False)
    photos = MultiplePhotoField(
        required=False,
        help_text=f"JPEG or PNG, up to {MAX_PHOTO_BYTES // (1024 * 1024)} MB each",
    )

    class Meta:
        model = WoundObservation
        fields = list(OBSERVATION_FIELDS)

    def __init__(self, *args: Any, wounds: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["wound"]
        assert isinstance(field, forms.ModelChoiceField)
        if wounds is not None:
            field.queryset = wounds
        self.fields["location"].widget.attrs["data-diagram"] = "1"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("wound") is None:
            for name in ("label", "location", "wound_type"):
                if not data.get(name):
                    self.add_error(name, "Needed for a new wound.")
        return data


class HealedForm(forms.Form):
    healed_on = forms.DateField(widget=DateInput())


class RetireForm(forms.Form):
    reason = forms.CharField(max_length=300)
