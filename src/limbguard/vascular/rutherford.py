"""Rutherford categories 0-6, Fontaine stages, and the Rutherford/SVS acute limb ischaemia classes.

Chronic limb ischaemia: Rutherford RB, Baker JD, Ernst C, et al. Recommended standards
for reports dealing with lower extremity ischemia: revised version. J Vasc Surg
1997;26:517-538. Fontaine R, Kim M, Kieny R. Helv Chir Acta 1954;21:499-533; the
Rutherford-Fontaine mapping follows TASC II (Norgren L et al., J Vasc Surg 2007;45
Suppl S:S5-S67). Acute limb ischaemia: Rutherford 1997, as restated in the 2016 AHA/ACC
PAD guideline (Table 3). See clinical_reference.md section 3.

Store the Rutherford category: the mapping to Fontaine loses information (Fontaine IIb
is Rutherford 2 or 3, Fontaine IV is 5 or 6).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

from limbguard.vascular._base import Explained, InvalidInput, check_int, check_optional_int

SOURCE: Final = (
    "Rutherford RB et al. Recommended standards for reports dealing with lower extremity "
    "ischemia: revised version. J Vasc Surg 1997;26:517-538"
)
FONTAINE_SOURCE: Final = (
    "Fontaine R et al. Helv Chir Acta 1954;21:499-533; mapping per TASC II "
    "(Norgren et al., J Vasc Surg 2007;45 Suppl S:S5-S67)"
)
ACUTE_SOURCE: Final = SOURCE + "; 2016 AHA/ACC PAD guideline, Table 3"

# Rutherford 1997, category 1: completes the treadmill test (5 min, 2 mph, 12 %) with a
# post-exercise ankle pressure > 50 mmHg but at least 20 mmHg below the resting value;
# category 3: cannot complete it and the post-exercise ankle pressure is < 50 mmHg.
POST_EXERCISE_ANKLE_MMHG: Final = 50
SIGNIFICANT_DROP_MMHG: Final = 20
# Rutherford 1997 objective criteria: category 4 resting ankle pressure < 40 mmHg or toe
# pressure < 30 mmHg; categories 5-6 ankle < 60 mmHg or toe < 40 mmHg (and a flat or
# barely pulsatile ankle or metatarsal PVR for both).
REST_PAIN_ANKLE_UNDER_MMHG: Final = 40
REST_PAIN_TOE_UNDER_MMHG: Final = 30
TISSUE_LOSS_ANKLE_UNDER_MMHG: Final = 60
TISSUE_LOSS_TOE_UNDER_MMHG: Final = 40
# GVG 2019 and AHA 2016/2024: CLTI is Rutherford 4-6 (Fontaine III-IV) when the
# ischaemic symptoms have lasted more than 2 weeks; the caller checks the duration.
CLTI_FROM_CATEGORY: Final = 4
# TASC II: Fontaine IIa > 200 m pain-free walking, IIb < 200 m. A minority of sources
# use 150 m. Exactly 200 m is IIb, the more severe stage (project decision).
FONTAINE_IIA_OVER_M: Final = 200
_MAX_PRESSURE_MMHG: Final = 400
_MAX_WALKING_M: Final = 100_000

_E = TypeVar("_E", bound=enum.Enum)


class Claudication(enum.StrEnum):
    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class TissueLoss(enum.StrEnum):
    NONE = "none"
    # Non-healing ulcer or focal gangrene with diffuse pedal ischaemia.
    MINOR = "minor"
    # Extends above the transmetatarsal level; functional foot no longer salvageable.
    MAJOR = "major"


class Fontaine(enum.StrEnum):
    I = "I"  # noqa: E741 - the stage is called I
    IIA = "IIa"
    IIB = "IIb"
    III = "III"
    IV = "IV"


# Clinical reference section 3.3 (TASC II): Rutherford category -> Fontaine stage.
TO_FONTAINE: Final = (
    Fontaine.I,
    Fontaine.IIA,
    Fontaine.IIB,
    Fontaine.IIB,
    Fontaine.III,
    Fontaine.IV,
    Fontaine.IV,
)
_CLAUDICATION_CATEGORY: Final = MappingProxyType(
    {
        Claudication.NONE: 0,
        Claudication.MILD: 1,
        Claudication.MODERATE: 2,
        Claudication.SEVERE: 3,
    }
)


def _check_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, f"must be True or False, got {value!r}")
    return value


def _check_member(field: str, value: object, kind: type[_E]) -> _E:
    if not isinstance(value, kind):
        raise InvalidInput(field, f"must be a {kind.__name__}, got {value!r}")
    return value


def to_fontaine(category: int) -> Fontaine:
    """Fontaine stage ("I", "IIa", "IIb", "III", "IV") for Rutherford category 0-6."""
    return TO_FONTAINE[check_int("category", category, 0, 6)]


def fontaine_to_rutherford(stage: str) -> tuple[int, ...]:
    """The Rutherford categories a Fontaine stage may stand for (IIb -> (2, 3), IV -> (5, 6))."""
    stages = [member.value for member in Fontaine]
    if not isinstance(stage, str) or stage not in stages:
        raise InvalidInput("stage", f"must be one of {stages}, got {stage!r}")
    return tuple(category for category, mapped in enumerate(TO_FONTAINE) if mapped == stage)


def fontaine_stage(
    *, pain_free_walking_m: int | None = None, rest_pain: bool = False, tissue_loss: bool = False
) -> Fontaine:
    """Fontaine stage from symptoms: IV ulcer or gangrene, III rest pain, II claudication.

    ``pain_free_walking_m`` is given only for claudication: > 200 m is IIa, 200 m or
    less IIb. ``None`` with no rest pain or tissue loss is stage I (asymptomatic).
    """
    walking = check_optional_int("pain_free_walking_m", pain_free_walking_m, 0, _MAX_WALKING_M)
    if _check_bool("tissue_loss", tissue_loss):
        return Fontaine.IV
    if _check_bool("rest_pain", rest_pain):
        return Fontaine.III
    if walking is None:
        return Fontaine.I
    return Fontaine.IIA if walking > FONTAINE_IIA_OVER_M else Fontaine.IIB


def category(
    *,
    claudication: Claudication = Claudication.NONE,
    rest_pain: bool = False,
    tissue_loss: TissueLoss = TissueLoss.NONE,
) -> int:
    """Rutherford category 0-6: the most severe clinical description present."""
    grade = _CLAUDICATION_CATEGORY[_check_member("claudication", claudication, Claudication)]
    if _check_bool("rest_pain", rest_pain):
        grade = 4
    loss = _check_member("tissue_loss", tissue_loss, TissueLoss)
    if loss is TissueLoss.MINOR:
        grade = 5
    elif loss is TissueLoss.MAJOR:
        grade = 6
    return grade


def indicates_clti(category: int) -> bool:
    """True for Rutherford 4-6; CLTI also needs symptoms lasting more than 2 weeks."""
    return check_int("category", category, 0, 6) >= CLTI_FROM_CATEGORY


def explain_treadmill(
    *, completed: bool, resting_ankle_pressure: int, post_exercise_ankle_pressure: int
) -> Explained[int]:
    """Rutherford category 0-3 from the standard treadmill test (5 min, 2 mph, 12 % grade).

    No drop of 20 mmHg and a post-exercise ankle pressure above 50 mmHg: 0 (normal
    test). Completed, post-exercise pressure > 50 mmHg and >= 20 mmHg below rest: 1.
    Not completed and post-exercise pressure < 50 mmHg: 3. Anything between: 2.
    """
    done = _check_bool("completed", completed)
    rest = check_int("resting_ankle_pressure", resting_ankle_pressure, 0, _MAX_PRESSURE_MMHG)
    post = check_int(
        "post_exercise_ankle_pressure", post_exercise_ankle_pressure, 0, _MAX_PRESSURE_MMHG
    )
    drop = rest - post
    facts = f"{'completed' if done else 'did not complete'}; ankle {rest} -> {post} mmHg"
    if not done and post < POST_EXERCISE_ANKLE_MMHG:
        value, why = 3, "not completed and post-exercise ankle pressure < 50 mmHg"
    elif drop < SIGNIFICANT_DROP_MMHG and post > POST_EXERCISE_ANKLE_MMHG:
        value, why = 0, "no haemodynamically significant drop: normal test"
    elif done and post > POST_EXERCISE_ANKLE_MMHG:
        value, why = 1, "completed, post-exercise > 50 mmHg, at least 20 mmHg below rest"
    else:
        value, why = 2, "between the criteria of categories 1 and 3"
    return Explained(value, (facts, f"category {value}: {why}"), SOURCE)


def claudication_category(
    *, completed: bool, resting_ankle_pressure: int, post_exercise_ankle_pressure: int
) -> int:
    """The category of ``explain_treadmill`` without the reasons."""
    return explain_treadmill(
        completed=completed,
        resting_ankle_pressure=resting_ankle_pressure,
        post_exercise_ankle_pressure=post_exercise_ankle_pressure,
    ).value


@dataclass(frozen=True)
class RutherfordAssessment:
    """Category with its Fontaine stage, CLTI flag and the objective-criteria check.

    ``objective_support`` is True when a given measurement meets the Rutherford 1997
    objective criterion for category 4-6, False when measurements were given and none
    meets it, ``None`` when there were none (or the category is below 4).
    """

    category: int
    fontaine: Fontaine
    clti: bool
    objective_support: bool | None
    reasons: tuple[str, ...]
    source: str


def explain_category(
    *,
    claudication: Claudication = Claudication.NONE,
    rest_pain: bool = False,
    tissue_loss: TissueLoss = TissueLoss.NONE,
    resting_ankle_pressure: int | None = None,
    toe_pressure: int | None = None,
    flat_pedal_pvr: bool | None = None,
) -> RutherfordAssessment:
    """``category`` with Fontaine, CLTI, and a check against the objective criteria (mmHg)."""
    value = category(claudication=claudication, rest_pain=rest_pain, tissue_loss=tissue_loss)
    ankle = check_optional_int(
        "resting_ankle_pressure", resting_ankle_pressure, 0, _MAX_PRESSURE_MMHG
    )
    toe = check_optional_int("toe_pressure", toe_pressure, 0, _MAX_PRESSURE_MMHG)
    if flat_pedal_pvr is not None:
        _check_bool("flat_pedal_pvr", flat_pedal_pvr)
    reasons = [
        f"claudication {claudication.value}, rest pain {'yes' if rest_pain else 'no'}, "
        f"tissue loss {tissue_loss.value}: category {value}"
    ]
    support = None
    if value >= CLTI_FROM_CATEGORY:
        ankle_limit, toe_limit = (
            (REST_PAIN_ANKLE_UNDER_MMHG, REST_PAIN_TOE_UNDER_MMHG)
            if value == CLTI_FROM_CATEGORY
            else (TISSUE_LOSS_ANKLE_UNDER_MMHG, TISSUE_LOSS_TOE_UNDER_MMHG)
        )
        checks = []
        if ankle is not None:
            checks.append((ankle < ankle_limit, f"resting ankle {ankle} mmHg (< {ankle_limit})"))
        if toe is not None:
            checks.append((toe < toe_limit, f"toe {toe} mmHg (< {toe_limit})"))
        if flat_pedal_pvr is not None:
            checks.append((flat_pedal_pvr, "flat or barely pulsatile ankle/metatarsal PVR"))
        if checks:
            support = any(met for met, _ in checks)
            reasons += [f"{text}: {'met' if met else 'not met'}" for met, text in checks]
            if not support:
                reasons.append(f"objective criteria for category {value} not met: confirm")
    fontaine = TO_FONTAINE[value]
    clti = value >= CLTI_FROM_CATEGORY
    reasons.append(f"Fontaine {fontaine}")
    if clti:
        reasons.append("Rutherford 4-6: CLTI if symptoms have lasted more than 2 weeks")
    return RutherfordAssessment(value, fontaine, clti, support, tuple(reasons), SOURCE)


class AcuteClass(enum.StrEnum):
    """Rutherford/SVS acute limb ischaemia classes."""

    I = "I"  # noqa: E741 - the class is called I
    IIA = "IIa"
    IIB = "IIb"
    III = "III"


class SensoryLoss(enum.StrEnum):
    NONE = "none"
    MINIMAL = "minimal"  # toes only
    MORE_THAN_TOES = "more_than_toes"  # with rest pain
    PROFOUND = "profound"  # anaesthetic


class MuscleWeakness(enum.StrEnum):
    NONE = "none"
    MILD_MODERATE = "mild_moderate"
    PROFOUND = "profound"  # paralysis, rigor


_ACUTE_ORDER: Final = (AcuteClass.I, AcuteClass.IIA, AcuteClass.IIB, AcuteClass.III)
# AHA 2016 Table 3: the least severe class each finding is compatible with.
_SENSORY_CLASS: Final = MappingProxyType(
    {
        SensoryLoss.NONE: AcuteClass.I,
        SensoryLoss.MINIMAL: AcuteClass.IIA,
        SensoryLoss.MORE_THAN_TOES: AcuteClass.IIB,
        SensoryLoss.PROFOUND: AcuteClass.III,
    }
)
_MOTOR_CLASS: Final = MappingProxyType(
    {
        MuscleWeakness.NONE: AcuteClass.I,
        MuscleWeakness.MILD_MODERATE: AcuteClass.IIB,
        MuscleWeakness.PROFOUND: AcuteClass.III,
    }
)


def explain_acute(
    *,
    sensory_loss: SensoryLoss,
    muscle_weakness: MuscleWeakness,
    arterial_doppler_audible: bool | None = None,
    venous_doppler_audible: bool | None = None,
) -> Explained[AcuteClass]:
    """Acute limb ischaemia class: the most severe class any finding points to.

    Sensory loss: none I, toes IIa, beyond toes IIb, anaesthetic III. Weakness: mild or
    moderate IIb, paralysis III. An inaudible arterial Doppler excludes class I (IIa at
    least); an inaudible venous Doppler is class III. ``None`` = Doppler not assessed.
    """
    sensory = _check_member("sensory_loss", sensory_loss, SensoryLoss)
    motor = _check_member("muscle_weakness", muscle_weakness, MuscleWeakness)
    findings = [
        (f"sensory loss {sensory.value}", _SENSORY_CLASS[sensory]),
        (f"muscle weakness {motor.value}", _MOTOR_CLASS[motor]),
    ]
    for vessel, heard, class_when_silent in (
        ("arterial", arterial_doppler_audible, AcuteClass.IIA),
        ("venous", venous_doppler_audible, AcuteClass.III),
    ):
        if heard is not None:
            audible = _check_bool(f"{vessel}_doppler_audible", heard)
            signal = "audible" if audible else "inaudible"
            findings.append(
                (f"{vessel} Doppler {signal}", AcuteClass.I if audible else class_when_silent)
            )
    worst = max((cls for _, cls in findings), key=_ACUTE_ORDER.index)
    reasons = tuple(f"{text}: class {cls} or worse" for text, cls in findings)
    return Explained(worst, (*reasons, f"class {worst}"), ACUTE_SOURCE)


def acute_limb_ischemia_class(
    *,
    sensory_loss: SensoryLoss,
    muscle_weakness: MuscleWeakness,
    arterial_doppler_audible: bool | None = None,
    venous_doppler_audible: bool | None = None,
) -> AcuteClass:
    """The class of ``explain_acute`` without the reasons."""
    return explain_acute(
        sensory_loss=sensory_loss,
        muscle_weakness=muscle_weakness,
        arterial_doppler_audible=arterial_doppler_audible,
        venous_doppler_audible=venous_doppler_audible,
    ).value
