"""The aiohttp application: one factory used by `serve`, `run` and the tests.

The store is opened once by the caller and handed in (upstream opened one per request,
review point 1). Comparisons run in a thread pool sized to the cores, so the event loop keeps
answering /health during a burst; every write goes through the store's writer thread.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from vizzly_tui.capture import CaptureSettings
from vizzly_tui.config import DEFAULTS
from vizzly_tui.server import routes
from vizzly_tui.server.events import EventHub
from vizzly_tui.server.security import json_errors, lockdown, quiet_payload_errors
from vizzly_tui.store.store import Store
from vizzly_tui.store.watch import DataVersionWatcher

T = TypeVar("T")


@dataclass
class ServerState:
    store: Store
    build_id: int
    build_uid: str
    settings: CaptureSettings = field(default_factory=CaptureSettings)
    max_body_bytes: int = int(DEFAULTS["max_body_bytes"])
    port: int = 0
    started: float = field(default_factory=time.monotonic)
    on_screenshot: Callable[[dict[str, Any]], None] | None = None
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="vizzly-compare"
        )
    )
    # Reads (/health, report data, a comparison) get threads of their own: comparisons and
    # writer commands may block the main pool for long (a big image, a review command
    # suspended while holding the project lock, a burst of screenshots), and /health must
    # still answer: a silent server is taken for a dead one.
    read_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="vizzly-read")
    )
    # One big (over capture.BIG_PIXELS) screenshot at a time reaches the comparison threads.
    big_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    hub: EventHub | None = None
    cloud_token: str | None = None  # --token of serve/run, for POST /api/baselines/download

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work (a comparison, a writer command) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    async def read(
        self, fn: Callable[..., T], *args: Any, current: bool = True, **kwargs: Any
    ) -> T:
        """Run a read-only query off the event loop, never queued behind `run`'s work.

        With `current` (all but /health), raises DatabaseMoved when state.db was deleted or
        replaced: the read connections would answer from the old file for as long as the
        server runs."""
        loop = asyncio.get_running_loop()

        def task() -> T:
            if current:
                self.store.ensure_current()
            return fn(*args, **kwargs)

        return await loop.run_in_executor(self.read_pool, task)


def make_app(state: ServerState) -> web.Application:
    # Our own body reader enforces the limit with a JSON error; aiohttp's must not be lower.
    quiet_payload_errors()
    app = web.Application(
        middlewares=[json_errors, lockdown], client_max_size=state.max_body_bytes + 1024
    )
    db = state.store.db
    watcher = DataVersionWatcher(
        state.store.project.db_path, immutable=bool(db is not None and db.immutable_reads)
    )
    state.hub = EventHub(watcher, lambda: state.read(routes.report_snapshot, state))
    routes.register(app, state)

    async def start_hub(_app: web.Application) -> None:
        assert state.hub is not None
        await state.hub.start()

    async def stop_hub(_app: web.Application) -> None:
        if state.hub is not None:
            await state.hub.stop()

    async def stop_pool(_app: web.Application) -> None:
        state.pool.shutdown(wait=True, cancel_futures=False)
        state.read_pool.shutdown(wait=True, cancel_futures=False)

    app.on_startup.append(start_hub)
    app.on_shutdown.append(stop_hub)
    app.on_cleanup.append(stop_pool)
    return app
