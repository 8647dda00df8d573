"""The parsed CEAP classification of one limb and its canonical 2020 spelling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from limbguard.vascular.ceap._vocab import (
    AnatomicSystem,
    ClinicalClass,
    Etiology,
    Level,
    Pathophysiology,
    Segment,
)


@dataclass(frozen=True)
class SegmentGroup:
    """Segments that carry the P codes before them: "Pr FV,POPV" or "Pr,o GSVa"."""

    codes: tuple[Pathophysiology, ...]
    segments: tuple[Segment, ...]

    @property
    def label(self) -> str:
        return _letter_group(self.codes)


def _letter_group(codes: Sequence[StrEnum]) -> str:
    """("Pr", "Po") -> "Pr,o"; ("C2", "C4a") -> "C2,4a": the paper's comma shorthand."""
    first, *rest = (code.value for code in codes)
    return ",".join([first, *(code[1:] for code in rest)])


@dataclass(frozen=True)
class Ceap:
    """One limb's CEAP classification, normalised: codes in canonical order, no repeats.

    Build it with `parse`. Two spellings of the same classification compare equal.
    The list properties follow the `limbguard.vascular` contract; each call returns a
    new list, so the object itself never changes.
    """

    clinical_classes: tuple[ClinicalClass, ...]
    symptomatic: bool | None
    etiology_codes: tuple[Etiology, ...] = ()
    anatomy_codes: tuple[AnatomicSystem, ...] = ()
    pathophysiology_codes: tuple[Pathophysiology, ...] = ()
    segment_groups: tuple[SegmentGroup, ...] = ()
    level: Level | None = None

    @property
    def clinical(self) -> list[str]:
        """Every C class present, e.g. ["C2", "C4a"]; recurrent ones as "C2r", "C6r"."""
        return [c.value for c in self.clinical_classes]

    @property
    def highest(self) -> int:
        """Highest C class as an integer 0-6 (C4a/b/c count as 4, C2r as 2, C6r as 6)."""
        return max(c.level for c in self.clinical_classes)

    @property
    def etiology(self) -> list[str]:
        return [c.value for c in self.etiology_codes]

    @property
    def anatomy(self) -> list[str]:
        return [c.value for c in self.anatomy_codes]

    @property
    def pathophysiology(self) -> list[str]:
        return [c.value for c in self.pathophysiology_codes]

    @property
    def segments(self) -> dict[str, list[str]]:
        """Segments by the P code(s) they follow, e.g. {"Pr": ["FV"], "Po": ["CIV"]}."""
        return {g.label: [s.value for s in g.segments] for g in self.segment_groups}

    def __str__(self) -> str:
        """Canonical 2020 form, e.g. "C2,4b,6,S Ep As,p,d Pr GSVa,GSVb,FV Po CIV LII"."""
        c = _letter_group(self.clinical_classes)
        if self.symptomatic is not None:
            c += ",S" if self.symptomatic else ",A"
        parts = [c]
        for codes in (self.etiology_codes, self.anatomy_codes):
            if codes:
                parts.append(_letter_group(codes))
        parts.extend(self._pathophysiology_parts())
        if self.level is not None:
            parts.append(self.level.value)
        return " ".join(parts)

    def _pathophysiology_parts(self) -> list[str]:
        if not self.segment_groups:
            return [_letter_group(self.pathophysiology_codes)] if self.pathophysiology_codes else []
        parts: list[str] = []
        for code in self.pathophysiology_codes:
            group = next((g for g in self.segment_groups if code in g.codes), None)
            if group is None:
                parts.append(code.value)
            elif group.codes[0] is code:
                parts.append(f"{group.label} {','.join(s.value for s in group.segments)}")
        return parts
