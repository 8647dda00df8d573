"""Fixtures of the browser tests; the Playwright plumbing and its reasons are in support.py.

Without /usr/bin/chromium the tests skip; under CI=true the root conftest turns that
skip into a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import post_migrate
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.browser.support import CHROMIUM, Browse, BrowserThread

_RESTORE = "limbguard-browser-tests-restore-triggers"


@pytest.fixture(scope="session")
def browser_thread() -> Iterator[BrowserThread]:
    """Playwright and Chromium, started once for the session in their own thread."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    thread = BrowserThread()
    yield thread
    thread.close()


@pytest.fixture
def flushable_db(transactional_db: None) -> Iterator[None]:
    """`transactional_db`, whose closing flush may empty the append-only tables.

    Set up before the browser, so that it still does its part when the browser
    fixture skips."""
    yield
    _let_the_flush_empty_append_only_tables()


@pytest.fixture
def browse(
    flushable_db: None,
    browser_thread: BrowserThread,
    live_server: LiveServer,
    settings: Settings,
    request: pytest.FixtureRequest,
) -> Browse:
    """Run browser steps against `live_server` (which brings `transactional_db`)."""
    # live_server speaks plain http, where the browser would drop Secure cookies.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return Browse(browser_thread, live_server.url, request.node.name)


def _suspend_triggers() -> list[str]:
    """Switch off every user trigger of the test database; return the SQL that puts
    them back. PostgreSQL: the test database's owner may disable them. SQLite cannot
    disable a trigger: it is dropped, and re-created from its own CREATE statement."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
            )
            tables = [row[0] for row in cursor.fetchall()]
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            return [f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in tables]
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        return [sql for _, sql in triggers]


def _let_the_flush_empty_append_only_tables() -> None:
    """`transactional_db` ends by flushing every table (DELETE on SQLite, TRUNCATE on
    PostgreSQL), which the append-only tables (the audit trail and others) rightly
    refuse through triggers. For that flush of the throw-away test database only, the
    triggers are switched off; the flush then sends `post_migrate`, on which they are
    put back, before the next test and before the test database is destroyed.
    """
    restore = _suspend_triggers()

    def put_back(**kwargs: Any) -> None:
        post_migrate.disconnect(dispatch_uid=_RESTORE)
        with connection.cursor() as cursor:
            for statement in restore:
                cursor.execute(statement)

    post_migrate.connect(put_back, dispatch_uid=_RESTORE, weak=False)
