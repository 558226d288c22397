"""Notice commits made by anyone (this process's writer, another process) by polling
`PRAGMA data_version` on a read-only connection (3 µs a poll; sqlite-peewee-migrate.md §3.2).

Used by the server's event stream and by the review app, so both see the same changes the
same way. `DataVersionWatcher` has no event loop and no thread of its own:

- `changed()` polls once and says whether something was committed since the last call;
  call it from an asyncio task, a Textual timer's worker, any thread but the writer's;
- `wait(timeout)` blocks (polling every `interval`) until a change or the timeout: for a
  thread worker that wants to sleep until there is something new.

A burst of commits between two polls is one change: callers re-read once per change, which
coalesces a burst of 100 screenshots into a few refreshes.

Why a dedicated connection: data_version is per connection and does not move for the
connection's own commits, and peewee's per-thread connection of the caller may be inside a
read transaction; a private read-only sqlite3 connection is neither.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from vizzly_tui.store.db import BUSY_TIMEOUT_MS, readonly_uri

DEFAULT_INTERVAL_S = 0.25


class DataVersionWatcher:
    def __init__(
        self, db_path: Path, *, interval: float = DEFAULT_INTERVAL_S, immutable: bool = False
    ) -> None:
        self.db_path = Path(db_path)
        self.interval = interval
        self._immutable = immutable
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one poll at a time: the connection is shared
        self._last: int | None = None
        self._closed = False

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is None:
            if not self.db_path.exists():
                return None  # nothing recorded yet: the first commit creates it
            self._conn = sqlite3.connect(
                readonly_uri(self.db_path, immutable=self._immutable),
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self._conn.execute("PRAGMA query_only = 1")
        return self._conn

    def version(self) -> int:
        """The current data_version (0 while the database does not exist)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("watcher is closed")
            conn = self._connection()
            if conn is None:
                return 0
            return conn.execute("PRAGMA data_version").fetchone()[0]

    def changed(self) -> bool:
        """True when a commit happened since the previous call (the first call sets the
        starting point and returns False)."""
        now = self.version()
        if self._last is None:
            self._last = now
            return False
        if now != self._last:
            self._last = now
            return True
        return False

    def wait(self, timeout: float | None = None, stop: threading.Event | None = None) -> bool:
        """Block until a change (True), the timeout or `stop` being set (False)."""
        if self._last is None:
            self.changed()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.changed():
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            pause = self.interval if remaining is None else min(self.interval, remaining)
            if stop is not None:
                if stop.wait(pause):
                    return False
            else:
                time.sleep(pause)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> DataVersionWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
