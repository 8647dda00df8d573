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

from limbguard.clinics.models import Center
from limbguard.sqlrows import column_name, table_name


@functools.cache
def _active_centers_sql(vendor: str) -> str:
    # The public forms' queryset: Center.objects.filter(is_active=True), in the
    # model's ordering (Meta.ordering = ["name"], checked by the tests).
    table = table_name(Center)
    return (
        f"SELECT {column_name(Center, 'id')}, {column_name(Center, 'name')} FROM {table} "  # noqa: S608
        f"WHERE {column_name(Center, 'is_active')} ORDER BY {column_name(Center, 'name')}"
    )


def active_center_choices() -> tuple[tuple[int, str], ...]:
    """(id, label) of each active center, as the public forms' "Preferred center"
    offers them (the label is the center's name, `Center.__str__`)."""
    with connection.cursor() as cursor:
        cursor.execute(_active_centers_sql(connection.vendor))
        return tuple((int(pk), str(name)) for pk, name in cursor.fetchall())
