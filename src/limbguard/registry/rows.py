"""Fast row writes for the registry's batch services (`bulk.py`).

Django's bulk_create/bulk_update compile an expression per value (bulk_update builds a
CASE per row and field), which costs more than the writes themselves at import scale.
These functions write the same columns with plain parameterised SQL; values go through
each field's own preparation (the backend's adapters for dates, times and decimals, the
field's for JSON), exactly as the ORM would. They validate nothing: callers (the batch
services) check every record by the single-record services' rules first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

import orjson
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from limbguard.accounts.models import AuditAction, AuditEvent, User
from limbguard.sqlrows import field_column

M = TypeVar("M", bound=models.Model)


def audit_row(
    acting_user: User | None,
    action: AuditAction,
    obj: models.Model,
    patient_id: int,
    summary: str,
    changes: dict[str, Any],
    ip_address: str | None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """An audit row's column values, exactly as `audit.record` would write them.

    `at`: when the change was made (default now); a batch service passes one time for
    all the rows it writes in its transaction."""
    return {
        "at": at or timezone.now(),
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
    one prepared statement, executed for all rows (sqlite3/psycopg executemany), or
    COPY on PostgreSQL. A constraint violation raises `django.db.IntegrityError`, as
    the ORM's does."""
    if not rows:
        return
    db = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters = [(f.attname, _preparer(f, db, copy=db.vendor == "postgresql")) for f in fields]
    quote = db.ops.quote_name
    columns = ", ".join(quote(field_column(f)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    params = [[prepare(values[name]) for name, prepare in getters] for values in rows]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            # COPY: the bulk path of PostgreSQL, far cheaper per row than INSERTs.
            # The raw cursor's errors, as Django's own cursor would raise them.
            with (
                db.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in params:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, params)


@models.Field.register_lookup
class Among(models.Lookup[Any]):
    """``field__among=values``: what ``field__in=values`` selects, with the values sent
    as one parameter (a JSON array read by ``json_each`` on SQLite, an array compared
    with ``= ANY`` on PostgreSQL) instead of one placeholder each. A batch looks up a
    thousand ids at a time; compiling and sending a placeholder per id cost more than
    the lookup itself. Values must be plain strings or integers, of the field's type."""

    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return [value for value in self.rhs if value is not None]  # as IN: never NULL

    def as_sql(  # type: ignore[override]  # parameters are lists, as in Django's own In
        self, compiler: Any, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        values = self.rhs
        if not values:
            raise EmptyResultSet  # as IN: no query at all
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if connection.vendor == "sqlite":
            params = [*lhs_params, orjson.dumps(values).decode()]
            return f"{lhs} IN (SELECT value FROM json_each(%s))", params  # noqa: S608 (column only)
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]


models.ForeignObject.register_lookup(Among)  # keys of related rows (ints), by column


def maker(model: type[M]) -> Callable[[Mapping[str, Any]], M]:
    """A constructor for new instances of `model`: ``make(values)`` is ``model(**values)``
    for values keyed by column attribute (``patient_id``) or, for a relation, by name
    with the related row; every other column takes its default.

    `Model.__init__` sorts out keyword arguments field by field for every instance; an
    import builds tens of thousands of instances of one model, so the sorting is done
    once here. A model with init signal receivers gets the real constructor."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return lambda values: model(**values)
    columns = [
        (f.attname, f.name if f.is_relation else None, f.get_default)
        for f in model._meta.concrete_fields
        if not getattr(f, "generated", False)
    ]
    known = {attname for attname, _, _ in columns} | {name for _, name, _ in columns if name}

    def make(values: Mapping[str, Any]) -> M:
        unknown = values.keys() - known
        if unknown:
            raise TypeError(f"{model.__name__}: unknown fields {', '.join(sorted(unknown))}")
        obj = model.__new__(model)
        obj._state = ModelState()
        own = obj.__dict__
        related = []
        for attname, name, default in columns:
            if attname in values:
                own[attname] = values[attname]
            elif name is not None and name in values:
                own[attname] = None
                related.append(name)
            else:
                own[attname] = default()
        for name in related:
            setattr(obj, name, values[name])  # through the descriptor, as __init__ does
        return obj

    return make


# --- field validation -------------------------------------------------------------
# `Model.clean_fields` runs every field's `clean` (to_python, validate, validators) on
# every record. For the field types the registry uses, `clean` is a pure function of
# the value, so its result is kept per (field, value): an import meets the same codes,
# units, statuses and dates again and again. Same checks, same messages.

_CLEAN_CACHE_MAX = 50_000  # values remembered per field (then forgotten, and again)
_Plan = tuple[tuple[str, str, bool, list[Any], Callable[..., Any], dict[Any, Any]], ...]
_PLANS: dict[tuple[type[models.Model], frozenset[str]], _Plan] = {}
_CLEANED: dict[models.Field[Any, Any], dict[Any, Any]] = {}


def _plan(model: type[models.Model], exclude: frozenset[str]) -> _Plan:
    """The fields `clean_fields` checks, in model order: attname, name, blank, the
    field's empty values, its `clean`, and the values it has already judged."""
    key = (model, exclude)
    if key not in _PLANS:
        _PLANS[key] = tuple(
            (
                field.attname,
                field.name,
                field.blank,
                list(field.empty_values),
                field.clean,
                _CLEANED.setdefault(field, {}),
            )
            for field in model._meta.concrete_fields
            if not (field.name in exclude or field.attname in exclude or field.primary_key)
        )
    return _PLANS[key]


def clean_fields(obj: models.Model, exclude: Collection[str] = ()) -> None:
    """`obj.clean_fields(exclude)`, with each field's verdict on a value remembered.

    Foreign keys must be in `exclude` (their check reads the database)."""
    errors: dict[str, list[ValidationError]] = {}
    values = obj.__dict__
    for attname, name, blank, empty_values, clean, cleaned_values in _plan(
        type(obj), frozenset(exclude)
    ):
        raw = values.get(attname)
        if blank and raw in empty_values:
            continue
        try:
            cleaned = cleaned_values[raw]
        except KeyError:
            try:
                cleaned = clean(raw, obj)
            except ValidationError as error:
                errors[name] = error.error_list
                continue
            if len(cleaned_values) >= _CLEAN_CACHE_MAX:
                cleaned_values.clear()
            cleaned_values[raw] = cleaned
        except TypeError:  # an unhashable value (a JSON list): no memory for it
            try:
                cleaned = clean(raw, obj)
            except ValidationError as error:
                errors[name] = error.error_list
                continue
        values[attname] = cleaned
    if errors:
        raise ValidationError(errors)


_MAX_PARAMS = 30_000  # below PostgreSQL's 65,535 and SQLite's 250,000 (3.40)


def _preparer(
    field: models.Field[Any, Any], db: BaseDatabaseWrapper, *, copy: bool = False
) -> Callable[[Any], Any]:
    """How one field's Python value becomes a database parameter: the backend's own
    adapters for dates, times and decimals, the field's for JSON and UUIDs, as-is
    otherwise.
    `copy`: for PostgreSQL's COPY, whose text format takes JSON as text."""
    ops = db.ops
    if isinstance(field, models.DateTimeField):
        # A batch writes one time stamp (created/updated/audit time) on many rows:
        # the same object, adapted once.
        last: list[Any] = [None, None]

        def adapt_datetime(value: Any) -> Any:
            if value is not last[0]:
                last[:] = value, ops.adapt_datetimefield_value(value)
            return last[1]

        return adapt_datetime
    if isinstance(field, models.DateField):
        return lambda value: ops.adapt_datefield_value(value)
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    if isinstance(field, models.JSONField):
        if db.vendor == "sqlite":
            # SQLite keeps JSON as text; orjson writes the same JSON as json.dumps, faster.
            return lambda value: None if value is None else orjson.dumps(value).decode()
        if copy:

            def json_text(value: Any) -> Any:
                if value is None:
                    return None
                try:
                    return orjson.dumps(value).decode()
                except TypeError:  # what only json.dumps writes (such as int keys)
                    return field.get_db_prep_save(value, db)

            return json_text
        return lambda value: field.get_db_prep_save(value, db)
    if isinstance(field, models.UUIDField):
        # Hex text on SQLite, a native uuid on PostgreSQL: the field's own adapter.
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
    # One insert is one moment: every row gets the time stamp pre_save gave the first.
    for stamp in fields:
        if getattr(stamp, "auto_now", False) or getattr(stamp, "auto_now_add", False):
            value = stamp.pre_save(objs[0], True)
            for obj in objs[1:]:
                setattr(obj, stamp.attname, value)
    getters = [(f.attname, _preparer(f, db, copy=db.vendor == "postgresql")) for f in fields]
    pk = model._meta.pk
    assert pk is not None
    quote = db.ops.quote_name
    columns = ", ".join(quote(field_column(f)) for f in fields)
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
                f"{', '.join([row] * len(chunk))} RETURNING {quote(field_column(pk))}"
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
            [table, field_column(pk), len(objs)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        sql = f"COPY {quote(table)} ({quote(field_column(pk))}, {columns}) FROM STDIN"
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
    assignments = ", ".join(f"{quote(field_column(f))} = %s" for f in fields)
    table, key = quote(model._meta.db_table), quote(field_column(pk))
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 (names only)
    getters = [(f.attname, _preparer(f, db)) for f in fields]
    rows = [[prepare(obj.__dict__[name]) for name, prepare in getters] + [obj.pk] for obj in objs]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            # Django's cursor binds parameters client-side: a new statement text per
            # row, parsed and planned by the server each time. A server-binding cursor
            # on the same connection and transaction sends one prepared statement.
            import psycopg

            with psycopg.Cursor(cursor.cursor.connection) as bound:
                bound.executemany(sql, rows)
        else:
            cursor.executemany(sql, rows)
