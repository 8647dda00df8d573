"""Diabetic foot infection grading and the IWGDF/IDSA <-> PEDIS <-> WIfI fI crosswalk.

Sources: IWGDF 2019 infection guideline, Table 1 (Lipsky BA et al., Diabetes Metab Res
Rev 2020;36(S1):e3280) with the "(O)" osteomyelitis suffix; IWGDF/IDSA 2023 guideline
(Senneville E et al., Clin Infect Dis 2023, ciad527); WIfI foot infection table (Mills
JL Sr et al., J Vasc Surg 2014;59:220-234); SIRS criteria from the ACCP/SCCM consensus
(Bone RC et al., Chest 1992;101:1644-1655). Restated in clinical_reference.md sections
1.3 and 8.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import infection
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.infection import (
    IdsaSeverity,
    InfectionGrade,
    InfectionSigns,
    SirsCriterion,
)

# The published crosswalk, one line per level: IWGDF, IDSA word, PEDIS, WIfI fI.
CROSSWALK_TEXT = """
1 uninfected 1 0
2 mild       2 1
3 moderate   3 2
4 severe     4 3
"""
CROSSWALK = [
    (int(iwgdf), word, int(pedis), int(fi))
    for iwgdf, word, pedis, fi in (line.split() for line in CROSSWALK_TEXT.strip().splitlines())
]


@pytest.mark.parametrize(("iwgdf", "word", "pedis", "fi"), CROSSWALK)
def test_crosswalk_both_ways(iwgdf: int, word: str, pedis: int, fi: int) -> None:
    assert infection.to_idsa(iwgdf) == word
    assert infection.to_pedis(iwgdf) == pedis
    assert infection.to_wifi_fi(iwgdf) == fi
    assert infection.from_idsa(word) == iwgdf
    assert infection.from_idsa(IdsaSeverity(word)) == iwgdf
    assert infection.from_pedis(pedis) == iwgdf
    assert infection.from_wifi_fi(fi) == iwgdf


def test_crosswalk_table_is_complete() -> None:
    assert set(infection.CROSSWALK) == {1, 2, 3, 4}
    assert {row[0] for row in infection.CROSSWALK.values()} == set(IdsaSeverity)


@pytest.mark.parametrize(
    ("text", "grade", "osteomyelitis"),
    [
        ("1", 1, False),
        ("2", 2, False),
        ("3", 3, False),
        ("4", 4, False),
        ("3(O)", 3, True),
        ("4(O)", 4, True),
        (" 3 (o) ", 3, True),
    ],
)
def test_parse_and_format_iwgdf_labels(text: str, grade: int, osteomyelitis: bool) -> None:
    parsed = infection.parse_iwgdf(text)
    assert parsed == InfectionGrade(grade, osteomyelitis=osteomyelitis)
    assert infection.parse_iwgdf(str(parsed)) == parsed
    assert str(parsed) == (f"{grade}(O)" if osteomyelitis else str(grade))


@pytest.mark.parametrize("text", ["", "0", "5", "2(O)", "1(O)", "3(X)", "3O", "mild"])
def test_parse_rejects_bad_labels(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^(text|osteomyelitis):"):
        infection.parse_iwgdf(text)


def test_osteomyelitis_suffix_only_on_grades_3_and_4() -> None:
    with pytest.raises(InvalidInput, match=r"^osteomyelitis:"):
        InfectionGrade(2, osteomyelitis=True)
    grade = InfectionGrade(4, osteomyelitis=True)
    assert (grade.idsa, grade.pedis, grade.wifi_fi) == (IdsaSeverity.SEVERE, 4, 3)


def signs(**findings: object) -> InfectionSigns:
    return InfectionSigns(**findings)  # type: ignore[arg-type]


TWO_LOCAL = {"warmth": True, "purulent_discharge": True}
TWO_SIRS = {"temperature_c": 38.5, "heart_rate": 100}


@pytest.mark.parametrize(
    ("findings", "label", "fi"),
    [
        ({}, "1", 0),
        ({"warmth": True}, "1", 0),
        (TWO_LOCAL, "2", 1),
        (TWO_LOCAL | {"erythema_cm": 2.0}, "2", 1),  # exactly 2 cm is mild (project rule)
        (TWO_LOCAL | {"erythema_cm": 2.1}, "3", 2),
        (TWO_LOCAL | {"deep_tissue_infection": True}, "3", 2),
        ({"deep_tissue_infection": True}, "3", 2),
        (TWO_LOCAL | TWO_SIRS, "4", 3),
        (TWO_LOCAL | {"erythema_cm": 5.0} | TWO_SIRS, "4", 3),
        ({"osteomyelitis": True}, "3(O)", 2),
        (TWO_LOCAL | {"osteomyelitis": True}, "3(O)", 2),
        ({"osteomyelitis": True} | TWO_SIRS, "4(O)", 3),
        (TWO_SIRS, "1", 0),  # SIRS without a foot infection
        (TWO_LOCAL | {"other_cause_of_inflammation": True}, "1", 0),
        (TWO_LOCAL | {"other_cause_of_inflammation": True, "erythema_cm": 4.0}, "1", 0),
        (
            TWO_LOCAL | {"other_cause_of_inflammation": True, "deep_tissue_infection": True},
            "3",
            2,
        ),
    ],
)
def test_classify_infection(findings: dict[str, object], label: str, fi: int) -> None:
    result = infection.classify_infection(signs(**findings))
    assert result.label == label
    assert result.wifi_fi == fi
    assert result.pedis == result.grade.iwgdf
    assert result.idsa == infection.to_idsa(result.grade.iwgdf)
    assert result.reasons
    assert "IWGDF" in result.source


@pytest.mark.parametrize(
    ("erythema", "counted"),
    [(None, False), (0.0, False), (0.5, False), (0.6, True), (2.0, True)],
)
def test_erythema_counts_as_local_sign_beyond_half_a_centimetre(
    erythema: float | None, counted: bool
) -> None:
    with_warmth = infection.classify_infection(signs(warmth=True, erythema_cm=erythema))
    assert (with_warmth.grade.iwgdf == 2) is counted


def test_reasons_mention_sirs_without_infection() -> None:
    result = infection.classify_infection(signs(**TWO_SIRS))
    assert any("SIRS without a foot infection" in r for r in result.reasons)
    other = infection.classify_infection(signs(**TWO_LOCAL, other_cause_of_inflammation=True))
    assert any("another cause" in r for r in other.reasons)


@pytest.mark.parametrize(
    ("field", "not_met", "met", "criterion"),
    [
        ("temperature_c", 38.0, 38.1, SirsCriterion.TEMPERATURE),
        ("temperature_c", 36.0, 35.9, SirsCriterion.TEMPERATURE),
        ("heart_rate", 90, 91, SirsCriterion.HEART_RATE),
        ("respiratory_rate", 20, 21, SirsCriterion.RESPIRATION),
        ("paco2_mmhg", 32.0, 31.9, SirsCriterion.RESPIRATION),
        ("wbc_per_ul", 12_000, 12_001, SirsCriterion.WHITE_CELLS),
        ("wbc_per_ul", 4_000, 3_999, SirsCriterion.WHITE_CELLS),
        ("immature_bands_percent", 10.0, 10.1, SirsCriterion.WHITE_CELLS),
    ],
)
def test_sirs_thresholds(field: str, not_met: float, met: float, criterion: SirsCriterion) -> None:
    below: dict[str, Any] = {field: not_met}
    above: dict[str, Any] = {field: met}
    assert infection.sirs_criteria(**below) == ()
    assert infection.sirs_criteria(**above) == (criterion,)


def test_each_sirs_criterion_counts_once() -> None:
    both_parts = infection.sirs_criteria(
        respiratory_rate=30, paco2_mmhg=25, wbc_per_ul=20_000, immature_bands_percent=15
    )
    assert both_parts == (SirsCriterion.RESPIRATION, SirsCriterion.WHITE_CELLS)
    all_four = infection.sirs_criteria(
        temperature_c=39, heart_rate=120, respiratory_rate=24, wbc_per_ul=2_000
    )
    assert len(all_four) == 4


BOOLEAN_SIGNS = [
    "swelling_or_induration",
    "tenderness_or_pain",
    "warmth",
    "purulent_discharge",
    "deep_tissue_infection",
    "osteomyelitis",
]
finding_sets = st.fixed_dictionaries(
    dict.fromkeys(BOOLEAN_SIGNS, st.booleans())
    | {
        "erythema_cm": st.one_of(st.none(), st.floats(0, 10)),
        "temperature_c": st.one_of(st.none(), st.floats(34, 41)),
        "heart_rate": st.one_of(st.none(), st.integers(40, 160)),
        "wbc_per_ul": st.one_of(st.none(), st.integers(1_000, 30_000)),
    }
)


@given(findings=finding_sets, extra=st.sampled_from(BOOLEAN_SIGNS))
def test_property_an_added_sign_never_lowers_the_grade(
    findings: dict[str, object], extra: str
) -> None:
    before = signs(**findings)
    after = dataclasses.replace(before, **{extra: True})
    assert (
        infection.classify_infection(after).grade.iwgdf
        >= infection.classify_infection(before).grade.iwgdf
    )


@given(findings=finding_sets)
def test_property_all_scales_agree(findings: dict[str, object]) -> None:
    result = infection.classify_infection(signs(**findings))
    assert result.wifi_fi == result.grade.iwgdf - 1 == result.pedis - 1
    assert result.grade.osteomyelitis is findings["osteomyelitis"]


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("warmth", 1),
        ("osteomyelitis", "yes"),
        ("other_cause_of_inflammation", None),
        ("erythema_cm", -1.0),
        ("erythema_cm", "2"),
        ("temperature_c", 20.0),
        ("temperature_c", 50),
        ("heart_rate", -1),
        ("respiratory_rate", "fast"),
        ("paco2_mmhg", float("nan")),
        ("wbc_per_ul", -5),
        ("immature_bands_percent", 101),
    ],
)
def test_signs_reject_bad_values_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        signs(**{field: bad})


@given(
    fn=st.sampled_from([infection.to_idsa, infection.to_pedis, infection.to_wifi_fi]),
    bad=st.one_of(st.integers().filter(lambda n: not 1 <= n <= 4), st.text(), st.none()),
)
def test_property_crosswalk_rejects_bad_grades(fn: object, bad: object) -> None:
    with pytest.raises(ValueError, match=r"^iwgdf:"):
        fn(bad)  # type: ignore[operator]


def test_other_crosswalk_inputs_rejected_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"^pedis:"):
        infection.from_pedis(0)
    with pytest.raises(InvalidInput, match=r"^fi:"):
        infection.from_wifi_fi(4)
    with pytest.raises(InvalidInput, match=r"^severity:"):
        infection.from_idsa("critical")
    with pytest.raises(InvalidInput, match=r"^severity:"):
        infection.from_idsa(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^text:"):
        infection.parse_iwgdf(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^signs:"):
        infection.classify_infection(None)  # type: ignore[arg-type]
