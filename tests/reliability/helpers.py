"""Kill a vizzly-tui process at a chosen moment, then check what the next start must hold."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.files import TEMP_PREFIX

# Written by each crash test's last kill loop, read by the README's figures.
FIGURES: dict[str, dict[str, int]] = {}
# monotonic time after which a kill loop starts no new round (`--kill-minutes`), or None.
DEADLINE: list[float | None] = [None]


def rounds(kills: int) -> Iterator[int]:
    """0, 1, ... kills - 1, stopping early once `--kill-minutes` have passed; the caller
    counts the rounds it ran and records that number, not `kills`."""
    for i in range(kills):
        deadline = DEADLINE[0]
        if i and deadline is not None and time.monotonic() > deadline:
            return
        yield i


def cli(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(root: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vizzly_tui", "--project", str(root), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def count(db_path: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(readonly_uri(db_path), uri=True, timeout=1)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def kill_when(
    proc: subprocess.Popen[bytes], reached: Callable[[], bool], timeout: float = 60
) -> bool:
    """SIGKILL `proc` as soon as `reached()` (polled): True when it was still running then."""
    deadline = time.monotonic() + timeout
    while not reached() and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    return alive


@contextmanager
def kept_on_failure(root: Path, label: str) -> Iterator[None]:
    """Around one kill round's checks. A copy of the project as the kill left it is taken
    first (the checks' next start changes it); when a check fails, both folders are kept and
    the failure names `label` (seed, round, kill target) and both paths, so one failure in a
    long run can be replayed. When every check passes both are removed: a long run keeps no
    200 projects on disk."""
    as_killed = root.with_name(root.name + "-as-killed")
    shutil.copytree(root, as_killed, symlinks=True)
    try:
        yield
    except Exception as exc:
        raise AssertionError(
            f"{label}: {type(exc).__name__}: {str(exc)[:4000]}\n"
            f"  project after the checks: {root}\n"
            f"  project as the kill left it: {as_killed} (copy it, then run "
            "`vizzly-tui --project <copy> db migrate` and `doctor --json` to replay)\n"
            "  pytest empties --basetemp at its next start: copy these folders out first."
        ) from exc
    shutil.rmtree(as_killed)
    shutil.rmtree(root)


def assert_settled_and_sound(root: Path) -> dict:
    """The next start settles what was interrupted; then doctor finds no error, nothing
    pending, no half-written file, and every baseline's bytes match their sha256."""
    settled = cli(root, "db", "migrate")
    assert settled.returncode == 0, settled.stderr
    result = cli(root, "doctor", "--json")
    report = json.loads(result.stdout)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    # Items cut to a few: a finding may list thousands of files.
    assert not errors, [{**f, "items": f.get("items", [])[:5]} for f in errors]
    assert not [f for f in report["findings"] if f["check"] == "decisions"], report
    db = root / ".vizzly" / "state.db"
    assert count(db, "SELECT count(*) FROM decision WHERE state = 'pending'") == 0
    conn = sqlite3.connect(readonly_uri(db), uri=True)
    try:
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    for folder in ("baselines", "current", "diffs"):
        path = root / ".vizzly" / folder
        # A temp file may stay for a minute (recovery sweeps older ones), but never under a
        # name an SDK or the app reads.
        for entry in path.iterdir() if path.is_dir() else ():
            assert entry.name.startswith(TEMP_PREFIX) or entry.stat().st_size > 0, entry
    return report


def record(scenario: str, **numbers: int) -> None:
    FIGURES[scenario] = numbers
    out = os.environ.get("VIZZLY_RELIABILITY_FIGURES")
    if out:
        data = json.loads(Path(out).read_text()) if Path(out).exists() else {}
        data[scenario] = numbers
        Path(out).write_text(json.dumps(data, indent=2))


class ServeProcess:
    """A real `vizzly-tui serve` on a temp project, driven over HTTP like an SDK or a browser."""

    def __init__(self, root: Path, home: Path) -> None:
        import socket

        self.root = root
        (root / ".vizzly").mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "VIZZLY_HOME": str(home)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vizzly_tui",
                "--project",
                str(root),
                "serve",
                "--port",
                str(port),
            ],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        path = root / ".vizzly" / "server.json"
        deadline = time.monotonic() + 30
        while True:
            try:
                self.port = int(json.loads(path.read_text())["port"])
                break
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError("serve did not start") from None
                time.sleep(0.02)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, bytes]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(
                method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True
            )
            for key, value in (headers or {}).items():
                conn.putheader(key, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def post_json(self, path: str, value: object, **headers: str) -> tuple[int, bytes]:
        return self.request(
            "POST",
            path,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **headers},
        )

    def healthy(self) -> bool:
        status, _ = self.request("GET", "/health", timeout=10)
        return status == 200

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err.decode(errors="replace")


def tree(folder: Path, *, skip: str | None = None) -> dict[str, str]:
    """relative path -> sha256 of every file under `folder` (except the `skip` subfolder)."""
    import hashlib

    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if skip and (rel == skip or rel.startswith(skip + "/")):
            continue
        if path.is_file() and not path.is_symlink():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
