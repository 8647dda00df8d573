"""The suite runs on the database that DATABASE_URL names, never silently on SQLite.

.ci/run sets LIMBGUARD_EXPECT_DB for each of its passes (sqlite, then postgresql), so a
PostgreSQL pass that fell back to SQLite fails here instead of testing SQLite twice.
Under CI=true a skip counts as a failure, so the expectation cannot go missing there.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# DATABASE_URL scheme → Django's vendor name for it (dj-database-url's schemes).
VENDORS = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}


def _server() -> str:
    """What the server itself says it is, so a stale setting cannot pass for it."""
    query = "SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()"
    with connection.cursor() as cursor:
        cursor.execute(query)
        return str(cursor.fetchone()[0])


def test_the_connection_is_the_backend_database_url_names() -> None:
    url = os.environ.get("DATABASE_URL", "")
    scheme = url.partition("://")[0] if url else "sqlite"
    assert scheme in VENDORS, f"no expectation for DATABASE_URL scheme {scheme!r}"
    assert connection.vendor == VENDORS[scheme]
    if connection.vendor == "postgresql":
        assert _server().startswith("PostgreSQL ")


def test_the_connection_is_the_one_ci_expects() -> None:
    expected = os.environ.get("LIMBGUARD_EXPECT_DB")
    if not expected:
        pytest.skip("LIMBGUARD_EXPECT_DB is not set (.ci/run sets it for each pass)")
    assert connection.vendor == expected
    # A real round trip to the server, not just the configured engine.
    assert _server()
