"""Code value sets of limbguard.vascular.codes.

Source: LimbGuard research notes codes_and_epidemiology.md sections 1-4 (ICD-10-CM,
CPT, SNOMED CT, LOINC tables), 7 (phenotype definitions) and Appendix A (full
ICD-10-CM lists generated from the CMS ICD-10-CM April 1 2026 tabular), checked here
against the same CMS tables through simple-icd-10-cm 1.5.0.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import simple_icd_10_cm as cms
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import codes
from limbguard.vascular.codes import Category, CodeSystem, cpt, icd10cm, loinc, snomed

ICD, CPT, SNOMED, LOINC = CodeSystem.ICD10CM, CodeSystem.CPT, CodeSystem.SNOMED, CodeSystem.LOINC

# The completeness spec: for each category, the systems in which the reference gives
# verified codes (codes_and_epidemiology section in the comment). Every other cell must
# stay empty until the reference verifies a code for it.
REFERENCE_SYSTEMS: dict[Category, frozenset[CodeSystem]] = {
    Category.PAD: frozenset({ICD, SNOMED}),  # 1.1, 1.2, 3
    Category.CLTI: frozenset({ICD, SNOMED}),  # 1.1, 3, Appendix A
    Category.DIABETES: frozenset({ICD, SNOMED}),  # 1.2, 3
    Category.DIABETIC_FOOT_ULCER: frozenset({ICD}),  # 1.2; SNOMED DFU is UNVERIFIED
    Category.CVI: frozenset({ICD, SNOMED}),  # 1.4, 3 (72866009)
    Category.DVT: frozenset({ICD, SNOMED}),  # 1.5, 3
    Category.VENOUS_ULCER: frozenset({ICD}),  # 1.4; SNOMED is UNVERIFIED
    Category.GANGRENE: frozenset({ICD, SNOMED}),  # 1.6, 3
    Category.OSTEOMYELITIS: frozenset({ICD, SNOMED}),  # 1.6, 3
    Category.SMOKING: frozenset({ICD, SNOMED}),  # 1.8, 3 (smoking-status answers)
    Category.CKD: frozenset({ICD, SNOMED}),  # 1.8, 5 (Synthea ESRD 46177005)
    Category.MAJOR_AMPUTATION: frozenset({ICD, CPT, SNOMED}),  # 1.7, 2.4, 3
    Category.MINOR_AMPUTATION: frozenset({ICD, CPT, SNOMED}),  # 1.7, 2.4, 3
    Category.ENDOVASCULAR_ARTERIAL: frozenset({CPT}),  # 2.1; SNOMED is UNVERIFIED
    Category.OPEN_BYPASS: frozenset({CPT, SNOMED}),  # 2.2, 3
    Category.VENOUS_INTERVENTION: frozenset({CPT}),  # 2.3; SNOMED is UNVERIFIED
    Category.VASCULAR_STUDY: frozenset({CPT, SNOMED, LOINC}),  # 2.5, 3, 4
    Category.HBA1C: frozenset({LOINC}),  # 4
    Category.EGFR: frozenset({LOINC}),  # 4
    Category.SMOKING_STATUS: frozenset({LOINC, SNOMED}),  # 4, 3
    Category.WOUND_MEASUREMENT: frozenset({LOINC}),  # 4
}


def categories(*names: str) -> frozenset[str]:
    return frozenset(names)


# --- completeness of the tables ----------------------------------------------------


def test_the_spec_covers_exactly_the_contract_categories() -> None:
    contract = [
        "pad", "clti", "diabetes", "diabetic_foot_ulcer", "cvi", "dvt", "venous_ulcer",
        "gangrene", "osteomyelitis", "smoking", "ckd", "major_amputation", "minor_amputation",
        "endovascular_arterial", "open_bypass", "venous_intervention", "vascular_study",
        "hba1c", "egfr", "smoking_status", "wound_measurement",
    ]  # fmt: skip
    assert [category.value for category in Category] == contract
    assert set(REFERENCE_SYSTEMS) == set(Category)
    assert [system.value for system in CodeSystem] == ["ICD10CM", "CPT", "SNOMED", "LOINC"]


@pytest.mark.parametrize("category", list(Category))
@pytest.mark.parametrize("system", list(CodeSystem))
def test_every_category_has_codes_exactly_where_the_reference_gives_them(
    category: Category, system: CodeSystem
) -> None:
    assert bool(codes.value_set(category, system)) == (system in REFERENCE_SYSTEMS[category])


def test_every_table_row_is_reachable_through_categorize() -> None:
    for system, table in ((CPT, cpt.CPT_TABLE), (SNOMED, snomed.SNOMED_TABLE)):
        for code, entry in table.items():
            assert entry.categories
            assert codes.categorize(system, code) == entry.categories
    for code, loinc_entry in loinc.LOINC_TABLE.items():
        assert codes.categorize(LOINC, code) == loinc_entry.categories


def test_every_icd_rule_has_a_source_and_expands_to_codes() -> None:
    for category, rule in icd10cm.ICD10CM_RULES.items():
        assert rule.source.startswith("codes_and_epidemiology")
        assert icd10cm.expand(rule) == codes.value_set(category, ICD)


# --- ICD-10-CM against the CMS tables and Appendix A ---------------------------------


def test_every_icd_code_in_every_value_set_is_a_billable_cms_code() -> None:
    for category in Category:
        for code in codes.value_set(category, ICD):
            assert cms.is_valid_item(code), code
            assert cms.is_leaf(code), code
            assert "." in code or len(code) == 3
            assert category in codes.categorize(ICD, code)


def _icd(category: Category) -> frozenset[str]:
    return codes.value_set(category, ICD)


def test_clti_is_the_144_leg_codes_of_appendix_a_plus_diabetic_gangrene() -> None:
    pattern = re.compile(r"^I70\.(2[2-6]|[3-7][2-6])[0-9]?$")  # Appendix A regex
    appendix = {code for code in cms.get_all_codes() if cms.is_leaf(code) and pattern.match(code)}
    assert len(appendix) == 150
    # Appendix A says "drop [0-9]5$ leaves", which would also drop I70.235/I70.245
    # (ankle ulcers). Its text means the six arm codes I70.25-I70.75: 150 - 6 = 144.
    arms = {code for code in appendix if re.fullmatch(r"I70\.[2-7]5", code)}
    assert len(arms) == 6
    legs = appendix - arms
    assert len(legs) == 144
    diabetic_gangrene = {"E08.52", "E09.52", "E10.52", "E11.52", "E13.52"}
    assert _icd(Category.CLTI) == legs | diabetic_gangrene


def test_pad_covers_appendix_a_native_and_graft_lists() -> None:
    native = {
        "I70.201", "I70.202", "I70.203", "I70.208", "I70.209",
        "I70.211", "I70.212", "I70.213", "I70.218", "I70.219",
        "I70.291", "I70.292", "I70.293", "I70.298", "I70.299",
    }  # fmt: skip
    grafts = {
        f"I70.{block}{stage}{side}" for block in "34567" for stage in "019" for side in "12389"
    }
    assert len(grafts) == 75
    assert native | grafts <= _icd(Category.PAD)
    assert _icd(Category.CLTI) <= _icd(Category.PAD)
    assert {"I73.9", "I70.92", "E11.51", "E13.51", "I70.25"} <= _icd(Category.PAD)
    assert len(_icd(Category.PAD)) == 15 + 75 + 25 + 125 + 2 + 10


def test_venous_ulcer_and_dvt_match_appendix_a_counts() -> None:
    ulcer = _icd(Category.VENOUS_ULCER)
    assert len({code for code in ulcer if code.startswith("I83.")}) == 42
    assert {code for code in ulcer if code.startswith("I87.3")} == {
        "I87.311", "I87.312", "I87.313", "I87.319", "I87.331", "I87.332", "I87.333", "I87.339",
    }  # fmt: skip
    assert {code for code in ulcer if code.startswith("I87.0")} == {
        "I87.011", "I87.012", "I87.013", "I87.019", "I87.031", "I87.032", "I87.033", "I87.039",
    }  # fmt: skip
    assert ulcer <= _icd(Category.CVI)
    dvt = _icd(Category.DVT)
    assert len({code for code in dvt if code.startswith("I82.4")}) == 40
    assert len({code for code in dvt if code.startswith("I82.5")}) == 40
    assert {code for code in dvt if code.startswith("I82.2")} == {"I82.220", "I82.221"}


def test_foot_osteomyelitis_is_the_22_codes_of_appendix_a() -> None:
    expected = {f"M86.{kind}7{side}" for kind in "0123456" for side in "129"} | {"M86.8X7"}
    assert _icd(Category.OSTEOMYELITIS) == expected


def test_amputation_status_codes_follow_section_1_7() -> None:
    assert _icd(Category.MAJOR_AMPUTATION) == {
        "Z89.511", "Z89.512", "Z89.519", "Z89.611", "Z89.612", "Z89.619",
    }  # fmt: skip
    minor = _icd(Category.MINOR_AMPUTATION)
    assert minor == {f"Z89.4{site}{side}" for site in "1234" for side in "129"}
    for pitfall in ("Z89.521", "Z89.621", "Z89.529", "Z89.629"):  # knee / hip explantation
        assert codes.categorize(ICD, pitfall) == frozenset()


def test_diabetes_dfu_smoking_and_ckd_sets() -> None:
    assert _icd(Category.DIABETIC_FOOT_ULCER) == {
        "E08.621", "E09.621", "E10.621", "E11.621", "E13.621",
    }  # fmt: skip
    assert all(code[:3] in {"E08", "E09", "E10", "E11", "E13"} for code in _icd(Category.DIABETES))
    assert len(_icd(Category.DIABETES)) == 432
    smoking = _icd(Category.SMOKING)
    assert {"Z72.0", "F17.210"} <= smoking
    assert not {"F17.201", "F17.211", "F17.221", "F17.291", "Z87.891"} & smoking
    assert _icd(Category.CKD) == {
        "N18.1", "N18.2", "N18.30", "N18.31", "N18.32", "N18.4", "N18.5", "N18.6", "N18.9",
        "Z99.2", "E08.22", "E09.22", "E10.22", "E11.22", "E13.22",
    }  # fmt: skip
    assert _icd(Category.GANGRENE) >= {"I96", "I70.261", "I70.769", "E11.52"}
    assert len(_icd(Category.GANGRENE)) == 1 + 30 + 5


# --- representative rows of every reference table ------------------------------------

ROWS = [
    # 1.1 I70.2 ladder and other arterial codes
    (ICD, "I70.201", categories("pad")),
    (ICD, "I70.211", categories("pad")),
    (ICD, "I70.221", categories("pad", "clti")),
    (ICD, "I70.235", categories("pad", "clti")),
    (ICD, "I70.249", categories("pad", "clti")),
    (ICD, "I70.25", categories("pad")),
    (ICD, "I70.262", categories("pad", "clti", "gangrene")),
    (ICD, "I70.299", categories("pad")),
    (ICD, "I70.432", categories("pad", "clti")),
    (ICD, "I70.65", categories("pad")),
    (ICD, "I70.769", categories("pad", "clti", "gangrene")),
    (ICD, "I70.92", categories("pad")),
    (ICD, "I73.9", categories("pad")),
    (ICD, "I74.3", categories()),  # acute limb ischemia: not chronic PAD
    (ICD, "Z95.820", categories()),
    (ICD, "T82.856A", categories()),
    # 1.2 diabetes
    (ICD, "E11.51", categories("pad", "diabetes")),
    (ICD, "E10.52", categories("pad", "clti", "gangrene", "diabetes")),
    (ICD, "E11.621", categories("diabetes", "diabetic_foot_ulcer")),
    (ICD, "E13.621", categories("diabetes", "diabetic_foot_ulcer")),
    (ICD, "E11.622", categories("diabetes")),
    (ICD, "E11.22", categories("diabetes", "ckd")),
    (ICD, "E11.9", categories("diabetes")),
    # 1.3 L97: the etiology comes from the paired code
    (ICD, "L97.412", categories()),
    (ICD, "L97.529", categories()),
    # 1.4 venous
    (ICD, "I87.2", categories("cvi")),
    (ICD, "I87.311", categories("cvi", "venous_ulcer")),
    (ICD, "I87.393", categories("cvi")),
    (ICD, "I87.033", categories("cvi", "venous_ulcer")),
    (ICD, "I83.012", categories("cvi", "venous_ulcer")),
    (ICD, "I83.214", categories("cvi", "venous_ulcer")),
    (ICD, "I83.12", categories("cvi")),
    (ICD, "I83.93", categories("cvi")),
    (ICD, "I87.1", categories()),
    # 1.5 DVT
    (ICD, "I82.411", categories("dvt")),
    (ICD, "I82.512", categories("dvt")),
    (ICD, "I82.4Y1", categories("dvt")),
    (ICD, "I82.5Z9", categories("dvt")),
    (ICD, "I82.220", categories("dvt")),
    (ICD, "Z86.718", categories()),
    # 1.6 gangrene, osteomyelitis
    (ICD, "I96", categories("gangrene")),
    (ICD, "M86.171", categories("osteomyelitis")),
    (ICD, "M86.679", categories("osteomyelitis")),
    (ICD, "M86.8X7", categories("osteomyelitis")),
    (ICD, "M86.161", categories()),  # tibia/fibula, not foot
    # 1.7 acquired absence
    (ICD, "Z89.411", categories("minor_amputation")),
    (ICD, "Z89.449", categories("minor_amputation")),
    (ICD, "Z89.512", categories("major_amputation")),
    (ICD, "Z89.619", categories("major_amputation")),
    # 1.8 tobacco, CKD
    (ICD, "F17.210", categories("smoking")),
    (ICD, "F17.290", categories("smoking")),
    (ICD, "F17.211", categories()),
    (ICD, "Z72.0", categories("smoking")),
    (ICD, "Z87.891", categories()),
    (ICD, "N18.30", categories("ckd")),
    (ICD, "N18.6", categories("ckd")),
    (ICD, "Z99.2", categories("ckd")),
    # 2.1 endovascular
    (CPT, "37220", categories("endovascular_arterial")),
    (CPT, "37224", categories("endovascular_arterial")),
    (CPT, "37227", categories("endovascular_arterial")),
    (CPT, "37229", categories("endovascular_arterial")),
    (CPT, "37235", categories("endovascular_arterial")),
    (CPT, "37184", categories("endovascular_arterial")),
    (CPT, "37236", categories()),  # non-lower-extremity stent
    # 2.2 open bypass
    (CPT, "35556", categories("open_bypass")),
    (CPT, "35566", categories("open_bypass")),
    (CPT, "35656", categories("open_bypass")),
    (CPT, "35540", categories("open_bypass")),
    (CPT, "35666", categories()),  # UNVERIFIED in the reference
    (CPT, "35571", categories()),  # UNVERIFIED in the reference
    (CPT, "35572", categories()),  # add-on vein harvest
    # 2.3 venous interventions
    (CPT, "37238", categories("venous_intervention")),
    (CPT, "37239", categories("venous_intervention")),
    (CPT, "37187", categories("venous_intervention")),
    (CPT, "37212", categories("venous_intervention")),
    (CPT, "37211", categories("endovascular_arterial")),
    (CPT, "37213", categories()),  # arterial or venous
    (CPT, "36475", categories("venous_intervention")),
    (CPT, "36478", categories("venous_intervention")),
    (CPT, "36482", categories("venous_intervention")),
    (CPT, "37191", categories()),  # IVC filter
    # 2.4 amputations
    (CPT, "27590", categories("major_amputation")),
    (CPT, "27598", categories("major_amputation")),
    (CPT, "27295", categories("major_amputation")),
    (CPT, "27880", categories("major_amputation")),
    (CPT, "27884", categories("major_amputation")),
    (CPT, "27888", categories("minor_amputation")),
    (CPT, "27889", categories("minor_amputation")),
    (CPT, "28800", categories("minor_amputation")),
    (CPT, "28805", categories("minor_amputation")),
    (CPT, "28825", categories("minor_amputation")),
    # 2.5 studies
    (CPT, "93922", categories("vascular_study")),
    (CPT, "93924", categories("vascular_study")),
    (CPT, "93926", categories("vascular_study")),
    (CPT, "93970", categories("vascular_study")),
    (CPT, "93971", categories("vascular_study")),
    # 3 SNOMED CT
    (SNOMED, "399957001", categories("pad")),
    (SNOMED, "400047006", categories("pad")),
    (SNOMED, "63491006", categories("pad")),
    (SNOMED, "127014009", categories("pad", "diabetes")),
    (SNOMED, "792844003", categories("pad", "clti")),
    (SNOMED, "792843009", categories("pad", "clti", "gangrene")),
    (SNOMED, "238794007", categories("pad", "clti")),
    (SNOMED, "233958001", categories()),  # peripheral ischemia includes acute
    (SNOMED, "13954005", categories()),  # ischemic ulcer, any site
    (SNOMED, "371087003", categories()),  # DFU id conflict (UNVERIFIED)
    (SNOMED, "280137006", categories()),  # DFU id conflict (UNVERIFIED)
    (SNOMED, "28695004", categories()),  # CVI, UNVERIFIED
    (SNOMED, "44054006", categories("diabetes")),
    (SNOMED, "368581000119106", categories("diabetes")),
    (SNOMED, "72866009", categories("cvi")),
    (SNOMED, "128053003", categories("dvt")),
    (SNOMED, "15760351000119105", categories("dvt")),
    (SNOMED, "372070002", categories("gangrene")),
    (SNOMED, "268019002", categories("osteomyelitis")),
    (SNOMED, "79733001", categories("major_amputation")),
    (SNOMED, "88312006", categories("major_amputation")),
    (SNOMED, "265736004", categories("major_amputation")),
    (SNOMED, "397218006", categories("minor_amputation")),
    (SNOMED, "180030006", categories("minor_amputation")),
    (SNOMED, "371186005", categories("minor_amputation")),
    (SNOMED, "397117006", categories()),  # lower limb, level unknown
    (SNOMED, "405469008", categories("open_bypass")),
    (SNOMED, "446841001", categories("vascular_study")),
    (SNOMED, "449868002", categories("smoking", "smoking_status")),
    (SNOMED, "8517006", categories("smoking_status")),
    (SNOMED, "266919005", categories("smoking_status")),
    (SNOMED, "46177005", categories("ckd")),
    # 4 LOINC
    (LOINC, "4548-4", categories("hba1c")),
    (LOINC, "17856-6", categories("hba1c")),
    (LOINC, "33914-3", categories("egfr")),
    (LOINC, "62238-1", categories("egfr")),
    (LOINC, "98979-8", categories("egfr")),
    (LOINC, "2160-0", categories()),  # creatinine is never an eGFR
    (LOINC, "72166-2", categories("smoking_status")),
    (LOINC, "39126-8", categories("wound_measurement")),
    (LOINC, "39125-0", categories("wound_measurement")),
    (LOINC, "89260-4", categories("wound_measurement")),
    (LOINC, "94083-3", categories("wound_measurement")),
    (LOINC, "8581-1", categories("vascular_study")),
    (LOINC, "41979-6", categories()),  # calories burned, mislabelled "ABI" elsewhere
    (LOINC, "33437-5", categories()),  # TcPO2, not limb-specific
]


@pytest.mark.parametrize(("system", "code", "expected"), ROWS)
def test_reference_rows(system: CodeSystem, code: str, expected: frozenset[str]) -> None:
    assert codes.categorize(system, code) == expected
    assert codes.categorize(system.value, code) == expected


# --- input forms ---------------------------------------------------------------------

_ALL_ICD = sorted(frozenset().union(*(codes.value_set(c, ICD) for c in Category)))


@given(st.sampled_from(_ALL_ICD))
def test_icd_code_with_or_without_dot_and_in_any_case_is_the_same(code: str) -> None:
    expected = codes.categorize(ICD, code)
    assert expected
    assert codes.categorize(ICD, code.replace(".", "")) == expected
    assert codes.categorize(ICD, code.lower()) == expected
    assert codes.categorize(ICD, f"  {code.replace('.', '').lower()} ") == expected


@given(st.sampled_from(sorted(cms.get_all_codes())))
def test_any_cms_code_categorizes_the_same_with_or_without_dot(code: str) -> None:
    assert codes.categorize(ICD, code) == codes.categorize(ICD, code.replace(".", ""))


@given(st.text(max_size=12))
def test_arbitrary_text_never_raises(text: str) -> None:
    for system in CodeSystem:
        assert codes.categorize(system, text) <= frozenset(Category)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("I70.22", categories("pad", "clti")),  # header over five CLTI leaves
        ("I7022", categories("pad", "clti")),
        ("I70.2", categories("pad")),
        ("I70", categories()),  # includes aorta and renal artery
        ("E11", categories("diabetes")),
        ("E11.62", categories("diabetes")),
        ("E11.5", categories("diabetes")),  # E11.59 is not PAD
        ("I82.4", categories("dvt")),
        ("Z89.5", categories()),  # Z89.52- knee explantation pitfall
        ("M86.8X", categories()),
    ],
)
def test_header_codes_get_the_categories_of_every_leaf_below(
    code: str, expected: frozenset[str]
) -> None:
    assert codes.categorize(ICD, code) == expected


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (ICD, ""),
        (ICD, "I70.2x"),
        (ICD, "I7"),
        (ICD, "I70."),
        (ICD, "I.70221"),
        (ICD, "I70-I79"),
        (ICD, "ZZZ.999"),
        (ICD, "I70.2219999"),
        (CPT, "2759"),
        (CPT, "275900"),
        (CPT, "G0001"),
        (SNOMED, "79733002"),  # wrong Verhoeff check digit
        (SNOMED, "0079733001"),
        (SNOMED, "12345"),
        (SNOMED, "79733011"),  # description partition, not a concept
        (LOINC, "4548-5"),  # wrong check digit
        (LOINC, "4548"),
        (LOINC, "LP4548-4"),
    ],
)
def test_invalid_or_unknown_codes_give_an_empty_set(system: CodeSystem, code: str) -> None:
    assert codes.categorize(system, code) == frozenset()
    assert codes.normalize(system, code) is None
    assert codes.label(system, code) is None


def test_a_well_formed_code_outside_every_value_set_gives_an_empty_set() -> None:
    assert codes.categorize(CPT, "99999") == frozenset()
    assert codes.normalize(CPT, "99999") == "99999"  # form only: no licensed CPT table
    assert codes.label(CPT, "99999") is None
    assert codes.categorize(ICD, "J45.909") == frozenset()
    assert codes.normalize(ICD, "J45909") == "J45.909"


@pytest.mark.parametrize("system", ["icd10cm", "ICD-10-CM", "", "RXNORM", None, 3])
def test_a_malformed_system_is_rejected_naming_the_field(system: object) -> None:
    with pytest.raises(ValueError, match=r"^system: "):
        codes.categorize(system, "I70.221")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^system: "):
        codes.value_set("pad", system)  # type: ignore[arg-type]
    for function in (codes.normalize, codes.label, codes.describe):
        with pytest.raises(ValueError, match=r"^system: "):
            function(system, "I70.221")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [None, 27590, b"27590", ["I70.221"]])
def test_a_code_that_is_not_text_is_rejected_naming_the_field(code: object) -> None:
    for function in (codes.categorize, codes.normalize, codes.label, codes.describe):
        with pytest.raises(ValueError, match=r"^code: "):
            function("CPT", code)  # type: ignore[arg-type]


@pytest.mark.parametrize("category", ["PAD", "amputation", "", None])
def test_value_set_rejects_an_unknown_category_naming_the_field(category: object) -> None:
    with pytest.raises(ValueError, match=r"^category: "):
        codes.value_set(category, "ICD10CM")  # type: ignore[arg-type]


# --- normalize, label, describe ------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (ICD, "i70221", "I70.221"),
        (ICD, "E11.621", "E11.621"),
        (ICD, "I96", "I96"),
        (ICD, "I70.22", "I70.22"),
        (ICD, "L97412", "L97.412"),  # valid even though in no value set
        (ICD, "I70.299999", None),  # well-formed but not a CMS code
        (CPT, " 27590 ", "27590"),
        (CPT, "3044f", "3044F"),
        (SNOMED, "79733001", "79733001"),
        (SNOMED, "15760351000119105", "15760351000119105"),
        (LOINC, "4548-4", "4548-4"),
    ],
)
def test_normalize(system: CodeSystem, code: str, expected: str | None) -> None:
    assert codes.normalize(system, code) == expected


def test_labels() -> None:
    assert codes.label(ICD, "I70.221") == (
        "Atherosclerosis of native arteries of extremities with rest pain, right leg"
    )
    assert codes.label(ICD, "E11621") == "Type 2 diabetes mellitus with foot ulcer"
    assert codes.label(CPT, "27880") == "Below-knee amputation"
    assert codes.label(CPT, "99213") is None
    assert codes.label(SNOMED, "79733001") == "Above-knee amputation"
    assert codes.label(SNOMED, "22298006") is None
    assert codes.label(LOINC, "4548-4") == "Hemoglobin A1c/Hemoglobin.total in Blood"
    assert codes.label(LOINC, "2160-0") is None


def test_cpt_labels_are_short_own_words_and_unique() -> None:
    labels = [entry.label for entry in cpt.CPT_TABLE.values()]
    assert len(set(labels)) == len(labels)
    for text in labels:
        assert 0 < len(text) <= 80
        # The AMA long descriptors open with these phrases; ours never do.
        assert not text.startswith(("Revascularization, endovascular", "Bypass graft, with"))


def test_amputation_codes_cover_the_cds_gate_ranges() -> None:
    amputations = codes.value_set("major_amputation", "CPT") | codes.value_set(
        "minor_amputation", "CPT"
    )
    assert amputations == {
        "27590", "27591", "27592", "27594", "27596", "27598",  # thigh, knee
        "27880", "27881", "27882", "27884", "27886", "27888", "27889",  # leg, ankle
        "28800", "28805", "28810", "28820", "28825",  # foot, toe
        "27295", "27290",  # hip, hindquarter
    }  # fmt: skip
    assert codes.value_set("minor_amputation", "CPT") >= cpt.ANKLE_LEVEL_AMPUTATION_CPT
    assert codes.value_set("major_amputation", "CPT") >= cpt.AMPUTATION_REVISION_CPT
    assert codes.value_set("vascular_study", "CPT") == {
        "93922", "93923", "93924", "93925", "93926", "93970", "93971",
    }  # fmt: skip


def test_describe_explains_with_reasons_and_sources() -> None:
    answer = codes.describe("ICD10CM", "e11621")
    assert answer.value == {"diabetes", "diabetic_foot_ulcer"}
    assert answer.reasons == (
        "ICD10CM E11.621 (Type 2 diabetes mellitus with foot ulcer) is in diabetes",
        "ICD10CM E11.621 (Type 2 diabetes mellitus with foot ulcer) is in diabetic_foot_ulcer",
    )
    assert "codes_and_epidemiology 1.2" in answer.source
    assert answer.source.endswith(icd10cm.CMS_RELEASE)
    assert codes.describe("CPT", "27590").source == cpt.SOURCE
    assert codes.describe("SNOMED", "79733001").source == snomed.SOURCE
    assert codes.describe("LOINC", "4548-4").source == loinc.SOURCE
    unknown = codes.describe("CPT", "99213")
    assert unknown.value == frozenset()
    assert unknown.reasons == ("CPT 99213 is in no LimbGuard value set",)
    malformed = codes.describe("LOINC", "4548-5")
    assert malformed.reasons == ("'4548-5' is not a well-formed LOINC code",)


def test_fhir_system_uris() -> None:
    assert CodeSystem.ICD10CM.fhir_uri == "http://hl7.org/fhir/sid/icd-10-cm"
    assert CodeSystem.CPT.fhir_uri == "http://www.ama-assn.org/go/cpt"
    assert CodeSystem.SNOMED.fhir_uri == "http://snomed.info/sct"
    assert CodeSystem.LOINC.fhir_uri == "http://loinc.org"


# --- check digits and table integrity ------------------------------------------------


def test_every_snomed_id_in_the_table_passes_its_verhoeff_check() -> None:
    for code in snomed.SNOMED_TABLE:
        assert snomed.canonical(code) == code
    assert snomed.verhoeff_valid("2363")  # Verhoeff's worked example: 236 -> check 3
    assert not snomed.verhoeff_valid("2364")


def test_every_loinc_code_in_the_table_passes_its_check_digit() -> None:
    for code in loinc.LOINC_TABLE:
        assert loinc.canonical(code) == code
    assert loinc.check_digit("12345") == 5  # the LOINC users' guide example


@pytest.mark.parametrize("bad", ["I70-I79", "9", "I70.2x", "L97.999"])
def test_an_icd_rule_naming_a_non_cms_code_fails_loudly(bad: str) -> None:
    with pytest.raises(ValueError, match="not a CMS code"):
        icd10cm.expand(icd10cm.IcdRule(include=(bad,), source="test"))


def test_the_cms_tables_load_lazily_and_without_django() -> None:
    script = (
        "import sys\n"
        "from limbguard.vascular import codes\n"
        "assert 'simple_icd_10_cm' not in sys.modules\n"
        "assert codes.categorize('CPT', '27590') == {'major_amputation'}\n"
        "assert 'simple_icd_10_cm' not in sys.modules\n"
        "assert codes.categorize('ICD10CM', 'I70221') == {'pad', 'clti'}\n"
        "assert 'simple_icd_10_cm' in sys.modules\n"
        "assert not any(name.startswith('django') for name in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", script], check=True)
