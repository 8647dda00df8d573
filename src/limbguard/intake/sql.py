"""Plain-SQL reads on the public pages' hot path.

Why not the ORM: every GET of a public form read the centers it offers through a fresh
queryset, and building and compiling that query cost more CPU than running it. The
statement here is written once per process from the model's own table and column names
(`_meta`) and holds nothing but names; tests/intake/test_sql.py pins its answer to the
ORM's (the form's own choices) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import Field

from limbguard.clinics.models import Center


def _column(name: str) -> str:
    field = Center._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"Center.{name} is not a column")
    return connection.ops.quote_name(field.column)


@functools.cache
def _active_centers_sql(vendor: str) -> str:
    # The public forms' queryset: Center.objects.filter(is_active=True), in the
    # model's ordering (Meta.ordering = ["name"], checked by the tests).
    table = connection.ops.quote_name(Center._meta.db_table)
    return (
        f"SELECT {_column('id')}, {_column('name')} FROM {table} "  # noqa: S608
        f"WHERE {_column('is_active')} ORDER BY {_column('name')}"
    )


def active_center_choices() -> tuple[tuple[int, str], ...]:
    """(id, label) of each active center, as the public forms' "Preferred center"
    offers them (the label is the center's name, `Center.__str__`)."""
    with connection.cursor() as cursor:
        cursor.execute(_active_centers_sql(connection.vendor))
        return tuple((int(pk), str(name)) for pk, name in cursor.fetchall())
