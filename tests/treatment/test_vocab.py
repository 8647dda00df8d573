"""The procedure log's code tables are complete and agree with the library's CPT value
sets (codes_and_epidemiology §2.1-2.4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from limbguard.registry.models import MINOR_LEVELS, AmputationLevel
from limbguard.treatment import cpt_suggest
from limbguard.treatment.actions.procedures import LesionInput
from limbguard.treatment.vocab import (
    AMPUTATION_CPT,
    CPT_CATEGORIES,
    ENDO_CPT,
    INDICATION_GROUP,
    LEVEL_ORDER,
    TECHNIQUES_BY_KIND,
    Indication,
    InterventionKind,
)
from limbguard.vascular import codes


def test_every_amputation_level_is_ordered_and_coded_in_the_right_value_set() -> None:
    assert set(LEVEL_ORDER) == set(AmputationLevel)
    assert set(AMPUTATION_CPT) == set(AmputationLevel)
    for level, code in AMPUTATION_CPT.items():
        if code is None:
            continue
        wanted = "minor_amputation" if level in MINOR_LEVELS else "major_amputation"
        assert wanted in codes.categorize("CPT", code), (level, code)
    # Minor levels all come before the major ones.
    first_major = min(i for i, level in enumerate(LEVEL_ORDER) if level not in MINOR_LEVELS)
    assert all(level in MINOR_LEVELS for level in LEVEL_ORDER[:first_major])


def test_endovascular_and_ablation_tables_are_in_their_value_sets() -> None:
    for first, more in ENDO_CPT.values():
        for code in (first, more):
            if code:
                assert "endovascular_arterial" in codes.categorize("CPT", code)
    for first, more in cpt_suggest.ABLATION_CPT.values():
        assert {"venous_intervention"} <= codes.categorize("CPT", first)
        assert {"venous_intervention"} <= codes.categorize("CPT", more)


def test_every_kind_and_indication_is_mapped() -> None:
    assert set(CPT_CATEGORIES) == set(InterventionKind)
    assert set(TECHNIQUES_BY_KIND) == set(InterventionKind)
    assert set(INDICATION_GROUP) == set(Indication)


@pytest.mark.parametrize(
    ("kind", "lesions", "conduit", "expected"),
    [
        (
            "arterial_endovascular",
            [
                LesionInput("common_iliac", "stenosis", Decimal(3), techniques=("bms",)),
                LesionInput("external_iliac", "stenosis", Decimal(3), techniques=("pta",)),
                LesionInput("peroneal", "occlusion", Decimal(5), techniques=("ather_laser", "dcb")),
                LesionInput("anterior_tibial", "stenosis", Decimal(2), techniques=("pta",)),
            ],
            "",
            ["37221", "37222", "37229", "37232"],
        ),
        (
            "venous_ablation",
            [
                LesionInput("gsv", "reflux", Decimal(30), techniques=("rfa",)),
                LesionInput("ssv", "reflux", Decimal(20), techniques=("rfa",)),
            ],
            "",
            ["36475", "36476"],
        ),
        (
            "venous_endovascular",
            [
                LesionInput(
                    "iliac_vein",
                    "stenosis",
                    Decimal(6),
                    techniques=("venous_stent", "thrombectomy"),
                )
            ],
            "",
            ["37238", "37187"],
        ),
        (
            "bypass",
            [LesionInput("posterior_tibial", "occlusion", Decimal(10))],
            "gsv_in_situ",
            ["35585"],
        ),
        ("bypass", [LesionInput("popliteal", "occlusion", Decimal(10))], "ptfe", ["35656"]),
        ("endarterectomy", [], "", []),
    ],
)
def test_cpt_suggestions(
    kind: str, lesions: list[LesionInput], conduit: str, expected: list[str]
) -> None:
    assert cpt_suggest.suggest(kind, "", lesions, conduit) == expected
