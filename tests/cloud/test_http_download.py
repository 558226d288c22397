"""`POST /api/baselines/download {buildId}` (contract §5.2) on a running app."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import CLOUD_HOME, TOKEN
from tests.server.conftest import b64
from vizzly_tui.capture import CaptureSettings, start_build
from vizzly_tui.project import Project
from vizzly_tui.server.app import ServerState, make_app
from vizzly_tui.store.models import Baseline, Decision
from vizzly_tui.store.store import open_store


@pytest.fixture
async def app(tmp_path, aiohttp_client, cloud, monkeypatch):
    monkeypatch.delenv("VIZZLY_TOKEN")  # the token comes from `serve --token`
    (tmp_path / "p" / ".vizzly").mkdir(parents=True)
    store = open_store(Project(tmp_path / "p"))
    build = start_build(store, "serve")
    state = ServerState(store, build.id, build.uid, settings=CaptureSettings())
    state.cloud_token = TOKEN
    client = await aiohttp_client(make_app(state))
    yield client, state
    await client.close()
    store.close()


async def test_download_route_installs_the_cloud_build_as_upstream_answers(app, cloud):
    client, _state = app
    response = await client.post(
        "/api/baselines/download",
        json={"buildId": "build-1", "organizationSlug": "acme", "projectSlug": "web"},
    )
    assert response.status == 200
    body = await response.json()
    assert body["success"] is True
    assert body["message"] == "Baselines downloaded from build build-1"
    assert body["buildId"] == "build-1" and len(body["screenshots"]) == 2
    assert body["buildInfo"]["approvalStatus"] == "approved"
    assert Decision.get(Decision.action == "download").actor == "http"
    # A screenshot identical to the cloud baseline now passes.
    shot = {
        "name": "home",
        "image": b64(CLOUD_HOME),
        "properties": {"browser": "chrome", "viewport": {"width": 1280, "height": 200}},
    }
    answer = await (await client.post("/screenshot", json=shot)).json()
    assert answer["status"] == "match", answer  # the SDK wire word for passed
    assert Baseline.select().count() == 2


async def test_download_route_errors(app, cloud):
    client, state = app
    missing = await client.post("/api/baselines/download", json={})
    assert missing.status == 400
    assert (await missing.json())["error"] == "buildId is required"
    state.cloud_token = "wrong"
    refused = await client.post("/api/baselines/download", json={"buildId": "build-1"})
    assert refused.status == 401
    assert "VIZZLY_TOKEN" in (await refused.json())["error"]
    state.cloud_token = TOKEN
    unknown = await client.post("/api/baselines/download", json={"buildId": "nope"})
    assert unknown.status == 502
    assert "404" in (await unknown.json())["error"]
    cross = await client.post(
        "/api/baselines/download", json={"buildId": "build-1"},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert cross.status == 403  # a web page cannot replace your baselines
    assert Baseline.select().count() == 0
