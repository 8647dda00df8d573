"""Shared fixtures and the CI rule: under CI=true nothing may be skipped.

Tests that need PostgreSQL, Chromium or ../shared skip on a developer's machine when
those are missing; in CI a skip would hide that they never ran, so it becomes a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models.signals import post_migrate
from hypothesis import settings as hypothesis_settings
from pytest_django.plugin import blocking_manager_key

from limbguard.testing import Personas, make_patient, make_personas

if TYPE_CHECKING:
    from limbguard.registry.models import Patient

IN_CI = os.environ.get("CI", "").lower() == "true"

# Property tests are specs, not timings: no per-example deadline (a loaded 2-core CI
# machine would make it flaky; speed lives in bench/), and the same examples every run.
hypothesis_settings.register_profile("limbguard", deadline=None, derandomize=True)
hypothesis_settings.load_profile("limbguard")
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run everything: {report.longrepr}"
    return report


# --- personas and seeded data (Django tests) ---------------------------------------
# limbguard.testing imports Django lazily, so the pure vascular tests can still run
# with `-p no:django`.


@pytest.fixture
def personas(db: None) -> Personas:
    """Four centers, one user per role, and an outsider from another center."""
    return make_personas()


@pytest.fixture
def patient_at(personas: Personas) -> Callable[..., Patient]:
    """Create a patient at a center (default: Harbor) through the registry service."""

    def create(center: str = "harbor", **fields: Any) -> Patient:
        return make_patient(personas.centers[center], **fields)

    return create


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Argon2 is deliberately slow; tests that only need *a* password use MD5.
    (tests/config/test_env.py checks that production settings use Argon2.) Skipped
    when the rules tests run without Django (`-p no:django`)."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- transactional tests and the append-only tables ------------------------------------
# A transactional test (live_server, `django_db(transaction=True)`) ends by flushing every
# table (DELETE on SQLite, TRUNCATE on PostgreSQL), which the append-only tables (the
# audit trail and others) rightly refuse through triggers. For that flush of the
# throw-away test database only, user triggers are switched off, and the flush's own
# `post_migrate` puts them back: before the next test, and before the database is
# destroyed (so the last test of a session cannot leave them off).

_RESTORE_TRIGGERS = "limbguard-tests-restore-triggers"


def _suspend_triggers() -> list[str]:
    """Switch off every user trigger; return the SQL that puts them back. PostgreSQL:
    the test database's owner may disable them. SQLite cannot disable a trigger: it is
    dropped and re-created from its own CREATE statement."""
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
    restore = _suspend_triggers()

    def put_back(**kwargs: Any) -> None:
        post_migrate.disconnect(dispatch_uid=_RESTORE_TRIGGERS)
        with connection.cursor() as cursor:
            for statement in restore:
                cursor.execute(statement)

    post_migrate.connect(put_back, dispatch_uid=_RESTORE_TRIGGERS, weak=False)


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    if _is_transactional(item):
        with item.config.stash[blocking_manager_key].unblock():
            _let_the_flush_empty_append_only_tables()
    return (yield)
