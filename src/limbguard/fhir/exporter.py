"""`limbguard export`: the registry as a FHIR Bulk Data export (NDJSON and manifest).

Files: Patient, Encounter, Condition, Observation (labs, observations, and the staging
results of assessments: WIfI stage with its grades, CEAP, GLASS, under LimbGuard's code
system), Procedure; one resource per line, each file sorted by (patient id, resource
id), so the output depends on the data only, never on database keys or insertion
order. Export → import into an empty database → export gives identical NDJSON files.

Streaming: rows are read in chunks (`iterator()`), written and dropped. Every patient
exported gets an EXPORT row in the audit trail (a read of their data).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import orjson
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from limbguard.accounts.models import User
from limbguard.fhir import outgoing
from limbguard.fhir import terminology as term
from limbguard.registry import bulk
from limbguard.registry.models import (
    Encounter,
    LabResult,
    Observation,
    Patient,
    PatientIdentifier,
    Problem,
    Procedure,
)

RESOURCE_TYPES: Final = ("Patient", "Encounter", "Condition", "Observation", "Procedure")
CHUNK: Final = 2000
Row = tuple[str, str, dict[str, Any]]  # (patient fhir id, resource id, resource)


@dataclass(frozen=True)
class ExportSummary:
    counts: dict[str, int]
    patients: int


def _patients(patients: QuerySet[Patient]) -> Iterator[Row]:
    queryset = patients.select_related("home_center").order_by("fhir_id")
    batch: list[Patient] = []

    def flush() -> Iterator[Row]:
        identifiers: dict[int, list[PatientIdentifier]] = {}
        for row in PatientIdentifier.objects.filter(patient__in=batch):
            identifiers.setdefault(row.patient_id, []).append(row)
        for patient in batch:
            resource = outgoing.patient_resource(patient, identifiers.get(patient.pk, []))
            yield patient.fhir_id, patient.fhir_id, resource

    for patient in queryset.iterator(chunk_size=CHUNK):
        batch.append(patient)
        if len(batch) >= CHUNK:
            yield from flush()
            batch = []
    yield from flush()


def _records(
    queryset: QuerySet[Any],
    build: Callable[[Any], dict[str, Any]],
) -> Iterator[Row]:
    ordered = queryset.annotate(patient_fhir_id=F("patient__fhir_id")).order_by(
        "patient__fhir_id", "fhir_id"
    )
    for obj in ordered.iterator(chunk_size=CHUNK):
        yield obj.patient_fhir_id, obj.fhir_id, build(obj)


def _with_encounter(queryset: QuerySet[Any]) -> QuerySet[Any]:
    annotated: QuerySet[Any] = queryset.annotate(encounter_fhir_id=F("encounter__fhir_id"))
    return annotated


def _staging(patients: QuerySet[Patient]) -> Iterator[Row]:
    """Observations for the latest staging of each assessment (issue 5's models)."""
    from limbguard.assessments.models import Assessment, StagingSnapshot

    latest = StagingSnapshot.objects.filter(assessment=OuterRef("pk")).order_by("-id")
    assessments = (
        Assessment.objects.filter(patient__in=patients, entered_in_error=False)
        .annotate(
            outputs=Subquery(latest.values("outputs")[:1]),
            patient_fhir_id=F("patient__fhir_id"),
            side=F("limb__side"),
        )
        .exclude(outputs=None)
    )
    rows: list[Row] = []
    for assessment in assessments.iterator(chunk_size=CHUNK):
        values = (assessment.outputs or {}).get("values", {})
        for resource in staging_resources(
            assessment.pk,
            assessment.patient_fhir_id,
            assessment.visit_date.isoformat(),
            assessment.side,
            values,
        ):
            rows.append((assessment.patient_fhir_id, resource["id"], resource))
    rows.sort(key=lambda row: (row[0], row[1]))
    yield from rows


def staging_resources(
    assessment_id: int, patient_fhir_id: str, date: str, side: str, values: dict[str, Any]
) -> list[dict[str, Any]]:
    """WIfI stage (with its W, I, fI grades as components), CEAP and GLASS stage."""

    def base(code: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": f"lg-assessment-{assessment_id}-{code}",
            "status": "final",
            "category": [{"coding": [term.coding(term.OBSERVATION_CATEGORY, "exam")]}],
            "code": {"coding": [term.concept(code)]},
            "subject": {"reference": f"Patient/{patient_fhir_id}"},
            "effectiveDateTime": date,
            "bodySite": {
                "coding": [
                    term.coding(
                        term.SNOMED,
                        term.LATERALITY_SNOMED[side],
                        term.LATERALITY_DISPLAY[side],
                    )
                ]
            },
        }

    out = []
    if values.get("wifi_stage") is not None:
        wifi = base("wifi-stage")
        wifi["valueInteger"] = values["wifi_stage"]
        wifi["component"] = [
            {"code": {"coding": [term.concept(code)]}, "valueInteger": values[key]}
            for code, key in (
                ("wifi-wound", "w"),
                ("wifi-ischemia", "i"),
                ("wifi-foot-infection", "fi"),
            )
            if values.get(key) is not None
        ]
        out.append(wifi)
    if values.get("ceap"):
        ceap = base("ceap")
        ceap["valueString"] = values["ceap"]
        out.append(ceap)
    if values.get("glass_stage"):
        glass = base("glass-stage")
        glass["valueString"] = values["glass_stage"]
        out.append(glass)
    return out


def _observations(patients: QuerySet[Patient]) -> Iterator[Row]:
    labs = _records(
        LabResult.objects.filter(patient__in=patients),
        lambda lab: outgoing.lab_resource(lab, lab.patient_fhir_id),
    )
    observations = _records(
        _with_encounter(Observation.objects.filter(patient__in=patients)),
        lambda o: outgoing.observation_resource(o, o.patient_fhir_id, o.encounter_fhir_id),
    )
    return heapq.merge(labs, observations, _staging(patients), key=lambda row: (row[0], row[1]))


def export_registry(
    out: Path,
    *,
    acting_user: User | None,
    patients: QuerySet[Patient] | None = None,
    ip_address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write `patients` (default: all) and their records to `out` as Bulk NDJSON."""
    patients = patients if patients is not None else Patient.objects.all()
    out.mkdir(parents=True, exist_ok=True)
    streams: dict[str, Iterable[Row]] = {
        "Patient": _patients(patients),
        "Encounter": _records(
            Encounter.objects.filter(patient__in=patients),
            lambda e: outgoing.encounter_resource(e, e.patient_fhir_id),
        ),
        "Condition": _records(
            Problem.objects.filter(patient__in=patients),
            lambda p: outgoing.condition_resource(p, p.patient_fhir_id),
        ),
        "Observation": _observations(patients),
        "Procedure": _records(
            _with_encounter(Procedure.objects.filter(patient__in=patients)),
            lambda p: outgoing.procedure_resource(p, p.patient_fhir_id, p.encounter_fhir_id),
        ),
    }
    counts = dict.fromkeys(RESOURCE_TYPES, 0)
    written = 0
    transaction_time = timezone.now()
    for kind, rows in streams.items():
        with (out / f"{kind}.ndjson").open("wb", buffering=1 << 20) as handle:
            written = _write(handle, rows, kind, counts, written, progress)
    bulk.do_record_export(
        acting_user=acting_user,
        patient_ids=list(patients.values_list("pk", flat=True)),
        summary=f"FHIR Bulk export to {out.name}",
        ip_address=ip_address,
    )
    manifest = {
        "transactionTime": outgoing.instant(transaction_time),
        "request": "limbguard export",
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]}
            for kind in RESOURCE_TYPES
        ],
        "error": [],
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    return ExportSummary(counts=counts, patients=counts["Patient"])


def _write(
    handle: IO[bytes],
    rows: Iterable[Row],
    kind: str,
    counts: dict[str, int],
    written: int,
    progress: Callable[[int], None] | None,
) -> int:
    for _, _, resource in rows:
        handle.write(orjson.dumps(resource) + b"\n")
        counts[kind] += 1
        written += 1
        if progress is not None and written % 1000 == 0:
            progress(written)
    return written
