"""A flood of big screenshots does not starve small ones in the server (a follow-up probe of
issue 7): big screenshots waiting for the one big-comparison slot must not take every
comparison thread. Measured before the fix: a small screenshot sent during four 12 MP
comparisons waited 15 s on a 2-core machine."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.racehelpers import png
from tests.server.conftest import b64
from vizzly_tui import capture as capture_module
from vizzly_tui import engine
from vizzly_tui.capture import CaptureSettings, capture, start_build
from vizzly_tui.server.app import ServerState, make_app
from vizzly_tui.store.store import open_store

BIG_SIZE = (200, 100)  # "big" here: BIG_PIXELS is lowered to 10,000 for the test


async def test_small_screenshots_are_compared_while_big_ones_queue(
    project, aiohttp_client, monkeypatch
):
    monkeypatch.setattr(capture_module, "BIG_PIXELS", 10_000)
    store = open_store(project)
    build = start_build(store, "serve")
    for i in range(3):
        capture(store, build.id, f"big-{i}", png((250, 250, 250), BIG_SIZE))
    capture(store, build.id, "small", png((250, 250, 250)))

    real = engine.compare_bytes
    gate = threading.Event()
    started = threading.Event()

    def held(baseline, current, **kwargs):
        if engine.read_png_size(current) == BIG_SIZE:
            started.set()
            gate.wait(60)
        return real(baseline, current, **kwargs)

    monkeypatch.setattr(engine, "compare_bytes", held)
    # Two comparison threads, as on a 2-core machine (the default is one per core).
    state = ServerState(
        store, build.id, build.uid, settings=CaptureSettings(), pool=ThreadPoolExecutor(2)
    )
    client = await aiohttp_client(make_app(state))
    bigs = [
        asyncio.create_task(
            client.post(
                "/screenshot",
                json={"name": f"big-{i}", "image": b64(png((0, 0, i), BIG_SIZE))},
            )
        )
        for i in range(3)
    ]
    while not started.is_set():
        await asyncio.sleep(0.01)
    try:
        small = await asyncio.wait_for(
            client.post("/screenshot", json={"name": "small", "image": b64(png((0, 0, 0)))}),
            20,
        )
        assert small.status == 200
        assert (await small.json())["status"] == "diff"
        assert not any(task.done() for task in bigs)  # the big ones were still held
    finally:
        gate.set()
    for task in bigs:
        response = await asyncio.wait_for(task, 60)
        assert response.status == 200
    await client.close()
    store.close()
