"""The amputation gate: pure, Django-free, shared with the CDS Hooks service (issue 8).

No amputation of a limb may be planned until (a) vascular imaging of *that* limb -
arterial duplex, angiography, or ABI/TBI with toe pressures - is on record within
`IMAGING_WINDOW_DAYS`, and (b) a limb salvage review of that limb, signed by a vascular
specialist, is on record within `REVIEW_WINDOW_DAYS` (DESIGN.md, "Clinical pathway";
issue 5). A senior clinician may override a closed gate with a coded reason
(`OverrideReason`) and free text; the service layer records and audits that.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

SOURCE: Final = (
    "LimbGuard amputation gate (DESIGN.md 'Clinical pathway', issue 5); rationale: GVG 2019 "
    "(Conte et al., J Vasc Surg 2019;69:3S-125S) - every patient with suspected CLTI "
    "should be evaluated by a vascular specialist before amputation"
)
# Program rule (issue 5): imaging older than this no longer describes the limb.
IMAGING_WINDOW_DAYS: Final = 30
# Project decision (the issue sets no window for the review): a review older than the
# pathway's work-up window (90 days) no longer vouches for the limb's current state.
REVIEW_WINDOW_DAYS: Final = 90


class ImagingKind(enum.StrEnum):
    ARTERIAL_DUPLEX = "arterial duplex"
    ANGIOGRAPHY = "angiography"
    ABI_TBI_TOE = "ABI/TBI with toe pressure"


class OverrideReason(enum.StrEnum):
    """Coded reasons a senior clinician may give (CDS Hooks overrideReasons, interop §A11)."""

    LIFE_THREATENING_INFECTION = "life_threatening_infection"
    NON_RECONSTRUCTABLE_ELSEWHERE = "non_reconstructable_elsewhere"
    PATIENT_INFORMED_CHOICE = "patient_informed_choice"
    OTHER = "other"

    @property
    def label(self) -> str:
        return OVERRIDE_LABELS[self]


OVERRIDE_LABELS: Final = {
    OverrideReason.LIFE_THREATENING_INFECTION: "Life-threatening infection",
    OverrideReason.NON_RECONSTRUCTABLE_ELSEWHERE: (
        "Non-reconstructable anatomy documented elsewhere"
    ),
    OverrideReason.PATIENT_INFORMED_CHOICE: "Patient's informed choice",
    OverrideReason.OTHER: "Other",
}


@dataclass(frozen=True)
class Imaging:
    side: str
    on: dt.date
    kind: ImagingKind


@dataclass(frozen=True)
class Review:
    side: str
    signed_on: dt.date
    reviewer: str


@dataclass(frozen=True)
class GateDecision:
    """`open` is True when an amputation of the limb may be planned without override."""

    side: str
    open: bool
    imaging: Imaging | None
    review: Review | None
    reasons: tuple[str, ...]
    source: str = SOURCE

    @property
    def state(self) -> str:
        return "open" if self.open else "closed"


def _age(on: dt.date, today: dt.date) -> int:
    return (today - on).days


def check_gate(
    *, side: str, today: dt.date, imaging: Sequence[Imaging], reviews: Sequence[Review]
) -> GateDecision:
    """Decide the gate of the `side` limb from everything on record for the patient.

    Imaging or reviews of the other limb never count; dates in the future are ignored
    (they cannot be on record yet). The newest qualifying record of each kind is kept.
    """
    reasons: list[str] = []
    own_imaging = [i for i in imaging if i.side == side and _age(i.on, today) >= 0]
    recent = [i for i in own_imaging if _age(i.on, today) <= IMAGING_WINDOW_DAYS]
    found_imaging = max(recent, key=lambda i: i.on, default=None)
    if found_imaging is not None:
        reasons.append(
            f"{found_imaging.kind} of the {side} limb on {found_imaging.on} "
            f"(within {IMAGING_WINDOW_DAYS} days)"
        )
    elif own_imaging:
        newest = max(own_imaging, key=lambda i: i.on)
        reasons.append(
            f"vascular imaging of the {side} limb is {_age(newest.on, today)} days old "
            f"({newest.kind} on {newest.on}); it must be within {IMAGING_WINDOW_DAYS} days"
        )
    elif any(i.side != side for i in imaging):
        reasons.append(
            f"no vascular imaging of the {side} limb (only of the other limb); needs duplex, "
            "angiography, or ABI/TBI with toe pressures"
        )
    else:
        reasons.append(
            f"no vascular imaging of the {side} limb; needs duplex, angiography, or ABI/TBI "
            "with toe pressures"
        )
    own_reviews = [r for r in reviews if r.side == side and _age(r.signed_on, today) >= 0]
    valid = [r for r in own_reviews if _age(r.signed_on, today) <= REVIEW_WINDOW_DAYS]
    found_review = max(valid, key=lambda r: r.signed_on, default=None)
    if found_review is not None:
        reasons.append(
            f"limb salvage review signed by {found_review.reviewer} on {found_review.signed_on}"
        )
    elif own_reviews:
        newest_review = max(own_reviews, key=lambda r: r.signed_on)
        reasons.append(
            f"the limb salvage review of {newest_review.signed_on} is older than "
            f"{REVIEW_WINDOW_DAYS} days"
        )
    else:
        reasons.append(f"no signed limb salvage review of the {side} limb by a vascular specialist")
    return GateDecision(
        side=side,
        open=found_imaging is not None and found_review is not None,
        imaging=found_imaging,
        review=found_review,
        reasons=tuple(reasons),
    )
