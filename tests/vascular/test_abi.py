"""ABI, TBI and exercise ABI.

Sources: 2016 AHA/ACC Guideline on the Management of Patients With Lower Extremity PAD
(Gerhard-Herman MD et al., Circulation 2017;135:e726-e779), the ABI interpretation
table and the TBI and exercise-ABI recommendations, restated unchanged in the 2024
ACC/AHA PAD guideline (Gornik HL et al., Circulation 2024;149:e1313-e1410); SVS
claudication guideline (Conte MS et al., J Vasc Surg 2015;61:2S-41S) for the
supportive exercise findings. Project conventions (half-up rounding, None versus 0)
from clinical_reference.md section 6.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import abi
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.abi import AbiCategory, PadEvidence, TbiCategory

pressures = st.one_of(st.none(), st.integers(min_value=0, max_value=abi.MAX_PRESSURE_MMHG))


def half_up_oracle(numerator: int, denominator: int) -> float:
    """Independent reference: exact rational arithmetic, round half-up to hundredths."""
    hundredths = Fraction(numerator * 100, denominator) + Fraction(1, 2)
    return (hundredths.numerator // hundredths.denominator) / 100


def test_rounding_case_199_over_200_gives_1_00() -> None:
    assert round(199 / 200, 2) == 0.99  # the binary-float trap the contract avoids
    value = abi.leg_abi(dp=199, pt=None, brachial_left=200, brachial_right=None)
    assert value == 1.00
    assert abi.classify_abi(value) == "normal"


@pytest.mark.parametrize(
    ("ankle", "arm", "value", "category"),
    [
        (179, 200, 0.90, "abnormal"),  # 0.895 rounds half-up to 0.90
        (180, 200, 0.90, "abnormal"),
        (181, 200, 0.91, "borderline"),  # 0.905 rounds half-up to 0.91
        (182, 200, 0.91, "borderline"),
        (198, 200, 0.99, "borderline"),
        (199, 200, 1.00, "normal"),
        (200, 200, 1.00, "normal"),
        (280, 200, 1.40, "normal"),
        (281, 200, 1.41, "noncompressible"),  # 1.405 rounds half-up to 1.41
        (282, 200, 1.41, "noncompressible"),
        (0, 120, 0.00, "abnormal"),
    ],
)
def test_abi_boundaries_from_pressures(ankle: int, arm: int, value: float, category: str) -> None:
    result = abi.leg_abi(dp=ankle, pt=None, brachial_left=arm, brachial_right=None)
    assert result == value
    assert abi.classify_abi(value) == category


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (0.90, AbiCategory.ABNORMAL),
        (0.91, AbiCategory.BORDERLINE),
        (0.99, AbiCategory.BORDERLINE),
        (1.00, AbiCategory.NORMAL),
        (1.40, AbiCategory.NORMAL),
        (1.41, AbiCategory.NONCOMPRESSIBLE),
        (0.905, AbiCategory.BORDERLINE),
        (0.995, AbiCategory.NORMAL),
        (1.404, AbiCategory.NORMAL),
        (1.405, AbiCategory.NONCOMPRESSIBLE),
        (0, AbiCategory.ABNORMAL),
        (1, AbiCategory.NORMAL),
    ],
)
def test_classify_abi_judges_the_rounded_value(value: float, category: AbiCategory) -> None:
    assert abi.classify_abi(value) is category
    assert abi.classify_abi(value) == category.value


def test_higher_ankle_and_higher_arm_are_used() -> None:
    assert abi.leg_abi(dp=90, pt=110, brachial_left=140, brachial_right=120) == 0.79
    assert abi.leg_abi(dp=110, pt=90, brachial_left=120, brachial_right=140) == 0.79


def test_not_obtainable_versus_absent_signal() -> None:
    assert abi.leg_abi(dp=None, pt=None, brachial_left=120, brachial_right=120) is None
    assert abi.leg_abi(dp=0, pt=None, brachial_left=120, brachial_right=None) == 0.0
    assert abi.leg_abi(dp=0, pt=60, brachial_left=120, brachial_right=None) == 0.5
    assert abi.leg_abi(dp=100, pt=None, brachial_left=None, brachial_right=None) is None
    assert abi.leg_abi(dp=100, pt=None, brachial_left=0, brachial_right=None) is None
    assert abi.leg_abi(dp=100, pt=None, brachial_left=0, brachial_right=125) == 0.8


@given(dp=pressures, pt=pressures, left=pressures, right=pressures)
def test_property_arm_swap_does_not_change_abi(
    dp: int | None, pt: int | None, left: int | None, right: int | None
) -> None:
    forward = abi.leg_abi(dp=dp, pt=pt, brachial_left=left, brachial_right=right)
    assert forward == abi.leg_abi(dp=dp, pt=pt, brachial_left=right, brachial_right=left)
    assert forward == abi.leg_abi(dp=pt, pt=dp, brachial_left=left, brachial_right=right)


@given(
    ankle=st.integers(min_value=0, max_value=abi.MAX_PRESSURE_MMHG),
    arm=st.integers(min_value=1, max_value=abi.MAX_PRESSURE_MMHG),
)
def test_property_abi_equals_exact_half_up_oracle(ankle: int, arm: int) -> None:
    assert abi.leg_abi(dp=ankle, pt=None, brachial_left=arm, brachial_right=None) == (
        half_up_oracle(ankle, arm)
    )
    assert abi.toe_brachial_index(toe=ankle, brachial_left=None, brachial_right=arm) == (
        half_up_oracle(ankle, arm)
    )


@pytest.mark.parametrize(
    ("toe", "arm", "value", "category"),
    [
        (70, 100, 0.70, TbiCategory.ABNORMAL),  # AHA: <= 0.70 abnormal (ESC would say normal)
        (71, 100, 0.71, TbiCategory.NORMAL),
        (139, 200, 0.70, TbiCategory.ABNORMAL),  # 0.695 rounds half-up to 0.70
        (141, 200, 0.71, TbiCategory.NORMAL),  # 0.705 rounds half-up to 0.71
        (0, 130, 0.00, TbiCategory.ABNORMAL),
    ],
)
def test_tbi_boundaries(toe: int, arm: int, value: float, category: TbiCategory) -> None:
    tbi = abi.toe_brachial_index(toe=toe, brachial_left=arm, brachial_right=None)
    assert tbi == value
    assert abi.classify_tbi(value) is category


def test_tbi_not_computable() -> None:
    assert abi.toe_brachial_index(toe=None, brachial_left=120, brachial_right=None) is None
    assert abi.toe_brachial_index(toe=60, brachial_left=None, brachial_right=0) is None


def test_explain_leg_abi_reasons() -> None:
    result = abi.explain_leg_abi(dp=0, pt=150, brachial_left=100, brachial_right=None)
    assert (result.value, result.category, result.ankle_artery) == (
        1.5,
        AbiCategory.NONCOMPRESSIBLE,
        "PT",
    )
    text = " | ".join(result.reasons)
    assert "DP 0 mmHg: absent Doppler signal" in text
    assert "right brachial not obtainable" in text
    assert "toe pressure (TBI) or TcPO2" in text
    assert "Circulation" in result.source
    dp_result = abi.explain_leg_abi(dp=80, pt=None, brachial_left=100, brachial_right=100)
    assert dp_result.ankle_artery == "DP"
    assert dp_result.category is AbiCategory.ABNORMAL


def test_explain_leg_abi_not_computable() -> None:
    no_ankle = abi.explain_leg_abi(dp=None, pt=None, brachial_left=120, brachial_right=None)
    assert (no_ankle.value, no_ankle.category) == (None, None)
    assert "no ankle pressure obtainable" in no_ankle.reasons[-1]
    no_arm = abi.explain_leg_abi(dp=90, pt=None, brachial_left=0, brachial_right=None)
    assert no_arm.value is None
    assert "no brachial pressure" in no_arm.reasons[-1]


@pytest.mark.parametrize(
    ("kwargs", "pad", "deferred_to", "needs"),
    [
        ({"dp": 80, "pt": 70}, PadEvidence.PRESENT, None, ()),
        ({"dp": 120, "pt": 110}, PadEvidence.ABSENT, None, ()),
        ({"dp": 115, "pt": None}, PadEvidence.INDETERMINATE, None, ("exercise ABI",)),
        ({"dp": 250, "pt": None}, PadEvidence.INDETERMINATE, None, ("toe pressure",)),
        ({"dp": 250, "pt": None, "toe": 90}, PadEvidence.ABSENT, "toe pressure", ()),
        ({"dp": 250, "pt": None, "toe": 60}, PadEvidence.PRESENT, "toe pressure", ()),
        ({"dp": 250, "pt": None, "tcpo2": 25}, PadEvidence.INDETERMINATE, "TcPO2", ("toe",)),
        ({"dp": 120, "pt": None, "toe": 50}, PadEvidence.PRESENT, None, ()),
        ({"dp": None, "pt": None}, PadEvidence.INDETERMINATE, None, ("ankle and brachial",)),
        ({"dp": None, "pt": None, "toe": 50}, PadEvidence.PRESENT, None, ()),
        ({"dp": None, "pt": None, "toe": 110}, PadEvidence.INDETERMINATE, None, ()),
    ],
)
def test_assess_leg(
    kwargs: dict[str, int | None],
    pad: PadEvidence,
    deferred_to: str | None,
    needs: tuple[str, ...],
) -> None:
    result = abi.assess_leg(brachial_left=120, brachial_right=None, **kwargs)
    assert result.pad is pad
    assert result.deferred_to == deferred_to
    assert len(result.needs) == len(needs)
    for need, prefix in zip(result.needs, needs, strict=True):
        assert need.startswith(prefix)
    assert result.reasons[-1] == f"PAD: {pad}"
    if result.tbi is not None:
        assert result.tbi_category == abi.classify_tbi(result.tbi)


@pytest.mark.parametrize(
    ("resting", "indicated"),
    [(0.90, False), (0.91, True), (1.00, True), (1.40, True), (1.41, False)],
)
def test_exercise_abi_indicated_for_normal_or_borderline(resting: float, indicated: bool) -> None:
    assert abi.exercise_abi_indicated(resting) is indicated


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"resting_ankle_pressure": 130, "post_exercise_ankle_pressure": 100}, False),  # 30
        ({"resting_ankle_pressure": 130, "post_exercise_ankle_pressure": 99}, True),  # 31
        ({"resting_abi": 1.00, "post_exercise_abi": 0.80}, False),  # exactly 20 %
        ({"resting_abi": 1.00, "post_exercise_abi": 0.79}, True),  # 21 %
        ({"resting_abi": 0.95, "post_exercise_abi": 0.76}, False),  # exactly 20 %
        ({"resting_abi": 0.95, "post_exercise_abi": 0.75}, True),
        ({"resting_abi": 0, "post_exercise_abi": 0}, False),
        (
            {
                "resting_ankle_pressure": 130,
                "post_exercise_ankle_pressure": 120,
                "resting_abi": 1.00,
                "post_exercise_abi": 0.70,
            },
            True,
        ),
        ({}, None),
        ({"resting_ankle_pressure": 130}, None),
        ({"post_exercise_abi": 0.7}, None),
    ],
)
def test_exercise_abi_criteria(kwargs: dict[str, float], expected: bool | None) -> None:
    assert abi.exercise_abi_positive(**kwargs) is expected  # type: ignore[arg-type]
    assert abi.explain_exercise_abi(**kwargs).value is expected  # type: ignore[arg-type]


def test_explain_exercise_abi_notes_supportive_findings() -> None:
    result = abi.explain_exercise_abi(
        resting_ankle_pressure=130,
        post_exercise_ankle_pressure=100,
        resting_abi=1.00,
        post_exercise_abi=0.80,
        recovery_minutes=4,
    )
    assert result.value is False
    text = " | ".join(result.reasons)
    assert "does not meet the > 30 mmHg" in text
    assert "does not meet the > 20 % drop" in text
    assert "post-exercise ABI <= 0.90" in text
    assert "recovery longer than 3 minutes" in text
    assert "J Vasc Surg 2015" in result.source
    quiet = abi.explain_exercise_abi(post_exercise_abi=0.95, recovery_minutes=3)
    assert quiet.value is None
    assert quiet.reasons == ("no complete before/after pair: exercise test not interpretable",)
    positive = abi.explain_exercise_abi(resting_ankle_pressure=130, post_exercise_ankle_pressure=90)
    assert positive.reasons == ("ankle pressure fell 40 mmHg: meets the > 30 mmHg criterion",)


PRESSURE_FIELDS = ["dp", "pt", "brachial_left", "brachial_right"]
bad_pressures = st.one_of(
    st.integers().filter(lambda n: not 0 <= n <= abi.MAX_PRESSURE_MMHG),
    st.floats(),
    st.text(max_size=3),
    st.booleans(),
)


@given(field=st.sampled_from(PRESSURE_FIELDS), bad=bad_pressures)
def test_property_leg_abi_rejects_bad_pressures(field: str, bad: object) -> None:
    kwargs: dict[str, object] = dict.fromkeys(PRESSURE_FIELDS, 100) | {field: bad}
    with pytest.raises(ValueError, match=f"^{field}:"):
        abi.leg_abi(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"^{field}:"):
        abi.explain_leg_abi(**kwargs)  # type: ignore[arg-type]


@given(
    field=st.sampled_from(["toe", "brachial_left", "brachial_right"]),
    bad=bad_pressures,
)
def test_property_tbi_rejects_bad_pressures(field: str, bad: object) -> None:
    kwargs: dict[str, object] = {"toe": 60, "brachial_left": 100, "brachial_right": 100}
    kwargs[field] = bad
    with pytest.raises(ValueError, match=f"^{field}:"):
        abi.toe_brachial_index(**kwargs)  # type: ignore[arg-type]


@given(
    bad=st.one_of(
        st.floats().filter(lambda x: not 0 <= x <= abi.MAX_INDEX),
        st.text(max_size=3),
        st.booleans(),
        st.none(),
    )
)
def test_property_classifiers_reject_bad_values(bad: object) -> None:
    for rule in (abi.classify_abi, abi.classify_tbi):
        with pytest.raises(ValueError, match=r"^value:"):
            rule(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^resting_abi:"):
        abi.exercise_abi_indicated(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"resting_ankle_pressure": -1, "post_exercise_ankle_pressure": 90}, "resting_ankle"),
        ({"resting_ankle_pressure": 120, "post_exercise_ankle_pressure": "90"}, "post_exercise_a"),
        ({"resting_abi": -0.5, "post_exercise_abi": 0.8}, "resting_abi"),
        ({"resting_abi": 1.0, "post_exercise_abi": float("inf")}, "post_exercise_abi"),
        ({"recovery_minutes": -1}, "recovery_minutes"),
        ({"recovery_minutes": "3"}, "recovery_minutes"),
    ],
)
def test_exercise_rejects_bad_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}"):
        abi.explain_exercise_abi(**kwargs)  # type: ignore[arg-type]


def test_assess_leg_rejects_bad_tcpo2_and_toe() -> None:
    with pytest.raises(InvalidInput, match=r"^tcpo2:"):
        abi.assess_leg(dp=90, pt=None, brachial_left=120, brachial_right=None, tcpo2=-1)
    with pytest.raises(InvalidInput, match=r"^toe:"):
        abi.assess_leg(dp=90, pt=None, brachial_left=120, brachial_right=None, toe=500)


def test_rules_import_and_run_without_django() -> None:
    script = (
        "import sys; sys.modules['django'] = None\n"
        "from limbguard.vascular import abi, infection, rutherford, wifi\n"
        "assert abi.leg_abi(dp=199, pt=None, brachial_left=200, brachial_right=None) == 1.0\n"
        "assert wifi.clinical_stage(2, 2, 1) == 4\n"
        "assert rutherford.to_fontaine(3) == 'IIb'\n"
        "assert infection.to_wifi_fi(4) == 3\n"
        "assert 'django' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    # Fixed argv and our own interpreter: nothing untrusted reaches the subprocess.
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
