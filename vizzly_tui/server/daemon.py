"""The background server: `serve --daemon`, `serve --status`, `stop` (contract §6.1).

The daemon is a detached `vizzly-tui serve` child (its own session, output in
`.vizzly/server.log`). `.vizzly/server.pid` holds its pid, `.vizzly/server.json` its port
(written by the child), and the registry lists it. An entry is trusted only when its process
is alive AND its port answers `/health`; anything else is stale and is cleaned away.
JSON shapes as upstream's `tdd start/stop/status`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from vizzly_tui.errors import ServerError
from vizzly_tui.project import Project

START_TIMEOUT_S = 30.0
# With --baseline-build the child downloads before it serves: a big build over a slow network
# takes minutes (each request has its own timeout, so the download always ends).
DOWNLOAD_START_TIMEOUT_S = 900.0
STOP_GRACE_S = 5.0
LOG_ROTATE_BYTES = 5 << 20
HEALTH_TIMEOUT_S = 3.0
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows


def _pid_file(project: Project):
    return project.vizzly_dir / "server.pid"


def _read_json(project: Project) -> dict[str, Any] | None:
    try:
        data = json.loads((project.vizzly_dir / "server.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_pid(project: Project) -> int | None:
    try:
        pid = int(_pid_file(project).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def _alive(pid: int) -> bool:
    from vizzly_tui.server.registry import pid_alive

    if not pid_alive(pid):
        return False
    # A zombie (our own child that exited) still answers kill(0); it is not running.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
        if fh.read().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    answer, _ = _probe(port, timeout)
    return answer


def _probe(port: int, timeout: float) -> tuple[dict[str, Any] | None, bool]:
    """(/health's answer or None, whether it merely did not answer in time)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as r:
            data = json.loads(r.read())
    except TimeoutError:
        return None, True
    except urllib.error.URLError as exc:
        return None, isinstance(exc.reason, TimeoutError)
    except (OSError, ValueError):
        return None, False
    return (data if isinstance(data, dict) and data.get("status") == "ok" else None), False


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _registry() -> Any | None:
    try:
        from vizzly_tui.server.registry import Registry

        return Registry.open()
    except Exception:
        return None


def _clean(project: Project, pid: int | None) -> None:
    """Remove a stopped or stale server's files and registry entry."""
    with contextlib.suppress(OSError):
        _pid_file(project).unlink()
    data = _read_json(project)
    if data is not None and (pid is None or data.get("pid") == pid):
        with contextlib.suppress(OSError):
            (project.vizzly_dir / "server.json").unlink()
    registry = _registry()
    if registry is not None:
        with registry, contextlib.suppress(Exception):
            registry.unregister(directory=project.root)


def _port(value: Any) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return port if 0 < port < 65536 else None


class Unanswering(Exception):
    """A live pid whose port accepts connections but whose /health did not answer in time."""

    def __init__(self, pid: int, port: int) -> None:
        super().__init__(pid, port)
        self.pid, self.port = pid, port


def running(project: Project) -> dict[str, Any] | None:
    """`_running`, with a server that does not answer taken as not running (nothing is
    signalled or cleaned on a guess)."""
    try:
        return _running(project)
    except Unanswering:
        return None


def _running(project: Project) -> dict[str, Any] | None:
    """The live server of this project {pid, port, startTime}, cleaning a stale entry.

    Candidates: server.pid, server.json and the registry, which may disagree after a kill -9
    (a stale server.pid beside the server.json of a foreground `serve` started since). A
    candidate is live only when its port answers /health with its own pid."""
    data = _read_json(project) or {}
    json_pid = data.get("pid") if type(data.get("pid")) is int else None
    port = _port(data.get("port"))
    candidates: list[tuple[int, int | None]] = []
    pid_file = _read_pid(project)
    if pid_file is not None:
        candidates.append((pid_file, port if json_pid in (pid_file, None) else None))
    if json_pid is not None:
        candidates.append((json_pid, port))
    registry = _registry()
    if registry is not None:
        with registry:
            found = registry.find(directory=project.root)
        if found is not None:
            candidates.append((found["pid"], _port(found["port"])))
    unsure: Unanswering | None = None
    for pid, candidate_port in dict.fromkeys(candidates):  # each (pid, port) asked once
        if candidate_port is None or not _alive(pid):
            continue
        answer, slow = _probe(candidate_port, HEALTH_TIMEOUT_S)
        if slow:
            unsure = Unanswering(pid, candidate_port)
        # The server itself must say it is that pid: after a kill -9 the pid may belong to an
        # unrelated program and the port to another project's server (never signal those).
        if answer is not None and answer.get("pid") == pid:
            started = data.get("startTime") if json_pid == pid else None
            return {"pid": pid, "port": candidate_port, "startTime": started}
    if unsure is not None:
        # A live pid whose port accepted but did not answer in time may be a server under
        # load: its server.json (how SDKs find it) is not deleted on a guess.
        raise unsure
    if candidates:
        _clean(project, json_pid)
    return None


def status(project: Project) -> dict[str, Any]:
    live = running(project)
    if live is None:
        return {"running": False}
    started = live.get("startTime")
    uptime_ms = int(time.time() * 1000) - started if isinstance(started, int) else None
    return {
        "running": True,
        "port": live["port"],
        "pid": live["pid"],
        "uptimeMs": uptime_ms,
        "uptime": _human(uptime_ms),
        "dashboardUrl": _url(live["port"]),
    }


def _human(ms: int | None) -> str | None:
    if ms is None:
        return None
    seconds = max(0, ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


def start_daemon(
    project: Project, serve_args: Sequence[str], *, token: str | None = None
) -> dict[str, Any]:
    """Start `vizzly-tui serve SERVE_ARGS` detached; "already_running" when one answers.

    A --token reaches the child through its environment, never its command line (which
    every user of the machine can read in `ps`).

    Two starts at once must not both spawn: the check, the spawn and the wait for /health
    happen under `.vizzly/daemon.lock`, so the second one finds the first one's server. (Not
    `server.lock`: the server it starts holds that one for its whole life.)"""
    from filelock import FileLock, Timeout

    try:
        lock = FileLock(
            str(project.vizzly_dir / "daemon.lock"),
            timeout=max(START_TIMEOUT_S, DOWNLOAD_START_TIMEOUT_S) + 10,
        )
        with lock:
            return _start_locked(project, serve_args, token)
    except Timeout:
        raise ServerError(
            "another `serve --daemon` for this project is still starting; try again"
        ) from None


def _start_locked(project: Project, serve_args: Sequence[str], token: str | None) -> dict[str, Any]:
    try:
        live = _running(project)
    except Unanswering as busy:
        # Perhaps this project's server under load: a second one would take over server.json.
        raise ServerError(
            f"a process (pid {busy.pid}) holds port {busy.port} from .vizzly/server.json but "
            "its /health does not answer; try again, or stop it if it is stuck"
        ) from None
    if live is not None:
        return {
            "status": "already_running",
            "port": live["port"],
            "pid": live["pid"],
            "dashboardUrl": _url(live["port"]),
        }
    log_path = project.vizzly_dir / "server.log"
    with contextlib.suppress(OSError):
        # A background server logs a line per screenshot, for months: keep one old generation.
        if log_path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(log_path, log_path.with_name("server.log.1"))
    command = [sys.executable, "-m", "vizzly_tui", "--project", str(project.root), "serve"]
    try:
        # O_NOFOLLOW: a link planted at .vizzly/server.log must not get the log appended to
        # whatever it points at (a shell profile...).
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)
    except OSError as exc:
        if log_path.is_symlink():
            raise ServerError(f"{log_path} is a symbolic link; remove it and start again") from None
        raise ServerError(f"cannot open {log_path}: {exc.strerror or exc}") from None
    with open(fd, "ab") as log:
        child = subprocess.Popen(
            [*command, *serve_args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the terminal closing; Ctrl-C here never reaches it
            cwd=str(project.root),
            env={**os.environ, "VIZZLY_TOKEN": token} if token else None,
        )
    downloads = any(a in ("--baseline-build", "--baseline-comparison") for a in serve_args)
    limit = max(START_TIMEOUT_S, DOWNLOAD_START_TIMEOUT_S) if downloads else START_TIMEOUT_S
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            tail = _tail(log_path)
            raise ServerError(f"the background server exited with code {code}:\n{tail}")
        data = _read_json(project)
        if data is not None and data.get("pid") == child.pid:
            port = int(data["port"])
            answer = health(port, timeout=0.5)
            if answer is not None and answer.get("pid") == child.pid:
                from vizzly_tui.store import files

                files.atomic_write(_pid_file(project), f"{child.pid}\n".encode(), durable=False)
                return {
                    "status": "started",
                    "port": port,
                    "pid": child.pid,
                    "dashboardUrl": _url(port),
                    "logFile": str(log_path),
                }
        time.sleep(0.1)
    with contextlib.suppress(OSError):
        child.terminate()
    raise ServerError(f"the background server did not answer within {limit:.0f} s; see {log_path}")


def _tail(path: Any, lines: int = 10) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop_daemon(project: Project) -> dict[str, Any]:
    """SIGTERM the project's server, SIGKILL after a grace period; clean its entries."""
    live = running(project)
    if live is None:
        return {"status": "not_running"}
    pid = live["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    killed = False
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        killed = True
    _clean(project, pid)
    return {"status": "stopped", "pid": pid, "port": live["port"], "killed": killed}


def status_text(data: dict[str, Any]) -> str:
    if not data["running"]:
        return "no server is running for this project"
    return f"running on {data['dashboardUrl']} (pid {data['pid']}, up {data['uptime']})"


def start_text(data: dict[str, Any]) -> str:
    if data["status"] == "already_running":
        return f"already running on {data['dashboardUrl']} (pid {data['pid']})"
    return (
        f"started in the background on {data['dashboardUrl']} (pid {data['pid']}); "
        f"log: {data['logFile']}; stop it with: vizzly-tui stop"
    )
