"""A web page in the user's browser must not change state; live events cross processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from tests.server.conftest import b64, png


async def test_foreign_origin_cannot_change_state(server):
    client, state = server
    await client.post("/screenshot", json={"name": "keep", "image": b64(png())})
    evil = {"Origin": "http://evil.example"}
    for path in ("/api/baseline/reset", "/api/baseline/accept-all", "/screenshot", "/flush"):
        response = await client.post(path, json={}, headers=evil)
        assert response.status == 403, path
        assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await client.options("/api/baseline/reset", headers=evil)
    assert preflight.status == 403
    assert list(state.store.project.baselines_dir.glob("*.png"))  # nothing was reset


async def test_loopback_origins_work_and_get_their_own_origin_back(server):
    client, _ = server
    local = {"Origin": "http://localhost:6006"}
    response = await client.post(
        "/screenshot", json={"name": "storybook", "image": b64(png())}, headers=local
    )
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:6006"
    preflight = await client.options("/screenshot", headers={"Origin": "http://127.0.0.1:3000"})
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
    plain = await client.get("/health")
    assert "Access-Control-Allow-Origin" not in plain.headers  # never "*"


async def test_foreign_host_header_is_refused_on_every_route(server):
    client, _ = server
    for method, path in (("GET", "/api/report-data"), ("GET", "/health"), ("POST", "/flush")):
        response = await client.request(method, path, headers={"Host": "attacker.example:47392"})
        assert response.status == 403, path
    assert (await client.get("/health", headers={"Host": "localhost:47392"})).status == 200
    assert (await client.get("/health", headers={"Host": "[::1]:47392"})).status == 200


async def _read_events(response, count, timeout=3.0):
    events = []
    buffer = b""
    async with asyncio.timeout(timeout):
        while len(events) < count:
            buffer += await response.content.readany()
            while b"\n\n" in buffer:
                chunk, buffer = buffer.split(b"\n\n", 1)
                lines = dict(line.split(": ", 1) for line in chunk.decode().splitlines())
                events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_events_stream_report_and_updates(server):
    client, _ = server
    await client.post("/screenshot", json={"name": "first", "image": b64(png())})
    response = await client.get("/api/events")
    assert response.headers["Content-Type"] == "text/event-stream"
    [(name, data)] = await _read_events(response, 1)
    assert name == "reportData" and data["comparisons"][0]["name"] == "first"
    await client.post("/screenshot", json={"name": "second", "image": b64(png())})
    events = await _read_events(response, 2)
    names = [e[0] for e in events]
    assert "comparisonUpdate" in names
    update = next(d for n, d in events if n == "comparisonUpdate")
    assert update["name"] == "second"
    response.close()


async def test_a_change_made_by_another_process_reaches_clients_within_a_second(server):
    client, state = server
    await client.post("/screenshot", json={"name": "shared", "image": b64(png())})
    await client.post("/screenshot", json={"name": "shared", "image": b64(png(block=(200, 0, 0)))})
    response = await client.get("/api/events")
    [(_, first)] = await _read_events(response, 1)
    cid = first["comparisons"][0]["id"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vizzly_tui",
        "--project",
        str(state.store.project.root),
        "reject",
        cid,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert await proc.wait() == 0, (await proc.stderr.read()).decode()
    loop = asyncio.get_running_loop()
    done_at = loop.time()
    events = await _read_events(response, 1, timeout=2.0)
    assert loop.time() - done_at < 1.0
    name, data = events[0]
    assert name == "comparisonUpdate"
    assert data["id"] == cid and data["status"] == "rejected"
    response.close()


async def test_reset_and_last_delete_reach_live_clients_and_report_data(server):
    client, _ = server
    await client.post("/screenshot", json={"name": "only", "image": b64(png())})
    response = await client.get("/api/events")
    [(_, first)] = await _read_events(response, 1)
    cid = first["comparisons"][0]["id"]
    await client.post("/api/baseline/delete", json={"id": cid})
    events = await _read_events(response, 1)
    assert ("comparisonRemoved", {"id": cid}) in events
    response.close()
    report = await (await client.get("/api/report-data")).json()
    assert report is not None and report["comparisons"] == []
    late = await client.get("/api/events")
    [(name, data)] = await _read_events(late, 1)
    assert name == "reportData" and data["comparisons"] == []
    late.close()
