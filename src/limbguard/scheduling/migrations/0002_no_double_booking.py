"""No provider and no resource may hold two overlapping appointments — enforced by the
database itself, so that no code path (a race between two bookings, the shell, a
future importer) can double-book.

PostgreSQL: exclusion constraints over `tstzrange(starts_at, ends_at, '[)')` with
btree_gist (for the `=` on the id). Two concurrent transactions inserting overlapping
rows: the second waits for the first and then fails with an exclusion violation.

SQLite has no exclusion constraints: triggers refuse an overlapping INSERT or UPDATE.
SQLite runs one writer at a time (settings: transaction_mode IMMEDIATE takes the write
lock at BEGIN), so the triggers' check and the write cannot interleave with another
booking: the transactional equivalent. Datetimes are stored as ISO text in UTC, which
compares in time order.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

APPOINTMENT = "scheduling_appointment"
BOOKING = "scheduling_resourcebooking"
HOLDING = "('booked', 'completed', 'no_show')"

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"ALTER TABLE {APPOINTMENT} ADD CONSTRAINT appointment_no_provider_overlap "
    "EXCLUDE USING gist (provider_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    f"WHERE (status IN {HOLDING})",
    f"ALTER TABLE {BOOKING} ADD CONSTRAINT booking_no_resource_overlap "
    "EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (active)",
]


def _sqlite_trigger(name: str, table: str, event: str, key: str, holds: str, message: str) -> str:
    # Built from the constants of this file only, never from input.
    return (
        f"CREATE TRIGGER {name} BEFORE {event} ON {table} "  # noqa: S608
        f"WHEN {holds.format(row='NEW')} BEGIN "
        f"SELECT RAISE(ABORT, '{message}') WHERE EXISTS ("
        f"SELECT 1 FROM {table} AS other WHERE other.{key} = NEW.{key} "
        "AND other.id IS NOT NEW.id "
        f"AND {holds.format(row='other')} "
        "AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at); END"
    )


SQLITE = [
    _sqlite_trigger(
        f"{APPOINTMENT}_no_overlap_{event.lower().split()[0]}",
        APPOINTMENT,
        event,
        "provider_id",
        "{row}.status IN " + HOLDING,
        "appointment_no_provider_overlap",
    )
    for event in ("INSERT", "UPDATE")
] + [
    _sqlite_trigger(
        f"{BOOKING}_no_overlap_{event.lower().split()[0]}",
        BOOKING,
        event,
        "resource_id",
        "{row}.active",
        "booking_no_resource_overlap",
    )
    for event in ("INSERT", "UPDATE")
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES, "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {APPOINTMENT} DROP CONSTRAINT IF EXISTS appointment_no_provider_overlap"
        )
        schema_editor.execute(
            f"ALTER TABLE {BOOKING} DROP CONSTRAINT IF EXISTS booking_no_resource_overlap"
        )
    elif vendor == "sqlite":
        for table in (APPOINTMENT, BOOKING):
            for event in ("insert", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_overlap_{event}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
