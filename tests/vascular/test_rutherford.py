"""Rutherford categories, Fontaine stages, and acute limb ischaemia classes.

Sources: Rutherford RB, Baker JD, Ernst C, et al. Recommended standards for reports
dealing with lower extremity ischemia: revised version. J Vasc Surg 1997;26:517-538,
Table II (chronic categories) and the acute limb ischaemia classes, the latter as
restated in the 2016 AHA/ACC PAD guideline, Table 3 (Circulation 2017;135:e726-e779);
Fontaine R et al., Helv Chir Acta 1954;21:499-533; the Rutherford-Fontaine mapping of
TASC II (Norgren L et al., J Vasc Surg 2007;45 Suppl S:S5-S67). Restated in
clinical_reference.md section 3.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import rutherford
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.rutherford import (
    AcuteClass,
    Claudication,
    Fontaine,
    MuscleWeakness,
    SensoryLoss,
    TissueLoss,
)

# clinical_reference 3.3, in its own shape: each Fontaine stage with its Rutherford list.
FONTAINE_TO_RUTHERFORD = {"I": (0,), "IIa": (1,), "IIb": (2, 3), "III": (4,), "IV": (5, 6)}
MAPPING = [
    (category, stage)
    for stage, categories in FONTAINE_TO_RUTHERFORD.items()
    for category in categories
]


@pytest.mark.parametrize(("category", "stage"), MAPPING)
def test_to_fontaine(category: int, stage: str) -> None:
    assert rutherford.to_fontaine(category) == stage


def test_mapping_covers_every_category_once() -> None:
    assert sorted(category for category, _ in MAPPING) == list(range(7))


@pytest.mark.parametrize(("stage", "categories"), FONTAINE_TO_RUTHERFORD.items())
def test_fontaine_back_to_rutherford_is_a_set(stage: str, categories: tuple[int, ...]) -> None:
    assert rutherford.fontaine_to_rutherford(stage) == categories
    assert rutherford.fontaine_to_rutherford(Fontaine(stage)) == categories


@pytest.mark.parametrize(
    ("claudication", "rest_pain", "tissue_loss", "expected"),
    [
        (Claudication.NONE, False, TissueLoss.NONE, 0),
        (Claudication.MILD, False, TissueLoss.NONE, 1),
        (Claudication.MODERATE, False, TissueLoss.NONE, 2),
        (Claudication.SEVERE, False, TissueLoss.NONE, 3),
        (Claudication.NONE, True, TissueLoss.NONE, 4),
        (Claudication.SEVERE, True, TissueLoss.NONE, 4),
        (Claudication.NONE, False, TissueLoss.MINOR, 5),
        (Claudication.NONE, True, TissueLoss.MINOR, 5),
        (Claudication.NONE, False, TissueLoss.MAJOR, 6),
        (Claudication.MILD, True, TissueLoss.MAJOR, 6),
    ],
)
def test_category_from_clinical_description(
    claudication: Claudication, rest_pain: bool, tissue_loss: TissueLoss, expected: int
) -> None:
    assert (
        rutherford.category(claudication=claudication, rest_pain=rest_pain, tissue_loss=tissue_loss)
        == expected
    )


@given(
    claudication=st.sampled_from(Claudication),
    rest_pain=st.booleans(),
    tissue_loss=st.sampled_from(TissueLoss),
)
def test_property_adding_rest_pain_or_tissue_loss_never_lowers_category(
    claudication: Claudication, rest_pain: bool, tissue_loss: TissueLoss
) -> None:
    base = rutherford.category(
        claudication=claudication, rest_pain=rest_pain, tissue_loss=tissue_loss
    )
    assert (
        rutherford.category(claudication=claudication, rest_pain=True, tissue_loss=tissue_loss)
        >= base
    )
    assert (
        rutherford.category(
            claudication=claudication, rest_pain=rest_pain, tissue_loss=TissueLoss.MAJOR
        )
        >= base
    )


@pytest.mark.parametrize(
    ("completed", "rest", "post", "expected"),
    [
        (True, 120, 100, 1),  # drop exactly 20, post 100 > 50
        (True, 120, 51, 1),
        (True, 120, 50, 2),  # post exactly 50: neither > 50 nor < 50
        (False, 120, 49, 3),
        (False, 120, 50, 2),
        (True, 120, 49, 2),  # completed but post < 50
        (False, 120, 90, 2),  # not completed, post >= 50
        (True, 120, 101, 0),  # drop 19: normal test
        (True, 120, 130, 0),  # pressure rose
        (True, 60, 45, 2),  # drop 15 but post <= 50: not normal
    ],
)
def test_treadmill_categories(completed: bool, rest: int, post: int, expected: int) -> None:
    assert (
        rutherford.claudication_category(
            completed=completed, resting_ankle_pressure=rest, post_exercise_ankle_pressure=post
        )
        == expected
    )
    explained = rutherford.explain_treadmill(
        completed=completed, resting_ankle_pressure=rest, post_exercise_ankle_pressure=post
    )
    assert explained.reasons[-1].startswith(f"category {expected}:")
    assert "J Vasc Surg 1997" in explained.source


@pytest.mark.parametrize(
    ("findings", "support"),
    [
        ({"rest_pain": True}, None),
        ({"rest_pain": True, "resting_ankle_pressure": 39}, True),
        ({"rest_pain": True, "resting_ankle_pressure": 40}, False),
        ({"rest_pain": True, "toe_pressure": 29}, True),
        ({"rest_pain": True, "toe_pressure": 30}, False),
        ({"rest_pain": True, "flat_pedal_pvr": True}, True),
        ({"tissue_loss": TissueLoss.MINOR, "resting_ankle_pressure": 59}, True),
        ({"tissue_loss": TissueLoss.MINOR, "resting_ankle_pressure": 60}, False),
        ({"tissue_loss": TissueLoss.MAJOR, "toe_pressure": 39}, True),
        ({"tissue_loss": TissueLoss.MAJOR, "toe_pressure": 40, "flat_pedal_pvr": False}, False),
        ({"claudication": Claudication.SEVERE, "resting_ankle_pressure": 30}, None),
    ],
)
def test_explain_category_checks_objective_criteria(
    findings: dict[str, object], support: bool | None
) -> None:
    result = rutherford.explain_category(**findings)  # type: ignore[arg-type]
    assert result.objective_support is support
    assert result.fontaine == rutherford.to_fontaine(result.category)
    assert result.clti is (result.category >= 4)
    if support is False:
        assert any("not met: confirm" in reason for reason in result.reasons)


def test_clti_is_rutherford_4_to_6() -> None:
    assert [rutherford.indicates_clti(c) for c in range(7)] == [False] * 4 + [True] * 3
    result = rutherford.explain_category(tissue_loss=TissueLoss.MINOR)
    assert any("more than 2 weeks" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    ("kwargs", "stage"),
    [
        ({}, Fontaine.I),
        ({"pain_free_walking_m": 201}, Fontaine.IIA),
        ({"pain_free_walking_m": 200}, Fontaine.IIB),  # project decision: 200 m is IIb
        ({"pain_free_walking_m": 50}, Fontaine.IIB),
        ({"rest_pain": True, "pain_free_walking_m": 500}, Fontaine.III),
        ({"tissue_loss": True, "rest_pain": True}, Fontaine.IV),
    ],
)
def test_fontaine_stage_from_symptoms(kwargs: dict[str, object], stage: Fontaine) -> None:
    assert rutherford.fontaine_stage(**kwargs) is stage  # type: ignore[arg-type]


# AHA 2016 Table 3, one row per class: sensory loss, weakness, arterial, venous Doppler.
ACUTE_ROWS = [
    (SensoryLoss.NONE, MuscleWeakness.NONE, True, True, AcuteClass.I),
    (SensoryLoss.MINIMAL, MuscleWeakness.NONE, False, True, AcuteClass.IIA),
    (SensoryLoss.MINIMAL, MuscleWeakness.NONE, True, True, AcuteClass.IIA),
    (SensoryLoss.NONE, MuscleWeakness.NONE, False, True, AcuteClass.IIA),
    (SensoryLoss.MORE_THAN_TOES, MuscleWeakness.MILD_MODERATE, False, True, AcuteClass.IIB),
    (SensoryLoss.MORE_THAN_TOES, MuscleWeakness.NONE, None, None, AcuteClass.IIB),
    (SensoryLoss.MINIMAL, MuscleWeakness.MILD_MODERATE, None, None, AcuteClass.IIB),
    (SensoryLoss.PROFOUND, MuscleWeakness.PROFOUND, False, False, AcuteClass.III),
    (SensoryLoss.MORE_THAN_TOES, MuscleWeakness.PROFOUND, None, None, AcuteClass.III),
    (SensoryLoss.MINIMAL, MuscleWeakness.NONE, False, False, AcuteClass.III),
]


@pytest.mark.parametrize(("sensory", "motor", "arterial", "venous", "expected"), ACUTE_ROWS)
def test_acute_limb_ischemia_class(
    sensory: SensoryLoss,
    motor: MuscleWeakness,
    arterial: bool | None,
    venous: bool | None,
    expected: AcuteClass,
) -> None:
    result = rutherford.acute_limb_ischemia_class(
        sensory_loss=sensory,
        muscle_weakness=motor,
        arterial_doppler_audible=arterial,
        venous_doppler_audible=venous,
    )
    assert result is expected
    explained = rutherford.explain_acute(
        sensory_loss=sensory,
        muscle_weakness=motor,
        arterial_doppler_audible=arterial,
        venous_doppler_audible=venous,
    )
    assert explained.reasons[-1] == f"class {expected}"
    assert "Table 3" in explained.source


@given(
    field=st.just("category"),
    bad=st.one_of(
        st.integers().filter(lambda n: not 0 <= n <= 6),
        st.floats(),
        st.text(max_size=3),
        st.booleans(),
        st.none(),
    ),
)
def test_property_category_functions_reject_bad_input(field: str, bad: object) -> None:
    for rule in (rutherford.to_fontaine, rutherford.indicates_clti):
        with pytest.raises(ValueError, match=f"^{field}:"):
            rule(bad)  # type: ignore[arg-type]


ACUTE_OK: dict[str, object] = {
    "sensory_loss": SensoryLoss.NONE,
    "muscle_weakness": MuscleWeakness.NONE,
}
TREADMILL_OK: dict[str, object] = {
    "completed": True,
    "resting_ankle_pressure": 100,
    "post_exercise_ankle_pressure": 80,
}


@pytest.mark.parametrize(
    ("rule", "kwargs", "field"),
    [
        (rutherford.category, {"claudication": "mild"}, "claudication"),
        (rutherford.category, {"rest_pain": 1}, "rest_pain"),
        (rutherford.category, {"tissue_loss": None}, "tissue_loss"),
        (rutherford.fontaine_to_rutherford, {"stage": "IIc"}, "stage"),
        (rutherford.fontaine_to_rutherford, {"stage": 2}, "stage"),
        (rutherford.fontaine_stage, {"pain_free_walking_m": -1}, "pain_free_walking_m"),
        (rutherford.fontaine_stage, {"pain_free_walking_m": 150.5}, "pain_free_walking_m"),
        (rutherford.fontaine_stage, {"rest_pain": "no"}, "rest_pain"),
        (rutherford.fontaine_stage, {"tissue_loss": 0}, "tissue_loss"),
        (rutherford.claudication_category, TREADMILL_OK | {"completed": "yes"}, "completed"),
        (
            rutherford.claudication_category,
            TREADMILL_OK | {"resting_ankle_pressure": -1},
            "resting_ankle_pressure",
        ),
        (
            rutherford.explain_treadmill,
            TREADMILL_OK | {"post_exercise_ankle_pressure": None},
            "post_exercise_ankle_pressure",
        ),
        (
            rutherford.explain_category,
            {"rest_pain": True, "resting_ankle_pressure": 500},
            "resting_ankle_pressure",
        ),
        (rutherford.explain_category, {"toe_pressure": "20"}, "toe_pressure"),
        (rutherford.explain_category, {"flat_pedal_pvr": "flat"}, "flat_pedal_pvr"),
        (
            rutherford.acute_limb_ischemia_class,
            ACUTE_OK | {"sensory_loss": "none"},
            "sensory_loss",
        ),
        (rutherford.explain_acute, ACUTE_OK | {"muscle_weakness": None}, "muscle_weakness"),
        (
            rutherford.acute_limb_ischemia_class,
            ACUTE_OK | {"arterial_doppler_audible": "yes"},
            "arterial_doppler_audible",
        ),
        (
            rutherford.explain_acute,
            ACUTE_OK | {"venous_doppler_audible": 1},
            "venous_doppler_audible",
        ),
    ],
)
def test_bad_input_names_the_field(
    rule: Callable[..., object], kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        rule(**kwargs)
