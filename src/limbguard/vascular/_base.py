"""Shared pieces of the rules library: the error type, input checks, rounding.

Every public rule validates its input with these helpers so that a bad value always
raises `InvalidInput` (a `ValueError`) whose message starts with the field name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")


class InvalidInput(ValueError):
    """A rule was given a value outside its domain; `field` names the argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Explained(Generic[T]):
    """A rule's answer with the plain-language reasons for it and the citation."""

    value: T
    reasons: tuple[str, ...]
    source: str


def check_int(field: str, value: object, low: int, high: int) -> int:
    """Return `value` when it is an int (not a bool) in [low, high]; else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}, got {value}")
    return value


def check_optional_int(field: str, value: object, low: int, high: int) -> int | None:
    return None if value is None else check_int(field, value, low, high)


def check_number(field: str, value: object, low: float, high: float) -> float:
    """Return `value` as float when it is a finite real number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInput(field, f"must be a number, got {value!r}")
    number = float(value)
    if number != number or not low <= number <= high:  # NaN fails the first test
        raise InvalidInput(field, f"must be between {low} and {high}, got {value}")
    return number


@lru_cache(maxsize=65536)
def ratio_half_up(numerator: int, denominator: int, places: int = 2) -> float:
    """numerator / denominator by exact decimal division, rounded half-up.

    Binary floats would round 0.905 down to 0.90; Decimal keeps 181/200 = 0.905 → 0.91.
    Cached: pressures are small whole numbers, so the same pairs recur constantly.
    """
    quantum = Decimal(1).scaleb(-places)
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(quantum, rounding=ROUND_HALF_UP))
