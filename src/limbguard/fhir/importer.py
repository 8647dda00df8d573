"""Import FHIR R4 into the registry: Bundles, Bulk NDJSON files and folders.

Pipeline, per unit of work (a batch of NDJSON lines, or one Bundle):

1. parse each line or entry (orjson), check ``resourceType`` and validate it with the
   ``fhir.resources`` R4 models (`fhir.resources.R4B`; dateTimes with a time must carry
   a zone);
2. map it to registry fields (`incoming.py`), resolve its patient and encounter
   references in bulk;
3. write it through the registry's batch services (`registry.bulk`: the same rules as
   the single-record services, one audit row per created or changed record), then the
   fields the records imply (risk factors, limb status; `derive.py`).

Steps 1-2 reject a bad line alone (``file:line: reason``); step 3 runs in one
transaction, so the unit is written whole or not at all. Matching is by resource id
(and identifiers for patients), so importing the same input twice changes nothing.
A ``transaction`` Bundle is all-or-nothing (FHIR transaction semantics); in other
Bundles and in NDJSON batches a bad entry is skipped and the rest written.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Final

import orjson
from django.db import connection, transaction

from limbguard.accounts.models import User
from limbguard.clinics.models import Center
from limbguard.fhir import derive, implied, reader
from limbguard.fhir import terminology as term
from limbguard.fhir.checking import CheckPool, Unit, check, check_lines, worth_a_worker
from limbguard.registry import bulk
from limbguard.registry.models import (
    Encounter,
    FhirRecord,
    LabResult,
    Observation,
    Patient,
    PatientIdentifier,
    Problem,
    Procedure,
)

MAX_REPORTED_ERRORS: Final = 1000
DEFAULT_BATCH: Final = 1000
IMPORT_PAGE_CACHE_KIB: Final = 64 * 1024  # SQLite, during an import (default 2 MB)
WRITE_ORDER: Final = reader.TYPE_ORDER


class _RollBack(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ImportReport:
    """What an import did. ``skipped`` counts resources already up to date, resources
    LimbGuard does not keep, and resource types it does not map (``unknown_types``)."""

    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    by_type: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    unknown_types: Counter[str] = field(default_factory=Counter)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, resource_type: str, outcome: str, n: int = 1) -> None:
        self.by_type[resource_type][outcome] += n
        if outcome in ("created", "updated", "rejected"):
            setattr(self, outcome, getattr(self, outcome) + n)
        else:
            self.skipped += n

    def summary(self) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        line = (
            f"read {self.read}, created {self.created}, updated {self.updated}, "
            f"skipped {self.skipped}, rejected {self.rejected} "
            f"in {self.seconds:.1f} s ({rate:,.0f} resources/s)"
        )
        if self.unknown_types:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.unknown_types.items()))
            line += f"; not imported (type not mapped): {kinds}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "by_type": {k: dict(v) for k, v in sorted(self.by_type.items())},
            "unknown_types": dict(self.unknown_types),
            "skip_reasons": dict(self.skip_reasons),
            "errors": self.errors,
            "ignored_files": self.ignored_files,
            "seconds": round(self.seconds, 3),
        }


class Importer:
    """Runs imports with one acting user and settings; `run()` may be called repeatedly."""

    def __init__(
        self,
        *,
        acting_user: User | None,
        default_center: Center | None = None,
        source_system: str = "",
        batch_size: int = DEFAULT_BATCH,
        ip_address: str | None = None,
        on_error: Callable[[str], None] | None = None,
        parallel: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size: must be at least 1")
        self.acting_user = acting_user
        self.source_system = source_system[:200]
        self.batch_size = batch_size
        self.ip_address = ip_address
        self.on_error = on_error
        self.parallel = parallel  # None: a worker process for large inputs only
        self.centers = {c.slug: c for c in Center.objects.all()}
        self.default_center = default_center
        self.report = ImportReport()

    # --- entry points ------------------------------------------------------------

    def run(
        self, paths: Iterable[Path], progress: Callable[[int, int], None] | None = None
    ) -> ImportReport:
        """Import files and folders; `progress(bytes_done, bytes_total)` as it goes."""
        started = time.perf_counter()
        sources, ignored = reader.discover(list(paths))
        self.report.ignored_files += [str(p) for p in ignored]
        total = sum(source.size for source in sources)
        parallel = self.parallel if self.parallel is not None else worth_a_worker(total)
        pool = CheckPool() if parallel else None
        done = 0
        try:
            with _page_cache(IMPORT_PAGE_CACHE_KIB):
                for source in sources:
                    if source.kind == "bundle":
                        if pool is not None:
                            self._commit_all(pool.drain())  # what came before is written first
                        self._bundle_file(source.path)
                    else:
                        for consumed in self._ndjson_file(source, pool):
                            if progress:
                                progress(min(done + consumed, total), total)
                    done += source.size
                    if progress:
                        progress(done, total)
                if pool is not None:
                    self._commit_all(pool.drain())
        finally:
            if pool is not None:
                pool.close()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _ndjson_file(self, source: reader.SourceFile, pool: CheckPool | None) -> Iterator[int]:
        """Import a file batch by batch, yielding the bytes read so far.

        With a pool, the file's last batches may still be in the workers when this
        returns: the next file's batches queue behind them (the workers never wait for
        the writer at a file boundary), and results are written in the order submitted,
        so every batch of a file is written before any batch of the next.
        """
        lines = reader.read_lines(source.path)
        path = str(source.path)
        consumed = 0
        while batch := list(islice(lines, self.batch_size)):
            raw = [(f"{path}:{x.number}", x.data, x.complete, x.too_long) for x in batch]
            consumed += sum(len(line.data) for line in batch)
            if pool is None:
                self._commit(check_lines(raw, source.resource_type))
            else:
                self._commit_all(pool.submit(raw, source.resource_type))
            yield consumed

    def _commit_all(self, batches: Iterable[list[Unit]]) -> None:
        for units in batches:
            self._commit(units)

    def _bundle_file(self, path: Path) -> None:
        try:
            data = orjson.loads(reader.read_bundle(path))
        except orjson.JSONDecodeError as error:
            unit = Unit(location=f"{path}:1", resource_type="Bundle")
            self._tally([unit.reject(f"malformed JSON: {error}")])
            return
        if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
            # A single resource in a .json file: a one-entry collection.
            self._commit([check(Unit(location=f"{path}:1"), data, None)])
            return
        units: list[Unit] = []
        aliases: dict[str, str] = {}
        for index, entry in enumerate(data.get("entry") or []):
            unit = Unit(location=f"{path}:entry {index}")
            units.append(unit)
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                unit.reject("entry has no resource")
                continue
            resource = entry["resource"]
            if (entry.get("request") or {}).get("method") == "DELETE":
                unit.reject("DELETE is not supported: nothing clinical is deleted")
                continue
            full_url = entry.get("fullUrl", "")
            if isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
                if not resource.get("id"):
                    resource["id"] = full_url[9:]
                aliases[full_url[9:]] = str(resource["id"])
            check(unit, resource, None)
        self._commit(units, aliases, all_or_nothing=data.get("type") == "transaction")

    # --- the pipeline --------------------------------------------------------------

    def _commit(
        self,
        units: list[Unit],
        aliases: dict[str, str] | None = None,
        *,
        all_or_nothing: bool = False,
    ) -> None:
        """Write the checked units of one batch or Bundle in one transaction."""
        pending = [u for u in units if not u.outcome]
        if all_or_nothing and any(u.outcome == "rejected" for u in units):
            first = next(u for u in units if u.outcome == "rejected")
            for unit in pending:
                unit.reject(f"transaction Bundle not applied: {first.location} was rejected")
            pending = []
        if pending:
            try:
                with transaction.atomic():
                    self._write(pending, aliases or {}, all_or_nothing)
            except _RollBack as error:
                for unit in pending:
                    unit.reject(f"transaction Bundle rolled back: {error.reason}")
            except Exception as error:  # any database failure undoes the whole unit
                reason = f"batch rolled back, nothing written: {type(error).__name__}: {error}"
                for unit in pending:
                    unit.reject(reason)
        self._tally(units)

    def _tally(self, units: list[Unit]) -> None:
        report = self.report
        for unit in units:
            report.read += 1
            kind = unit.resource_type or "?"
            if unit.outcome == "rejected":
                report.count(kind, "rejected")
                message = f"{unit.location}: {unit.reason}"
                if len(report.errors) < MAX_REPORTED_ERRORS:
                    report.errors.append(message)
                if self.on_error:
                    self.on_error(message)
            elif unit.outcome == "unknown":
                report.unknown_types[kind] += 1
                report.count(kind, "unknown")
            elif unit.outcome in ("skipped", "unchanged"):
                if unit.reason:
                    report.skip_reasons[f"{kind}: {unit.reason}"] += 1
                report.count(kind, unit.outcome)
            else:
                report.count(kind, unit.outcome)

    # --- step 2-3: resolve and write, inside the unit's transaction -------------------

    def _write(self, units: list[Unit], aliases: dict[str, str], strict: bool) -> None:
        by_type: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_type[unit.resource_type].append(unit)
        touched: set[int] = set()
        for kind in WRITE_ORDER:
            group = by_type.get(kind)
            if not group:
                continue
            if kind == "Patient":
                self._write_patients(group)
            else:
                self._write_records(kind, group, aliases, touched)
            if strict:
                bad = next((u for u in group if u.outcome == "rejected"), None)
                if bad is not None:
                    raise _RollBack(f"{bad.location}: {bad.reason}")
        if touched:
            implied.apply(touched, acting_user=self.acting_user, ip_address=self.ip_address)

    def _write_patients(self, group: list[Unit]) -> None:
        items, accepted = [], []
        for unit in group:
            mapped = unit.mapped
            assert mapped is not None
            center = self.default_center
            if mapped.center is not None:
                center = self.centers.get(mapped.center)
                if center is None:
                    unit.reject(f"managingOrganization: no center {mapped.center!r} in LimbGuard")
                    continue
            if center is None:
                unit.reject("managingOrganization: no center given; import with --center SLUG")
                continue
            accepted.append(unit)
            items.append(
                bulk.PatientInput(
                    fhir_id=unit.resource_id,
                    fields={**mapped.fields, "home_center": center},
                    identifiers=list(mapped.identifiers),
                    source_system=self.source_system,
                    match_mrn=mapped.match_mrn,
                )
            )
        group = accepted
        outcomes = bulk.do_import_patients(
            acting_user=self.acting_user,
            items=items,
            alias_system=term.IDENTIFIER_SOURCE_ID,
            ip_address=self.ip_address,
        )
        for unit, outcome in zip(group, outcomes, strict=True):
            unit.outcome, unit.reason = outcome.status, outcome.reason

    def _patients(self, keys: set[str], aliases: dict[str, str]) -> dict[str, int]:
        """Patient ids for reference keys: by FHIR id (or an id kept as an alias), or by
        a logical identifier reference (another system's identifier, or the MRN)."""
        ids = {aliases.get(k[3:], k[3:]) for k in keys if k.startswith("id:")}
        found: dict[str, int] = {}
        if ids:
            found.update(Patient.objects.filter(fhir_id__among=ids).values_list("fhir_id", "pk"))
            missing = ids - set(found)
            if missing:
                found.update(
                    PatientIdentifier.objects.filter(
                        system=term.IDENTIFIER_SOURCE_ID, value__among=missing
                    ).values_list("value", "patient_id")
                )
        result = {
            key: found[aliases.get(key[3:], key[3:])]
            for key in keys
            if key.startswith("id:") and aliases.get(key[3:], key[3:]) in found
        }
        logical = [k for k in keys if k.startswith("identifier:")]
        if logical:
            pairs = {k: k[11:].split("|", 1) for k in logical}
            values = [value for _, value in pairs.values()]
            index = {
                (system, value): patient_id
                for system, value, patient_id in PatientIdentifier.objects.filter(
                    value__among=values
                ).values_list("system", "value", "patient_id")
            }
            mrns = dict(Patient.objects.filter(mrn__among=values).values_list("mrn", "pk"))
            for key, (system, value) in pairs.items():
                patient_id = index.get((system, value))
                if patient_id is None and system == term.IDENTIFIER_MRN:
                    patient_id = mrns.get(value)
                if patient_id is not None:
                    result[key] = patient_id
        return result

    def _write_records(
        self, kind: str, group: list[Unit], aliases: dict[str, str], touched: set[int]
    ) -> None:
        keys = {u.mapped.patient_ref for u in group if u.mapped and u.mapped.patient_ref}
        patients = self._patients(keys, aliases)
        encounter_keys = {
            (aliases.get(k[3:], k[3:]))
            for u in group
            if u.mapped and (k := u.mapped.encounter_ref) and k.startswith("id:")
        }
        encounters: dict[str, tuple[int, int]] = (
            {
                fhir_id: (pk, patient_id)
                for fhir_id, pk, patient_id in Encounter.objects.filter(
                    fhir_id__among=encounter_keys
                ).values_list("fhir_id", "pk", "patient_id")
            }
            if encounter_keys
            else {}
        )
        batches: dict[type[FhirRecord], list[tuple[Unit, bulk.RecordInput]]] = defaultdict(list)
        for unit in group:
            mapped = unit.mapped
            assert mapped is not None
            if mapped.patient_ref is None:
                unit.reject(f"{kind}.subject: no patient reference")
                continue
            patient_id = patients.get(mapped.patient_ref)
            if patient_id is None:
                shown = mapped.patient_ref.split(":", 1)[1]
                unit.reject(f"{kind}.subject: patient {shown!r} is not in LimbGuard")
                continue
            fields = dict(mapped.fields)
            if kind in ("Observation", "Procedure") and not mapped.lab:
                encounter = None
                if mapped.encounter_ref and mapped.encounter_ref.startswith("id:"):
                    key = mapped.encounter_ref[3:]
                    encounter = encounters.get(aliases.get(key, key))
                # An encounter of another patient is not this record's encounter.
                fields["encounter_id"] = (
                    encounter[0] if encounter is not None and encounter[1] == patient_id else None
                )
            model = _MODELS[kind] if not mapped.lab else LabResult
            batches[model].append(
                (
                    unit,
                    bulk.RecordInput(
                        fhir_id=unit.resource_id,
                        patient_id=patient_id,
                        fields=fields,
                        source_system=self.source_system,
                    ),
                )
            )
        for model, pairs in batches.items():
            outcomes = bulk.do_import_records(
                acting_user=self.acting_user,
                model=model,
                items=[item for _, item in pairs],
                ip_address=self.ip_address,
            )
            for (unit, item), outcome in zip(pairs, outcomes, strict=True):
                unit.outcome, unit.reason = outcome.status, outcome.reason
                if outcome.status in ("created", "updated") and derive.matters(
                    model.__name__, item.fields
                ):
                    touched.add(item.patient_id)


@contextmanager
def _page_cache(kib: int) -> Iterator[None]:
    """SQLite: a larger page cache on this connection while the import runs, so the
    indexes it updates stay in memory; the connection's own size comes back after.
    Memory only: what is committed, and how durably, does not change."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


_MODELS: Final[dict[str, type[FhirRecord]]] = {
    "Encounter": Encounter,
    "Condition": Problem,
    "Observation": Observation,
    "Procedure": Procedure,
}


def import_paths(
    paths: Iterable[Path],
    *,
    acting_user: User | None,
    default_center: Center | None = None,
    source_system: str = "",
    batch_size: int = DEFAULT_BATCH,
    ip_address: str | None = None,
    on_error: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    parallel: bool | None = None,
) -> ImportReport:
    """Import files and folders (see module docs); returns the report. `parallel`:
    check batches in a worker process (None: only when the input is large)."""
    importer = Importer(
        parallel=parallel,
        acting_user=acting_user,
        default_center=default_center,
        source_system=source_system,
        batch_size=batch_size,
        ip_address=ip_address,
        on_error=on_error,
    )
    return importer.run(paths, progress)
