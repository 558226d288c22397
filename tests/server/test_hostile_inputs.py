"""Hostile request bodies get a 400 naming the problem, and the server keeps serving."""

from __future__ import annotations

import base64
import gzip

import aiohttp

from tests.server.conftest import b64, png


async def _post_raw(client, path, data, **headers):
    headers.setdefault("Content-Type", "application/json")
    response = await client.post(path, data=data, headers=headers)
    return response.status, await response.json()


async def test_malformed_bodies_are_400_not_500(server):
    client, _ = server
    cases = {
        "nested too deeply": b"[" * 5000 + b"]" * 5000,
        "digit": b'{"name": 1' + b"0" * 5000 + b"}",
        "lone UTF-16 surrogate": b'{"name": "a\\ud800", "image": "x"}',
    }
    for expected, body in cases.items():
        for path in ("/screenshot", "/api/baseline/accept", "/accept-baseline"):
            status, answer = await _post_raw(client, path, body)
            assert status == 400, (path, expected, answer)
            assert expected in answer["error"], answer
    # A body that is not the gzip it claims to be: aiohttp may drop the connection rather than
    # answer; either way nothing is recorded and the server keeps serving.
    try:
        status, answer = await _post_raw(
            client,
            "/screenshot",
            b"not gzip at all",
            **{"Content-Encoding": "gzip", "Connection": "close"},
        )
    except aiohttp.ClientError:
        pass
    else:
        assert status == 400 and "Invalid request body" in answer["error"]
    assert (await client.get("/health")).status == 200
    good = gzip.compress(b'{"name": "zipped", "image": "' + b64(png()).encode() + b'"}')
    status, answer = await _post_raw(client, "/screenshot", good, **{"Content-Encoding": "gzip"})
    assert (status, answer["status"]) == (200, "new")
    assert (await client.get("/health")).status == 200


async def test_a_truncated_png_never_becomes_a_baseline(server):
    client, state = server
    broken = base64.b64encode(png()[:120]).decode()
    response = await client.post("/screenshot", json={"name": "cut", "image": broken})
    assert response.status == 400
    assert "corrupt or truncated" in (await response.json())["error"]
    assert list(state.store.project.baselines_dir.glob("cut_*.png")) == []
    assert list(state.store.project.current_dir.glob("cut_*.png")) == []
    ok = await client.post("/screenshot", json={"name": "cut", "image": b64(png())})
    assert (await ok.json())["status"] == "new"
    # A broken image sent against an existing baseline is the sender's problem too: 400.
    again = await client.post("/screenshot", json={"name": "cut", "image": broken})
    assert again.status == 400
    current = next(state.store.project.current_dir.glob("cut_*.png"))
    assert current.read_bytes() == png()  # the good current image was not replaced


async def test_out_of_range_per_screenshot_settings_fall_back(server):
    client, _ = server
    body = {"name": "big", "image": b64(png()), "properties": {"minClusterSize": 10**30}}
    response = await client.post("/screenshot", json=body)
    assert response.status == 200
    detail = await (await client.get("/api/comparison/big")).json()
    assert detail["minClusterSize"] == 2


async def test_odd_image_names_are_404(server):
    client, _ = server
    response = await client.get("/images/baselines/" + "a" * 300)
    assert (response.status, await response.json()) == (404, {"error": "Image not found"})
