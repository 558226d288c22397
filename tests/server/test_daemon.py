"""The background server: `serve --daemon`, `serve --status`, `stop` (real processes)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.server.test_serve_process import registry_ports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bg(tmp_path):
    project = tmp_path / "proj"
    (project / ".vizzly").mkdir(parents=True)
    home = tmp_path / "home"
    env = {**os.environ, "VIZZLY_HOME": str(home)}
    started: list[int] = []

    def cli(*args: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "vizzly_tui", "--project", str(project), *args, "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        if data.get("status") == "started":
            started.append(data["pid"])
        return data

    yield project, home, cli
    for pid in started:  # never leave a server behind, whatever the test did
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return json.loads(r.read())["status"] == "ok"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} is still alive")


@pytest.mark.slow
def test_start_twice_status_and_stop(bg):
    project, home, cli = bg
    port = free_port()
    first = cli("serve", "--daemon", "--port", str(port))
    assert first["status"] == "started" and first["port"] == port
    assert first["dashboardUrl"] == f"http://127.0.0.1:{port}"
    assert healthy(port)
    assert (project / ".vizzly" / "server.pid").read_text().strip() == str(first["pid"])
    assert port in registry_ports(home)
    assert (project / ".vizzly" / "server.log").exists()

    again = cli("serve", "--daemon", "--port", str(port))
    assert again == {
        "status": "already_running",
        "port": port,
        "pid": first["pid"],
        "dashboardUrl": f"http://127.0.0.1:{port}",
    }

    status = cli("serve", "--status")
    assert status["running"] is True
    assert (status["port"], status["pid"]) == (port, first["pid"])
    assert status["uptimeMs"] >= 0 and status["uptime"]

    stopped = cli("stop")
    assert stopped["status"] == "stopped" and stopped["pid"] == first["pid"]
    assert stopped["killed"] is False  # it stopped on SIGTERM, cleaning up after itself
    wait_dead(first["pid"])
    assert not healthy(port)
    assert not (project / ".vizzly" / "server.pid").exists()
    assert not (project / ".vizzly" / "server.json").exists()
    assert port not in registry_ports(home)
    assert cli("serve", "--status") == {"running": False}
    assert cli("stop") == {"status": "not_running"}


@pytest.mark.slow
def test_a_stale_entry_after_kill_9_is_cleaned_not_trusted(bg):
    project, home, cli = bg
    port = free_port()
    first = cli("serve", "--daemon", "--port", str(port))
    os.kill(first["pid"], signal.SIGKILL)
    wait_dead(first["pid"])
    # Its files and registry row survived the kill...
    assert (project / ".vizzly" / "server.json").exists()
    assert port in registry_ports(home)
    # ...but status does not believe them, and cleans them away.
    assert cli("serve", "--status") == {"running": False}
    assert not (project / ".vizzly" / "server.json").exists()
    assert not (project / ".vizzly" / "server.pid").exists()
    assert port not in registry_ports(home)
    # A new background server starts (on the same port, or the next one while the dead
    # server's connections linger in TIME_WAIT).
    second = cli("serve", "--daemon", "--port", str(port))
    assert second["status"] == "started" and second["pid"] != first["pid"]
    assert healthy(second["port"])
    assert cli("stop")["status"] == "stopped"
    wait_dead(second["pid"])


@pytest.mark.slow
def test_a_background_server_that_cannot_start_says_why(bg, tmp_path):
    project, _home, _cli = bg
    env = {
        **os.environ,
        "VIZZLY_HOME": str(tmp_path / "home"),
        "VIZZLY_API_URL": "http://127.0.0.1:9",
    }
    env.pop("VIZZLY_TOKEN", None)
    out = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), "serve", "--daemon",
         "--baseline-build", "b1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 4
    assert "the background server exited with code 2" in out.stderr
    assert "needs an API token" in out.stderr  # the tail of .vizzly/server.log
    assert not (project / ".vizzly" / "server.pid").exists()


@pytest.mark.slow
def test_stop_never_kills_a_process_that_is_not_this_projects_server(bg, tmp_path):
    # This project's server died with kill -9; its pid now belongs to an unrelated program and
    # its port to another project's server. Neither may be taken for this project's server.
    project, home, cli = bg
    other = tmp_path / "other"
    (other / ".vizzly").mkdir(parents=True)
    env = {**os.environ, "VIZZLY_HOME": str(home)}
    port = free_port()
    out = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(other), "serve", "--daemon",
         "--port", str(port), "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    other_pid = json.loads(out.stdout)["pid"]
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        vizzly = project / ".vizzly"
        (vizzly / "server.pid").write_text(f"{bystander.pid}\n")
        (vizzly / "server.json").write_text(json.dumps({"pid": bystander.pid, "port": str(port)}))
        assert cli("serve", "--status") == {"running": False}
        (vizzly / "server.pid").write_text(f"{bystander.pid}\n")
        (vizzly / "server.json").write_text(json.dumps({"pid": bystander.pid, "port": str(port)}))
        assert cli("stop") == {"status": "not_running"}
        assert bystander.poll() is None, "stop killed a process that was not its server"
        assert healthy(port), "stop stopped another project's server"
        assert not (vizzly / "server.pid").exists()  # the stale entry was cleaned away
    finally:
        bystander.kill()
        bystander.wait()
        with contextlib.suppress(ProcessLookupError):
            os.kill(other_pid, signal.SIGKILL)


@pytest.mark.slow
def test_two_starts_at_once_leave_one_server(bg):
    project, home, _cli = bg
    env = {**os.environ, "VIZZLY_HOME": str(home)}
    command = [sys.executable, "-m", "vizzly_tui", "--project", str(project), "serve",
               "--daemon", "--json"]  # fmt: skip
    starts = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    answers = []
    for proc in starts:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        answers.append(json.loads(out))
    pids = {a["pid"] for a in answers}
    try:
        assert sorted(a["status"] for a in answers) == ["already_running", "started"]
        assert len(pids) == 1, f"two background servers for one project: {answers}"
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_stale_pid_file_does_not_hide_a_live_server(bg):
    # A background server died with kill -9 (server.pid stays); a foreground `serve` then
    # started for the project. status must find the live one and keep its registry entry.
    project, home, cli = bg
    first = cli("serve", "--daemon", "--port", str(free_port()))
    os.kill(first["pid"], signal.SIGKILL)
    wait_dead(first["pid"])
    port = free_port()
    env = {**os.environ, "VIZZLY_HOME": str(home)}
    live = subprocess.Popen(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), "serve",
         "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not healthy(port) or port not in registry_ports(home):
            assert time.monotonic() < deadline and live.poll() is None
            time.sleep(0.05)
        status = cli("serve", "--status")
        assert status["running"] is True and status["pid"] == live.pid
        assert port in registry_ports(home)
        assert cli("serve", "--daemon")["status"] == "already_running"
    finally:
        live.terminate()
        live.wait(10)


@pytest.mark.slow
def test_the_log_of_a_long_lived_project_is_rotated_at_start(bg):
    project, _home, cli = bg
    log = project / ".vizzly" / "server.log"
    log.write_bytes(b"x" * (6 << 20))  # months of screenshot lines
    started = cli("serve", "--daemon", "--port", str(free_port()))
    assert started["status"] == "started"
    assert log.stat().st_size < 4096 and b"serving" in log.read_bytes()
    assert (project / ".vizzly" / "server.log.1").stat().st_size == 6 << 20  # one generation
    assert cli("stop")["status"] == "stopped"


@pytest.mark.slow
def test_a_log_linked_to_a_file_outside_vizzly_is_never_written_through(bg, tmp_path):
    project, home, _cli = bg
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH\n")
    (project / ".vizzly" / "server.log").symlink_to(victim)
    out = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), "serve", "--daemon"],
        env={**os.environ, "VIZZLY_HOME": str(home)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    started = project / ".vizzly" / "server.pid"
    if started.exists():  # the defect: a server started, writing through the link
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(started.read_text()), signal.SIGKILL)
    assert out.returncode == 4, out.stdout
    assert "server.log is a symbolic link" in out.stderr
    assert victim.read_text() == "export PATH\n"
    assert not (project / ".vizzly" / "server.pid").exists()


@pytest.mark.slow
def test_a_server_too_busy_to_answer_keeps_its_discovery_files(bg):
    # Its port accepts connections but /health does not answer in time: perhaps a live server
    # under load. Its server.json (how SDKs find it) must not be deleted on a guess.
    project, home, cli = bg
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts (backlog), never answers
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        vizzly = project / ".vizzly"
        port = listener.getsockname()[1]
        (vizzly / "server.pid").write_text(f"{alive.pid}\n")
        (vizzly / "server.json").write_text(json.dumps({"pid": alive.pid, "port": str(port)}))
        assert cli("serve", "--status")["running"] is False
        assert cli("stop") == {"status": "not_running"}
        assert alive.poll() is None
        assert (vizzly / "server.json").exists() and (vizzly / "server.pid").exists()
        # Nor does a second server start over it.
        out = subprocess.run(
            [sys.executable, "-m", "vizzly_tui", "--project", str(project), "serve", "--daemon"],
            env={**os.environ, "VIZZLY_HOME": str(home)}, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert out.returncode == 4 and "does not answer" in out.stderr
        assert json.loads((vizzly / "server.json").read_text())["pid"] == alive.pid
    finally:
        alive.kill()
        alive.wait()
        listener.close()
