"""How often clinicians override the amputation check: for the program analytics page.

`override_rate()` counts cards, not feedback entries: a card may get feedback several
times (CDS Hooks 2.0.1 "Feedback"), and its latest entry (by outcomeTimestamp, then
arrival) is its outcome. Cards never acted on send no feedback ("Card ignored") and are
counted as issued only. The rate is overridden / (accepted + overridden), or None when
no card has an outcome yet.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from limbguard.cdshooks.models import CardFeedback, CardKind, IssuedCard, Outcome

ORDER_CHECK = "limb-salvage-order-check"
# The cards that ask the clinician to act: the others only inform.
ACTIONABLE = (CardKind.NO_EVALUATION, CardKind.UNVERIFIED)
NO_REASON = "no reason given"


@dataclass(frozen=True)
class OverrideRate:
    cards_issued: int
    accepted: int
    overridden: int
    rate: float | None
    reasons: tuple[tuple[str, int], ...]  # override reason, count; most frequent first

    @property
    def with_outcome(self) -> int:
        return self.accepted + self.overridden


def override_rate(
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    service_id: str = ORDER_CHECK,
    kinds: Iterable[str] = ACTIONABLE,
    center_ids: Iterable[int] | None = None,
) -> OverrideRate:
    """Outcomes of the cards issued in [since, until) (issue time), by card."""
    cards = IssuedCard.objects.filter(service_id=service_id, kind__in=list(kinds))
    if since is not None:
        cards = cards.filter(issued_at__gte=since)
    if until is not None:
        cards = cards.filter(issued_at__lt=until)
    if center_ids is not None:
        cards = cards.filter(center_id__in=list(center_ids))
    latest = CardFeedback.objects.filter(card=OuterRef("pk")).order_by("-outcome_at", "-id")
    rows = cards.annotate(
        outcome=Subquery(latest.values("outcome")[:1]),
        reason_display=Subquery(latest.values("reason_display")[:1]),
        reason_code=Subquery(latest.values("reason_code")[:1]),
    ).values_list("outcome", "reason_display", "reason_code")
    issued = accepted = overridden = 0
    reasons: Counter[str] = Counter()
    for outcome, display, code in rows:
        issued += 1
        if outcome == Outcome.ACCEPTED:
            accepted += 1
        elif outcome == Outcome.OVERRIDDEN:
            overridden += 1
            reasons[display or code or NO_REASON] += 1
    decided = accepted + overridden
    return OverrideRate(
        cards_issued=issued,
        accepted=accepted,
        overridden=overridden,
        rate=overridden / decided if decided else None,
        reasons=tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
