"""Fast row writes for the registry's batch services (`bulk.py`).

Django's bulk_create/bulk_update compile an expression per value (bulk_update builds a
CASE per row and field), which costs more than the writes themselves at import scale.
These functions write the same columns with plain parameterised SQL; values go through
each field's own preparation (the backend's adapters for dates, times and decimals, the
field's for JSON), exactly as the ORM would. They validate nothing: callers (the batch
services) check every record by the single-record services' rules first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent, User


def audit_row(
    acting_user: User | None,
    action: AuditAction,
    obj: models.Model,
    patient_id: int,
    summary: str,
    changes: dict[str, Any],
    ip_address: str | None,
) -> dict[str, Any]:
    """An audit row's column values, exactly as `audit.record` would write them."""
    return {
        "at": timezone.now(),
        "actor_id": acting_user.pk if acting_user is not None and acting_user.pk else None,
        "actor_name": acting_user.get_username() if acting_user is not None else "system",
        "action": action.value,
        "patient_id": patient_id,
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "summary": summary[:300],
        "changes": changes,
        "ip_address": ip_address,
    }


def append_audit_rows(rows: list[dict[str, Any]]) -> None:
    """Append audit rows (the trail is insert-only; see accounts.models.AuditEvent)."""
    insert_values(AuditEvent, rows)


def insert_values(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT rows given as {attname: value} for every non-key column (no keys back):
    one prepared statement, executed for all rows (sqlite3/psycopg executemany)."""
    if not rows:
        return
    db = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters = [(f.attname, _preparer(f, db)) for f in fields]
    quote = db.ops.quote_name
    columns = ", ".join(quote(_column(f)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    params = [[prepare(values[name]) for name, prepare in getters] for values in rows]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            # COPY: the bulk path of PostgreSQL, far cheaper per row than INSERTs.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, params)


# --- field validation -------------------------------------------------------------
# `Model.clean_fields` runs every field's `clean` (to_python, validate, validators) on
# every record. For the field types the registry uses, `clean` is a pure function of
# the value, so its result is kept per (field, value): an import meets the same codes,
# units, statuses and dates again and again. Same checks, same messages.

_CLEAN_CACHE: dict[tuple[Any, Any], Any] = {}
_CLEAN_CACHE_MAX = 200_000


def clean_fields(obj: models.Model, exclude: Collection[str] = ()) -> None:
    """`obj.clean_fields(exclude)`, with each field's verdict on a value remembered.

    Foreign keys must be in `exclude` (their check reads the database)."""
    errors: dict[str, list[ValidationError]] = {}
    values = obj.__dict__
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.attname in exclude or field.primary_key:
            continue
        raw = values.get(field.attname)
        if field.blank and raw in field.empty_values:
            continue
        try:
            key = (field, raw)
            cleaned = _CLEAN_CACHE[key]
        except KeyError:
            try:
                cleaned = field.clean(raw, obj)
            except ValidationError as error:
                errors[field.name] = error.error_list
                continue
            if len(_CLEAN_CACHE) >= _CLEAN_CACHE_MAX:
                _CLEAN_CACHE.clear()
            _CLEAN_CACHE[key] = cleaned
        except TypeError:  # an unhashable value (a JSON list): no memory for it
            try:
                cleaned = field.clean(raw, obj)
            except ValidationError as error:
                errors[field.name] = error.error_list
                continue
        values[field.attname] = cleaned
    if errors:
        raise ValidationError(errors)


_MAX_PARAMS = 30_000  # below PostgreSQL's 65,535 and SQLite's 250,000 (3.40)


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None
    return field.column


def _preparer(field: models.Field[Any, Any], db: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """How one field's Python value becomes a database parameter: the backend's own
    adapters for dates, times and decimals, the field's for JSON, as-is otherwise."""
    ops = db.ops
    if isinstance(field, models.DateTimeField):
        return lambda value: ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        return lambda value: ops.adapt_datefield_value(value)
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    if isinstance(field, models.JSONField):
        if db.vendor == "sqlite":
            # SQLite keeps JSON as text; orjson writes the same JSON as json.dumps, faster.
            return lambda value: None if value is None else orjson.dumps(value).decode()
        return lambda value: field.get_db_prep_save(value, db)
    return lambda value: value


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT `objs` and set their primary keys (multi-row VALUES … RETURNING)."""
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    if not db.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objs)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # auto_now(_add) fields take their value in pre_save; the rest are read as they are.
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objs:
        for stamp in stamped:
            stamp.pre_save(obj, True)
    getters = [(f.attname, _preparer(f, db)) for f in fields]
    pk = model._meta.pk
    assert pk is not None
    quote = db.ops.quote_name
    columns = ", ".join(quote(_column(f)) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, _MAX_PARAMS // len(fields))
    if db.vendor == "postgresql":
        _copy_with_keys(db, model, objs, getters, columns)
        return
    with db.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params: list[Any] = []
            for obj in chunk:
                values = obj.__dict__
                params += [prepare(values[name]) for name, prepare in getters]
            # Only quoted column names and placeholders are interpolated; values are params.
            sql = (
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
                f"{', '.join([row] * len(chunk))} RETURNING {quote(_column(pk))}"
            )
            cursor.execute(sql, params)
            for obj, (key,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = key
                obj._state.adding = False
                obj._state.db = db.alias


def _copy_with_keys(
    db: BaseDatabaseWrapper,
    model: type[models.Model],
    objs: Sequence[models.Model],
    getters: list[tuple[str, Callable[[Any], Any]]],
    columns: str,
) -> None:
    """PostgreSQL: take the keys from the table's sequence, then COPY the rows with them.

    `nextval` hands out unique keys under concurrency; the identity column accepts
    given values (Django makes it GENERATED BY DEFAULT)."""
    pk = model._meta.pk
    assert pk is not None
    quote = db.ops.quote_name
    table = model._meta.db_table
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, _column(pk), len(objs)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        sql = f"COPY {quote(table)} ({quote(_column(pk))}, {columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for obj, key in zip(objs, keys, strict=True):
                values = obj.__dict__
                copy.write_row([key, *(prepare(values[name]) for name, prepare in getters)])
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = db.alias


def update(model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """UPDATE the columns `names` of each of `objs` (one prepared statement, executemany)."""
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    by_name.update({f.name: f for f in model._meta.concrete_fields})
    fields = [by_name[name] for name in names]
    pk = model._meta.pk
    assert pk is not None
    quote = db.ops.quote_name
    assignments = ", ".join(f"{quote(_column(f))} = %s" for f in fields)
    table, key = quote(model._meta.db_table), quote(_column(pk))
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 (names only)
    getters = [(f.attname, _preparer(f, db)) for f in fields]
    rows = [[prepare(obj.__dict__[name]) for name, prepare in getters] + [obj.pk] for obj in objs]
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)
