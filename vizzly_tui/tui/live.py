"""Watching state.db for commits by other connections (other processes, our writer).

A plain thread, not a Textual worker: it lives as long as the app, and tests that wait for
the app's workers to finish must not wait for it. It uses the store's shared poller
(store/watch.py) and only calls `on_change`, which posts a coalescing message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vizzly_tui.store.store import Store
from vizzly_tui.store.watch import DataVersionWatcher

POLL_SECONDS = 0.1  # 3 µs a poll; leaves the 500 ms budget to reading and painting


class Watcher:
    def __init__(self, store: Store, on_change: Callable[[], None]) -> None:
        self._watcher = DataVersionWatcher(
            store.project.db_path,
            interval=POLL_SECONDS,
            immutable=bool(store.db is not None and store.db.immutable_reads),
        )
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vizzly-tui-watch", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    changed = self._watcher.wait(stop=self._stop)
                except Exception:
                    # A locked or replaced database: try again at the next tick.
                    changed = False
                    self._stop.wait(POLL_SECONDS)
                if changed and not self._stop.is_set():
                    self._on_change()
        finally:
            self._watcher.close()
