"""Fixtures of the browser tests; the Playwright plumbing and its reasons are in support.py.

Without /usr/bin/chromium the tests skip; under CI=true the root conftest turns that
skip into a failure.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models.signals import post_migrate
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.browser.support import CHROMIUM, Browse, BrowserThread

# The migration that installs the audit trail's append-only triggers.
_AUDIT_TRIGGERS = importlib.import_module("limbguard.accounts.migrations.0002_audit_append_only")
_RESTORE = "limbguard-tests-restore-audit-triggers"


@pytest.fixture(scope="session")
def browser_thread() -> Iterator[BrowserThread]:
    """Playwright and Chromium, started once for the session in their own thread."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    thread = BrowserThread()
    yield thread
    thread.close()


@pytest.fixture
def browse(
    browser_thread: BrowserThread,
    live_server: LiveServer,
    settings: Settings,
    request: pytest.FixtureRequest,
) -> Iterator[Browse]:
    """Run browser steps against `live_server` (which brings `transactional_db`)."""
    # live_server speaks plain http, where the browser would drop Secure cookies.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    yield Browse(browser_thread, live_server.url, request.node.name)
    _let_the_flush_empty_the_audit_trail()


def _run(change: Callable[[StateApps, BaseDatabaseSchemaEditor], None]) -> None:
    with connection.schema_editor() as editor:
        change(apps, editor)  # type: ignore[arg-type]  # the functions do not use apps


def _put_the_audit_triggers_back(**kwargs: Any) -> None:
    post_migrate.disconnect(sender=apps.get_app_config("accounts"), dispatch_uid=_RESTORE)
    _run(_AUDIT_TRIGGERS.create_triggers)


def _let_the_flush_empty_the_audit_trail() -> None:
    """`transactional_db` ends by flushing every table (DELETE on SQLite, TRUNCATE on
    PostgreSQL), which the audit trail's triggers rightly refuse. Drop them for the
    flush of this throw-away test database; the flush then sends `post_migrate`, which
    puts them back before the next test.
    """
    _run(_AUDIT_TRIGGERS.drop_triggers)
    post_migrate.connect(
        _put_the_audit_triggers_back,
        sender=apps.get_app_config("accounts"),
        dispatch_uid=_RESTORE,
        weak=False,
    )
