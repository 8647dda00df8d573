"""The order check's registry reads as plain SQL: it sits in the EHR's order-signing
path.

Why not the ORM: building and compiling a queryset costs about 0.3 ms of CPU per query,
more than SQLite or PostgreSQL take to run it, and the order check makes several reads
per call. With 50 clinicians signing at once behind two workers, that compile time was
most of the wait (bench/cds_hooks.py). The statements here are written once per process
from the models' own table and column names (`_meta`, through `limbguard.sqlrows`),
hold nothing but ``%s`` parameters, and are plain SQL that SQLite and PostgreSQL both
run; tests/cdshooks/test_sql.py pins what they read to the ORM's. The call's rows are
written by `registry.rows.insert_values`.

Each read runs one query and returns plain tuples. Dates come back as `datetime.date`
on both engines (SQLite: Django's converters for columns declared ``date``; `_date`
also takes ISO text). JSON columns come back as text on both (Django registers text
loaders for jsonb) and are parsed here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

from limbguard.assessments.models import Assessment, StagingSnapshot
from limbguard.clinics.models import Center
from limbguard.registry.models import Limb, Patient, PatientIdentifier
from limbguard.registry.models import Observation as RegistryObservation
from limbguard.registry.models import Procedure as RegistryProcedure
from limbguard.sqlrows import column_name as _c
from limbguard.sqlrows import table_name as _t
from limbguard.treatment.models import LimbSalvageReview

FINAL_STATUSES: Final = ("final", "amended", "corrected")


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def cursor() -> CursorWrapper:
    """A cursor for several reads in a row (each of Django's costs a few microseconds)."""
    return connection.cursor()


def _rows(
    sql: str, params: Sequence[Any], cursor: CursorWrapper | None = None
) -> list[tuple[Any, ...]]:
    if cursor is None:
        with connection.cursor() as own:
            return _rows(sql, params, own)
    cursor.execute(sql, params)
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


# --- the patient ----------------------------------------------------------------------


@dataclass(frozen=True)
class _PatientSql:
    select: str
    mrn: str
    identifier: str
    pair: str
    center: str
    order: str


@functools.cache
def _patient_sql() -> _PatientSql:
    # Each way of matching is its own indexed lookup (the MRN's unique index, the
    # identifiers' (system, value) one), joined by UNION: an OR of the two in one WHERE
    # made SQLite scan every patient.
    p, m, i, c = "p", "m", "i", "c"
    return _PatientSql(
        select=(
            f"SELECT {p}.{_c(Patient, 'id')}, {p}.{_c(Patient, 'mrn')}, "
            f"{p}.{_c(Patient, 'home_center')} FROM {_t(Patient)} {p} "
            f"WHERE {p}.{_c(Patient, 'id')} IN ({{}})"
        ),
        mrn=(
            f"SELECT {m}.{_c(Patient, 'id')} FROM {_t(Patient)} {m} "
            f"WHERE {m}.{_c(Patient, 'mrn')} IN ({{}})"
        ),
        identifier=(
            f"SELECT {i}.{_c(PatientIdentifier, 'patient')} FROM {_t(PatientIdentifier)} {i} "
            "WHERE {}"
        ),
        center=(
            f"{p}.{_c(Patient, 'home_center')} IN (SELECT {c}.{_c(Center, 'id')} "
            f"FROM {_t(Center)} {c} WHERE {c}.{_c(Center, 'slug')} IN ({{}}))"
        ),
        pair=(
            f"({i}.{_c(PatientIdentifier, 'system')} = %s "
            f"AND {i}.{_c(PatientIdentifier, 'value')} = %s)"
        ),
        order=f"ORDER BY {p}.{_c(Patient, 'id')} LIMIT 2",
    )


def matching_patients(
    *, mrns: Iterable[str], identifiers: Iterable[tuple[str, str]], centers: Sequence[str] | None
) -> list[Patient]:
    """At most two patients whose MRN is one of `mrns` or who carry one of the imported
    `identifiers` (system, value), among the centers with the slugs `centers` (None: any
    center). Returned with `id`, `mrn` and `home_center_id` loaded (the rest deferred,
    like the ORM's `only()`)."""
    sql = _patient_sql()
    mrn_list, pair_list = sorted(set(mrns)), sorted(set(identifiers))
    either: list[str] = []
    params: list[Any] = []
    if mrn_list:
        either.append(sql.mrn.format(_marks(len(mrn_list))))
        params += mrn_list
    if pair_list:
        either.append(sql.identifier.format(" OR ".join([sql.pair] * len(pair_list))))
        params += [part for pair in pair_list for part in pair]
    if not either:
        return []
    query = sql.select.format(" UNION ".join(either))
    if centers is not None:
        if not centers:
            return []
        query += f" AND {sql.center.format(_marks(len(centers)))}"
        params += list(centers)
    return [
        Patient.from_db(connection.alias, ["id", "mrn", "home_center_id"], row)
        for row in _rows(f"{query} {sql.order}", params)
    ]


# --- the record ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _RecordSql:
    visits: str
    reviews: str
    limbs: str


@functools.cache
def _record_sql() -> _RecordSql:
    a, s, lb = _t(Assessment), _t(StagingSnapshot), _t(Limb)
    limb_id, side = _c(Limb, "id"), _c(Limb, "side")
    latest = (
        f"(SELECT s.{_c(StagingSnapshot, 'outputs')} FROM {s} s "
        f"WHERE s.{_c(StagingSnapshot, 'assessment')} = a.{_c(Assessment, 'id')} "
        f"ORDER BY s.{_c(StagingSnapshot, 'id')} DESC LIMIT 1)"
    )
    visit_columns = ", ".join(
        f"a.{_c(Assessment, name)}"
        for name in (
            "visit_date",
            "arterial_duplex_done",
            "angiography_done",
            "ankle_dp",
            "ankle_pt",
            "toe_pressure",
        )
    )
    review = LimbSalvageReview
    return _RecordSql(
        visits=(
            f"SELECT {visit_columns}, l.{side}, {latest} FROM {a} a "
            f"JOIN {lb} l ON l.{limb_id} = a.{_c(Assessment, 'limb')} "
            f"WHERE a.{_c(Assessment, 'patient')} = %s "
            f"AND a.{_c(Assessment, 'entered_in_error')} = %s "
            f"ORDER BY a.{_c(Assessment, 'visit_date')} DESC, a.{_c(Assessment, 'id')} DESC "
            "LIMIT %s"
        ),
        reviews=(
            f"SELECT l.{side}, r.{_c(review, 'signed_on')}, r.{_c(review, 'signer_name')} "
            f"FROM {_t(review)} r JOIN {lb} l ON l.{limb_id} = r.{_c(review, 'limb')} "
            f"WHERE r.{_c(review, 'patient')} = %s AND r.{_c(review, 'entered_in_error')} = %s "
            f"ORDER BY r.{_c(review, 'signed_on')} DESC, r.{_c(review, 'id')} DESC"
        ),
        limbs=(
            f"SELECT {side}, {_c(Limb, 'status')} FROM {lb} "
            f"WHERE {_c(Limb, 'patient')} = %s ORDER BY {side}"
        ),
    )


@functools.cache
def _coded_sql(statuses: tuple[int, int], codes: int) -> str:
    """Imported procedures, then results, by status, date range and code; each in its
    model's default order (newest first, then id). One statement: one round trip."""

    def part(model: type[Model], on: str, source: int, status_count: int) -> str:
        columns = ", ".join(_c(model, name) for name in ("system", "code", "display", "laterality"))
        date = _c(model, on)
        return (
            f"SELECT {columns}, {date}, {source}, {_c(model, 'id')} FROM {_t(model)} "
            f"WHERE {_c(model, 'patient')} = %s AND {_c(model, 'entered_in_error')} = %s "
            f"AND {_c(model, 'status')} IN ({_marks(status_count)}) "
            f"AND {date} BETWEEN %s AND %s AND {_c(model, 'code')} IN ({_marks(codes)})"
        )

    procedures = part(RegistryProcedure, "performed_date", 0, statuses[0])
    observations = part(RegistryObservation, "effective_date", 1, statuses[1])
    # Positions: the source (6), the date (5) newest first, the id (7).
    return f"{procedures} UNION ALL {observations} ORDER BY 6, 5 DESC, 7"


@dataclass(frozen=True)
class VisitRow:
    """One assessment, with its current staging outputs (its newest snapshot's)."""

    on: dt.date
    side: str
    duplex: bool
    angiography: bool
    pressures: bool  # any ankle or toe pressure measured
    outputs: dict[str, Any]


def visits(patient_id: int, *, limit: int, cursor: CursorWrapper | None = None) -> list[VisitRow]:
    """The patient's assessments not entered in error, newest first (at most `limit`)."""
    rows = _rows(_record_sql().visits, [patient_id, False, limit], cursor)
    found = []
    for on, duplex, angiography, ankle_dp, ankle_pt, toe, side, outputs in rows:
        parsed = _json(outputs) if outputs is not None else None
        found.append(
            VisitRow(
                on=_date(on),
                side=side,
                duplex=bool(duplex),
                angiography=bool(angiography),
                pressures=ankle_dp is not None or ankle_pt is not None or toe is not None,
                outputs=parsed if isinstance(parsed, dict) else {},
            )
        )
    return found


def reviews(
    patient_id: int, *, cursor: CursorWrapper | None = None
) -> list[tuple[str, dt.date, str]]:
    """(side, signed on, signer) of each limb salvage review not entered in error."""
    return [
        (side, _date(on), signer)
        for side, on, signer in _rows(_record_sql().reviews, [patient_id, False], cursor)
    ]


def limbs(patient_id: int, *, cursor: CursorWrapper | None = None) -> list[tuple[str, str]]:
    """(side, status) of each of the patient's limbs."""
    return [(side, status) for side, status in _rows(_record_sql().limbs, [patient_id], cursor)]


def coded_rows(
    patient_id: int,
    *,
    codes: tuple[str, ...],
    since: dt.date,
    today: dt.date,
    cursor: CursorWrapper | None = None,
) -> list[tuple[str, str, str, str, dt.date]]:
    """(system, code, display, laterality, date) of the completed procedures and final
    results imported from FHIR, dated in [since, today], whose code is in `codes` (the
    caller checks the system): the procedures first. One query."""
    procedure_statuses = ("completed",)
    query = _coded_sql((len(procedure_statuses), len(FINAL_STATUSES)), len(codes))
    params: list[Any] = []
    for statuses in (procedure_statuses, FINAL_STATUSES):
        params += [patient_id, False, *statuses, since, today, *codes]
    found = []
    for system, code, display, laterality, on, _source, _id in _rows(query, params, cursor):
        if on is not None:
            found.append((system, code, display, laterality, _date(on)))
    return found
