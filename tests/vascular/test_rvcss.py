"""Revised Venous Clinical Severity Score.

Source: Vasquez MA, Rabe E, McLafferty RB, et al. Revision of the venous clinical
severity score: venous outcomes consensus statement. J Vasc Surg 2010;52:1387-1396,
Table I (ten attributes scored 0-3, total 0-30). The ulcer consistency rule is the
project's (clinical_reference.md §5), not the paper's.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import rvcss
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.rvcss import Item

ITEMS = [
    "pain",
    "varicose_veins",
    "venous_edema",
    "skin_pigmentation",
    "inflammation",
    "induration",
    "active_ulcer_number",
    "active_ulcer_duration",
    "active_ulcer_size",
    "compression_therapy",
]
ULCER_DETAILS = ["active_ulcer_duration", "active_ulcer_size"]
NO_ULCER = dict.fromkeys(ITEMS, 0)
ONE_ULCER = {**NO_ULCER, "active_ulcer_number": 1, **dict.fromkeys(ULCER_DETAILS, 1)}


def test_the_ten_items_are_the_published_ones_in_form_order() -> None:
    assert [item.value for item in Item] == ITEMS
    assert set(rvcss.DESCRIPTORS) == set(Item)


def test_all_zero_scores_0_and_all_three_scores_30() -> None:
    assert rvcss.score(**NO_ULCER) == 0
    assert rvcss.score(**dict.fromkeys(ITEMS, 3)) == rvcss.TOTAL_MAX == 30


@pytest.mark.parametrize("points", [0, 1, 2, 3])
@pytest.mark.parametrize("item", [i for i in ITEMS if i not in ULCER_DETAILS])
def test_each_independent_item_contributes_its_points(item: str, points: int) -> None:
    base = ONE_ULCER if item == "active_ulcer_number" and points else NO_ULCER
    items = {**base, item: points}
    assert rvcss.score(**items) == sum(items.values())


@pytest.mark.parametrize("points", [1, 2, 3])
@pytest.mark.parametrize("item", ULCER_DETAILS)
def test_each_ulcer_detail_item_contributes_its_points(item: str, points: int) -> None:
    assert rvcss.score(**{**ONE_ULCER, item: points}) == 2 + points


@pytest.mark.parametrize("bad", [-1, 4, 1.0, "1", True, None, Decimal(1)])
@pytest.mark.parametrize("item", ITEMS)
def test_out_of_range_or_non_int_items_are_rejected_naming_the_field(
    item: str, bad: object
) -> None:
    with pytest.raises(ValueError, match=f"^{item}:"):
        rvcss.score(**{**ONE_ULCER, item: bad})


@pytest.mark.parametrize("item", ITEMS)
def test_every_item_is_required(item: str) -> None:
    items = {k: v for k, v in ONE_ULCER.items() if k != item}
    with pytest.raises(InvalidInput, match=f"^{item}: is missing"):
        rvcss.score(**items)


def test_unknown_items_are_rejected_naming_them() -> None:
    with pytest.raises(InvalidInput, match=r"^limb_elevation: is not an rVCSS item"):
        rvcss.score(**NO_ULCER, limb_elevation=1)


@pytest.mark.parametrize("points", [1, 2, 3])
@pytest.mark.parametrize("item", ULCER_DETAILS)
def test_no_active_ulcer_requires_duration_and_size_na(item: str, points: int) -> None:
    with pytest.raises(InvalidInput, match=f"^{item}: must be 0 \\(N/A\\) when"):
        rvcss.score(**{**NO_ULCER, item: points})


@pytest.mark.parametrize("ulcers", [1, 2, 3])
@pytest.mark.parametrize("item", ULCER_DETAILS)
def test_active_ulcers_require_duration_and_size(item: str, ulcers: int) -> None:
    items = {**ONE_ULCER, "active_ulcer_number": ulcers, item: 0}
    with pytest.raises(InvalidInput, match=f"^{item}: must be 1-3 when active_ulcer_number"):
        rvcss.score(**items)


def test_explain_gives_each_item_its_published_descriptor() -> None:
    items = {
        **ONE_ULCER,
        "pain": 2,
        "varicose_veins": 1,
        "active_ulcer_number": 3,
        "active_ulcer_size": 3,
        "compression_therapy": 3,
    }
    result = rvcss.explain(**items)
    assert result.value == 13
    assert result.version == "rVCSS-2010"
    assert result.source == rvcss.SOURCE
    by_item = {s.item: s for s in result.items}
    assert by_item[Item.PAIN].descriptor.startswith("daily; interferes with")
    assert "corona phlebectatica" in by_item[Item.VARICOSE_VEINS].descriptor
    assert by_item[Item.ACTIVE_ULCER_NUMBER].descriptor == "three or more active ulcers"
    assert by_item[Item.ACTIVE_ULCER_SIZE].descriptor == "largest active ulcer > 6 cm in diameter"
    assert by_item[Item.COMPRESSION_THERAPY].descriptor == "full compliance with stockings"
    assert (
        result.reasons[0]
        == "pain 2: daily; interferes with but does not prevent regular daily activities"
    )
    assert result.reasons[-1] == "total 13 of 30"


def test_no_ulcer_descriptors_say_not_applicable() -> None:
    by_item = {s.item: s.descriptor for s in rvcss.explain(**NO_ULCER).items}
    assert by_item[Item.ACTIVE_ULCER_DURATION].startswith("not applicable")
    assert by_item[Item.ACTIVE_ULCER_SIZE].startswith("not applicable")


def _consistent_items() -> st.SearchStrategy[dict[str, int]]:
    scale = st.integers(0, 3)
    other = st.fixed_dictionaries({i: scale for i in ITEMS if i not in ULCER_DETAILS})

    def details(items: dict[str, int]) -> st.SearchStrategy[dict[str, int]]:
        value = st.integers(1, 3) if items["active_ulcer_number"] else st.just(0)
        return st.fixed_dictionaries(dict.fromkeys(ULCER_DETAILS, value)).map(
            lambda d: {**items, **d}
        )

    return other.flatmap(details)


@given(_consistent_items())
def test_any_consistent_form_scores_the_sum_of_its_items(items: dict[str, int]) -> None:
    total = rvcss.score(**items)
    assert total == sum(items.values())
    assert 0 <= total <= 30
    explained = rvcss.explain(**items)
    assert explained.value == total
    assert [s.points for s in explained.items] == [items[i] for i in ITEMS]


@given(_consistent_items(), st.sampled_from(ULCER_DETAILS))
def test_flipping_an_ulcer_detail_to_or_from_na_is_always_refused(
    items: dict[str, int], item: str
) -> None:
    flipped = {**items, item: 0 if items[item] else 1}
    with pytest.raises(InvalidInput, match=f"^{item}:"):
        rvcss.score(**flipped)


@given(
    _consistent_items(),
    st.sampled_from(ITEMS),
    st.one_of(st.integers().filter(lambda n: not 0 <= n <= 3), st.floats(), st.text()),
)
def test_any_bad_value_is_refused_naming_its_field(
    items: dict[str, int], item: str, bad: object
) -> None:
    with pytest.raises(ValueError, match=f"^{item}:"):
        rvcss.score(**{**items, item: bad})
