"""`serve` and `run` as processes: discovery files, registry, SIGTERM cleanup, exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server.conftest import png


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "VIZZLY_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


def wait_for_server_json(project: Path, timeout: float = 20) -> dict:
    path = project / ".vizzly" / "server.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError("server.json never appeared")


def registry_ports(home: Path) -> list[int]:
    import sqlite3

    db = home / "servers.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT port FROM server")]
    finally:
        conn.close()


@pytest.mark.slow
def test_serve_writes_discovery_files_and_cleans_up_on_sigterm(tmp_path, env):
    project = tmp_path / "proj"
    project.mkdir()
    blocker = socket.socket()
    port = free_port()
    blocker.bind(("127.0.0.1", port))
    blocker.listen()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vizzly_tui",
            "--project",
            str(project),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        info = wait_for_server_json(project)
        assert isinstance(info["port"], str) and info["pid"] == proc.pid
        assert isinstance(info["startTime"], int)
        used = int(info["port"])
        assert used != port  # the requested port was taken: the next free one was used
        with urllib.request.urlopen(f"http://127.0.0.1:{used}/health", timeout=5) as r:
            assert json.load(r)["port"] == used
        assert registry_ports(tmp_path / "home") == [used]
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        blocker.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert f"port {port} is in use; using {used}" in output
    assert not (project / ".vizzly" / "server.json").exists()
    assert registry_ports(tmp_path / "home") == []


CHILD = """
import base64, json, os, sys, urllib.request
url = os.environ["VIZZLY_SERVER_URL"]
assert os.environ["VIZZLY_ENABLED"] == "true" and os.environ["VIZZLY_BUILD_ID"]
for name, path in json.loads(sys.argv[1]):
    body = json.dumps({"name": name, "image": base64.b64encode(open(path, "rb").read()).decode(),
                       "type": "base64"}).encode()
    req = urllib.request.Request(url + "/screenshot", body, {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
sys.exit(int(sys.argv[2]))
"""


def run_cli(project, env, shots, child_code=0, *flags):
    args = json.dumps([[name, str(path)] for name, path in shots])
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "vizzly_tui",
            "--project",
            str(project),
            "run",
            *flags,
            "--port",
            str(free_port()),
            "--",
            sys.executable,
            "-c",
            CHILD,
            args,
            str(child_code),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_run_exit_codes_and_summary(tmp_path, env):
    project = tmp_path / "proj"
    (project / ".vizzly").mkdir(parents=True)
    same, changed = tmp_path / "same.png", tmp_path / "changed.png"
    same.write_bytes(png())
    changed.write_bytes(png(block=(200, 0, 0)))

    first = run_cli(project, env, [("home", same), ("login", same)])
    assert first.returncode == 0, first.stderr
    assert "2 screenshots compared: 0 passed, 0 failed, 2 new" in first.stdout

    second = run_cli(project, env, [("home", same), ("login", changed)])
    assert second.returncode == 1, second.stderr
    assert "1 passed, 1 failed" in second.stdout
    assert "login" in second.stdout

    tolerant = run_cli(project, env, [("login", changed)], 0, "--no-fail-on-diff")
    assert tolerant.returncode == 0

    failing = run_cli(project, env, [("home", same)], 3)
    assert failing.returncode == 3

    # Every run is a build; the newest is what status shows.
    status = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(status.stdout)
    assert data["build"]["kind"] == "run" and data["summary"]["total"] == 1
    assert not (project / ".vizzly" / "server.json").exists()


def test_signature_properties_come_from_the_baselines_unless_configured(tmp_path):
    from vizzly_tui.config import load_config
    from vizzly_tui.project import Project
    from vizzly_tui.server.runner import effective_signature_properties
    from vizzly_tui.store.models import Setting
    from vizzly_tui.store.store import open_store

    (tmp_path / ".vizzly").mkdir()
    with open_store(Project(tmp_path)) as store:
        store.call(
            lambda: Setting.create(
                key="baseline_metadata", value={"signatureProperties": ["theme"]}, updated_at=1
            )
        )
        assert effective_signature_properties(load_config(tmp_path, node=None)) == ("theme",)
        configured = load_config(tmp_path, flags={"signature_properties": ["device"]}, node=None)
        assert effective_signature_properties(configured) == ("device",)
