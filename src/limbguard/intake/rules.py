"""Triage urgency from a referral's or visit request's red flags. Pure: no Django.

The rule, shown to staff beside every request:

* **Emergent** (review the same day): gangrene; or signs of infection together with
  rest pain or a wound — an infected ischaemic foot is limb-threatening.
* **Urgent** (seen within a week): ischaemic rest pain, a wound not healing after two
  weeks, or signs of infection — the presentations of chronic limb-threatening
  ischaemia (CLTI) and diabetic foot infection.
* **Routine**: anything else; a prior amputation alone raises no tier but is listed,
  and ranks first within its tier (the other limb is at high risk).

Sources: Conte MS et al., Global Vascular Guidelines on CLTI, J Vasc Surg 2019 (rest
pain and tissue loss define CLTI; urgent referral); IWGDF/IDSA guideline on diabetic
foot infection 2023 (infection with ischaemia needs urgent, often same-day care).
The thresholds are a program choice from those sources, not a validated score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class RedFlag(StrEnum):
    REST_PAIN = "rest_pain"
    GANGRENE = "gangrene"
    NONHEALING_WOUND = "nonhealing_wound"
    INFECTION = "infection"
    PRIOR_AMPUTATION = "prior_amputation"


RED_FLAG_LABELS: dict[RedFlag, str] = {
    RedFlag.REST_PAIN: "Rest pain (foot pain at rest or at night)",
    RedFlag.GANGRENE: "Gangrene (black or dead tissue)",
    RedFlag.NONHEALING_WOUND: "Wound not healing after 2 weeks",
    RedFlag.INFECTION: "Signs of infection (redness, swelling, pus, fever)",
    RedFlag.PRIOR_AMPUTATION: "Prior amputation",
}


class Urgency(IntEnum):
    """Lower sorts first."""

    EMERGENT = 0
    URGENT = 1
    ROUTINE = 2

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True)
class Triage:
    urgency: Urgency
    rule: str
    rank: int  # sorts the queue: tier first, then more flags first


WOUND_OR_PAIN = frozenset({RedFlag.REST_PAIN, RedFlag.NONHEALING_WOUND})


def triage(flags: Iterable[str]) -> Triage:
    """The urgency of a set of red-flag codes, with the rule that fired.

    Raises ValueError naming an unknown flag.
    """
    found: set[RedFlag] = set()
    for flag in flags:
        try:
            found.add(RedFlag(flag))
        except ValueError:
            raise ValueError(f"red_flags: unknown flag {flag!r}") from None
    if RedFlag.GANGRENE in found:
        urgency, rule = Urgency.EMERGENT, "Emergent: gangrene — review the same day."
    elif RedFlag.INFECTION in found and found & WOUND_OR_PAIN:
        urgency = Urgency.EMERGENT
        rule = "Emergent: infection with rest pain or a wound — review the same day."
    elif RedFlag.REST_PAIN in found:
        urgency, rule = Urgency.URGENT, "Urgent: ischaemic rest pain — see within a week."
    elif RedFlag.NONHEALING_WOUND in found:
        urgency = Urgency.URGENT
        rule = "Urgent: wound not healing after 2 weeks — see within a week."
    elif RedFlag.INFECTION in found:
        urgency, rule = Urgency.URGENT, "Urgent: signs of infection — see within a week."
    else:
        urgency, rule = Urgency.ROUTINE, "Routine: no red flag."
    if RedFlag.PRIOR_AMPUTATION in found:
        rule += " Prior amputation: first within its tier."
    rank = int(urgency) * 10 + (0 if RedFlag.PRIOR_AMPUTATION in found else 5) - min(len(found), 4)
    return Triage(urgency=urgency, rule=rule, rank=rank)
