"""The one writer thread of a process.

Every mutation is a command: a plain function queued here. By default it runs inside one
`BEGIN IMMEDIATE` transaction, so it either commits whole or rolls back whole; its result or
exception comes back as a Future. Commands that must commit in several steps (the review
actions' pending -> files -> done protocol) are submitted with `transaction=False` and open
their own `db.atomic()` blocks; they still run on this thread, one at a time.

Why not playhouse.sqliteq: it has no multi-statement transactions and loses errors of raw
writes (sqlite-peewee-migrate.md §1.9).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from vizzly_tui.errors import CorruptDatabase, DatabaseMoved
from vizzly_tui.store.db import SplitDatabase

log = logging.getLogger(__name__)

T = TypeVar("T")
_STOP = object()


class WriterStopped(RuntimeError):
    """The writer was stopped before it could run this command."""


def _damage(exc: BaseException) -> bool:
    from vizzly_tui.store.bootstrap import is_damage

    return is_damage(exc)


def _hold_wal(path: Path) -> sqlite3.Connection | None:
    """SQLite's last connection to close checkpoints the WAL into the database file. For a
    damaged file, keep a read-only connection open across the writer's close (a read-only
    connection never checkpoints), so the file stays byte for byte as it was."""
    from vizzly_tui.store.db import readonly_uri

    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
    except sqlite3.Error:
        return None
    with contextlib.suppress(sqlite3.Error):  # open is what matters; the read may fail
        conn.execute("PRAGMA schema_version").fetchone()
    return conn


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _sidecars(path: Path) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The identities of state.db-wal and state.db-shm (None for one that is absent)."""
    return (
        _identity(path.with_name(path.name + "-wal")),
        _identity(path.with_name(path.name + "-shm")),
    )


def wal_deleted_message(path: Path) -> str:
    return (
        f"{path.name}-wal or {path.name}-shm beside {path} was deleted while vizzly-tui was "
        "running: what was already recorded was put back into the database, and nothing more "
        "is written until vizzly-tui is restarted (never delete these files while it runs)"
    )


def moved_message(path: Path) -> str:
    return (
        f"the database {path} was deleted or replaced while vizzly-tui was running, so "
        "nothing more is written to it. Restart vizzly-tui "
        "(`vizzly-tui doctor` says what to do if it is gone)"
    )


class Writer:
    def __init__(self, db: SplitDatabase, *, name: str = "vizzly-writer", max_queue: int = 0):
        self.db = db
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping = False
        self._lock = threading.Lock()
        # Set when SQLite reports the file damaged: from then on nothing is written to it
        # (no command, no checkpoint), so it stays as it was for recovery (issue 7).
        self.damaged: str | None = None
        self._refusal: type[CorruptDatabase] = CorruptDatabase
        # (st_dev, st_ino) of the file the connection opened. SQLite keeps writing to an open
        # file that was deleted or replaced (its WAL still by name), so the database and the
        # image files would part ways: checked before each command (one stat, ~1 µs).
        self._opened: tuple[int, int] | None = None
        # The same for the -wal and -shm files, once they exist. Deleted under an open
        # connection, SQLite keeps committing to the unlinked WAL, which other processes never
        # see, while they start a new one: two WALs for one database lose writes or damage it.
        self._wal_files: tuple[tuple[int, int] | None, tuple[int, int] | None] | None = None
        self._folded = False
        self._check_lock = threading.Lock()

    def start(self) -> Writer:
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            raise self._start_error
        return self

    def submit(
        self, fn: Callable[..., T], *args: Any, transaction: bool = True, **kwargs: Any
    ) -> Future[T]:
        """Queue `fn(*args, **kwargs)`; the Future gets its result or its exception."""
        future: Future[T] = Future()
        with self._lock:
            if self.damaged is not None:
                raise self._refusal(self.damaged)
            if self._stopping or not self._thread.is_alive():
                raise WriterStopped("the database writer is stopped")
            self._queue.put((future, fn, args, kwargs, transaction))
        return future

    def call(self, fn: Callable[..., T], *args: Any, transaction: bool = True, **kwargs: Any) -> T:
        """Submit and wait: for command-line code that has nothing else to do meanwhile."""
        return self.submit(fn, *args, transaction=transaction, **kwargs).result()

    def stop(self, *, drain: bool = True, timeout: float | None = 30.0) -> None:
        """Stop the thread. With `drain`, queued commands run first; otherwise they fail.

        Never hangs on a command submitted after stop: submit() raises instead.
        """
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            if not drain:
                self._fail_pending()
            if self._thread.is_alive():
                self._queue.put(_STOP)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def check(self) -> None:
        """Raise what a command would meet now: the file damaged, deleted or replaced. Any
        thread may call it, for work that writes files before its command does."""
        # Not self._lock: submit() may hold it while blocked on a full queue.
        wal_deleted = False
        with self._check_lock:
            if self.damaged is None and self._moved():
                self.damaged = moved_message(self.db.path)
                self._refusal = DatabaseMoved
                log.error(self.damaged)
            elif self.damaged is None and self._wal_moved():
                self.damaged = wal_deleted_message(self.db.path)
                self._refusal = DatabaseMoved
                log.error(self.damaged)
                wal_deleted = True
            damaged, refusal = self.damaged, self._refusal
        if wal_deleted:
            self._fold()
        if damaged is not None:
            raise refusal(damaged)

    def _wal_moved(self) -> bool:
        if self._wal_files is None:
            return False
        return _sidecars(self.db.path) != self._wal_files

    def _damaged_in_place(self) -> bool:
        """SQLite found the file itself damaged (not moved): nothing may be written to it."""
        return self.damaged is not None and self._refusal is not DatabaseMoved

    def _fold(self) -> None:
        """Fold the deleted WAL into state.db, on the writer's connection (the only one that
        still reads it): from this thread when it is the writer's, else queued and waited
        for, so the caller's refusal comes after what was committed is back in the file."""
        if threading.get_ident() == self._thread.ident:
            self._fold_now()
            return
        done: Future[None] = Future()
        with self._lock:
            if self._stopping or not self._thread.is_alive():
                return  # the writer's stop folds it (see _run's end)
            self._queue.put((done, self._fold_now, (), {}, False))
        with contextlib.suppress(Exception):
            done.result(timeout=60)

    def _fold_now(self) -> None:
        if self._folded or self._wal_files is None:
            return
        # Only while no other process has started a WAL of its own beside the database:
        # folding ours under theirs would mix two histories of the same pages.
        now = _sidecars(self.db.path)
        if any(n is not None and n != o for n, o in zip(now, self._wal_files, strict=True)):
            log.error(
                "%s: another process started a new WAL; the deleted one is not folded", self.db.path
            )
            return
        try:
            busy = self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except Exception as exc:
            log.error("could not fold the deleted WAL into %s: %s", self.db.path, exc)
            return
        # Not done while a reader of this process held it back: the writer's stop tries again.
        self._folded = not busy

    def _moved(self) -> bool:
        """The path no longer names the file the connection has open."""
        return self._opened is not None and _identity(self.db.path) != self._opened

    def _fail_pending(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                item[0].set_exception(WriterStopped("the database writer stopped"))

    def _run(self) -> None:
        self.db.writer_ident = threading.get_ident()
        try:
            self.db.connect(reuse_if_open=True)
            self._opened = _identity(self.db.path)
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            return
        self._started.set()
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                future, fn, args, kwargs, transaction = item
                if not future.set_running_or_notify_cancel():
                    continue
                if fn == self._fold_now:
                    fn()
                    future.set_result(None)
                    continue
                try:
                    self.check()
                except CorruptDatabase as refused:
                    future.set_exception(refused)
                    continue
                try:
                    if transaction:
                        with self.db.atomic():
                            result = fn(*args, **kwargs)
                    else:
                        result = fn(*args, **kwargs)
                except BaseException as exc:
                    if _damage(exc):
                        from vizzly_tui.store.bootstrap import damaged_message

                        self.damaged = damaged_message(self.db.path, str(exc))
                        log.error(self.damaged)
                        exc = CorruptDatabase(self.damaged)
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                if self._wal_files is None:
                    found = _sidecars(self.db.path)
                    if None not in found:
                        self._wal_files = found
        finally:
            with self._lock:
                self._stopping = True
                self._fail_pending()
            try:
                # Fold the WAL back into the database so readers on a read-only copy see it all
                # (never into a damaged file: it stays as it was for recovery).
                if self.damaged is None and not self._moved() and not self._wal_moved():
                    self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                elif self._wal_moved() and not self._moved() and not self._damaged_in_place():
                    self._fold_now()
            except Exception as exc:  # another process may hold a snapshot; not an error
                log.debug("checkpoint on writer stop skipped: %s", exc)
            # (Not for a moved file: the path names another database, or none.)
            hold = self.damaged is not None and self._refusal is not DatabaseMoved
            guard = _hold_wal(self.db.path) if hold else None
            self.db.close()
            if guard is not None:
                guard.close()
            self.db.writer_ident = None
