"""The explicit code tables of the FHIR mapping are complete and agree with the value
sets (STYLE: each mapping to an external code system is one table with a test)."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class

from limbguard.fhir import derive
from limbguard.fhir import terminology as term
from limbguard.registry.models import MINOR_LEVELS
from limbguard.vascular import codes


def test_every_amputation_cpt_has_a_level_of_the_right_class() -> None:
    for category, minor in (("minor_amputation", True), ("major_amputation", False)):
        for code in codes.value_set(category, "CPT") - derive.REVISIONS:
            level = derive.AMPUTATION_LEVEL_BY_CPT[code]
            assert (level in MINOR_LEVELS) is minor, code


def test_amputation_snomed_levels_agree_with_the_value_sets() -> None:
    for code, level in derive.AMPUTATION_LEVEL_BY_SNOMED.items():
        expected = "minor_amputation" if level in MINOR_LEVELS else "major_amputation"
        assert expected in codes.categorize("SNOMED", code), code


def test_diabetes_and_ckd_tables() -> None:
    assert derive.diabetes_type("ICD10CM", "E10.9") == "type1"
    assert derive.diabetes_type("ICD10CM", "E11.621") == "type2"
    assert derive.diabetes_type("SNOMED", "44054006") == "type2"
    assert derive.diabetes_type("ICD10CM", "I70.221") is None
    for code in derive.CKD_BY_ICD:
        assert "ckd" in codes.categorize("ICD10CM", code), code
    assert derive.ckd("ICD10CM", "N18.6") == ("G5", True)


def test_smoking_answers_are_smoking_status_codes() -> None:
    for code, status in derive.SMOKING_BY_SNOMED.items():
        found = codes.categorize("SNOMED", code)
        assert "smoking_status" in found, code
        assert ("smoking" in found) == (status == "current") or code == "77176002"


def test_the_limbguard_code_system_is_a_valid_r4_resource() -> None:
    resource = term.code_system_resource()
    get_fhir_model_class("CodeSystem").model_validate(resource)
    assert resource["url"] == term.CODE_SYSTEM
    assert {c["code"] for c in resource["concept"]} >= {"abi", "tbi", "wifi-stage", "ceap"}
