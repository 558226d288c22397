"""The process's one database object: read-only on every thread except the writer's.

peewee keeps a connection per thread. `SplitDatabase._connect` opens the writer thread's
connection read-write (WAL pragmas, foreign keys on) and every other thread's connection
read-only (`mode=ro` URI from Path.as_uri() plus `query_only`), so a UI or HTTP read path
cannot write even by mistake (sqlite-peewee-migrate.md §1.10).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import peewee as pw

from vizzly_tui.store import models

BUSY_TIMEOUT_MS = 10_000


def readonly_uri(path: Path, *, immutable: bool = False) -> str:
    """A `mode=ro` URI. Built with Path.as_uri(): a `#` or `?` in a hand-made `file:` URI
    silently drops the query and opens (creating) a different, writable file."""
    uri = path.resolve().as_uri() + "?mode=ro"
    if immutable:
        uri += "&immutable=1"
    return uri


class SplitDatabase(pw.SqliteDatabase):
    def __init__(self, path: Path, *, immutable_reads: bool = False) -> None:
        self.path = Path(path)
        self.writer_ident: int | None = None
        # On a read-only filesystem a WAL database can only be read as immutable (§3.5).
        self.immutable_reads = immutable_reads
        super().__init__(
            str(self.path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            lock_type="IMMEDIATE",
            autoconnect=True,
        )

    def _connect(self) -> sqlite3.Connection:
        if threading.get_ident() == self.writer_ident:
            conn = sqlite3.connect(
                str(self.path), timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            pragmas = (
                ("journal_mode", "wal"),
                ("foreign_keys", 1),
                ("synchronous", "normal"),
                ("busy_timeout", BUSY_TIMEOUT_MS),
            )
        else:
            conn = sqlite3.connect(
                readonly_uri(self.path, immutable=self.immutable_reads),
                uri=True,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            pragmas = (("busy_timeout", BUSY_TIMEOUT_MS), ("query_only", 1))
        try:
            for key, value in pragmas:
                conn.execute(f"PRAGMA {key} = {value}")
            self._add_conn_hooks(conn)
        except Exception:
            conn.close()
            raise
        return conn

    def rollback(self) -> None:
        # On SQLITE_FULL or SQLITE_IOERR SQLite may already have rolled the transaction back;
        # a ROLLBACK then fails with "no transaction is active" and would hide the real error
        # (a full disk) behind that one.
        conn = self.connection() if not self.is_closed() else None
        if conn is not None and not conn.in_transaction:
            return
        super().rollback()

    def data_version(self) -> int:
        """Changes whenever another connection (any process, our writer too) commits."""
        return self.execute_sql("PRAGMA data_version").fetchone()[0]


def open_database(path: Path, *, immutable_reads: bool = False) -> SplitDatabase:
    """Create the process's database object and bind every model to it."""
    db = SplitDatabase(path, immutable_reads=immutable_reads)
    models.database.initialize(db)
    return db
