"""Server-sent events for `/api/events`, fed by polling `PRAGMA data_version` through the
store's DataVersionWatcher (the review app watches the same way).

data_version moves on every commit by any other connection: this process's writer, the
`vizzly-tui accept` command, the app, another server. So one poll loop (every 250 ms, 3 µs a
poll) sees every change whoever made it, and upstream's in-process-only events (§10.9) become
cross-process. Each change is diffed against the last snapshot sent and becomes the upstream
event names: reportData, comparisonUpdate, comparisonRemoved, summaryUpdate (and heartbeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vizzly_tui.errors import VizzlyError
from vizzly_tui.store.watch import DataVersionWatcher

log = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.25
HEARTBEAT_S = 30.0
# What one client may leave unread before it is dropped. Frames are shared between clients,
# but a client that never reads (a stopped debugger, a suspended laptop's browser tab) would
# hold every frame since it stopped: the server's memory would grow with each commit. Dropped,
# its EventSource reconnects when it wakes and starts again from a fresh reportData.
MAX_BACKLOG_BYTES = 16 * 1024 * 1024

Snapshot = dict[str, Any] | None


def frame(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def diff_frames(old: Snapshot, new: Snapshot) -> list[bytes]:
    """The events that turn a client holding `old` into one holding `new`."""
    if new is None:
        return []
    if old is None:
        return [frame("reportData", new)]
    frames: list[bytes] = []
    before = {c["id"]: c for c in old.get("comparisons", [])}
    after = {c["id"]: c for c in new.get("comparisons", [])}
    for cid, row in after.items():
        if before.get(cid) != row:
            frames.append(frame("comparisonUpdate", row))
    for cid in before:
        if cid not in after:
            frames.append(frame("comparisonRemoved", {"id": cid}))
    rest_old = {k: v for k, v in old.items() if k != "comparisons"}
    rest_new = {k: v for k, v in new.items() if k != "comparisons"}
    if rest_old != rest_new:
        frames.append(frame("summaryUpdate", rest_new))
    return frames


class _Client:
    """One SSE connection: its frames not yet written and how many bytes they hold."""

    def __init__(self, transport: asyncio.BaseTransport | None) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.backlog = 0
        self._transport = transport

    def put(self, item: bytes) -> None:
        self.queue.put_nowait(item)
        self.backlog += len(item)

    def drop(self) -> None:
        """Close the connection: the handler, waiting to write, ends on the lost connection."""
        self.queue.put_nowait(None)
        if self._transport is not None:
            self._transport.close()


class EventHub:
    """One poll loop for all SSE clients of this server."""

    def __init__(
        self,
        watcher: DataVersionWatcher,
        snapshot: Callable[[], Awaitable[Snapshot]],
        *,
        interval: float = POLL_INTERVAL_S,
    ) -> None:
        self._watcher = watcher
        self._snapshot = snapshot
        self._interval = interval
        self._clients: set[_Client] = set()
        self._last: Snapshot = None
        self._task: asyncio.Task[None] | None = None
        # The poll loop and a connecting client may both refresh; one at a time, or a slower
        # snapshot taken earlier could replace a newer one as the base of the next diff.
        self._refreshing = asyncio.Lock()

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        self._watcher.changed()  # the starting point: changes after it are news
        self._last = await self._snapshot()
        self._task = asyncio.create_task(self._poll(), name="vizzly-sse-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for client in list(self._clients):
            client.queue.put_nowait(None)
        self._watcher.close()

    async def _poll(self) -> None:
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(self._interval)
            try:
                if self._watcher.changed():
                    await self.refresh()
            except VizzlyError as exc:  # a known cause (state.db moved): its one line
                log.error("live updates: %s", exc)
            except Exception:  # a bad poll must not end live updates for everyone
                log.exception("SSE refresh failed")
            if time.monotonic() - last_beat >= HEARTBEAT_S:
                last_beat = time.monotonic()
                self._broadcast([frame("heartbeat", {"timestamp": int(time.time() * 1000)})])

    async def refresh(self) -> None:
        async with self._refreshing:
            new = await self._snapshot()
            frames = diff_frames(self._last, new)
            if new is not None or self._last is None:
                self._last = new
            if frames:
                self._broadcast(frames)

    def _broadcast(self, frames: list[bytes]) -> None:
        for client in list(self._clients):
            # Checked before adding: a client that has read everything always takes the next
            # broadcast, however large (a reportData of a big project, a batch of 5000).
            if client.backlog > MAX_BACKLOG_BYTES:
                log.warning("SSE client dropped: %d bytes unread", client.backlog)
                self._clients.discard(client)
                client.drop()
                continue
            for item in frames:
                client.put(item)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        # A commit since the last poll must not reach this client first as an "update" of a
        # reportData that already predates it: catch up before sending the starting point.
        if self._watcher.changed():
            try:
                await self.refresh()
            except VizzlyError as exc:  # the client starts from the last snapshot instead
                log.error("live updates: %s", exc)
        client = _Client(request.transport)
        self._clients.add(client)
        try:
            if self._last is not None:
                await response.write(frame("reportData", self._last))
            while True:
                item = await client.queue.get()
                if item is None:
                    break
                await response.write(item)
                client.backlog -= len(item)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(client)
        return response
