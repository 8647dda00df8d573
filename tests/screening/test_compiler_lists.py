"""where() followed by an element compiles to one pass over the list, with FHIRPath's
results: items meeting the criteria, in order, their empty elements dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from limbguard.screening.compiler import compile_view
from limbguard.screening.conformance import run_view
from limbguard.screening.engines import DuckDBEngine

VIEW: dict[str, Any] = {
    "resourceType": "https://sql-on-fhir.org/ig/StructureDefinition/ViewDefinition",
    "resource": "Patient",
    "select": [
        {
            "column": [
                {"name": "id", "path": "getResourceKey()", "type": "string"},
                {
                    "name": "phones",
                    "path": "telecom.where(system = 'phone').value",
                    "type": "string",
                    "collection": True,
                },
                {
                    "name": "first_phone",
                    "path": "telecom.where(system = 'phone').value.first()",
                    "type": "string",
                },
                {
                    "name": "mr",
                    "path": "identifier.where(type.coding.where(code = 'MR').exists()).value",
                    "type": "string",
                    "collection": True,
                },
            ]
        }
    ],
}
PATIENTS: list[dict[str, Any]] = [
    {
        "resourceType": "Patient",
        "id": "many",
        "telecom": [
            {"system": "email", "value": "a@example.org"},
            {"system": "phone"},  # no value: not an item of the result
            {"system": "phone", "value": "1"},
            {"value": "no system"},
            {"system": "phone", "value": "2"},
        ],
        "identifier": [
            {"type": {"coding": [{"code": "MR"}]}, "value": "m1"},
            {"type": {"coding": [{"code": "SS"}]}, "value": "s1"},
            {"type": {"coding": [{"code": "XX"}, {"code": "MR"}]}, "value": "m2"},
        ],
    },
    {"resourceType": "Patient", "id": "none"},
    {"resourceType": "Patient", "id": "empty", "telecom": [], "identifier": []},
    {"resourceType": "Patient", "id": "other", "telecom": [{"system": "fax", "value": "9"}]},
]


def test_where_then_an_element_reads_the_list_once() -> None:
    sql = compile_view(VIEW, "duckdb").sql("src")
    phones = sql.split(' AS "phones"')[0].rsplit('AS "id", ', 1)[1]
    assert phones.count("LIST_TRANSFORM") == 1
    assert phones.count("LIST_FILTER") == 1  # the empty values, after the one pass


def test_where_then_an_element_keeps_fhirpath_results(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    try:
        _, rows = run_view(engine, VIEW, PATIENTS, tmp_path)
    finally:
        engine.close()
    got = {row["id"]: (row["phones"], row["first_phone"], row["mr"]) for row in rows}
    assert got == {
        "many": (["1", "2"], "1", ["m1", "m2"]),
        "none": ([], None, []),
        "empty": ([], None, []),
        "other": ([], None, []),
    }
