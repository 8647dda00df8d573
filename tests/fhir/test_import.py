"""`limbguard import`: registry through the services, idempotent, atomic per batch,
audited, with a file:line report of every bad line."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.fhir import importer, reader
from limbguard.fhir import terminology as term
from limbguard.fhir.importer import import_paths
from limbguard.registry import rows
from limbguard.registry.models import (
    Encounter,
    LabResult,
    Limb,
    Observation,
    Patient,
    PatientIdentifier,
    Problem,
    Procedure,
    RiskProfile,
)
from limbguard.testing import Personas

pytestmark = pytest.mark.django_db

MODELS = (Patient, Encounter, Problem, LabResult, Observation, Procedure, PatientIdentifier)


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (*MODELS, AuditEvent, Limb, RiskProfile)}


def _write_lines(path: Path, resources: list[Any], *, raw: list[bytes] | None = None) -> Path:
    lines = [orjson.dumps(r) for r in resources] if raw is None else raw
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _patient(pid: str = "p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": term.IDENTIFIER_MRN, "value": f"MRN-{pid}"}],
        "name": [{"family": "Example", "given": ["Rosa"]}],
        "gender": "female",
        "birthDate": "1950-03-14",
        "managingOrganization": {
            "identifier": {"system": term.IDENTIFIER_CENTER, "value": "harbor"}
        },
        **extra,
    }


def _condition(cid: str, code: str, pid: str = "p1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "code": {"coding": [{"system": term.ICD10CM, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": "2024-01-05",
        **extra,
    }


def test_a_synthetic_export_lands_in_the_registry_with_an_audit_row_each(
    personas: Personas, synth_export: Path
) -> None:
    report = import_paths([synth_export], acting_user=personas["vascular_specialist"])
    assert report.rejected == 0, report.errors[:5]
    assert report.created == report.read > 600
    assert Patient.objects.count() == 120
    assert {p.home_center.slug for p in Patient.objects.select_related("home_center")} == {
        "harbor",
        "inland",
        "coastal",
        "valley",
    }
    creates = AuditEvent.objects.filter(action=AuditAction.CREATE)
    assert creates.count() == report.created
    assert set(creates.values_list("actor_name", flat=True)) == {"vascular_specialist"}
    # Derived: diabetes from the problem list, limbs from amputation procedures.
    diabetic = Problem.objects.filter(code__startswith="E1").values("patient").distinct()
    assert RiskProfile.objects.filter(patient__in=diabetic, diabetes="none").count() == 0
    for limb in Limb.objects.exclude(status="intact"):
        assert Procedure.objects.filter(patient=limb.patient, laterality=limb.side).exists()


def test_importing_twice_changes_nothing(personas: Personas, synth_export: Path) -> None:
    import_paths([synth_export], acting_user=None)
    before = _counts()
    report = import_paths([synth_export], acting_user=None)
    assert (report.created, report.updated, report.rejected) == (0, 0, 0)
    assert report.skipped == report.read
    assert _counts() == before


def test_a_changed_resource_is_updated_with_an_audit_diff(
    personas: Personas, tmp_path: Path
) -> None:
    path = _write_lines(tmp_path / "Patient.ndjson", [_patient()])
    import_paths([path], acting_user=None)
    _write_lines(path, [_patient(name=[{"family": "Example", "given": ["Rosalind"]}])])
    report = import_paths([path], acting_user=None)
    assert report.updated == 1
    patient = Patient.objects.get(fhir_id="p1")
    assert patient.given_name == "Rosalind"
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, patient_id=patient.pk).get()
    assert event.changes["given_name"] == ["Rosa", "Rosalind"]


def test_a_patient_is_matched_by_identifier_under_another_id(
    personas: Personas, tmp_path: Path
) -> None:
    other = {"system": "urn:oid:1.2.3", "value": "A-77", "type": {"coding": [{"code": "MR"}]}}
    first = _patient("first-id", identifier=[other])
    path = _write_lines(tmp_path / "Patient.ndjson", [first])
    import_paths([path], acting_user=None)
    second = _patient("second-id", identifier=[other])
    _write_lines(path, [second])
    report = import_paths([path], acting_user=None, default_center=personas.centers["harbor"])
    assert report.rejected == 0
    assert Patient.objects.count() == 1
    # A condition referring to the second id finds the same patient.
    conditions = _write_lines(
        tmp_path / "Condition.ndjson", [_condition("c1", "E11.9", "second-id")]
    )
    assert import_paths([conditions], acting_user=None).created == 1
    assert Problem.objects.get().patient.fhir_id == "first-id"


def test_malformed_input_is_reported_line_by_line(personas: Personas, tmp_path: Path) -> None:
    good = _patient()
    lines = [
        orjson.dumps(good),  # 1 ok
        b'{"resourceType": "Patient", "id": ',  # 2 malformed JSON
        orjson.dumps({**_patient("p3"), "resourceType": "Patinet"}),  # 3 wrong type
        orjson.dumps(_condition("c4", "E11.9")),  # 4 Condition in a Patient file
        orjson.dumps({**_patient("p5"), "birthDate": "1950-13-40"}),  # 5 invalid date
        orjson.dumps({**_patient("p6"), "deceasedDateTime": "2020-01-01T10:00:00"}),  # 6 naive
        b"",  # blank lines are ignored
        orjson.dumps({"id": "x"}),  # 8 no resourceType
        b'{"resourceType": "Patient", "id": "p9", "name": [{"fam',  # 9 cut off, no newline
    ]
    path = tmp_path / "Patient.000.ndjson"
    path.write_bytes(b"\n".join(lines))  # no newline at the end: a truncated file
    report = import_paths([path], acting_user=None)
    assert report.created == 1
    assert report.rejected == 7
    reasons = dict(
        line.split(": ", 1) for line in (e.removeprefix(f"{path}:") for e in report.errors)
    )
    assert reasons["2"].startswith("malformed JSON")
    assert "'Patinet'" in reasons["3"]
    assert "Condition" in reasons["4"]
    assert "Patient file" in reasons["4"]
    assert "birthDate" in reasons["5"]
    assert "deceasedDateTime" in reasons["6"]
    assert reasons["8"] == "no resourceType"
    assert "cut off" in reasons["9"]


def test_invalid_codes_and_missing_patients_are_rejected(
    personas: Personas, tmp_path: Path
) -> None:
    import_paths([_write_lines(tmp_path / "Patient.ndjson", [_patient()])], acting_user=None)
    path = _write_lines(
        tmp_path / "Condition.ndjson",
        [
            _condition("c1", "E11.9"),
            _condition("c2", "E99.99"),  # not in the CMS tables
            _condition("c3", "E11.9", "nobody"),  # missing patient
            {
                **_condition("c4", "x"),
                "code": {"coding": [{"system": term.SNOMED, "code": "123456789"}]},
            },  # bad check digit
            {**_condition("c5", "x"), "code": {"text": "free text only"}},  # skipped
            {**_condition("c6", "E11.9"), "onsetDateTime": "2024-02-30"},  # impossible date
        ],
    )
    report = import_paths([path], acting_user=None)
    assert (report.created, report.rejected, report.skipped) == (1, 4, 1)
    text = "\n".join(report.errors)
    assert f"{path}:2: Condition.code: 'E99.99' is not a valid ICD10CM code" in text
    assert f"{path}:3: Condition.subject: patient 'nobody' is not in LimbGuard" in text
    assert f"{path}:4: Condition.code: '123456789' is not a valid SNOMED" in text
    assert f"{path}:6:" in text


def test_unknown_resource_types_are_counted_not_fatal(personas: Personas, tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "mixed.ndjson",
        [
            _patient(),
            {
                "resourceType": "AllergyIntolerance",
                "id": "a1",
                "patient": {"reference": "Patient/p1"},
            },
        ],
    )
    report = import_paths([path], acting_user=None)
    assert report.rejected == 0
    assert report.unknown_types == {"AllergyIntolerance": 1}


def test_a_batch_that_fails_half_way_leaves_no_trace(
    personas: Personas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches of 3 lines; the second fails after writing its first records (the
    audit rows are the last step): nothing of it stays, the first batch does."""
    patients = [_patient(f"p{i}") for i in range(6)]
    path = _write_lines(tmp_path / "Patient.ndjson", patients)
    real = rows.append_audit_rows
    calls = {"n": 0}

    def failing(rows: list[dict[str, Any]]) -> None:
        calls["n"] += 1
        real(rows)
        if calls["n"] == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(rows, "append_audit_rows", failing)
    report = import_paths([path], acting_user=None, batch_size=3, parallel=False)
    assert report.created == 3
    assert report.rejected == 3
    assert all("batch rolled back" in e and "disk full" in e for e in report.errors)
    assert set(Patient.objects.values_list("fhir_id", flat=True)) == {"p0", "p1", "p2"}
    assert Limb.objects.count() == 6
    assert AuditEvent.objects.count() == 3


def test_a_transaction_bundle_is_all_or_nothing(personas: Personas, tmp_path: Path) -> None:
    entries = [
        {"fullUrl": "urn:uuid:0f6c1c2e-0000-4000-8000-000000000001", "resource": _patient("b1")},
        {"resource": _condition("bc1", "E11.9", "b1")},
        {"resource": _condition("bc2", "NOPE", "b1")},
    ]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps(bundle))
    report = import_paths([path], acting_user=None)
    assert report.created == 0
    assert report.rejected == 3
    assert Patient.objects.count() == 0
    # As a collection, the good entries are written and the bad one reported.
    path.write_bytes(orjson.dumps({**bundle, "type": "collection"}))
    report = import_paths([path], acting_user=None)
    assert (report.created, report.rejected) == (2, 1)
    assert f"{path}:entry 2:" in report.errors[0]


def test_bundle_references_by_full_url(personas: Personas, tmp_path: Path) -> None:
    uuid = "0f6c1c2e-0000-4000-8000-000000000009"
    patient = _patient("x")
    del patient["id"]
    condition = _condition("c9", "I70.221")
    condition["subject"] = {"reference": f"urn:uuid:{uuid}"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{uuid}", "resource": patient}, {"resource": condition}],
    }
    path = tmp_path / "b.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps(bundle)))
    report = import_paths([path], acting_user=None)
    assert report.created == 2, report.errors
    assert Problem.objects.get().patient.fhir_id == uuid


def test_gzipped_ndjson_and_the_worker_process(
    personas: Personas, synth_export: Path, tmp_path: Path
) -> None:
    for source in synth_export.glob("*.ndjson"):
        with source.open("rb") as raw, gzip.open(tmp_path / f"{source.name}.gz", "wb") as packed:
            shutil.copyfileobj(raw, packed)
    report = import_paths([tmp_path], acting_user=None, parallel=True, batch_size=200)
    assert report.rejected == 0, report.errors[:3]
    assert Patient.objects.count() == 120
    assert str(tmp_path / "ground-truth.ndjson.gz") in report.ignored_files


def test_query_count_does_not_grow_with_the_batch(personas: Personas, tmp_path: Path) -> None:
    def queries(n: int) -> int:
        path = _write_lines(
            tmp_path / f"Patient{n}.ndjson", [_patient(f"q{n}-{i}") for i in range(n)]
        )
        with CaptureQueriesContext(connection) as captured:
            import_paths([path], acting_user=None, batch_size=1000)
        return len(captured)

    assert queries(50) == queries(5)


def test_the_command_reports_and_fails_on_rejections(
    personas: Personas, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_lines(tmp_path / "Patient.ndjson", [_patient()], raw=[b"{not json"])
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", str(path), "--no-progress")
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert f"{path}:1: malformed JSON" in captured.err
    assert "rejected 1" in captured.out
    path.write_bytes(orjson.dumps(_patient()) + b"\n")
    call_command("import", str(path), "--no-progress", "--json")
    assert orjson.loads(capsys.readouterr().out)["created"] == 1


SYNTHEA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "synthea-bulk-10"


@pytest.mark.skipif(not SYNTHEA.is_dir(), reason="../shared/datasets/synthea-bulk-10 is absent")
def test_the_real_synthea_export_imports(personas: Personas) -> None:
    report = import_paths([SYNTHEA], acting_user=None, default_center=personas.centers["harbor"])
    assert report.rejected == 0, report.errors[:5]
    assert Patient.objects.count() == 13
    assert report.by_type["Condition"]["created"] == 555
    assert report.by_type["Procedure"]["created"] == 2056
    assert report.by_type["Encounter"]["created"] == 1215
    assert report.unknown_types["MedicationRequest"] == 1745
    assert Patient.objects.filter(status="deceased").exists()
    # SSNs are not kept (data minimisation); other identifiers are.
    assert not PatientIdentifier.objects.filter(system="http://hl7.org/fhir/sid/us-ssn").exists()
    again = import_paths([SYNTHEA], acting_user=None, default_center=personas.centers["harbor"])
    assert (again.created, again.updated, again.rejected) == (0, 0, 0)


def test_an_over_long_line_is_rejected_and_the_rest_imported(
    personas: Personas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines are read with a cap (16 MiB), so a file of any size keeps memory bounded."""
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 2000)
    huge = orjson.dumps(_patient("big", extension=[{"url": "x", "valueString": "a" * 5000}]))
    path = _write_lines(tmp_path / "Patient.ndjson", [], raw=[huge, orjson.dumps(_patient("ok"))])
    report = import_paths([path], acting_user=None)
    assert report.created == 1
    assert report.errors == [f"{path}:1: line longer than 2000 bytes"]


def test_a_bundle_too_large_for_one_transaction_is_refused(
    personas: Personas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "MAX_BUNDLE_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_bytes(
        orjson.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": _patient()}] * 3,
            }
        )
    )
    with pytest.raises(reader.InputError, match="too large for one Bundle"):
        import_paths([path], acting_user=None)


def test_an_import_gives_the_connection_back_with_its_own_page_cache(
    personas: Personas, tmp_path: Path
) -> None:
    def cache_size() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            (size,) = cursor.fetchone()
        return int(size)

    path = _write_lines(tmp_path / "Patient.ndjson", [_patient()])
    seen: list[int] = []
    if connection.vendor == "sqlite":
        before = cache_size()
        import_paths([path], acting_user=None, progress=lambda *_: seen.append(cache_size()))
        assert seen
        assert set(seen) == {-importer.IMPORT_PAGE_CACHE_KIB}
        assert cache_size() == before
    else:  # PostgreSQL: nothing to set, nothing sent
        with CaptureQueriesContext(connection) as captured, importer._page_cache(1024):
            pass
        assert len(captured) == 0
