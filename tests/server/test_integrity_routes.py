"""Issue 7 in the server: /images hands out only image files, an Origin is parsed as a URL,
400 bodies read as messages, a damaged store answers 503, a dead server's server.json goes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

from tests.server.conftest import b64, png
from tests.server.test_serve_process import free_port, wait_for_server_json
from vizzly_tui.capture import capture


async def test_images_never_serve_a_symlink_out_of_the_image_folders(server):
    client, state = server
    project = state.store.project
    capture(state.store, state.build_id, "home", png())
    (project.current_dir / "x.png").symlink_to("../state.db")
    (project.current_dir / "y.png").symlink_to(project.root / "outside.png")
    (project.root / "outside.png").write_bytes(png())
    [baseline] = project.baselines_dir.glob("home_*.png")
    (project.current_dir / "z.png").symlink_to(f"../baselines/{baseline.name}")
    for name in ("x.png", "y.png"):
        response = await client.get(f"/images/current/{name}")
        assert response.status == 404, name
        assert b"SQLite" not in await response.read()
    # A link that stays inside the image folders is still an image.
    response = await client.get("/images/current/z.png")
    assert response.status == 200
    assert await response.read() == baseline.read_bytes()


async def test_an_origin_with_user_info_is_not_localhost(server):
    client, _ = server
    for origin in ("http://localhost:80@evil.example", "http://localhost@evil.example:80"):
        response = await client.post(
            "/api/baseline/accept-all", json={}, headers={"Origin": origin}
        )
        assert response.status == 403, origin
        assert "Access-Control-Allow-Origin" not in response.headers
    ok = await client.post(
        "/api/baseline/accept-all", json={}, headers={"Origin": "http://localhost:6006"}
    )
    assert ok.status != 403


async def test_a_png_header_without_data_gets_a_readable_400(server):
    client, _ = server
    header_only = png()[:33]
    response = await client.post("/screenshot", json={"name": "x", "image": b64(header_only)})
    assert response.status == 400
    body = await response.json()
    assert "object at 0x" not in body["error"]
    assert "image" in body["error"]


async def test_a_damaged_store_answers_503_on_writing_routes(server):
    import sqlite3

    client, state = server

    def meets_damage():
        raise sqlite3.DatabaseError("database disk image is malformed")

    with contextlib.suppress(Exception):
        state.store.call(meets_damage)
    response = await client.post("/screenshot", json={"name": "x", "image": b64(png())})
    assert response.status == 503
    assert "damaged" in (await response.json())["error"]
    for path in ("/api/baseline/accept-all", "/api/baseline/reset"):
        response = await client.post(path, json={})
        assert response.status == 503, path


def test_a_killed_servers_server_json_is_removed_by_the_next_command(tmp_path):
    env = {**os.environ, "VIZZLY_HOME": str(tmp_path / "home")}
    project = tmp_path / "proj"
    (project / ".vizzly").mkdir(parents=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vizzly_tui",
            "--project",
            str(project),
            "serve",
            "--port",
            str(free_port()),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vizzly_tui", "--project", str(project), "status"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    try:
        info = wait_for_server_json(project)
        assert status().returncode == 0
        assert (project / ".vizzly" / "server.json").exists()  # a live server's file stays
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(20)
    server_json = project / ".vizzly" / "server.json"
    assert json.loads(server_json.read_text())["pid"] == info["pid"]  # left behind by kill -9
    result = status()
    assert result.returncode == 0, result.stderr
    assert not server_json.exists()
    assert "server.json" in result.stderr and "not running" in result.stderr
