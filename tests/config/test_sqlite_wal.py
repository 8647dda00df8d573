"""The web process's WAL checkpoint thread (limbguard.config.sqlite_wal)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from limbguard.config import sqlite_wal


def _wal_database(path: Path, rows: int) -> None:
    """A WAL database whose log holds `rows` inserts that nobody has checkpointed."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("CREATE TABLE t (x TEXT)")
        for n in range(rows):
            db.execute("INSERT INTO t VALUES (?)", (f"row {n} " * 20,))
        # Keep the log: a last connection closing would checkpoint it.
        keeper = sqlite3.connect(path, isolation_level=None)
        keeper.execute("SELECT count(*) FROM t").fetchone()
    _keepers.append(keeper)


_keepers: list[sqlite3.Connection] = []


@pytest.fixture(autouse=True)
def _close_keepers() -> Iterator[None]:
    yield
    while _keepers:
        _keepers.pop().close()


def test_checkpoint_copies_the_log_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _wal_database(path, 200)
    before = path.stat().st_size
    busy, frames, copied = sqlite_wal.checkpoint(path)
    assert busy == 0
    assert frames > 0
    assert copied == frames
    assert path.stat().st_size > before
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (200,)


def test_the_thread_checkpoints_within_a_few_rounds(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _wal_database(path, 200)
    before = path.stat().st_size
    stop = sqlite_wal.start_beside_requests(
        {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    )
    assert stop is not None
    try:
        deadline = time.monotonic() + 10 * sqlite_wal.INTERVAL_S
        while path.stat().st_size == before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert path.stat().st_size > before


@pytest.mark.parametrize(
    "database",
    [
        {"ENGINE": "django.db.backends.postgresql", "NAME": "limbguard"},
        {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        {"ENGINE": "django.db.backends.sqlite3", "NAME": "file:memorydb?mode=memory"},
    ],
)
def test_no_thread_without_a_sqlite_file(database: dict[str, str]) -> None:
    assert sqlite_wal.start_beside_requests(database) is None


class _Connection:
    """The two attributes of a Django connection that the signal receiver reads."""

    def __init__(self, vendor: str, db: sqlite3.Connection | None) -> None:
        self.vendor = vendor
        self.db = db

    def cursor(self) -> closing[sqlite3.Cursor]:
        assert self.db is not None, "a non-SQLite connection must not be touched"
        return closing(self.db.cursor())


def test_request_connections_get_the_backstop(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
        sqlite_wal._raise_backstop(sender=None, connection=_Connection("sqlite", db))
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone() == (sqlite_wal.BACKSTOP_PAGES,)
    sqlite_wal._raise_backstop(sender=None, connection=_Connection("postgresql", None))


def test_the_wsgi_entry_point_starts_it_on_sqlite(tmp_path: Path) -> None:
    """gunicorn imports wsgi.py once per worker; that import starts the thread."""
    probe = (
        "import threading, limbguard.config.wsgi; "
        "print(sorted(t.name for t in threading.enumerate()))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "test-only-wsgi-probe-never-serves-requests",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert "sqlite-wal-checkpoint" in done.stdout
