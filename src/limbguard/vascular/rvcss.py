"""Revised Venous Clinical Severity Score (rVCSS, 2010): ten items scored 0-3, total 0-30.

Source: Vasquez MA, Rabe E, McLafferty RB, et al. Revision of the venous clinical
severity score: venous outcomes consensus statement. J Vasc Surg 2010;52:1387-1396,
Table I (cross-checked against the form reproduced by richtlijnendatabase.nl).

This is the 2010 revision only; the 2000 VCSS (Rutherford RB et al., J Vasc Surg
2000;31:1307-1312) words pain, oedema and compression differently and must not be mixed
in. Results carry `VERSION` so that stored scores say which instrument they came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from limbguard.vascular._base import InvalidInput, check_int

SOURCE: Final = (
    "Vasquez MA et al. Revision of the venous clinical severity score. "
    "J Vasc Surg 2010;52:1387-1396, Table I"
)
VERSION: Final = "rVCSS-2010"

ITEM_MIN: Final = 0
ITEM_MAX: Final = 3
TOTAL_MAX: Final = 30  # 10 items x 3 points


class Item(StrEnum):
    """The ten rVCSS attributes, in the order of the published form."""

    PAIN = "pain"
    VARICOSE_VEINS = "varicose_veins"
    VENOUS_EDEMA = "venous_edema"
    SKIN_PIGMENTATION = "skin_pigmentation"
    INFLAMMATION = "inflammation"
    INDURATION = "induration"
    ACTIVE_ULCER_NUMBER = "active_ulcer_number"
    ACTIVE_ULCER_DURATION = "active_ulcer_duration"
    ACTIVE_ULCER_SIZE = "active_ulcer_size"
    COMPRESSION_THERAPY = "compression_therapy"


# Descriptors for scores 0, 1, 2, 3, paraphrased from Vasquez 2010 Table I.
DESCRIPTORS: Final[Mapping[Item, tuple[str, str, str, str]]] = MappingProxyType(
    {
        Item.PAIN: (
            "no venous pain or discomfort",
            "occasional; does not restrict regular daily activities",
            "daily; interferes with but does not prevent regular daily activities",
            "daily; limits most regular daily activities",
        ),
        Item.VARICOSE_VEINS: (
            "no varicose veins (>= 3 mm, standing)",
            "few, scattered branch varicosities or clusters; includes corona phlebectatica",
            "confined to the calf or the thigh",
            "involve the calf and the thigh",
        ),
        Item.VENOUS_EDEMA: (
            "no venous oedema",
            "limited to the foot and ankle",
            "extends above the ankle but below the knee",
            "extends to the knee and above",
        ),
        Item.SKIN_PIGMENTATION: (
            "none or focal venous pigmentation",
            "limited to the perimalleolar area",
            "diffuse over the lower third of the calf",
            "wider distribution, above the lower third of the calf",
        ),
        Item.INFLAMMATION: (
            "no inflammation",
            "limited to the perimalleolar area",
            "diffuse over the lower third of the calf",
            "wider distribution, above the lower third of the calf",
        ),
        Item.INDURATION: (
            "no induration",
            "limited to the perimalleolar area",
            "diffuse over the lower third of the calf",
            "wider distribution, above the lower third of the calf",
        ),
        Item.ACTIVE_ULCER_NUMBER: (
            "no active ulcer",
            "one active ulcer",
            "two active ulcers",
            "three or more active ulcers",
        ),
        Item.ACTIVE_ULCER_DURATION: (
            "not applicable: no active ulcer",
            "longest active ulcer present < 3 months",
            "longest active ulcer present > 3 months but < 1 year",
            "longest active ulcer not healed for > 1 year",
        ),
        Item.ACTIVE_ULCER_SIZE: (
            "not applicable: no active ulcer",
            "largest active ulcer < 2 cm in diameter",
            "largest active ulcer 2-6 cm in diameter",
            "largest active ulcer > 6 cm in diameter",
        ),
        Item.COMPRESSION_THERAPY: (
            "compression not used",
            "intermittent use of stockings",
            "stockings worn most days",
            "full compliance with stockings",
        ),
    }
)

# Project rule, not stated in the paper: duration and size describe the active ulcers,
# so they are 0 ("N/A") exactly when the number of active ulcers is 0, and 1-3 otherwise.
ULCER_DEPENDENT_ITEMS: Final = (Item.ACTIVE_ULCER_DURATION, Item.ACTIVE_ULCER_SIZE)


@dataclass(frozen=True)
class ItemScore:
    item: Item
    points: int
    descriptor: str


@dataclass(frozen=True)
class RvcssResult:
    """Total 0-30 with each item's points and the descriptor they stand for."""

    value: int
    items: tuple[ItemScore, ...]
    reasons: tuple[str, ...]
    source: str
    version: str = VERSION


# Built once: reading an Enum member's .value costs about as much as the scoring itself,
# and every item is read several times per score (bench/rules.py).
_ITEM_NAMES: Final = tuple((item, item.value) for item in Item)
_KNOWN_NAMES: Final = frozenset(name for _, name in _ITEM_NAMES)
_SCORED: Final[Mapping[tuple[Item, int], ItemScore]] = MappingProxyType(
    {
        (item, points): ItemScore(item, points, DESCRIPTORS[item][points])
        for item in Item
        for points in range(ITEM_MIN, ITEM_MAX + 1)
    }
)
_REASONS: Final[Mapping[tuple[Item, int], str]] = MappingProxyType(
    {key: f"{key[0].value} {key[1]}: {scored.descriptor}" for key, scored in _SCORED.items()}
)


def _validated(items: dict[str, object]) -> dict[Item, int]:
    for name in items:
        if name not in _KNOWN_NAMES:
            known = ", ".join(known_name for _, known_name in _ITEM_NAMES)
            raise InvalidInput(name, f"is not an rVCSS item; expected one of {known}")
    points: dict[Item, int] = {}
    for item, name in _ITEM_NAMES:
        if name not in items:
            raise InvalidInput(name, "is missing; all ten rVCSS items are required")
        points[item] = check_int(name, items[name], ITEM_MIN, ITEM_MAX)
    ulcers = points[Item.ACTIVE_ULCER_NUMBER]
    for item in ULCER_DEPENDENT_ITEMS:
        if ulcers == 0 and points[item] != 0:
            raise InvalidInput(
                item.value, f"must be 0 (N/A) when active_ulcer_number is 0, got {points[item]}"
            )
        if ulcers > 0 and points[item] == 0:
            raise InvalidInput(
                item.value, f"must be 1-3 when active_ulcer_number is {ulcers}, got 0"
            )
    return points


def explain(**items: object) -> RvcssResult:
    """rVCSS with a per-item descriptor for each score.

    Takes exactly the ten items as keywords, each an int 0-3. Raises `InvalidInput`
    (a `ValueError` whose message starts with the field name) for an unknown, missing,
    non-integer or out-of-range item, or for ulcer items inconsistent with the number
    of active ulcers.
    """
    points = _validated(items)
    scored = tuple(_SCORED[item, p] for item, p in points.items())
    total = sum(points.values())
    reasons = tuple(_REASONS[item, p] for item, p in points.items())
    return RvcssResult(total, scored, (*reasons, f"total {total} of {TOTAL_MAX}"), SOURCE)


def score(**items: object) -> int:
    """rVCSS total 0-30 from the ten items (keywords, each an int 0-3); see `explain`.

    Validates exactly as `explain` does, without building the per-item descriptors.
    """
    return sum(_validated(items).values())
