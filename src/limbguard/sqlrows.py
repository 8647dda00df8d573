"""One new row written with a plain INSERT: what `Model.save()` writes for a new
instance, without the ORM's per-call work.

Why: for a single new row `save()` runs the save machinery (signals, parent and
related-field bookkeeping, an UPDATE-or-INSERT decision) and compiles an INSERT
statement afresh, about 0.1-0.15 ms of CPU per row, several times what SQLite or
PostgreSQL take to store it. A request that writes a handful of rows in a short
transaction (a public form, a CDS Hooks call) spends most of its write time there.
Here the statement is written once per model and process from the model's own
metadata (`_meta`), and each value goes through its field's own `pre_save` (auto_now
times, file names) and `get_db_prep_save` (the backend's adapters, JSON encoding),
which is exactly what the ORM sends. tests/test_sqlrows.py pins each row to the one
`save()` writes.

Like `save()` it sends `pre_save` before reading the values (a receiver may still set
one) and `post_save` after, with the same arguments. What it does not do, by design:
call the model's own `save()` override, so use it only for models whose override adds
nothing to a plain insert (or only refuses what this refuses too: an instance that is
not new). A model with a parent (multi-table inheritance) or a proxy, an instance
that is not new, or a value that is an expression is saved by `save()` instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, router, transaction
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save


@dataclass(frozen=True)
class _Statement:
    fields: tuple[Field[Any, Any], ...]
    sql: str


def insert(obj: Model, *, using: str | None = None) -> None:
    """INSERT `obj`, a new instance, as ``obj.save(force_insert=True, using=using)``
    would: same columns, same values, its key set from the database (RETURNING), and
    `obj._state` marked saved. A constraint violation raises
    `django.db.IntegrityError`, as the ORM's does (on PostgreSQL it aborts the
    transaction, as the ORM's does without a savepoint)."""
    model = type(obj)
    meta = model._meta
    alias = using or router.db_for_write(model, instance=obj)
    if (
        meta.parents
        or meta.proxy
        or len(meta.pk_fields) != 1
        or not obj._state.adding
        or any(hasattr(value, "resolve_expression") for value in obj.__dict__.values())
    ):
        obj.save(force_insert=True, using=alias)
        return
    # As save(): refuse an unsaved related object, take the key of one saved since.
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    signals = not meta.auto_created
    if signals:
        pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=None)
    pk = meta.pk
    assert pk is not None
    # As `Model._save_table`: a key without a value takes its default, or the
    # database's own (an auto field, left out of the columns and returned).
    if getattr(obj, pk.attname) is None and pk is not meta.auto_field:
        setattr(obj, pk.attname, pk.get_pk_value_on_save(obj))
    with_key = getattr(obj, pk.attname) is not None
    db = connections[alias]
    statement = _statement(model, alias, with_key)
    params = []
    for field in statement.fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{model.__name__}.{field.name}: an expression (use save())")
        params.append(field.get_db_prep_save(value, db))
    # As save(): an error marks the enclosing atomic block for rollback.
    with transaction.mark_for_rollback_on_error(alias), db.cursor() as cursor:
        cursor.execute(statement.sql, params)
        if not with_key:
            row = cursor.fetchone()
            assert row is not None
            setattr(obj, pk.attname, row[0])
    obj._state.db = alias
    obj._state.adding = False
    if signals:
        post_save.send(
            sender=model, instance=obj, created=True, update_fields=None, raw=False, using=alias
        )


@functools.cache
def _statement(model: type[Model], alias: str, with_key: bool) -> _Statement:
    """The INSERT for `model` on database `alias`, with the primary key as a parameter
    (`with_key`) or returned by the database."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    quote = connections[alias].ops.quote_name
    fields = tuple(
        f
        for f in meta.local_concrete_fields
        if not getattr(f, "generated", False) and (with_key or f is not pk)
    )
    columns = ", ".join(quote(field_column(f)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Only quoted names from the model's metadata are interpolated; values are parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    if not with_key:
        sql += f" RETURNING {quote(field_column(pk))}"
    return _Statement(fields=fields, sql=sql)


def field_column(field: Field[Any, Any]) -> str:
    """The column of a concrete field (unquoted)."""
    if not field.column:
        raise TypeError(f"{field} has no column")
    return field.column


def table_name(model: type[Model]) -> str:
    """`model`'s table, quoted for the default database: for plain SQL built from
    the model's metadata."""
    return connection.ops.quote_name(model._meta.db_table)


def column_name(model: type[Model], name: str) -> str:
    """The column of `model`'s field `name`, quoted for the default database."""
    found = model._meta.get_field(name)
    if not isinstance(found, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return connection.ops.quote_name(field_column(found))
