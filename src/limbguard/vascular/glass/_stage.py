"""GLASS infrainguinal stage I-III from the FP x IP matrix, and the pedal descriptor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from limbguard.vascular._base import Explained, InvalidInput, check_int
from limbguard.vascular.glass._grades import MAX_GRADE, MIN_GRADE, SOURCE, check_bool


class GlassStage(StrEnum):
    """Infrainguinal GLASS stage: expected technical failure <10 %, <20 %, >20 %."""

    I = "I"  # noqa: E741 - the stage is printed as a Roman numeral
    II = "II"
    III = "III"


# The published FP x IP matrix, as the set of cells for stages I and II; FP0/IP0 has no
# stage, and every other cell (all of FP4, all of IP4, FP3/IP3) is stage III.
_STAGE_I_CELLS: Final = frozenset({(0, 1), (0, 2), (1, 0), (1, 1), (2, 0)})
_STAGE_II_CELLS: Final = frozenset(
    {(0, 3), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 0), (3, 1), (3, 2)}
)
_NO_STAGE_CELL: Final = (0, 0)


class Pedal(StrEnum):
    """Inframalleolar (pedal) descriptor, reported beside the stage (GVG Table 5.1)."""

    P0 = "P0"  # target artery crosses the ankle into the foot, pedal arch intact
    P1 = "P1"  # target artery crosses the ankle, pedal arch absent or severely diseased
    P2 = "P2"  # no target artery crosses the ankle into the foot


def inframalleolar_descriptor(*, target_crosses_ankle: bool, pedal_arch_intact: bool) -> Pedal:
    """P0-P2 (GVG Table 5.1). Without a target crossing the ankle the arch is moot: P2."""
    crosses = check_bool("target_crosses_ankle", target_crosses_ankle)
    intact = check_bool("pedal_arch_intact", pedal_arch_intact)
    if not crosses:
        return Pedal.P2
    return Pedal.P0 if intact else Pedal.P1


def _stage(fp: int, ip: int) -> GlassStage | None:
    cell = (fp, ip)
    if cell == _NO_STAGE_CELL:
        return None
    if cell in _STAGE_I_CELLS:
        return GlassStage.I
    if cell in _STAGE_II_CELLS:
        return GlassStage.II
    return GlassStage.III


def stage(fp: int, ip: int) -> str | None:
    """Infrainguinal GLASS stage "I", "II" or "III" from FP and IP grades 0-4.

    None for FP0 with IP0 (no significant infrainguinal disease). A plain `str`.
    """
    fp = check_int("fp", fp, MIN_GRADE, MAX_GRADE)
    ip = check_int("ip", ip, MIN_GRADE, MAX_GRADE)
    found = _stage(fp, ip)
    return None if found is None else found.value


@dataclass(frozen=True)
class GlassResult:
    """Stage with its grades and, when known, the pedal descriptor shown beside it."""

    fp: int
    ip: int
    stage: GlassStage | None
    pedal: Pedal | None
    reasons: tuple[str, ...]
    source: str

    @property
    def label(self) -> str:
        """E.g. "GLASS II / P1"; "no infrainguinal GLASS stage" for FP0/IP0."""
        text = f"GLASS {self.stage}" if self.stage else "no infrainguinal GLASS stage"
        return f"{text} / {self.pedal}" if self.pedal else text


_MATRIX_REASON: Final[Mapping[GlassStage | None, str]] = MappingProxyType(
    {
        None: "FP0 with IP0: no significant infrainguinal disease, so no stage applies",
        GlassStage.I: "stage I: low complexity (technical failure <10 %, 1-year LBP >70 %)",
        GlassStage.II: "stage II: intermediate complexity (failure <20 %, 1-year LBP 50-70 %)",
        GlassStage.III: "stage III: high complexity (failure >20 %, 1-year LBP <50 %)",
    }
)


def explain_stage(fp: int, ip: int, *, pedal: Pedal | None = None) -> GlassResult:
    """`stage` with reasons; `pedal` (P0-P2) is carried beside the stage, not into it."""
    check_int("fp", fp, MIN_GRADE, MAX_GRADE)
    check_int("ip", ip, MIN_GRADE, MAX_GRADE)
    if pedal is not None and not isinstance(pedal, Pedal):
        raise InvalidInput("pedal", f"must be a Pedal (P0, P1, P2) or None, got {pedal!r}")
    found = _stage(fp, ip)
    reasons = [f"FP{fp} with IP{ip} in the GLASS matrix", _MATRIX_REASON[found]]
    if pedal is not None:
        reasons.append(f"inframalleolar descriptor {pedal} is reported beside the stage")
    return GlassResult(fp, ip, found, pedal, tuple(reasons), SOURCE)


def assess(fp: Explained[int], ip: Explained[int], *, pedal: Pedal | None = None) -> GlassResult:
    """Stage from two explained segment grades, keeping every segment reason.

    `fp` and `ip` are the results of `explain_femoropopliteal` / `explain_infrapopliteal`.
    """
    for name, grade in (("fp", fp), ("ip", ip)):
        if not isinstance(grade, Explained):
            raise InvalidInput(name, f"must be an explained segment grade, got {grade!r}")
    result = explain_stage(fp.value, ip.value, pedal=pedal)
    reasons = (*fp.reasons, *ip.reasons, *result.reasons)
    return GlassResult(result.fp, result.ip, result.stage, pedal, reasons, SOURCE)
