"""A live-updates client that stops reading (a suspended laptop's tab, a stopped debugger)
must not make the server hold every event since: past a backlog it is dropped (its
EventSource reconnects and starts from a fresh reportData), while clients that read keep
getting every event."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from aiohttp import web

from vizzly_tui.server import events
from vizzly_tui.server.events import EventHub

NOTE = 256 * 1024  # under aiohttp's 512 KiB line limit of the reading client


class StillWatcher:
    """No commits from elsewhere: the test drives refresh() itself."""

    def changed(self) -> bool:
        return False

    def close(self) -> None:
        pass


async def _read_event(response) -> tuple[str, Any]:
    lines: dict[str, str] = {}
    while True:
        line = (await response.content.readline()).decode().rstrip("\n")
        if not line:
            return lines["event"], json.loads(lines["data"])
        key, value = line.split(": ", 1)
        lines[key] = value


async def _until(condition, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_client_that_never_reads_is_dropped_and_readers_get_everything(aiohttp_client):
    current: dict[str, Any] = {"comparisons": [], "summary": {"n": 0}}

    async def snapshot() -> dict[str, Any]:
        return json.loads(json.dumps(current))

    hub = EventHub(StillWatcher(), snapshot)  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_get("/events", hub.handle)
    app.on_startup.append(lambda _app: hub.start())
    app.on_cleanup.append(lambda _app: hub.stop())
    client = await aiohttp_client(app)

    reader = await client.get("/events")
    assert (await _read_event(reader))[0] == "reportData"
    # The one that never reads: a small receive buffer, and not one byte read.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((client.host, client.port))
    _stalled_reader, stalled = await asyncio.open_connection(sock=sock)
    stalled.write(f"GET /events HTTP/1.1\r\nHost: {client.host}:{client.port}\r\n\r\n".encode())
    await _until(lambda: hub.client_count == 2)

    try:
        await _burst(hub, current, reader, _stalled_reader)
    finally:
        reader.close()
        stalled.close()


async def _burst(hub, current, reader, stalled_reader) -> None:
    rounds = 3 * events.MAX_BACKLOG_BYTES // NOTE
    for n in range(1, rounds + 1):
        current["summary"] = {"n": n, "note": "x" * NOTE}
        await hub.refresh()
        name, data = await asyncio.wait_for(_read_event(reader), 10)
        assert (name, data["summary"]["n"]) == ("summaryUpdate", n)

    # The stalled client was let go; the reading one is still there.
    await _until(lambda: hub.client_count == 1)
    # Its connection is closed, so its EventSource would reconnect.
    async with asyncio.timeout(10):
        while await stalled_reader.read(1 << 20):
            pass
    current["summary"] = {"n": -1}
    await hub.refresh()
    assert (await asyncio.wait_for(_read_event(reader), 10))[1]["summary"]["n"] == -1
