"""Wound size and healing trajectory: area, percent area reduction, the 4-week check
and a projected time to closure.

Contract:

* Lengths in cm, areas in cm², intervals in whole days. ``length_cm`` is the longest
  dimension and ``width_cm`` the widest perpendicular to it; both areas of one wound
  must come from the same method.
* Arithmetic is decimal on the numbers as written (2.3 × 1.1 is 2.53, not
  2.5300000000000002). Areas are rounded half-up to 2 decimals and percentages to
  1 decimal, and every threshold is judged on the rounded value that is reported.
* Percent area reduction is 100 × (baseline − current) / baseline: at most 100 (healed),
  negative when the wound grew.

Sources: Sheehan P et al., Diabetes Care 2003;26:1879-1882 (4-week reduction in diabetic
foot ulcers); US Wound Registry QCDR measure CDR3 (plan of care when a diabetic foot
ulcer has closed < 30 % at 4 weeks); Kantor J & Margolis DJ, Br J Dermatol
2000;142:960-964, Gelfand JM et al., J Invest Dermatol 2002;119:1420-1425 (venous leg
ulcers); Cukjati D et al., Med Biol Eng Comput 2001;39:263-271 (healing-rate
definitions). clinical_reference.md section 9.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Final

from limbguard.vascular._base import InvalidInput, check_int, check_number

SHEEHAN_SOURCE: Final = "Sheehan P et al., Diabetes Care 2003;26:1879-1882"
USWR_SOURCE: Final = "US Wound Registry QCDR measure CDR3 (diabetic foot ulcer plan of care)"
VENOUS_SOURCE: Final = (
    "project default synthesised from Kantor J & Margolis DJ, Br J Dermatol "
    "2000;142:960-964 and Gelfand JM et al., J Invest Dermatol 2002;119:1420-1425; "
    "no single source states the 40 % cut-off"
)
PROJECTION_SOURCE: Final = (
    "straight-line extrapolation of the absolute area healed per day, a rate defined in "
    "Cukjati D et al., Med Biol Eng Comput 2001;39:263-271"
)

# Project decision: areas to 0.01 cm² and percentages to 0.1 %, rounded half-up, so
# what is shown is what is judged (as the ABI rule judges the rounded ratio).
AREA_PLACES: Final = 2
PERCENT_PLACES: Final = 1

# Sheehan 2003: 4-week reduction split at its 53 % midpoint (healed by week 12: 58 %
# above, 9 % below); GVG recs 6.9/6.10 and IWGDF apply it as >= 50 %.
DFU_ON_TRACK_FROM_PERCENT: Final = Decimal(50)
# US Wound Registry CDR3: closure below 30 % at 4 weeks calls for a plan-of-care review.
DFU_REVIEW_BELOW_PERCENT: Final = Decimal(30)
# Venous leg ulcers: 40 % at 4 weeks is a labelled project default; the sources give
# no single cut-off (clinical_reference 9.2, and item 8 of section 10).
VLU_ON_TRACK_FROM_PERCENT: Final = Decimal(40)

# Sheehan measured at week 4 of weekly visits; a visit one week early or late is
# accepted as the 4-week measurement (project decision).
FOUR_WEEKS_DAYS: Final = 28
FOUR_WEEK_TOLERANCE_DAYS: Final = 7

# A percent change needs a baseline of at least the reported area resolution, 0.01 cm²
# (project decision; it also keeps the percentage within decimal precision).
MIN_BASELINE_CM2: Final = Decimal(1).scaleb(-AREA_PLACES)

# Input guards (project decisions), refusing only typing errors.
MAX_DIMENSION_CM: Final = 100.0
MAX_AREA_CM2: Final = 10_000.0
MAX_INTERVAL_DAYS: Final = 3650

_PI: Final = Decimal(repr(math.pi))


class AreaMethod(enum.StrEnum):
    """How an area is derived from length and width."""

    RECTANGLE = "length_x_width"
    ELLIPSE = "ellipse"


class UlcerType(enum.StrEnum):
    """Ulcer types with a published (or labelled default) 4-week rule."""

    DIABETIC_FOOT = "diabetic_foot"
    VENOUS_LEG = "venous_leg"


@dataclass(frozen=True)
class FourWeekCriteria:
    """Percent-reduction rule at 4 weeks.

    ``on_track_from_percent``: a reduction at or above this is on track.
    ``review_below_percent``: a reduction below this calls for a plan-of-care review;
    None when no such measure exists for the ulcer type.
    """

    on_track_from_percent: Decimal
    review_below_percent: Decimal | None
    source: str

    def __post_init__(self) -> None:
        on_track = self.on_track_from_percent
        if not isinstance(on_track, Decimal) or not 0 < on_track <= 100:
            raise InvalidInput(
                "on_track_from_percent", f"must be a Decimal in (0, 100], got {on_track!r}"
            )
        review = self.review_below_percent
        if review is not None and (not isinstance(review, Decimal) or not 0 < review <= on_track):
            raise InvalidInput(
                "review_below_percent",
                f"must be None or a Decimal in (0, on_track_from_percent], got {review!r}",
            )
        if not self.source.strip():
            raise InvalidInput("source", "must name the protocol or publication")


DEFAULT_FOUR_WEEK_CRITERIA: Final = MappingProxyType(
    {
        UlcerType.DIABETIC_FOOT: FourWeekCriteria(
            on_track_from_percent=DFU_ON_TRACK_FROM_PERCENT,
            review_below_percent=DFU_REVIEW_BELOW_PERCENT,
            source=f"{SHEEHAN_SOURCE}; {USWR_SOURCE}",
        ),
        UlcerType.VENOUS_LEG: FourWeekCriteria(
            on_track_from_percent=VLU_ON_TRACK_FROM_PERCENT,
            review_below_percent=None,
            source=VENOUS_SOURCE,
        ),
    }
)


@dataclass(frozen=True)
class FourWeekCheck:
    """Outcome of the 4-week check, with why and the source of the rule."""

    ulcer_type: UlcerType
    percent_reduction: float
    on_track: bool
    plan_of_care_review: bool
    reasons: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class HealingProjection:
    """Straight-line projection of closure from two area measurements.

    ``rate_cm2_per_day`` is the absolute area healed per day (negative when the wound
    grew); ``days_to_closure`` counts whole days from the later measurement, rounded
    up, and is None when the wound is not shrinking. 0 means already closed.
    """

    rate_cm2_per_day: float
    days_to_closure: int | None
    reasons: tuple[str, ...]
    source: str


def _decimal(field: str, value: object, low: float, high: float) -> Decimal:
    return Decimal(repr(check_number(field, value, low, high)))


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def area(
    *, length_cm: float, width_cm: float, method: AreaMethod | str = AreaMethod.RECTANGLE
) -> float:
    """Wound area in cm² from length and width (each 0-100 cm), rounded to 0.01 cm².

    ``method`` ``"length_x_width"`` (default, the usual clinical convention) or
    ``"ellipse"`` (π/4 · L · W, the area of the ellipse inside the L × W rectangle,
    about 21 % smaller).
    """
    length = _decimal("length_cm", length_cm, 0.0, MAX_DIMENSION_CM)
    width = _decimal("width_cm", width_cm, 0.0, MAX_DIMENSION_CM)
    try:
        chosen = AreaMethod(method)
    except ValueError:
        known = ", ".join(member.value for member in AreaMethod)
        raise InvalidInput("method", f"must be one of {known}; got {method!r}") from None
    product = length * width
    if chosen is AreaMethod.ELLIPSE:
        product = _PI / 4 * product
    return float(_round(product, AREA_PLACES))


def _percent_reduction(baseline_cm2: float, current_cm2: float) -> Decimal:
    baseline = _decimal("baseline_cm2", baseline_cm2, 0.0, MAX_AREA_CM2)
    if baseline < MIN_BASELINE_CM2:
        raise InvalidInput(
            "baseline_cm2", f"must be at least {MIN_BASELINE_CM2} cm² to give a percent change"
        )
    current = _decimal("current_cm2", current_cm2, 0.0, MAX_AREA_CM2)
    return _round((baseline - current) / baseline * 100, PERCENT_PLACES)


def percent_area_reduction(*, baseline_cm2: float, current_cm2: float) -> float:
    """100 × (baseline − current) / baseline, rounded half-up to 0.1 %.

    ``baseline_cm2`` in [0.01, 10,000]; ``current_cm2`` in [0, 10,000]. The result is at
    most 100 (closed) and negative when the wound has grown.
    """
    return float(_percent_reduction(baseline_cm2, current_cm2))


def four_week_check(
    *,
    baseline_cm2: float,
    current_cm2: float,
    days_elapsed: int,
    ulcer_type: UlcerType | str = UlcerType.DIABETIC_FOOT,
    criteria: FourWeekCriteria | None = None,
) -> FourWeekCheck:
    """Is the ulcer on a healing trajectory four weeks after the baseline measurement?

    ``days_elapsed`` between the two measurements must be 21-35 (four weeks ± one
    visit). Defaults by ``ulcer_type``: diabetic foot ulcer on track at ≥ 50 %
    (Sheehan 2003) with a plan-of-care review below 30 % (US Wound Registry CDR3);
    venous leg ulcer on track at ≥ 40 % (labelled project default, no review rule).
    ``criteria`` replaces the default rule for that ulcer type.
    """
    try:
        kind = UlcerType(ulcer_type)
    except ValueError:
        known = ", ".join(member.value for member in UlcerType)
        raise InvalidInput("ulcer_type", f"must be one of {known}; got {ulcer_type!r}") from None
    if criteria is None:
        criteria = DEFAULT_FOUR_WEEK_CRITERIA[kind]
    elif not isinstance(criteria, FourWeekCriteria):
        raise InvalidInput("criteria", f"must be FourWeekCriteria or None, got {criteria!r}")
    check_int(
        "days_elapsed",
        days_elapsed,
        FOUR_WEEKS_DAYS - FOUR_WEEK_TOLERANCE_DAYS,
        FOUR_WEEKS_DAYS + FOUR_WEEK_TOLERANCE_DAYS,
    )
    percent = _percent_reduction(baseline_cm2, current_cm2)
    on_track = percent >= criteria.on_track_from_percent
    reasons = [
        f"area reduced {percent} % in {days_elapsed} days; on track from "
        f"{criteria.on_track_from_percent} %: {'yes' if on_track else 'no'}"
    ]
    review = criteria.review_below_percent
    needs_review = review is not None and percent < review
    if review is None:
        reasons.append(f"no plan-of-care review threshold is defined for {kind} ulcers")
    elif needs_review:
        reasons.append(f"below {review} %: review the plan of care")
    if not on_track:
        reasons.append("reassess perfusion, infection, offloading and adjunctive therapy")
    return FourWeekCheck(
        ulcer_type=kind,
        percent_reduction=float(percent),
        on_track=on_track,
        plan_of_care_review=needs_review,
        reasons=tuple(reasons),
        source=criteria.source,
    )


def project_healing(
    *, baseline_cm2: float, current_cm2: float, days_elapsed: int
) -> HealingProjection:
    """Project the days to closure if the wound keeps closing at its current rate.

    Method: rate = (baseline − current) / days_elapsed in cm²/day (the "absolute area
    healed per day" of Cukjati 2001); days to closure = current / rate, rounded up.
    Healing usually slows as a wound shrinks, so this straight line tends to be
    optimistic; it is a guide for the conversation, not a prognosis. ``baseline_cm2``
    and ``current_cm2`` in [0, 10,000]; ``days_elapsed`` 1-3650.
    """
    baseline = _decimal("baseline_cm2", baseline_cm2, 0.0, MAX_AREA_CM2)
    current = _decimal("current_cm2", current_cm2, 0.0, MAX_AREA_CM2)
    days = check_int("days_elapsed", days_elapsed, 1, MAX_INTERVAL_DAYS)
    rate = (baseline - current) / days
    shown_rate = _round(rate, AREA_PLACES + 1)
    reasons = [f"area {baseline} -> {current} cm² in {days} days: {shown_rate} cm²/day healed"]
    remaining: int | None
    if current == 0:
        remaining = 0
        reasons.append("the wound is closed")
    elif rate <= 0:
        remaining = None
        reasons.append("the wound is not shrinking, so no closure can be projected")
    else:
        remaining = int((current / rate).to_integral_value(rounding=ROUND_CEILING))
        reasons.append(
            f"at that rate the remaining {current} cm² closes in about {remaining} days; "
            "healing usually slows as a wound shrinks, so this is likely optimistic"
        )
    return HealingProjection(
        rate_cm2_per_day=float(shown_rate),
        days_to_closure=remaining,
        reasons=tuple(reasons),
        source=PROJECTION_SOURCE,
    )
