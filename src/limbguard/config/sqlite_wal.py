"""Checkpoint SQLite's write-ahead log beside the web requests, not inside them.

By default SQLite checkpoints from whichever connection commits the transaction that
takes the log past 1,000 pages: that request then copies the log into the database file
and waits for its fsync while its client waits too. Under a burst of public forms about
one commit in ten paid 2-146 ms for it (bench/public_forms.py, helper profile).

A web process started through `wsgi.py` on SQLite therefore runs one daemon thread that
checkpoints every `INTERVAL_S` seconds with its own connection, and raises its request
connections' automatic checkpoint to `BACKSTOP_PAGES` (about 40 MB of log), which only
fires if that thread has stopped. PASSIVE checkpoints never block readers or writers;
the thread's SQLite calls release the GIL. Durability does not change: every commit is
in the log as before, and the log is synced at each checkpoint, now at least once a
second instead of once every 1,000 pages. Other processes (worker, import, tests) keep
SQLite's default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any, Final

from django.db.backends.signals import connection_created

INTERVAL_S: Final = 1.0
BACKSTOP_PAGES: Final = 10_000
# A checkpoint that finds the write lock taken simply waits for the next round.
BUSY_TIMEOUT_S: Final = 0.5

log = logging.getLogger(__name__)


def checkpoint(path: Path | str) -> tuple[int, int, int]:
    """One PASSIVE checkpoint of the database at `path`: (busy, log frames, frames copied)."""
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as db:
        row = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _raise_backstop(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")


def _loop(path: Path, stop: threading.Event) -> None:
    while not stop.wait(INTERVAL_S):
        try:
            checkpoint(path)
        except sqlite3.Error:
            # Never fatal: the backstop still checkpoints; say so once a round.
            log.exception("WAL checkpoint of %s failed; retrying in %.0f s", path, INTERVAL_S)


def start_beside_requests(database: dict[str, Any]) -> threading.Event | None:
    """Start the checkpoint thread for a SQLite `database` (Django settings dict).

    Returns the event that stops it, or None when the database is not a SQLite file.
    """
    if database["ENGINE"] not in ("django.db.backends.sqlite3", "limbguard.config.sqlite_backend"):
        return None
    name = str(database["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return None
    connection_created.connect(_raise_backstop, dispatch_uid="limbguard-wal-backstop")
    stop = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(Path(name), stop), name="sqlite-wal-checkpoint", daemon=True
    )
    thread.start()
    return stop
