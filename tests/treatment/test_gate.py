"""The amputation gate on every path (pure: no database).

Rule: DESIGN.md "Clinical pathway" and issue 5 — imaging of that limb (duplex,
angiography, or ABI/TBI with toe pressure) within 30 days, and a signed limb salvage
review by a vascular specialist (within 90 days: project decision, gate.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from limbguard.treatment import gate
from limbguard.treatment.gate import Imaging, ImagingKind, Review, check_gate

TODAY = dt.date(2026, 3, 2)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


DUPLEX = Imaging("left", ago(5), ImagingKind.ARTERIAL_DUPLEX)
REVIEW = Review("left", ago(1), "Dr Ruiz")


def decide(imaging: list[Imaging], reviews: list[Review]) -> gate.GateDecision:
    return check_gate(side="left", today=TODAY, imaging=imaging, reviews=reviews)


def test_refused_without_imaging() -> None:
    decision = decide([], [REVIEW])
    assert not decision.open
    assert decision.state == "closed"
    assert "no vascular imaging of the left limb" in decision.reasons[0]


def test_refused_when_the_imaging_is_older_than_30_days() -> None:
    decision = decide([Imaging("left", ago(31), ImagingKind.ANGIOGRAPHY)], [REVIEW])
    assert not decision.open
    assert "31 days old" in decision.reasons[0]


def test_imaging_exactly_30_days_old_still_counts() -> None:
    assert decide([Imaging("left", ago(30), ImagingKind.ABI_TBI_TOE)], [REVIEW]).open
    assert gate.IMAGING_WINDOW_DAYS == 30


def test_refused_for_imaging_of_the_other_limb() -> None:
    decision = decide([Imaging("right", ago(2), ImagingKind.ARTERIAL_DUPLEX)], [REVIEW])
    assert not decision.open
    assert "only of the other limb" in decision.reasons[0]


def test_refused_without_a_review() -> None:
    decision = decide([DUPLEX], [])
    assert not decision.open
    assert "no signed limb salvage review" in decision.reasons[1]


def test_a_review_of_the_other_limb_does_not_count() -> None:
    assert not decide([DUPLEX], [Review("right", ago(1), "Dr Ruiz")]).open


def test_a_review_older_than_its_window_does_not_count() -> None:
    decision = decide([DUPLEX], [Review("left", ago(gate.REVIEW_WINDOW_DAYS + 1), "Dr Ruiz")])
    assert not decision.open
    assert "older than" in decision.reasons[1]


def test_open_with_both_and_says_which_records_opened_it() -> None:
    decision = decide([Imaging("left", ago(40), ImagingKind.ANGIOGRAPHY), DUPLEX], [REVIEW])
    assert decision.open
    assert decision.imaging == DUPLEX
    assert decision.review == REVIEW
    assert "Dr Ruiz" in decision.reasons[1]


@pytest.mark.parametrize("kind", list(ImagingKind))
def test_each_kind_of_imaging_qualifies(kind: ImagingKind) -> None:
    assert decide([Imaging("left", ago(1), kind)], [REVIEW]).open


def test_future_dated_records_are_ignored() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    decision = decide(
        [Imaging("left", tomorrow, ImagingKind.ARTERIAL_DUPLEX)], [Review("left", tomorrow, "X")]
    )
    assert not decision.open


def test_override_reasons_are_the_coded_list_of_the_issue() -> None:
    assert {r.label for r in gate.OverrideReason} == {
        "Life-threatening infection",
        "Non-reconstructable anatomy documented elsewhere",
        "Patient's informed choice",
        "Other",
    }
