"""/health must answer while every comparison thread is busy: `serve --status`, `stop` and
`serve --daemon` take a silent /health for a dead server (and clean its discovery files)."""

from __future__ import annotations

import asyncio
import threading


async def test_health_answers_while_every_comparison_thread_is_busy(server):
    client, state = server
    release = threading.Event()
    workers = state.pool._max_workers
    busy = [asyncio.ensure_future(state.run(release.wait, 30)) for _ in range(workers + 4)]
    try:
        response = await asyncio.wait_for(client.get("/health"), timeout=5)
        body = await response.json()
        assert response.status == 200 and body["status"] == "ok"
    finally:
        release.set()
        await asyncio.gather(*busy)
