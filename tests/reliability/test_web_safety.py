"""Web safety across every state-changing route of a real `serve` (issue 10): a web page
the user visits must not be able to change anything, however it dresses the request."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import time

import pytest

from tests.racehelpers import png
from tests.reliability.helpers import ServeProcess, tree
from vizzly_tui.store.db import readonly_uri

HOSTILE = {
    "foreign Origin": {"Origin": "http://evil.example"},
    "Origin null": {"Origin": "null"},
    "look-alike localhost": {"Origin": "http://localhost.evil.example"},
    "look-alike 127.0.0.1": {"Origin": "http://127.0.0.1.evil.example"},
    "look-alike with port": {"Origin": "http://127.0.0.1.evil.example:47392"},
    "foreign Host (DNS rebinding)": {"Host": "evil.example:47392"},
    "foreign Host and Origin": {
        "Host": "evil.example",
        "Origin": "http://evil.example",
    },
    "text/plain simple post": {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    "form simple post": {
        "Origin": "http://evil.example",
        "Content-Type": "application/x-www-form-urlencoded",
    },
    "Referer only": {"Referer": "http://evil.example/page.html"},
    "Referer look-alike": {"Referer": "http://localhost.evil.example/"},
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("websafety")
    server = ServeProcess(base / "proj", base / "home")
    for i in range(4):
        for colour in ((10, 10, 10), (200, 30 * i, 10)):  # new, then failed
            body = {"name": f"page-{i}", "image": base64.b64encode(png(colour)).decode()}
            assert server.post_json("/screenshot", body)[0] == 200
    wait_until_still(server)
    yield server
    server.stop()


def wait_until_still(server: ServeProcess) -> None:
    """The server finishes diff images after it answers: wait until two looks agree."""
    previous = None
    for _ in range(200):
        now = state(server)
        if now == previous:
            return
        previous = now
        time.sleep(0.05)
    raise AssertionError("the project never settled")


def state(server: ServeProcess) -> tuple:
    db = server.root / ".vizzly" / "state.db"
    conn = sqlite3.connect(readonly_uri(db), uri=True)
    try:
        rows = conn.execute(
            "SELECT cid, status, current_sha256 FROM comparison ORDER BY id"
        ).fetchall()
        baselines = conn.execute("SELECT signature, sha256 FROM baseline ORDER BY id").fetchall()
        decisions = conn.execute("SELECT count(*) FROM decision").fetchone()[0]
    finally:
        conn.close()
    files = tree(server.root / ".vizzly", skip="objects")
    files = {k: v for k, v in files.items() if not k.startswith(("state.db", "server."))}
    return rows, baselines, decisions, files


def routes(server: ServeProcess) -> list[tuple[str, dict]]:
    cid = json.loads(server.request("GET", "/api/report-data")[1])["comparisons"][0]["id"]
    image = base64.b64encode(png((1, 2, 3))).decode()
    return [
        ("/screenshot", {"name": "page-0", "image": image}),
        ("/flush", {}),
        ("/accept-baseline", {"id": cid}),
        ("/api/baseline/accept", {"id": cid}),
        ("/api/baseline/accept-all", {}),
        ("/api/baseline/reject", {"id": cid}),
        ("/api/baseline/delete", {"id": cid}),
        ("/api/baseline/reset", {}),
        ("/api/baselines/download", {"buildId": "b1"}),
    ]


@pytest.mark.parametrize("dress", list(HOSTILE), ids=list(HOSTILE))
def test_every_state_changing_route_refuses_and_changes_nothing(served, dress):
    before = state(served)
    for path, body in routes(served):
        headers = {"Content-Type": "application/json", **HOSTILE[dress]}
        status, answer = served.request("POST", path, json.dumps(body).encode(), headers)
        assert status == 403, (path, status, answer[:200])
    assert state(served) == before
    assert served.healthy()


def test_the_same_requests_from_a_local_client_do_work(served):
    """The refusals above are about the dressing, not the routes: undressed, accept works."""
    before = state(served)
    cid = json.loads(served.request("GET", "/api/report-data")[1])["comparisons"][0]["id"]
    status, answer = served.post_json("/api/baseline/accept", {"id": cid})
    assert status == 200, answer
    assert state(served) != before


def test_images_refuses_traversal_and_symlinks_leaving_vizzly(served):
    secret = served.root / "secret.png"
    secret.write_bytes(b"\x89PNG secret outside .vizzly")
    link = served.root / ".vizzly" / "current" / "link.png"
    os.symlink(secret, link)
    dir_link = served.root / ".vizzly" / "diffs" / "up"
    os.symlink(served.root, dir_link, target_is_directory=True)
    try:
        for path in (
            "/images/current/link.png",
            "/images/diffs/up/secret.png",
            "/images/diffs/up%2Fsecret.png",
            "/images/baselines/..%2F..%2Fsecret.png",
            "/images/..%2Fsecret.png",
            "/images/current/%2E%2E%2F%2E%2E%2Fsecret.png",
            "/images/baselines/../../secret.png",
        ):
            status, body = served.request("GET", path)
            assert status in (400, 403, 404), (path, status)
            assert b"secret" not in body, path
    finally:
        link.unlink()
        dir_link.unlink()
    assert hashlib.sha256(secret.read_bytes()).hexdigest()  # untouched, still there
