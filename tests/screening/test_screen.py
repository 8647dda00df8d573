"""The screen against the synthetic cohort's known truth (issue 9 item 6): recall and
precision of the worklist must both be 100 %, and each person's risk categories, at-risk
and evaluated flags, latest ABI and major amputations must match `limbguard synth`'s
ground truth. Also: the real Synthea sample is screened, and both engines agree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from limbguard.screening import rules
from limbguard.screening.engines import DuckDBEngine, SparkEngine
from limbguard.screening.screen import ScreenResult, run_screen, to_parquet
from limbguard.synth import truth
from limbguard.synth.export import write_export
from tests.screening.conftest import SYNTHEA_BULK, need

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="session")
def export_1k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth-1k")
    write_export(out, patients=1000, seed=7, as_of=AS_OF)
    return out


@pytest.fixture(scope="session")
def duckdb_screen(export_1k: Path, tmp_path_factory: pytest.TempPathFactory) -> ScreenResult:
    engine = DuckDBEngine()
    try:
        return run_screen(engine, export_1k, tmp_path_factory.mktemp("screen-duckdb"))
    finally:
        engine.close()


def _truth(export: Path) -> list[dict[str, Any]]:
    lines = (export / truth.FILE_NAME).read_text().splitlines()
    return [json.loads(line) for line in lines]


def _parquet(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    relation = duckdb.read_parquet(str(path))
    return list(relation.columns), relation.fetchall()


def _screened(result: ScreenResult) -> dict[str, dict[str, Any]]:
    names, rows = _parquet(result.out / "screened.parquet")
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


def test_rule_sets_agree_with_the_synthetic_truth() -> None:
    assert set(rules.RISK_CATEGORIES) == set(truth.RISK_CATEGORIES)
    assert set(rules.AT_RISK_CATEGORIES) == set(truth.AT_RISK_CATEGORIES)
    assert rules.LOW_ABI == truth.LOW_ABI
    assert rules.EVALUATION_WINDOW_DAYS == truth.EVALUATION_WINDOW_DAYS
    assert rules.AMPUTATION_LOOKBACK_DAYS == truth.AMPUTATION_LOOKBACK_DAYS


def test_every_at_risk_category_has_a_tier_rule() -> None:
    named = {r.condition.removeprefix("has_") for r in rules.TIER_RULES}
    assert set(rules.AT_RISK_CATEGORIES) - {"low_abi"} <= named
    assert any("latest_abi <=" in r.condition for r in rules.TIER_RULES)
    assert all(r.source for r in rules.TIER_RULES)


def test_worklist_recall_and_precision_are_100_percent(
    duckdb_screen: ScreenResult, export_1k: Path
) -> None:
    people = _truth(export_1k)
    expected = {p["patient"] for p in people if p["unevaluated_at_risk"] and not p["deceased"]}
    found = {row["patient"] for row in duckdb_screen.worklist}
    assert expected, "the cohort must hold unevaluated people at risk"
    true_positives = len(expected & found)
    assert true_positives / len(expected) == 1.0  # recall
    assert true_positives / len(found) == 1.0  # precision
    assert duckdb_screen.malformed == 0
    assert duckdb_screen.missing_types == []


def test_each_person_matches_the_truth(duckdb_screen: ScreenResult, export_1k: Path) -> None:
    screened = _screened(duckdb_screen)
    for person in _truth(export_1k):
        row = screened[person["patient"]]
        categories = set((row["categories"] or "").split(";")) - {""}
        assert categories == set(person["risk_categories"]), person["patient"]
        assert row["at_risk"] == person["at_risk"], person["patient"]
        assert row["evaluated"] == person["evaluated"], person["patient"]
        assert row["deceased"] == (person["deceased"] is not None), person["patient"]
        last = person["last_vascular_evaluation"]
        assert (row["last_evaluation"].isoformat() if row["last_evaluation"] else None) == last
        abi = person["latest_abi"]
        if abi is None:
            assert row["latest_abi"] is None
        else:
            assert row["latest_abi"] == pytest.approx(abi["value"])
            assert row["latest_abi_date"].isoformat() == abi["date"]


def test_measure_matches_the_truth(duckdb_screen: ScreenResult, export_1k: Path) -> None:
    amputations = [a for p in _truth(export_1k) for a in p["major_amputations"]]
    overall = duckdb_screen.measure[-1]
    assert overall["year"] is None
    assert overall["facility"] is None
    assert overall["amputations"] == len(amputations) > 0
    assert overall["without_evaluation"] == sum(not a["evaluated_90d"] for a in amputations)
    by_year: dict[int, int] = {}
    for amputation in amputations:
        year = int(amputation["date"][:4])
        by_year[year] = by_year.get(year, 0) + 1
    totals = {m["year"]: m["amputations"] for m in duckdb_screen.measure if m["facility"] is None}
    assert {y: n for y, n in totals.items() if y is not None} == by_year


def test_worklist_order_and_outputs(duckdb_screen: ScreenResult) -> None:
    tiers = [row["tier"] for row in duckdb_screen.worklist]
    assert tiers == sorted(tiers)
    out = duckdb_screen.out
    group = json.loads((out / "worklist-group.json").read_text())
    assert group["resourceType"] == "Group"
    assert group["type"] == "person"
    assert group["quantity"] == len(duckdb_screen.worklist)
    assert [m["entity"]["reference"] for m in group["member"]] == [
        f"Patient/{row['patient']}" for row in duckdb_screen.worklist
    ]
    csv_rows = (out / "worklist.csv").read_text().splitlines()
    assert len(csv_rows) == len(duckdb_screen.worklist) + 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["worklist"] == len(duckdb_screen.worklist)
    assert {r["rule"] for r in summary["rules"]} == {r.rule for r in rules.TIER_RULES}
    for row in duckdb_screen.worklist:
        assert row["tier_rule"] in {r.rule for r in rules.TIER_RULES}


def test_a_shorter_window_finds_more_unevaluated(export_1k: Path, tmp_path: Path) -> None:
    engine = DuckDBEngine()
    try:
        short = run_screen(engine, export_1k, tmp_path, window_days=90)
    finally:
        engine.close()
    people = _truth(export_1k)
    at_risk = sum(p["at_risk"] for p in people)
    assert short.at_risk == at_risk
    assert len(short.worklist) > sum(p["unevaluated_at_risk"] and not p["deceased"] for p in people)


@pytest.mark.spark
def test_both_engines_give_identical_worklists_and_measures(
    spark: Any, export_1k: Path, duckdb_screen: ScreenResult, tmp_path: Path
) -> None:
    engine = SparkEngine(session=spark)
    try:
        on_spark = run_screen(engine, export_1k, tmp_path)
    finally:
        engine.close()
    assert on_spark.worklist == duckdb_screen.worklist
    assert on_spark.measure == duckdb_screen.measure
    for name in ("worklist.csv", "measure.csv"):
        assert (tmp_path / name).read_bytes() == (duckdb_screen.out / name).read_bytes()
    assert _parquet(tmp_path / "screened.parquet") == _parquet(
        duckdb_screen.out / "screened.parquet"
    )


def test_the_synthea_sample_is_screened(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    try:
        result = run_screen(engine, need(SYNTHEA_BULK), tmp_path)
    finally:
        engine.close()
    patients = len((SYNTHEA_BULK / "Patient.000.ndjson").read_text().splitlines())
    assert result.patients == patients
    assert result.resources["Condition"] > 0
    assert result.resources["Procedure"] > 0
    # The sample has no Observation file: the screen runs and says what it could not do.
    assert result.missing_types == ["Observation"]
    assert any("ABI" in rule for rule in result.not_evaluated)
    # It holds diabetes and kidney disease, but no PAD, ulcer or amputation code
    # (codes_and_epidemiology 5): nobody is at risk by these rules.
    screened = _screened(result)
    found = {c for row in screened.values() for c in (row["categories"] or "").split(";") if c}
    assert {"diabetes", "ckd"} <= found
    assert result.at_risk == 0
    assert result.worklist == []


def test_parquet_input_gives_the_same_screen(
    export_1k: Path, duckdb_screen: ScreenResult, tmp_path: Path
) -> None:
    engine = DuckDBEngine()
    try:
        written = to_parquet(engine, export_1k, tmp_path / "parquet")
        result = run_screen(engine, tmp_path / "parquet", tmp_path / "out")
    finally:
        engine.close()
    assert sorted(written) == ["Condition", "Encounter", "Observation", "Patient", "Procedure"]
    assert result.resources == duckdb_screen.resources
    assert result.worklist == duckdb_screen.worklist
    assert result.measure == duckdb_screen.measure


def test_gzipped_ndjson_gives_the_same_screen(duckdb_screen: ScreenResult, tmp_path: Path) -> None:
    write_export(tmp_path / "gz", patients=1000, seed=7, as_of=AS_OF, compress=True)
    engine = DuckDBEngine()
    try:
        result = run_screen(engine, tmp_path / "gz", tmp_path / "out")
    finally:
        engine.close()
    assert result.worklist == duckdb_screen.worklist
    assert result.measure == duckdb_screen.measure
