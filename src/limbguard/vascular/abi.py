"""Ankle-brachial index (ABI), toe-brachial index (TBI) and exercise ABI.

Contract (DESIGN.md, "Contract of limbguard.vascular"):

* Pressures are systolic mmHg as ``int``. ``None`` means *not obtainable*; an explicit
  ``0`` is an *absent Doppler signal* and counts as a real value (it gives ABI 0.00).
* ABI of one leg = the higher of that leg's DP and PT pressures over the higher of the
  two brachial pressures; TBI = toe pressure over the higher brachial pressure.
* Exact decimal division, rounded half-up to 2 decimals; categories are judged on the
  rounded value (``round(199 / 200, 2)`` is 0.99 in binary floating point; here 1.00).

Source: 2016 AHA/ACC PAD guideline (Gerhard-Herman MD et al., Circulation
2017;135:e726-e779) and 2024 ACC/AHA PAD guideline (Gornik HL et al., Circulation
2024;149:e1313-e1410); clinical_reference.md section 6.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from limbguard.vascular._base import (
    Explained,
    check_number,
    check_optional_int,
    ratio_half_up,
)

SOURCE: Final = (
    "2016 AHA/ACC PAD guideline (Gerhard-Herman et al., Circulation 2017;135:e726-e779); "
    "2024 ACC/AHA PAD guideline (Gornik et al., Circulation 2024;149:e1313-e1410)"
)
EXERCISE_SOURCE: Final = (
    SOURCE + "; supportive findings: SVS claudication guideline (Conte et al., "
    "J Vasc Surg 2015;61:2S-41S)"
)

# AHA 2016/2024: ABI is reported to 2 decimal places. Half-up rounding is a project
# decision (the guidelines name no rounding mode), clinical_reference section 6.2.
PLACES: Final = 2
_QUANTUM: Final = Decimal(1).scaleb(-PLACES)

# Project decision: a ceiling well above any cuff's inflation range (about 300 mmHg),
# so only typing errors (e.g. 1200) are refused.
MAX_PRESSURE_MMHG: Final = 400
# The largest ratio leg_abi can return (MAX_PRESSURE_MMHG over 1 mmHg).
MAX_INDEX: Final = float(MAX_PRESSURE_MMHG)
# Project decision: room-air TcPO2 is below 100 mmHg and oxygen-challenge values a few
# hundred; the ceiling only refuses typing errors.
MAX_TCPO2_MMHG: Final = 800

# AHA 2016 and 2024, identical: > 1.40 noncompressible; 1.00-1.40 normal;
# 0.91-0.99 borderline; <= 0.90 abnormal (diagnostic of PAD).
NONCOMPRESSIBLE_ABOVE: Final = Decimal("1.40")
NORMAL_FROM: Final = Decimal("1.00")
BORDERLINE_FROM: Final = Decimal("0.91")
ABNORMAL_AT_MOST: Final = Decimal("0.90")

# AHA 2016/2024: TBI <= 0.70 is abnormal. ESC 2017/2024 write "< 0.70"; the AHA
# wording is followed, so TBI 0.70 is abnormal (clinical_reference section 6.3).
TBI_ABNORMAL_AT_MOST: Final = Decimal("0.70")

# AHA 2016/2024 exercise ABI: PAD is supported by a post-exercise ankle pressure drop
# of more than 30 mmHg or an ABI drop of more than 20 %.
EXERCISE_ANKLE_DROP_OVER_MMHG: Final = 30
EXERCISE_ABI_DROP_OVER_PERCENT: Final = 20
# SVS claudication guideline (Conte 2015): supportive, not part of the AHA criteria.
POST_EXERCISE_ABI_SUPPORTIVE_AT_MOST: Final = Decimal("0.90")
RECOVERY_SUPPORTIVE_OVER_MINUTES: Final = 3
MAX_RECOVERY_MINUTES: Final = 120


class AbiCategory(enum.StrEnum):
    """AHA 2016/2024 resting ABI categories (the value is the contract string)."""

    NONCOMPRESSIBLE = "noncompressible"
    NORMAL = "normal"
    BORDERLINE = "borderline"
    ABNORMAL = "abnormal"


class TbiCategory(enum.StrEnum):
    """AHA 2016/2024 TBI categories: <= 0.70 abnormal."""

    NORMAL = "normal"
    ABNORMAL = "abnormal"


class PadEvidence(enum.StrEnum):
    """What the resting indices say about peripheral artery disease in one leg."""

    PRESENT = "present"
    ABSENT = "absent"
    INDETERMINATE = "indeterminate"


_ABI_MEANING: Final = MappingProxyType(
    {
        AbiCategory.NONCOMPRESSIBLE: "noncompressible (> 1.40): calcified arteries, unreliable",
        AbiCategory.NORMAL: "normal (1.00-1.40)",
        AbiCategory.BORDERLINE: "borderline (0.91-0.99)",
        AbiCategory.ABNORMAL: "abnormal (<= 0.90): diagnostic of PAD",
    }
)


def round_index(value: object, *, field: str = "value") -> Decimal:
    """Validate an index (ABI or TBI) and round it half-up to 2 decimals.

    Accepts an int, float or Decimal in [0, MAX_INDEX]; a float is read through its
    shortest decimal form, so 0.905 becomes 0.91 and 0.995 becomes 1.00.
    """
    check_number(field, value, 0.0, MAX_INDEX)
    return _quantize(value)


@lru_cache(maxsize=4096, typed=True)
def _quantize(value: float | int | Decimal) -> Decimal:
    # Pure and keyed by type too (0.1 and Decimal("0.1") are equal but read differently).
    return Decimal(str(value)).quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def _higher(first: int | None, second: int | None) -> int | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)


def _pressure(field: str, value: object) -> int | None:
    return check_optional_int(field, value, 0, MAX_PRESSURE_MMHG)


def _arm(brachial_left: object, brachial_right: object) -> int | None:
    return _higher(
        _pressure("brachial_left", brachial_left), _pressure("brachial_right", brachial_right)
    )


def leg_abi(
    *, dp: int | None, pt: int | None, brachial_left: int | None, brachial_right: int | None
) -> float | None:
    """ABI of one leg, or ``None`` when it cannot be computed.

    ``max(dp, pt) / max(brachial_left, brachial_right)`` over the obtainable values,
    exact decimal division rounded half-up to 2 decimals. ``None`` when neither ankle
    pressure was obtainable, or when no arm pressure above 0 mmHg was recorded.
    Raises ``InvalidInput`` naming the field for a non-int or a value outside
    0..MAX_PRESSURE_MMHG.
    """
    ankle = _higher(_pressure("dp", dp), _pressure("pt", pt))
    arm = _arm(brachial_left, brachial_right)
    if ankle is None or not arm:
        return None
    return ratio_half_up(ankle, arm, PLACES)


def classify_abi(value: float) -> AbiCategory:
    """AHA category of an ABI, judged on the value rounded half-up to 2 decimals.

    ``"noncompressible"`` > 1.40, ``"normal"`` 1.00-1.40, ``"borderline"`` 0.91-0.99,
    ``"abnormal"`` <= 0.90. The result is a ``str`` enum equal to those strings.
    """
    rounded = round_index(value)
    if rounded > NONCOMPRESSIBLE_ABOVE:
        return AbiCategory.NONCOMPRESSIBLE
    if rounded >= NORMAL_FROM:
        return AbiCategory.NORMAL
    if rounded >= BORDERLINE_FROM:
        return AbiCategory.BORDERLINE
    return AbiCategory.ABNORMAL


def toe_brachial_index(
    *, toe: int | None, brachial_left: int | None, brachial_right: int | None
) -> float | None:
    """TBI = toe pressure / higher brachial pressure, rounded as ABI; ``None`` if not computable.

    An explicit toe pressure of 0 (absent signal) gives 0.00. See ``classify_tbi``.
    """
    toe_pressure = _pressure("toe", toe)
    arm = _arm(brachial_left, brachial_right)
    if toe_pressure is None or not arm:
        return None
    return ratio_half_up(toe_pressure, arm, PLACES)


def classify_tbi(value: float) -> TbiCategory:
    """``"abnormal"`` when the rounded TBI is <= 0.70 (AHA 2016/2024), else ``"normal"``."""
    if round_index(value) <= TBI_ABNORMAL_AT_MOST:
        return TbiCategory.ABNORMAL
    return TbiCategory.NORMAL


@dataclass(frozen=True)
class AbiResult:
    """One leg's ABI with its category, the ankle artery used, and the reasons."""

    value: float | None
    category: AbiCategory | None
    ankle_artery: str | None
    reasons: tuple[str, ...]
    source: str


def _signal_notes(readings: dict[str, int | None]) -> list[str]:
    notes = []
    for name, reading in readings.items():
        if reading is None:
            notes.append(f"{name} not obtainable")
        elif reading == 0:
            notes.append(f"{name} 0 mmHg: absent Doppler signal")
    return notes


def explain_leg_abi(
    *, dp: int | None, pt: int | None, brachial_left: int | None, brachial_right: int | None
) -> AbiResult:
    """``leg_abi`` with the category, the artery used and plain-language reasons."""
    value = leg_abi(dp=dp, pt=pt, brachial_left=brachial_left, brachial_right=brachial_right)
    reasons = _signal_notes(
        {"DP": dp, "PT": pt, "left brachial": brachial_left, "right brachial": brachial_right}
    )
    ankle = _higher(dp, pt)
    arm = _higher(brachial_left, brachial_right)
    if value is None or ankle is None or arm is None:
        if ankle is None:
            reasons.append("no ankle pressure obtainable: ABI not computable")
        else:
            reasons.append("no brachial pressure above 0 mmHg: ABI not computable")
        return AbiResult(None, None, None, tuple(reasons), SOURCE)
    artery = "PT" if pt is not None and (dp is None or pt >= dp) else "DP"
    category = classify_abi(value)
    reasons.append(
        f"higher ankle pressure {ankle} mmHg ({artery}) / higher brachial pressure "
        f"{arm} mmHg = {value:.2f} (exact division, rounded half-up)"
    )
    reasons.append(f"ABI {value:.2f} is {_ABI_MEANING[category]}")
    if category is AbiCategory.NONCOMPRESSIBLE:
        reasons.append("measure toe pressure (TBI) or TcPO2 instead")
    return AbiResult(value, category, artery, tuple(reasons), SOURCE)


@dataclass(frozen=True)
class LegPerfusion:
    """Resting perfusion of one leg: ABI and TBI, the PAD verdict, and what is missing.

    ``deferred_to`` names the measure used instead of a noncompressible ABI
    (``"toe pressure"`` or ``"TcPO2"``); ``needs`` lists work-up still to obtain.
    """

    abi: float | None
    abi_category: AbiCategory | None
    tbi: float | None
    tbi_category: TbiCategory | None
    pad: PadEvidence
    deferred_to: str | None
    needs: tuple[str, ...]
    reasons: tuple[str, ...]
    source: str


def assess_leg(
    *,
    dp: int | None,
    pt: int | None,
    brachial_left: int | None,
    brachial_right: int | None,
    toe: int | None = None,
    tcpo2: int | None = None,
) -> LegPerfusion:
    """Combine ABI, TBI and TcPO2 (mmHg) for one leg.

    ABI <= 0.90 means PAD. A TBI <= 0.70 also means PAD whatever the ABI (project
    decision: distal disease can hide behind compressible ankle arteries). When the ABI
    is noncompressible (> 1.40) the verdict defers to the TBI; without a toe pressure
    it stays indeterminate and asks for one (TcPO2, when given, is reported for the
    WIfI ischaemia grade, but no guideline diagnoses PAD from it). A normal ABI means
    no PAD at rest; a borderline one stays indeterminate and asks for an exercise ABI.
    """
    abi = explain_leg_abi(dp=dp, pt=pt, brachial_left=brachial_left, brachial_right=brachial_right)
    tbi = toe_brachial_index(toe=toe, brachial_left=brachial_left, brachial_right=brachial_right)
    oxygen = check_optional_int("tcpo2", tcpo2, 0, MAX_TCPO2_MMHG)
    tbi_category = None if tbi is None else classify_tbi(tbi)
    reasons = list(abi.reasons)
    needs: list[str] = []
    deferred_to = None
    if tbi is not None:
        reasons.append(f"TBI {tbi:.2f} is {tbi_category} (abnormal at <= 0.70)")
    if abi.category is AbiCategory.NONCOMPRESSIBLE:
        if tbi is not None:
            deferred_to = "toe pressure"
        elif oxygen is not None:
            deferred_to = "TcPO2"
            reasons.append(f"TcPO2 {oxygen} mmHg grades ischaemia (WIfI I) but cannot diagnose PAD")
            needs.append("toe pressure (TBI)")
        else:
            needs.append("toe pressure (TBI) or TcPO2")
    pad = PadEvidence.INDETERMINATE
    if abi.category is AbiCategory.ABNORMAL or tbi_category is TbiCategory.ABNORMAL:
        pad = PadEvidence.PRESENT
    elif deferred_to == "toe pressure" or abi.category is AbiCategory.NORMAL:
        pad = PadEvidence.ABSENT
    if abi.category is AbiCategory.NORMAL:
        reasons.append("with exertional leg symptoms, an exercise ABI can still reveal PAD")
    elif abi.category is AbiCategory.BORDERLINE:
        needs.append("exercise ABI if exertional leg symptoms")
    elif abi.category is None and tbi is None:
        needs.append("ankle and brachial pressures")
    reasons.append(f"PAD: {pad}")
    return LegPerfusion(
        abi=abi.value,
        abi_category=abi.category,
        tbi=tbi,
        tbi_category=tbi_category,
        pad=pad,
        deferred_to=deferred_to,
        needs=tuple(needs),
        reasons=tuple(reasons),
        source=SOURCE,
    )


def exercise_abi_indicated(resting_abi: float) -> bool:
    """True when the resting ABI is normal or borderline (> 0.90 and <= 1.40).

    AHA 2016/2024: exercise ABI is for patients with exertional leg symptoms whose
    resting ABI is in that range.
    """
    rounded = round_index(resting_abi, field="resting_abi")
    return ABNORMAL_AT_MOST < rounded <= NONCOMPRESSIBLE_ABOVE


def _ankle_drop(resting: object, post: object) -> int | None:
    rest = _pressure("resting_ankle_pressure", resting)
    after = _pressure("post_exercise_ankle_pressure", post)
    return None if rest is None or after is None else rest - after


def _rounded_pair(resting: object, post: object) -> tuple[Decimal | None, Decimal | None]:
    rest = None if resting is None else round_index(resting, field="resting_abi")
    after = None if post is None else round_index(post, field="post_exercise_abi")
    return rest, after


def _abi_drop_over_limit(rest: Decimal | None, after: Decimal | None) -> bool | None:
    if rest is None or after is None:
        return None
    # Compare (rest - after) / rest > 20 % without dividing: exact, and safe at rest 0.
    return (rest - after) * 100 > EXERCISE_ABI_DROP_OVER_PERCENT * rest


def exercise_abi_positive(
    *,
    resting_ankle_pressure: int | None = None,
    post_exercise_ankle_pressure: int | None = None,
    resting_abi: float | None = None,
    post_exercise_abi: float | None = None,
) -> bool | None:
    """AHA 2016/2024 exercise ABI criteria for PAD.

    True when the ankle pressure falls by more than 30 mmHg or the ABI by more than
    20 % after exercise (ABIs rounded to 2 decimals first; exactly 30 mmHg or 20 % is
    not enough). False when at least one complete before/after pair was given and
    neither criterion is met; ``None`` when no complete pair was given.
    """
    drop = _ankle_drop(resting_ankle_pressure, post_exercise_ankle_pressure)
    abi_drop = _abi_drop_over_limit(*_rounded_pair(resting_abi, post_exercise_abi))
    return _exercise_verdict(drop, abi_drop)


def _exercise_verdict(drop: int | None, abi_drop: bool | None) -> bool | None:
    if drop is None and abi_drop is None:
        return None
    return (drop is not None and drop > EXERCISE_ANKLE_DROP_OVER_MMHG) or abi_drop is True


def explain_exercise_abi(
    *,
    resting_ankle_pressure: int | None = None,
    post_exercise_ankle_pressure: int | None = None,
    resting_abi: float | None = None,
    post_exercise_abi: float | None = None,
    recovery_minutes: float | None = None,
) -> Explained[bool | None]:
    """``exercise_abi_positive`` with reasons; also notes the SVS supportive findings.

    A post-exercise ABI <= 0.90 and a recovery of more than 3 minutes are reported as
    supportive (SVS 2015) but do not change the value, which follows AHA 2016/2024.
    """
    drop = _ankle_drop(resting_ankle_pressure, post_exercise_ankle_pressure)
    before, after = _rounded_pair(resting_abi, post_exercise_abi)
    abi_drop = _abi_drop_over_limit(before, after)
    value = _exercise_verdict(drop, abi_drop)
    recovery = None
    if recovery_minutes is not None:
        recovery = check_number("recovery_minutes", recovery_minutes, 0.0, MAX_RECOVERY_MINUTES)
    reasons = []
    if drop is not None:
        verdict = "meets" if drop > EXERCISE_ANKLE_DROP_OVER_MMHG else "does not meet"
        reasons.append(f"ankle pressure fell {drop} mmHg: {verdict} the > 30 mmHg criterion")
    if abi_drop is not None:
        verdict = "meets" if abi_drop else "does not meet"
        reasons.append(f"ABI {before} -> {after}: {verdict} the > 20 % drop criterion")
    if value is None:
        reasons.append("no complete before/after pair: exercise test not interpretable")
    if after is not None and after <= POST_EXERCISE_ABI_SUPPORTIVE_AT_MOST:
        reasons.append("post-exercise ABI <= 0.90: supportive of PAD (SVS 2015)")
    if recovery is not None and recovery > RECOVERY_SUPPORTIVE_OVER_MINUTES:
        reasons.append("recovery longer than 3 minutes: supportive of PAD (SVS 2015)")
    return Explained(value, tuple(reasons), EXERCISE_SOURCE)
