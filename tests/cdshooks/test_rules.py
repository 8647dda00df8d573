"""The order check's pure rules (no Django needed): codes, dates, laterality, evidence.

Code sources: the library's value sets (limbguard.vascular.codes; codes_and_epidemiology
sections 2.4 and 2.5), FHIR R4 ValueSet bodysite-laterality.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.cdshooks import rules
from limbguard.treatment import gate
from limbguard.vascular import codes
from limbguard.vascular.codes.vocabulary import CodeSystem

CPT = CodeSystem.CPT.fhir_uri
SNOMED = CodeSystem.SNOMED.fhir_uri
TODAY = dt.date(2026, 11, 24)


def _order(system: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": "o",
        "status": "draft",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p"},
        **extra,
    }


@pytest.mark.parametrize("system", [CodeSystem.CPT, CodeSystem.SNOMED])
@pytest.mark.parametrize("category", ["major_amputation", "minor_amputation"])
def test_every_amputation_code_of_the_library_triggers(system: CodeSystem, category: str) -> None:
    for code in codes.value_set(category, system.value):
        (order,) = rules.amputation_orders([_order(system.fhir_uri, code)], "p")
        assert order.major == (category == "major_amputation")


def test_issue_code_ranges_are_in_the_value_sets() -> None:
    """Issue 8 names CPT 27590-27598, 27880-27889, 28800-28825 and 27295."""
    amputations = codes.value_set("major_amputation", "CPT") | codes.value_set(
        "minor_amputation", "CPT"
    )
    for code in ("27590", "27598", "27880", "27889", "28800", "28825", "27295"):
        assert code in amputations


def test_stu3_procedure_request_triggers() -> None:
    order = {**_order(CPT, "27880"), "resourceType": "ProcedureRequest"}
    assert rules.amputation_orders([order], "p")


def test_studies_and_the_suggested_codes_come_from_the_value_set() -> None:
    studies = codes.value_set("vascular_study", "CPT")
    assert studies >= rules.VENOUS_STUDY_CPT
    assert studies >= rules.ARTERIAL_DUPLEX_CPT
    assert set(rules.SUGGESTED_STUDIES_CPT) <= studies - rules.VENOUS_STUDY_CPT
    assert rules.evaluation_codes()[CPT] == studies - rules.VENOUS_STUDY_CPT


def test_default_window_is_the_gate_imaging_window(settings: Any) -> None:
    assert settings.LIMBGUARD_CDS_EVALUATION_DAYS == gate.IMAGING_WINDOW_DAYS == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-02", dt.date(2026, 11, 2)),
        ("2026-11-02T23:30:00-08:00", dt.date(2026, 11, 2)),
        ("2026-11", dt.date(2026, 11, 1)),
        ("2026", dt.date(2026, 1, 1)),
        ("2026-02-30", None),
        ("yesterday", None),
        (None, None),
        (20261102, None),
    ],
)
def test_fhir_dates_take_their_earliest_day(text: object, expected: dt.date | None) -> None:
    assert rules.fhir_date(text) == expected


@given(st.text(max_size=40))
def test_fhir_date_never_raises(text: str) -> None:
    result = rules.fhir_date(text)
    assert result is None or isinstance(result, dt.date)


@pytest.mark.parametrize(
    ("extra", "side"),
    [
        ({"bodySite": [{"coding": [{"system": SNOMED, "code": "419161000"}]}]}, "left"),
        ({"bodySite": [{"coding": [{"system": SNOMED, "code": "24028007"}]}]}, "right"),
        ({"bodySite": [{"coding": [{"system": SNOMED, "code": "51440002"}]}]}, "both"),
        ({"bodySite": [{"text": "Right foot"}]}, "right"),
        ({"code": {"text": "BKA left"}}, "left"),
        ({}, None),
    ],
)
def test_laterality(extra: dict[str, Any], side: str | None) -> None:
    assert rules.side_of(extra) == side


def test_a_resource_about_another_patient_is_ignored() -> None:
    assert rules.about_patient({"subject": {"reference": "Patient/p"}}, "p")
    assert rules.about_patient({"subject": {"reference": "https://x/fhir/Patient/p"}}, "p")
    assert not rules.about_patient({"subject": {"reference": "Patient/q"}}, "p")
    assert rules.about_patient({}, "p")  # from a patient-scoped search


def test_evidence_window_boundaries() -> None:
    def study(on: str) -> dict[str, Any]:
        return {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"coding": [{"system": CPT, "code": "93922"}]},
            "performedDateTime": on,
        }

    since = TODAY - dt.timedelta(days=30)
    found = rules.fhir_evidence(
        procedures=[study("2026-10-25"), study("2026-10-24"), study("2026-11-25")],
        observations=[],
        consults=[],
        patient_id="p",
        since=since,
        today=TODAY,
    )
    assert [e.on for e in found] == [dt.date(2026, 10, 25)]


def test_wifi_stage_keeps_the_newest_per_side() -> None:
    def stage(value: int, on: str, side: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": rules.LIMBGUARD_CODE_SYSTEM, "code": "wifi-stage"}]},
            "valueInteger": value,
            "effectiveDateTime": on,
            "bodySite": {"coding": [{"system": SNOMED, "code": side}]},
        }

    found = rules.fhir_wifi_stages(
        [
            stage(2, "2026-10-01", "7771000"),
            stage(4, "2026-11-01", "7771000"),
            stage(9, "2026-11-02", "7771000"),
        ],
        "p",
    )
    assert [(w.side, w.stage) for w in found] == [("left", 4)]


def test_prefetch_code_filter() -> None:
    text = rules.prefetch_code_filter(("http://a", ["2", "1"]), ("http://b", ["x"]))
    assert text == "http://a|1,http://a|2,http://b|x"
