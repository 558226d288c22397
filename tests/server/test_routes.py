"""Every route of the TDD server, with upstream's bodies, and its error cases."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

from tests.server.conftest import b64, png
from vizzly_tui import identity


async def send(client, name="homepage", image=None, **extra):
    body = {"name": name, "image": b64(image or png()), "type": "base64", **extra}
    response = await client.post("/screenshot", json=body)
    return response.status, await response.json()


async def test_health_before_and_after_screenshots(server):
    client, state = server
    response = await client.get("/health")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok" and body["mode"] == "tdd" and body["port"] == state.port
    assert body["stats"] is None and body["baseline"] is None
    await send(client)
    body = await (await client.get("/health")).json()
    assert body["stats"] == {"total": 1, "passed": 1, "failed": 0, "errors": 0}
    assert body["baseline"]["buildName"] == "Local TDD Baseline"


async def test_new_then_match_then_diff(server):
    client, state = server
    props = {"browser": "chrome", "viewport": {"width": 1280, "height": 720}}
    status, body = await send(client, properties=props)
    vizzly = state.store.project.vizzly_dir
    assert status == 200
    file_name = identity.file_name("homepage", "homepage|1280|chrome")
    assert body == {
        "status": "new",
        "name": "homepage",
        "baseline": str(vizzly / "baselines" / file_name),
        "current": str(vizzly / "current" / file_name),
        "tddMode": True,
    }
    assert (vizzly / "baselines" / file_name).read_bytes() == png()
    status, body = await send(client, properties=props)
    assert (status, body["status"]) == (200, "match")
    status, body = await send(client, image=png(block=(220, 0, 0)), properties=props)
    assert status == 200
    assert body["status"] == "diff"
    assert body["message"] == "Visual difference detected for 'homepage'"
    assert body["diffPercentage"] > 0 and body["threshold"] == 2.0
    assert body["diff"].endswith(".png") and body["tddMode"] is True


async def test_dimension_mismatch_and_taller_image(server):
    client, _ = server
    await send(client, "wide", properties={"viewport": {"width": 200}})
    status, body = await send(
        client, "wide", image=png(width=180), properties={"viewport": {"width": 200}}
    )
    assert (status, body["status"], body["diff"]) == (200, "diff", None)
    await send(client, "tall")
    status, body = await send(client, "tall", image=png(height=140))
    assert body["status"] == "diff"
    detail = await (await client.get("/api/comparison/tall")).json()
    assert detail["heightDiff"]["height1"] == 100 and detail["heightDiff"]["height2"] == 140


async def test_viewport_is_filled_from_the_image_when_absent(server):
    client, _ = server
    await send(client, "noprops")
    detail = await (await client.get("/api/comparison/noprops")).json()
    assert detail["signature"] == "noprops|200|"
    assert detail["properties"]["viewport_height"] == 100


async def test_per_screenshot_threshold_in_properties(server):
    client, _ = server
    await send(client, "lenient")
    changed = png(block=(251, 250, 250))  # a barely visible change
    _, strict = await send(client, "lenient", image=changed, properties={"threshold": 0})
    _, loose = await send(client, "lenient", image=changed, properties={"threshold": 5})
    assert strict["status"] == "diff"
    assert loose["status"] == "match"


async def test_file_path_and_data_uri_inputs(server, tmp_path):
    client, _ = server
    image_path = tmp_path / "shot.png"
    image_path.write_bytes(png())
    response = await client.post(
        "/screenshot", json={"name": "frompath", "image": str(image_path), "type": "file-path"}
    )
    assert (await response.json())["status"] == "new"
    uri = "data:image/png;base64," + b64(png())
    response = await client.post("/screenshot", json={"name": "fromuri", "image": uri})
    assert (await response.json())["status"] == "new"
    missing = await client.post(
        "/screenshot", json={"name": "x", "image": "/nonexistent/x.png", "type": "file-path"}
    )
    assert missing.status == 400
    assert await missing.json() == {
        "error": "Screenshot file not found: /nonexistent/x.png",
        "originalPath": "/nonexistent/x.png",
        "tddMode": True,
    }


async def test_bad_screenshot_requests_are_400_and_the_server_keeps_serving(server):
    client, state = server
    cases = [
        ({"image": b64(png())}, "name and image are required"),
        ({"name": "a/b", "image": b64(png())}, "Invalid screenshot name"),
        ({"name": "../etc", "image": b64(png())}, "Invalid screenshot name"),
        ({"name": "nul\x00", "image": b64(png())}, "Invalid screenshot name"),
        ({"name": "notpng", "image": b64(b"GIF89a" + b"\x00" * 2000)}, "Invalid image"),
    ]
    for body, message in cases:
        response = await client.post("/screenshot", json=body)
        assert response.status == 400, body
        assert message in (await response.json())["error"]
    bad_json = await client.post(
        "/screenshot", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status == 400
    assert "Invalid JSON" in (await bad_json.json())["error"]
    state.settings = type(state.settings)(max_pixels=100)
    too_big = await client.post("/screenshot", json={"name": "big", "image": b64(png())})
    assert too_big.status == 400
    assert "pixels" in (await too_big.json())["error"]
    assert (await client.get("/health")).status == 200


async def test_body_limit_is_413(server):
    client, state = server
    state.max_body_bytes = 1000
    response = await client.post("/screenshot", json={"name": "a", "image": b64(png())})
    assert response.status == 413
    assert "over the limit of 1000 bytes" in (await response.json())["error"]


async def test_flush_and_report_data(server):
    client, _ = server
    assert await (await client.get("/api/report-data")).json() is None
    await send(client, "a")
    await send(client, "b")
    await send(client, "b", image=png(block=(0, 0, 255)))
    flush = await (await client.post("/flush")).json()
    assert flush == {
        "success": True,
        "summary": {"total": 2, "passed": 0, "failed": 1, "new": 1, "errors": 0},
    }
    report = await (await client.get("/api/report-data")).json()
    assert set(report) == {"timestamp", "comparisons", "summary", "baseline"}
    # upstream's summary counts new as passed
    assert report["summary"] == {"total": 2, "passed": 1, "failed": 1, "rejected": 0, "errors": 0}
    row = next(c for c in report["comparisons"] if c["name"] == "b")
    assert row["initialStatus"] == "new" and row["status"] == "failed"
    assert row["current"].startswith("/images/current/")
    assert {s["name"] for s in report["baseline"]["screenshots"]} == {"a", "b"}


async def test_comparison_by_id_signature_and_name(server):
    client, _ = server
    await send(client, "login", properties={"browser": "chrome", "viewport": {"width": 1280}})
    await send(
        client,
        "login",
        image=png(block=(200, 0, 0)),
        properties={"browser": "chrome", "viewport": {"width": 1280}},
    )
    by_name = await (await client.get("/api/comparison/login")).json()
    assert by_name["diffClusters"] and by_name["boundingBox"]
    by_id = await (await client.get(f"/api/comparison/{by_name['id']}")).json()
    by_sig = await (
        await client.get("/api/comparison/" + quote("login|1280|chrome", safe=""))
    ).json()
    assert by_id == by_name == by_sig
    missing = await client.get("/api/comparison/doesnotexist")
    assert missing.status == 404
    assert await missing.json() == {"error": "Comparison not found"}


async def test_baseline_actions(server):
    client, state = server
    for name in ("one", "two", "three"):
        await send(client, name)
        await send(client, name, image=png(block=(200, 0, 0)))
    report = await (await client.get("/api/report-data")).json()
    ids = {c["name"]: c["id"] for c in report["comparisons"]}

    no_id = await client.post("/api/baseline/accept", json={})
    assert (no_id.status, await no_id.json()) == (400, {"error": "Comparison ID required"})
    unknown = await client.post("/api/baseline/accept", json={"id": "doesnotexist"})
    assert unknown.status == 404  # upstream answers 500 here (§10.15)
    assert await unknown.json() == {"error": "Comparison not found with ID: doesnotexist"}

    ok = await client.post("/api/baseline/accept", json={"id": ids["one"]})
    assert await ok.json() == {
        "success": True,
        "message": f"Baseline accepted for comparison {ids['one']}",
    }
    rejected = await client.post("/api/baseline/reject", json={"id": ids["two"]})
    assert await rejected.json() == {
        "success": True,
        "message": f"Changes rejected for comparison {ids['two']}",
    }
    accept_all = await (await client.post("/api/baseline/accept-all")).json()
    assert accept_all == {"success": True, "message": "Accepted 1 baselines", "count": 1}
    statuses = {
        c["name"]: c["status"]
        for c in (await (await client.get("/api/report-data")).json())["comparisons"]
    }
    assert statuses == {"one": "passed", "two": "rejected", "three": "passed"}

    deleted = await client.post("/api/baseline/delete", json={"id": ids["two"]})
    assert await deleted.json() == {"success": True, "message": f"Comparison {ids['two']} deleted"}
    gone = await client.post("/api/baseline/delete", json={"id": ids["two"]})
    assert gone.status == 404
    reset = await (await client.post("/api/baseline/reset")).json()
    assert reset == {"success": True, "message": "Baselines reset to previous state"}
    assert list(state.store.project.baselines_dir.glob("*.png")) == []


async def test_images_are_served_from_the_three_folders_only(server):
    client, _ = server
    await send(client, "pic")
    report = await (await client.get("/api/report-data")).json()
    url = report["comparisons"][0]["current"]
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    assert await response.read() == png()
    for bad in (
        "/images/../state.db",
        "/images/current/..%2F..%2Fstate.db",
        "/images/objects/x.png",
        "/images/current/missing.png",
    ):
        response = await client.get(bad)
        assert response.status == 404, bad


async def test_unknown_route_is_404_json(server):
    client, _ = server
    response = await client.get("/nope")
    assert (response.status, await response.json()) == (404, {"error": "Not found"})


async def test_a_burst_of_20_does_not_block_health_or_lose_results(server):
    client, _ = server
    images = [png(block=(i * 10, 0, 0)) for i in range(20)]
    health_times: list[float] = []

    async def probe():
        for _ in range(10):
            start = time.perf_counter()
            assert (await client.get("/health")).status == 200
            health_times.append(time.perf_counter() - start)
            await asyncio.sleep(0.01)

    results = await asyncio.gather(
        probe(), *(send(client, f"burst-{i}", image=img) for i, img in enumerate(images))
    )
    assert all(status == 200 and body["status"] == "new" for status, body in results[1:])
    flush = await (await client.post("/flush")).json()
    assert flush["summary"]["total"] == 20
    assert max(health_times) < 1.0
