"""SQLite writers queue on a file lock (limbguard.config.sqlite_backend)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from limbguard.config.sqlite_backend import base

ALIAS = "writer_lock_test"


def _configured(databases: dict[str, Any]) -> dict[str, Any]:
    """`databases` with Django's defaults filled in, as settings.DATABASES would be."""
    return ConnectionHandler().configure_settings({"default": {}, **databases})


@pytest.fixture
def database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_db_blocker: Any
) -> Iterator[Path]:
    """A SQLite file configured as LimbGuard configures its default database."""
    path = tmp_path / "db.sqlite3"
    settings = _configured(
        {
            ALIAS: {
                "ENGINE": "limbguard.config.sqlite_backend",
                "NAME": str(path),
                "OPTIONS": {
                    "init_command": "PRAGMA journal_mode=WAL;",
                    "transaction_mode": "IMMEDIATE",
                },
            }
        }
    )
    monkeypatch.setitem(connections.settings, ALIAS, settings[ALIAS])
    with django_db_blocker.unblock():
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE t (x TEXT)")
        yield path
        connections[ALIAS].close()
    del connections[ALIAS]


def _held_elsewhere(path: Path) -> bool:
    """Whether someone holds the writers' lock of `path` (tried from a new descriptor)."""
    fd = os.open(base.lock_path(str(path)), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _rows() -> list[str]:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT x FROM t ORDER BY rowid")
        return [row[0] for row in cursor.fetchall()]


def _insert(value: str) -> None:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (%s)", [value])


def test_a_write_transaction_holds_the_lock_until_it_commits(database: Path) -> None:
    assert not _held_elsewhere(database)
    with transaction.atomic(using=ALIAS):
        assert _held_elsewhere(database)
        _insert("one")
        with transaction.atomic(using=ALIAS):  # a savepoint: the same lock
            _insert("two")
        assert _held_elsewhere(database)
    assert not _held_elsewhere(database)
    assert _rows() == ["one", "two"]


def test_a_rollback_releases_the_lock(database: Path) -> None:
    def failing_service() -> None:
        with transaction.atomic(using=ALIAS):
            _insert("lost")
            raise RuntimeError("the service failed")

    with pytest.raises(RuntimeError):
        failing_service()
    assert not _held_elsewhere(database)
    assert _rows() == []


def test_closing_the_connection_releases_the_lock(database: Path) -> None:
    connection = connections[ALIAS]
    connection.set_autocommit(False)  # as a transaction left open by a failure
    connection._start_transaction_under_autocommit()  # type: ignore[attr-defined]
    assert _held_elsewhere(database)
    connection.close()
    assert not _held_elsewhere(database)


def test_a_second_writer_waits_for_the_first_and_then_writes(database: Path) -> None:
    first_in = threading.Event()
    second_waiting = threading.Event()
    failures: list[BaseException] = []

    def second() -> None:
        try:
            first_in.wait(5)
            second_waiting.set()
            with transaction.atomic(using=ALIAS):  # queues behind the first
                _insert("second")
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connections[ALIAS].close()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic(using=ALIAS):
        _insert("first")
        first_in.set()
        second_waiting.wait(5)
        assert thread.is_alive()
    thread.join(10)
    assert not failures
    assert _rows() == ["first", "second"]
    assert not _held_elsewhere(database)


def test_the_lock_is_advisory_a_writer_goes_ahead_after_waiting(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "WAIT_S", 0.02)
    other = os.open(base.lock_path(str(database)), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # a process that never lets go
    try:
        with transaction.atomic(using=ALIAS):
            _insert("anyway")
    finally:
        os.close(other)
    assert _rows() == ["anyway"]


@pytest.mark.parametrize(
    "taken",
    [lambda fd: None, lambda fd: fcntl.flock(os.dup(fd), fcntl.LOCK_UN)],
    ids=["free", "free-after-unlock"],
)
def test_take_gets_a_free_lock_at_once(tmp_path: Path, taken: Callable[[int], None]) -> None:
    fd = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT)
    try:
        taken(fd)
        assert base.take(fd, 0.0)
    finally:
        os.close(fd)


def test_take_gives_up_after_the_wait(tmp_path: Path) -> None:
    holder = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT)
    waiter = os.open(tmp_path / "lock", os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert not base.take(waiter, 0.01)
        fcntl.flock(holder, fcntl.LOCK_UN)
        assert base.take(waiter, 0.01)
    finally:
        os.close(holder)
        os.close(waiter)


def test_an_in_memory_database_needs_no_lock_file(tmp_path: Path, django_db_blocker: Any) -> None:
    settings = _configured(
        {
            "memory": {
                "ENGINE": "limbguard.config.sqlite_backend",
                "NAME": ":memory:",
                "OPTIONS": {"transaction_mode": "IMMEDIATE"},
            }
        }
    )
    wrapper = base.DatabaseWrapper(settings["memory"], "memory")
    with django_db_blocker.unblock():
        wrapper.ensure_connection()
        wrapper.set_autocommit(False)
        wrapper._start_transaction_under_autocommit()
        assert wrapper._writer_fd is None
        wrapper.close()
