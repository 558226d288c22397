"""A second `serve` (or `run`) on a project that a server already serves is refused (a
follow-up probe of issue 7): two servers split the screenshots into two builds, replace each
other's server.json, and write the same current/ files from two processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from tests.server.test_serve_process import env, free_port, wait_for_server_json  # noqa: F401


def _serve(project, env, *extra: str) -> subprocess.Popen[str]:  # noqa: F811
    return subprocess.Popen(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_server_on_the_same_project_is_refused(tmp_path, env):  # noqa: F811
    project = tmp_path / "proj"
    (project / ".vizzly").mkdir(parents=True)
    first = _serve(project, env, "serve", "--port", str(free_port()))
    try:
        info = wait_for_server_json(project)
        for command in (("serve", "--port", str(free_port())), ("run", "--", "true")):
            second = _serve(project, env, *command)
            try:
                out, err = second.communicate(timeout=60)
            finally:
                second.kill()
            assert second.returncode == 4, (command, out, err)
            assert "already" in err and str(info["pid"]) in err, err
            # The running server's discovery file is untouched.
            server_json = project / ".vizzly" / "server.json"
            assert json.loads(server_json.read_text()) == info
        status = subprocess.run(
            [sys.executable, "-m", "vizzly_tui", "--project", str(project), "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert json.loads(status.stdout)["build"]["id"] == info["buildId"]
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)


def test_a_stale_check_never_removes_the_server_json_of_a_server_starting(tmp_path):
    """status read a dead server's server.json; before it removes it, a new server (holding
    server.lock) wrote its own: that one must stay."""
    from filelock import FileLock

    from vizzly_tui.project import Project
    from vizzly_tui.server.discovery import discard_stale_server_json

    project = Project(tmp_path)
    (tmp_path / ".vizzly").mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    server_json = project.vizzly_dir / "server.json"
    server_json.write_text(json.dumps({"pid": dead.pid, "port": str(free_port())}))
    starting = FileLock(str(project.vizzly_dir / "server.lock"), thread_local=False)
    with starting:
        assert discard_stale_server_json(project) is None
        assert server_json.exists()
    # Once nothing holds the lock, the dead server's file goes.
    assert "not running" in (discard_stale_server_json(project) or "")
    assert not server_json.exists()
