"""The triage rule (intake/rules.py): every tier, the tie-breaks, unknown flags; and a
property: adding a red flag never lowers the urgency."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.intake.rules import RedFlag, Urgency, triage


@pytest.mark.parametrize(
    ("flags", "urgency", "rule_start"),
    [
        ([], Urgency.ROUTINE, "Routine: no red flag."),
        (["prior_amputation"], Urgency.ROUTINE, "Routine"),
        (["rest_pain"], Urgency.URGENT, "Urgent: ischaemic rest pain"),
        (["nonhealing_wound"], Urgency.URGENT, "Urgent: wound not healing"),
        (["infection"], Urgency.URGENT, "Urgent: signs of infection"),
        (["gangrene"], Urgency.EMERGENT, "Emergent: gangrene"),
        (["infection", "nonhealing_wound"], Urgency.EMERGENT, "Emergent: infection with"),
        (["infection", "rest_pain"], Urgency.EMERGENT, "Emergent: infection with"),
    ],
)
def test_tiers(flags: list[str], urgency: Urgency, rule_start: str) -> None:
    result = triage(flags)
    assert result.urgency is urgency
    assert result.rule.startswith(rule_start)


def test_prior_amputation_ranks_first_within_its_tier() -> None:
    assert triage(["rest_pain", "prior_amputation"]).rank < triage(["rest_pain"]).rank
    assert triage(["rest_pain", "prior_amputation"]).urgency is Urgency.URGENT
    assert "Prior amputation" in triage(["prior_amputation"]).rule


def test_every_emergent_ranks_before_every_urgent() -> None:
    everything_urgent = triage(["rest_pain", "nonhealing_wound", "prior_amputation"])
    bare_emergent = triage(["gangrene"])
    assert bare_emergent.rank < everything_urgent.rank


def test_an_unknown_flag_is_named() -> None:
    with pytest.raises(ValueError, match="red_flags: unknown flag 'cold_foot'"):
        triage(["cold_foot"])


@given(st.sets(st.sampled_from(list(RedFlag))), st.sampled_from(list(RedFlag)))
def test_adding_a_flag_never_lowers_urgency(flags: set[RedFlag], extra: RedFlag) -> None:
    assert triage(flags | {extra}).urgency <= triage(flags).urgency
