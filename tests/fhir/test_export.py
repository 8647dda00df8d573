"""`limbguard export`: sorted Bulk NDJSON, audited, and export → import → export is
the identity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.db.models import Model
from fhir.resources.R4B import get_fhir_model_class

from limbguard.accounts.models import AuditAction, AuditEvent
from limbguard.fhir.exporter import RESOURCE_TYPES, export_registry, staging_resources
from limbguard.fhir.importer import import_paths
from limbguard.fhir.incoming import map_observation
from limbguard.registry import services
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
from limbguard.testing import Personas, make_patient

pytestmark = pytest.mark.django_db


def _files(folder: Path) -> dict[str, bytes]:
    return {kind: (folder / f"{kind}.ndjson").read_bytes() for kind in RESOURCE_TYPES}


def _wipe() -> None:
    """An empty registry (the audit trail refuses deletes, so it is left alone)."""
    models: list[type[Model]] = [
        LabResult, Observation, Procedure, Problem, Encounter, Limb, RiskProfile, PatientIdentifier,
        Patient,
    ]  # fmt: skip
    for model in models:
        model._default_manager.all().delete()


def test_round_trip_is_the_identity(personas: Personas, synth_export: Path, tmp_path: Path) -> None:
    # Data from the importer and from the UI's services alike.
    import_paths([synth_export], acting_user=None)
    patient = make_patient(personas.centers["valley"], mrn="UI-1", given_name="Ana María")
    services.do_add_problem(
        acting_user=None,
        patient=patient,
        system="ICD10CM",
        code="I70.222",
        display="PAD",
        laterality="left",
        onset_date=dt.date(2025, 1, 2),
    )
    services.do_add_lab(
        acting_user=None,
        patient=patient,
        kind="egfr",
        value=Decimal(42),
        observed_on=dt.date(2025, 3, 1),
    )
    first = export_registry(tmp_path / "one", acting_user=None)
    assert first.patients == 121
    _wipe()
    report = import_paths([tmp_path / "one"], acting_user=None)
    assert report.rejected == 0, report.errors[:3]
    export_registry(tmp_path / "two", acting_user=None)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")


def test_every_exported_resource_is_valid_r4(
    personas: Personas, synth_export: Path, tmp_path: Path
) -> None:
    import_paths([synth_export], acting_user=None)
    summary = export_registry(tmp_path, acting_user=None)
    for kind in RESOURCE_TYPES:
        lines = (tmp_path / kind / "").parent.joinpath(f"{kind}.ndjson").read_bytes().splitlines()
        assert len(lines) == summary.counts[kind]
        for line in lines:
            get_fhir_model_class(kind).model_validate(orjson.loads(line))
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    assert {o["type"]: o["count"] for o in manifest["output"]} == summary.counts


def test_each_exported_patient_is_audited(personas: Personas, tmp_path: Path) -> None:
    make_patient(personas.centers["harbor"])
    make_patient(personas.centers["inland"])
    call_command("export", "--out", str(tmp_path), "--center", "inland", "--no-progress")
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert exports.count() == 1
    assert exports.get().patient_id == Patient.objects.get(home_center__slug="inland").pk


def test_staging_results_use_the_limbguard_code_system() -> None:
    values = {
        "wifi_stage": 3,
        "w": 2,
        "i": 1,
        "fi": 1,
        "ceap": "C6,s Ep As Pr",
        "glass_stage": "II",
    }
    resources = staging_resources(7, "p-1", "2026-01-02", "left", values)
    codes = [r["code"]["coding"][0] for r in resources]
    assert {c["system"] for c in codes} == {"http://limbguard.org/fhir/CodeSystem/limbguard"}
    assert [c["code"] for c in codes] == ["wifi-stage", "ceap", "glass-stage"]
    for resource in resources:
        get_fhir_model_class("Observation").model_validate(resource)
    # What the importer keeps of a staging observation is what the exporter writes back.
    wifi = map_observation(resources[0])
    assert wifi.fields["value_decimal"] == 3
    assert [c["value"] for c in wifi.fields["components"]] == ["2", "1", "1"]
