"""Duplex ultrasound criteria: arterial stenosis grade and pathological venous reflux.

Contract:

* Arterial: native lower-extremity arteries only. The grade comes from the peak
  systolic velocity ratio Vr (PSV at the lesion / PSV in the normal segment just
  above it); no flow in the segment is an occlusion. A PSV at the lesion, when given,
  is checked against the PSV bands of the same table and a disagreement is flagged,
  never used to overrule the ratio. Stents, bypass grafts and post-angioplasty
  segments need their own lab criteria (clinical_reference section 7.1).
* Venous: reflux duration in milliseconds after augmentation or release, per segment
  named with the CEAP 2020 abbreviations. Deep femoropopliteal segments are
  pathological above 1,000 ms; superficial, deep femoral, calf and perforator
  segments above 500 ms. A perforator is a treatment target ("pathological
  perforator") with outward flow of at least 500 ms, diameter of at least 3.5 mm and a
  healed or open venous ulcer above it (CEAP C5-C6).
* Every threshold lives in a frozen criteria object with cited defaults; a lab passes
  its own as the ``criteria`` keyword, and its ``source`` is reported with the answer.

Sources: Cossman DV et al., J Vasc Surg 1989;10:522-529 and Weitz JI et al.,
Circulation 1996;94:3026-3049 (arterial); Gloviczki P et al., SVS/AVF guideline,
J Vasc Surg 2011;53(5 Suppl):2S-48S, recommendations 2.4 and 2.5, and Labropoulos N
et al., J Vasc Surg 2003;38:793-798 (venous).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from limbguard.vascular._base import InvalidInput, check_number
from limbguard.vascular.ceap import AnatomicSystem, Segment

ARTERIAL_SOURCE: Final = (
    "Cossman DV et al., J Vasc Surg 1989;10:522-529; Weitz JI et al. (AHA), "
    "Circulation 1996;94:3026-3049"
)
VENOUS_SOURCE: Final = (
    "Gloviczki P et al., SVS/AVF guideline, J Vasc Surg 2011;53(5 Suppl):2S-48S "
    "(recommendations 2.4, 2.5); Labropoulos N et al., J Vasc Surg 2003;38:793-798"
)
LABROPOULOS_SOURCE: Final = "Labropoulos N et al., J Vasc Surg 2003;38:793-798"

# Cossman 1989 / Weitz 1996 (clinical_reference 7.1): Vr < 1.5 is 1-19 %;
# 1.5-2.0 is 20-49 %; >= 2.0 is >= 50 %; >= 4.0 is 75-99 %. Labs using 3.5 for the
# top band or 2.4-2.5 for 50 % (Ranke 1992) pass their own ArterialCriteria.
RATIO_20_PERCENT_FROM: Final = Decimal("1.5")
RATIO_50_PERCENT_FROM: Final = Decimal("2.0")
RATIO_75_PERCENT_FROM: Final = Decimal("4.0")
# Cossman 1989: PSV "typically 150-200 cm/s" at 20-49 % and "> 200 cm/s" at >= 50 %.
# The table gives no PSV figure for 75-99 %, so PSV only separates < 20 / 20-49 / >= 50.
PSV_20_PERCENT_FROM_CM_S: Final = Decimal(150)
PSV_50_PERCENT_ABOVE_CM_S: Final = Decimal(200)

# SVS/AVF 2011 rec. 2.4; Labropoulos 2003: common femoral, femoral and popliteal
# reflux is pathological above 1,000 ms; every other segment above 500 ms.
DEEP_FEMOROPOPLITEAL_REFLUX_ABOVE_MS: Final = 1000
DEEP_OTHER_REFLUX_ABOVE_MS: Final = 500
SUPERFICIAL_REFLUX_ABOVE_MS: Final = 500
# Perforators: > 500 ms in SVS/AVF 2011, > 350 ms in Labropoulos 2003. The guideline
# value is the default (clinical_reference 7.2); LABROPOULOS_2003_REFLUX has 350.
PERFORATOR_REFLUX_ABOVE_MS: Final = 500
LABROPOULOS_PERFORATOR_REFLUX_ABOVE_MS: Final = 350
# SVS/AVF 2011 rec. 2.5, "pathological perforator": outward flow >= 500 ms and
# diameter >= 3.5 mm beneath a healed or open venous ulcer. The guideline writes ">="
# here but "> 500 ms" for perforator reflux in rec. 2.4, so exactly 500 ms meets this
# rule without being reflux under the default; both are kept as published.
PATHOLOGICAL_PERFORATOR_FLOW_FROM_MS: Final = 500
PATHOLOGICAL_PERFORATOR_DIAMETER_FROM_MM: Final = Decimal("3.5")

# Input guards (project decisions), refusing only values no instrument reports.
MAX_PSV_RATIO: Final = 50.0
MAX_PSV_CM_S: Final = 1000.0
MAX_REFLUX_MS: Final = 20_000
MAX_VEIN_DIAMETER_MM: Final = 40.0


class StenosisGrade(enum.StrEnum):
    """Diameter-reduction band of a native artery (Cossman 1989 table)."""

    UNDER_20 = "<20%"  # normal or 1-19 %: the ratio cannot separate them
    FROM_20_TO_49 = "20-49%"
    FROM_50_TO_74 = "50-74%"
    FROM_75_TO_99 = "75-99%"
    OCCLUSION = "occlusion"

    @property
    def significant(self) -> bool:
        """True from 50 % narrowing upwards (haemodynamically significant)."""
        return self in _SIGNIFICANT


_SIGNIFICANT: Final = frozenset(
    {StenosisGrade.FROM_50_TO_74, StenosisGrade.FROM_75_TO_99, StenosisGrade.OCCLUSION}
)


# Vein segments are the CEAP 2020 ``Segment`` enum (declared once, in ceap). Segments
# without a published duplex reflux duration (Tel, Ret, IVC, CIV, IIV, EIV, PELV) are
# refused by assess_reflux.
_REFLUX_SEGMENTS: Final = frozenset(Segment) - frozenset(
    {
        Segment.TEL,
        Segment.RET,
        Segment.IVC,
        Segment.CIV,
        Segment.IIV,
        Segment.EIV,
        Segment.PELV,
    }
)
_FEMOROPOPLITEAL: Final = frozenset({Segment.CFV, Segment.FV, Segment.POPV})


def _positive_decimal(field: str, value: Decimal) -> Decimal:
    if value <= 0:
        raise InvalidInput(field, f"must be greater than 0, got {value}")
    return value


@dataclass(frozen=True)
class ArterialCriteria:
    """A lab's velocity-ratio (and PSV) thresholds for native-artery stenosis.

    A ratio at or above ``ratio_20``/``ratio_50``/``ratio_75`` reaches that band; PSV
    at or above ``psv_20`` is at least 20-49 % and PSV above ``psv_50`` at least 50 %.
    The thresholds must increase; ``source`` names where they come from.
    """

    ratio_20: Decimal = RATIO_20_PERCENT_FROM
    ratio_50: Decimal = RATIO_50_PERCENT_FROM
    ratio_75: Decimal = RATIO_75_PERCENT_FROM
    psv_20: Decimal = PSV_20_PERCENT_FROM_CM_S
    psv_50: Decimal = PSV_50_PERCENT_ABOVE_CM_S
    source: str = ARTERIAL_SOURCE

    def __post_init__(self) -> None:
        for name in ("ratio_20", "ratio_50", "ratio_75", "psv_20", "psv_50"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise InvalidInput(name, f"must be a Decimal or int, got {value!r}")
            object.__setattr__(self, name, _positive_decimal(name, Decimal(value)))
        if not self.ratio_20 < self.ratio_50 < self.ratio_75:
            raise InvalidInput("ratio_50", "ratio thresholds must increase: 20 < 50 < 75 %")
        if not self.psv_20 < self.psv_50:
            raise InvalidInput("psv_50", "must be above psv_20")
        if not self.source.strip():
            raise InvalidInput("source", "must name the lab protocol or publication")


@dataclass(frozen=True)
class RefluxCriteria:
    """A lab's reflux-duration thresholds (ms) and pathological-perforator rule.

    Reflux is pathological when its duration is *above* the segment's threshold; a
    perforator is a treatment target when outward flow is *at least*
    ``perforator_target_ms`` and its diameter *at least* ``perforator_target_mm``.
    """

    deep_femoropopliteal_ms: int = DEEP_FEMOROPOPLITEAL_REFLUX_ABOVE_MS
    deep_other_ms: int = DEEP_OTHER_REFLUX_ABOVE_MS
    superficial_ms: int = SUPERFICIAL_REFLUX_ABOVE_MS
    perforator_ms: int = PERFORATOR_REFLUX_ABOVE_MS
    perforator_target_ms: int = PATHOLOGICAL_PERFORATOR_FLOW_FROM_MS
    perforator_target_mm: Decimal = PATHOLOGICAL_PERFORATOR_DIAMETER_FROM_MM
    source: str = VENOUS_SOURCE

    def __post_init__(self) -> None:
        for name in (
            "deep_femoropopliteal_ms",
            "deep_other_ms",
            "superficial_ms",
            "perforator_ms",
            "perforator_target_ms",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(name, f"must be a whole number of ms, got {value!r}")
            if not 0 < value <= MAX_REFLUX_MS:
                raise InvalidInput(name, f"must be between 1 and {MAX_REFLUX_MS}, got {value}")
        diameter = self.perforator_target_mm
        if isinstance(diameter, bool) or not isinstance(diameter, Decimal | int):
            raise InvalidInput("perforator_target_mm", f"must be a Decimal, got {diameter!r}")
        object.__setattr__(
            self,
            "perforator_target_mm",
            _positive_decimal("perforator_target_mm", Decimal(diameter)),
        )
        if not self.source.strip():
            raise InvalidInput("source", "must name the lab protocol or publication")


DEFAULT_ARTERIAL_CRITERIA: Final = ArterialCriteria()
DEFAULT_REFLUX_CRITERIA: Final = RefluxCriteria()
# Labropoulos 2003 perforator cut-off, for labs that follow it instead of SVS/AVF 2011.
LABROPOULOS_2003_REFLUX: Final = RefluxCriteria(
    perforator_ms=LABROPOULOS_PERFORATOR_REFLUX_ABOVE_MS,
    source=f"{VENOUS_SOURCE}; perforator reflux > 350 ms per {LABROPOULOS_SOURCE}",
)


@dataclass(frozen=True)
class StenosisAssessment:
    """Stenosis grade of one arterial segment, with why and the criteria's source.

    ``psv_discordant`` is True when the PSV band disagrees with the ratio's grade,
    False when they agree, None when no PSV (or no flow) was given.
    """

    grade: StenosisGrade
    significant: bool
    psv_discordant: bool | None
    reasons: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class RefluxAssessment:
    """Reflux verdict for one vein segment.

    ``pathological_perforator`` is None for non-perforators, and for perforators when
    the diameter or the ulcer question is unanswered and the known facts do not
    already rule it out.
    """

    segment: Segment
    system: AnatomicSystem
    threshold_ms: int
    pathological_reflux: bool
    pathological_perforator: bool | None
    reasons: tuple[str, ...]
    source: str


def _grade_from_ratio(ratio: Decimal, criteria: ArterialCriteria) -> StenosisGrade:
    if ratio >= criteria.ratio_75:
        return StenosisGrade.FROM_75_TO_99
    if ratio >= criteria.ratio_50:
        return StenosisGrade.FROM_50_TO_74
    if ratio >= criteria.ratio_20:
        return StenosisGrade.FROM_20_TO_49
    return StenosisGrade.UNDER_20


def _psv_band(psv: Decimal, criteria: ArterialCriteria) -> str:
    if psv > criteria.psv_50:
        return ">=50%"
    if psv >= criteria.psv_20:
        return "20-49%"
    return "<20%"


def _ratio_band(grade: StenosisGrade) -> str:
    return ">=50%" if grade.significant else str(grade)


def _measured(field: str, value: object, high: float) -> Decimal:
    number = check_number(field, value, 0.0, high)
    if number == 0:
        raise InvalidInput(field, "must be greater than 0; record absent flow as flow=False")
    return Decimal(repr(number))


def classify_stenosis(
    *,
    psv_ratio: float | None = None,
    psv_cm_s: float | None = None,
    flow: bool = True,
    criteria: ArterialCriteria = DEFAULT_ARTERIAL_CRITERIA,
) -> StenosisAssessment:
    """Grade a native lower-extremity arterial segment from its duplex velocities.

    ``flow=False`` (no flow in the segment) is an occlusion and takes no velocities.
    Otherwise ``psv_ratio`` (> 0, at most 50) decides the grade; ``psv_cm_s`` (PSV at
    the lesion, > 0, at most 1000 cm/s) is optional corroboration. Boundaries belong
    to the higher band: Vr 1.5 is 20-49 %, Vr 2.0 is 50-74 %, Vr 4.0 is 75-99 %.
    Raises InvalidInput naming the field for missing, contradictory or out-of-range
    values.
    """
    if not isinstance(flow, bool):
        raise InvalidInput("flow", f"must be True or False, got {flow!r}")
    if not isinstance(criteria, ArterialCriteria):
        raise InvalidInput("criteria", f"must be ArterialCriteria, got {criteria!r}")
    if not flow:
        for field, value in (("psv_ratio", psv_ratio), ("psv_cm_s", psv_cm_s)):
            if value is not None:
                raise InvalidInput(field, "must be None when there is no flow (occlusion)")
        return StenosisAssessment(
            grade=StenosisGrade.OCCLUSION,
            significant=True,
            psv_discordant=None,
            reasons=("no flow in the segment: occlusion",),
            source=criteria.source,
        )
    if psv_ratio is None:
        raise InvalidInput("psv_ratio", "is required when there is flow")
    ratio = _measured("psv_ratio", psv_ratio, MAX_PSV_RATIO)
    grade = _grade_from_ratio(ratio, criteria)
    reasons = [_ratio_reason(ratio, grade, criteria)]
    discordant: bool | None = None
    if psv_cm_s is not None:
        psv = _measured("psv_cm_s", psv_cm_s, MAX_PSV_CM_S)
        band = _psv_band(psv, criteria)
        discordant = band != _ratio_band(grade)
        verdict = "disagrees with" if discordant else "agrees with"
        reasons.append(f"PSV {psv} cm/s lies in the {band} PSV band and {verdict} the ratio")
    return StenosisAssessment(
        grade=grade,
        significant=grade.significant,
        psv_discordant=discordant,
        reasons=tuple(reasons),
        source=criteria.source,
    )


def _ratio_reason(ratio: Decimal, grade: StenosisGrade, criteria: ArterialCriteria) -> str:
    if grade is StenosisGrade.FROM_75_TO_99:
        rule = f">= {criteria.ratio_75}"
    elif grade is StenosisGrade.FROM_50_TO_74:
        rule = f"{criteria.ratio_50} to below {criteria.ratio_75}"
    elif grade is StenosisGrade.FROM_20_TO_49:
        rule = f"{criteria.ratio_20} to below {criteria.ratio_50}"
    else:
        rule = f"< {criteria.ratio_20}"
    return f"velocity ratio {ratio} is {rule}: {grade} diameter reduction"


def _threshold_ms(segment: Segment, criteria: RefluxCriteria) -> int:
    if segment.system is AnatomicSystem.AP:
        return criteria.perforator_ms
    if segment.system is AnatomicSystem.AS:
        return criteria.superficial_ms
    if segment in _FEMOROPOPLITEAL:
        return criteria.deep_femoropopliteal_ms
    return criteria.deep_other_ms


def assess_reflux(
    *,
    segment: Segment | str,
    reflux_ms: int,
    diameter_mm: float | None = None,
    beneath_venous_ulcer: bool | None = None,
    criteria: RefluxCriteria = DEFAULT_REFLUX_CRITERIA,
) -> RefluxAssessment:
    """Judge reflux in one vein segment (CEAP 2020 abbreviation such as ``"GSVa"``).

    ``reflux_ms`` is the reverse-flow duration, a whole number 0-20,000 ms (0 = none).
    ``diameter_mm`` (> 0, at most 40) and ``beneath_venous_ulcer`` (a healed or open
    venous ulcer, CEAP C5-C6, lies over the vein) apply to perforators only and decide
    ``pathological_perforator``; for other segments they must be None.
    """
    if not isinstance(criteria, RefluxCriteria):
        raise InvalidInput("criteria", f"must be RefluxCriteria, got {criteria!r}")
    try:
        vein = Segment(segment)
    except ValueError:
        vein = None
    if vein is None or vein not in _REFLUX_SEGMENTS:
        known = ", ".join(member.value for member in Segment if member in _REFLUX_SEGMENTS)
        raise InvalidInput(
            "segment", f"must be a segment with reflux criteria ({known}); got {segment!r}"
        )
    if isinstance(reflux_ms, bool) or not isinstance(reflux_ms, int):
        raise InvalidInput("reflux_ms", f"must be a whole number of ms, got {reflux_ms!r}")
    if not 0 <= reflux_ms <= MAX_REFLUX_MS:
        raise InvalidInput("reflux_ms", f"must be between 0 and {MAX_REFLUX_MS}, got {reflux_ms}")
    if beneath_venous_ulcer is not None and not isinstance(beneath_venous_ulcer, bool):
        raise InvalidInput(
            "beneath_venous_ulcer", f"must be True, False or None, got {beneath_venous_ulcer!r}"
        )
    threshold = _threshold_ms(vein, criteria)
    pathological = reflux_ms > threshold
    verdict = "pathological" if pathological else "not pathological"
    reasons = [
        f"{vein} (CEAP {vein.system}) reflux {reflux_ms} ms; threshold > {threshold} ms: {verdict}"
    ]
    target: bool | None = None
    if vein.system is AnatomicSystem.AP:
        target = _perforator_target(reflux_ms, diameter_mm, beneath_venous_ulcer, criteria)
        reasons.append(_perforator_reason(target, criteria))
    else:
        for field, value in (
            ("diameter_mm", diameter_mm),
            ("beneath_venous_ulcer", beneath_venous_ulcer),
        ):
            if value is not None:
                raise InvalidInput(field, f"applies to perforators only, not {vein}")
    return RefluxAssessment(
        segment=vein,
        system=vein.system,
        threshold_ms=threshold,
        pathological_reflux=pathological,
        pathological_perforator=target,
        reasons=tuple(reasons),
        source=criteria.source,
    )


def _perforator_target(
    reflux_ms: int,
    diameter_mm: float | None,
    beneath_venous_ulcer: bool | None,
    criteria: RefluxCriteria,
) -> bool | None:
    facts: list[bool | None] = [reflux_ms >= criteria.perforator_target_ms]
    if diameter_mm is None:
        facts.append(None)
    else:
        diameter = _measured("diameter_mm", diameter_mm, MAX_VEIN_DIAMETER_MM)
        facts.append(diameter >= criteria.perforator_target_mm)
    facts.append(beneath_venous_ulcer)
    if False in facts:
        return False
    if None in facts:
        return None
    return True


def _perforator_reason(target: bool | None, criteria: RefluxCriteria) -> str:
    rule = (
        f"outward flow >= {criteria.perforator_target_ms} ms, diameter >= "
        f"{criteria.perforator_target_mm} mm and beneath a healed or open venous ulcer"
    )
    if target is None:
        return f"pathological perforator undecided: needs {rule}"
    return f"pathological perforator: {'yes' if target else 'no'} (rule: {rule})"
