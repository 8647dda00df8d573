"""SQLite for LimbGuard: write transactions queue on a file lock, not on SQLite's sleeps.

SQLite lets one connection write at a time. A connection that finds the write lock taken
runs SQLite's busy handler, which sleeps 1 ms, then 2, 5, 10 … between tries, whatever
is left of the other transaction. LimbGuard's web transactions are short (a CDS Hooks
call writes for about 0.2 ms), so under a burst the waiting worker slept up to five times
longer than it needed, with its core idle (`bench/cds_hooks.py`: about one write
transaction in eight waited over 0.5 ms).

Every write transaction here starts with ``BEGIN IMMEDIATE`` (the settings'
``transaction_mode``). This backend takes an exclusive `flock` on ``<database>-writer.lock``
just before it and releases it at the commit or rollback, so writers queue on that lock
and are let in at once, polling it in naps of `FIRST_NAP_S` growing to `LONGEST_NAP_S`.
The lock is advisory only: SQLite's own locking still decides, and after `WAIT_S` without
the file lock (a long import holding it, a process that does not use this backend) the
transaction goes ahead to SQLite's busy handler exactly as before. The kernel drops the
lock of a process that dies, so it cannot be left behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any, Final

from django.db.backends.sqlite3 import base

WAIT_S: Final = 0.25
FIRST_NAP_S: Final = 0.00005
LONGEST_NAP_S: Final = 0.0005


def lock_path(database: str) -> str:
    """The writers' lock file of the SQLite database file `database`."""
    return f"{database}-writer.lock"


class DatabaseWrapper(base.DatabaseWrapper):
    # Set by Django's backend from OPTIONS; django-stubs lack it and the methods below.
    transaction_mode: str | None
    _writer_fd: int | None = None
    _writing: bool = False

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode == "IMMEDIATE" and not self.is_in_memory_db():
            if self._writer_fd is None:
                flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
                self._writer_fd = os.open(lock_path(self.settings_dict["NAME"]), flags, 0o600)
            self._writing = take(self._writer_fd, WAIT_S)
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writer()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_writer()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None

    def _release_writer(self) -> None:
        if self._writing and self._writer_fd is not None:
            self._writing = False
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)


def take(fd: int, wait_s: float) -> bool:
    """Take the exclusive lock of `fd` within about `wait_s` seconds; False if not."""
    nap = FIRST_NAP_S
    deadline = 0.0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            now = time.monotonic()
            deadline = deadline or now + wait_s
            if now >= deadline:
                return False
            time.sleep(nap)
            nap = min(nap * 2, LONGEST_NAP_S)
