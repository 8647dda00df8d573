"""Entry points of the import's check worker (a spawned process).

Kept free of Django imports at module level: the worker unpickles these functions
before Django is set up, so `setup` runs `django.setup()` first and `check` imports
the checking code only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from limbguard.fhir.checking import RawLine, Unit


def setup() -> None:
    import django

    django.setup()
    from limbguard.vascular import codes

    codes.categorize("ICD10CM", "E11.9")  # build the code tables once, not per batch


def check(lines: list[RawLine], expected_type: str | None) -> list[Unit]:
    from limbguard.fhir.checking import check_lines

    return check_lines(lines, expected_type)
