"""The official SQL on FHIR v2 test suite on both engines (``../shared/datasets/
sql-on-fhir-v2-tests``, FHIR/sql-on-fhir-v2 commit 49fc1ad, MIT). Each run writes the
spec's ``test_report.json`` under ``artifacts/screening/<engine>/``. Every case tagged
``shareable`` must pass; the others (``experimental``) are listed with their reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from limbguard.screening import conformance
from limbguard.screening.engines import DuckDBEngine, Engine, SparkEngine
from tests.screening.conftest import SOF_TESTS, need

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screening"


def _run(engine: Engine) -> list[conformance.CaseResult]:
    results = list(conformance.run_suite(engine, need(SOF_TESTS)))
    out = ARTIFACTS / engine.name / "test_report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    conformance.write_report(results, out)
    report = json.loads(out.read_text())
    assert set(report) == {p.name for p in SOF_TESTS.glob("*.json")}
    for file_report in report.values():
        for entry in file_report["tests"]:
            assert set(entry) == {"name", "result"}
            assert isinstance(entry["result"]["passed"], bool)
            assert entry["result"]["passed"] or entry["result"]["error"]
    return results


def _check(results: list[conformance.CaseResult]) -> None:
    failed_shareable = [
        f"{r.file}: {r.title}: {r.error}" for r in results if not r.passed and "shareable" in r.tags
    ]
    assert failed_shareable == []
    shareable = [r for r in results if "shareable" in r.tags]
    assert len(shareable) >= 123  # the suite's shareable cases at commit 49fc1ad
    for result in results:
        if not result.passed:
            assert result.error  # the reason is in the report


def test_duckdb_passes_every_shareable_case() -> None:
    engine = DuckDBEngine()
    try:
        _check(_run(engine))
    finally:
        engine.close()


@pytest.mark.spark
def test_spark_passes_every_shareable_case(spark: Any) -> None:
    engine = SparkEngine(session=spark)
    try:
        _check(_run(engine))
    finally:
        engine.close()
