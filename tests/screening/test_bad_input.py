"""Bad input (issue 9): malformed lines are counted and reported as file:line, never
dropped silently; a missing resource type lets the screen run and says which rules
could not be evaluated; unknown fields are ignored; an unreachable Spark master fails
within seconds with a clear message."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import time
from pathlib import Path

import pytest

from limbguard.screening.engines import EngineError, check_master, open_engine
from limbguard.screening.inputs import InputError, bad_lines
from limbguard.screening.screen import ScreenResult, run_screen
from limbguard.synth.export import write_export

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    write_export(out, patients=120, seed=5, as_of=AS_OF)
    (out / "manifest.json").unlink()  # files are found by name, the date is given
    return out


def _screen(folder: Path, out: Path) -> ScreenResult:
    engine = open_engine("duckdb")
    try:
        return run_screen(engine, folder, out, as_of=AS_OF)
    finally:
        engine.close()


def test_malformed_lines_are_counted_and_reported(clean: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(clean, broken)
    patients = (broken / "Patient.ndjson").read_text().splitlines()
    bad = [
        '{"resourceType": "Patient", "id": "cut-off"',  # truncated
        "[1, 2, 3]",  # JSON, not an object
        '{"resourceType": "Observation", "id": "wrong-file"}',  # wrong type
    ]
    lines = [patients[0], bad[0], patients[1], "", bad[1], *patients[2:], bad[2]]
    (broken / "Patient.ndjson").write_text("\n".join(lines) + "\n")
    conditions = (broken / "Condition.ndjson").read_bytes()
    (broken / "Condition.ndjson").unlink()
    with gzip.open(broken / "Condition.ndjson.gz", "wb") as packed:
        packed.write(conditions + b"not json at all\n")
    condition_line = conditions.count(b"\n") + 1

    baseline = _screen(clean, tmp_path / "baseline")
    result = _screen(broken, tmp_path / "out")

    assert result.malformed == 4
    assert result.malformed_lines == [
        f"{broken / 'Patient.ndjson'}:2: not JSON (unexpected end of data)",
        f"{broken / 'Patient.ndjson'}:5: not a JSON object",
        f"{broken / 'Patient.ndjson'}:{len(lines)}: resourceType 'Observation', expected 'Patient'",
        f"{broken / 'Condition.ndjson.gz'}:{condition_line}: "
        "not JSON (invalid literal, expected 'null')",
    ]
    written = (tmp_path / "out" / "malformed-lines.txt").read_text().splitlines()
    assert written == result.malformed_lines
    assert "4 malformed lines" in result.line()
    # Everything else was read: the same people, the same worklist.
    assert result.resources == baseline.resources
    assert result.worklist == baseline.worklist


def test_missing_resource_types_run_with_what_exists(clean: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("Patient.ndjson", "Condition.ndjson"):
        shutil.copy(clean / name, partial / name)
    result = _screen(partial, tmp_path / "out")
    assert result.missing_types == ["Observation", "Procedure", "Encounter"]
    assert any("quality measure" in rule for rule in result.not_evaluated)
    assert any("latest ABI" in rule for rule in result.not_evaluated)
    assert result.at_risk > 0  # diagnoses alone still find people at risk
    assert result.evaluated == 0  # no procedures or observations: nobody looks evaluated
    assert "absent: Observation, Procedure, Encounter" in result.line()


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "birthDate": "1950-01-01",
        "somethingNew": {"deep": [1, 2, {"x": None}]},
        "name": [{"family": "Ng", "given": ["Al"], "futureField": True}],
    }
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1", "unknown": 1},
        "code": {
            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I70.221", "x": [1]}]
        },
        "_code": {"extension": []},
    }
    (folder / "Patient.ndjson").write_text(json.dumps(patient) + "\n")
    (folder / "Condition.ndjson").write_text(json.dumps(condition) + "\n")
    result = _screen(folder, tmp_path / "out")
    assert result.malformed == 0
    assert [(r["patient"], r["family"], r["tier_rule"]) for r in result.worklist] == [
        ("p1", "Ng", "T1-CLTI")
    ]
    assert result.worklist[0]["symptoms"] == "rest_pain"  # I70.22x: with rest pain


def test_codes_in_lower_case_or_with_spaces_match_as_written_in_the_value_sets(
    clean: Path, tmp_path: Path
) -> None:
    sloppy = tmp_path / "sloppy"
    shutil.copytree(clean, sloppy)
    changed = 0
    for kind in ("Condition", "Observation", "Procedure"):
        lines = []
        for line in (sloppy / f"{kind}.ndjson").read_text().splitlines():
            resource = json.loads(line)
            for coding in resource.get("code", {}).get("coding", []):
                if any(c.isalpha() for c in coding["code"]):
                    coding["code"] = f" {coding['code'].swapcase()}  "
                    changed += 1
            lines.append(json.dumps(resource))
        (sloppy / f"{kind}.ndjson").write_text("\n".join(lines) + "\n")
    assert changed > 100
    baseline = _screen(clean, tmp_path / "baseline")
    result = _screen(sloppy, tmp_path / "out")
    assert result.at_risk == baseline.at_risk > 0
    assert result.evaluated == baseline.evaluated > 0
    assert result.measure == baseline.measure
    assert result.worklist == baseline.worklist


def test_a_resource_larger_than_the_default_read_buffer_is_read(tmp_path: Path) -> None:
    # DuckDB reads NDJSON in 32 MiB buffers by default; a 40 MiB Patient (a photo
    # inline) makes the engine read that file again with room for larger resources.
    folder = tmp_path / "export"
    folder.mkdir()
    photo = {"contentType": "image/jpeg", "data": "A" * (40 * 2**20)}
    patients = [
        {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ng"}]},
        {"resourceType": "Patient", "id": "p2", "name": [{"family": "Ito"}], "photo": [photo]},
    ]
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p2"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I96"}]},
    }
    (folder / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
    (folder / "Condition.ndjson").write_text(json.dumps(condition) + "\n")
    result = _screen(folder, tmp_path / "out")
    assert result.malformed == 0
    assert result.resources["Patient"] == 2
    assert [(r["patient"], r["family"], r["tier_rule"]) for r in result.worklist] == [
        ("p2", "Ito", "T1-GANGRENE")
    ]


def test_a_value_of_another_json_type_reads_as_null(tmp_path: Path) -> None:
    # DuckDB reads a file strictly first and, when that fails, again leniently: a value
    # of another JSON type than the view reads (a string subject, an object where FHIR
    # has an array) is NULL there, the rest of the resource and the file are read.
    folder = tmp_path / "export"
    folder.mkdir()
    patients = [
        {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ng"}]},
        {"resourceType": "Patient", "id": "p2", "name": {"family": "Ito"}},
    ]
    coding = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I96"}
    conditions = [
        {"resourceType": "Condition", "id": "c1", "subject": "Patient/p1", "code": {}},
        {
            "resourceType": "Condition",
            "id": "c2",
            "subject": {"reference": "Patient/p2"},
            "code": {"coding": [coding]},
        },
    ]
    (folder / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
    (folder / "Condition.ndjson").write_text("".join(json.dumps(c) + "\n" for c in conditions))
    result = _screen(folder, tmp_path / "out")
    assert result.malformed == 0
    assert result.resources == {
        "Patient": 2,
        "Condition": 2,
        "Observation": 0,
        "Procedure": 0,
        "Encounter": 0,
    }
    assert [(r["patient"], r["family"], r["tier_rule"]) for r in result.worklist] == [
        ("p2", None, "T1-GANGRENE")
    ]


def test_no_input_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        _screen(tmp_path / "nowhere", tmp_path / "out")


def test_bad_lines_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "Procedure.ndjson"
    path.write_text('\n  \n{"resourceType": "Procedure"}\n{"resourceType": 5}\n')
    assert [(b.line, b.reason) for b in bad_lines([path], "Procedure")] == [
        (4, "resourceType 5, expected 'Procedure'")
    ]


@pytest.mark.parametrize("master", ["spark://127.0.0.1:1", "spark://127.0.0.1:1,127.0.0.1:2"])
def test_an_unreachable_spark_master_fails_within_seconds(master: str) -> None:
    started = time.perf_counter()
    with pytest.raises(EngineError, match="unreachable"):
        open_engine("spark", master=master)
    assert time.perf_counter() - started < 10


def test_a_malformed_master_url_is_refused() -> None:
    with pytest.raises(EngineError, match="--master"):
        check_master("mesos://somewhere:5050")
