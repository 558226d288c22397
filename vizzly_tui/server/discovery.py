"""`.vizzly/server.json` left behind by a server that died without cleaning up (kill -9, a
power cut): an SDK reading it would post screenshots to a dead port. Any command that can
tell removes it, and says so."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from vizzly_tui.project import Project


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would terminate it there; the port check decides alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    except (OSError, OverflowError, ValueError):
        return False
    return True


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(("127.0.0.1", port))
        except (OSError, OverflowError):  # OverflowError: a port out of range (a bad file)
            return False
    return True


def discard_stale_server_json(project: Project) -> str | None:
    """Remove server.json when the server it names is gone; return a notice, else None.

    Gone: its pid is not running, or (the pid was reused) nothing listens on its port.
    """
    path = project.vizzly_dir / "server.json"
    try:
        data = json.loads(path.read_text())
        pid = int(data["pid"])
        port = int(data["port"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, OverflowError):
        return None  # not ours to judge: leave a file we cannot read alone
    if pid == os.getpid() or (_pid_alive(pid) and _port_answers(port)):
        return None
    # A server holds server.lock from before it writes server.json until it exits: when the
    # lock is taken, a server is starting (its new file may have replaced the one just read).
    claim = FileLock(str(project.vizzly_dir / "server.lock"), timeout=0, thread_local=False)
    try:
        claim.acquire()
    except Timeout:
        return None
    except OSError:  # no lock file can be made here (read-only): then no server runs here
        return _remove(path, pid, port)
    try:
        try:
            unchanged = int(json.loads(path.read_text())["pid"]) == pid
        except (OSError, ValueError, TypeError, KeyError, OverflowError):
            unchanged = False
        return _remove(path, pid, port) if unchanged else None
    finally:
        claim.release()


def _remove(path: Path, pid: int, port: int) -> str | None:
    with contextlib.suppress(FileNotFoundError):
        try:
            path.unlink()
        except OSError as exc:
            return (
                f"{path} names a server that is not running (pid {pid}) but cannot be "
                f"removed: {exc.strerror}"
            )
    return (
        f"removed {path}: the server it named (pid {pid}, port {port}) is not running, so "
        "SDKs no longer try to send screenshots to it"
    )
