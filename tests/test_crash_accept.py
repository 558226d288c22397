"""Kill -9 in the middle of `accept --all`: afterwards every comparison is either accepted
(baseline bytes == current bytes, status passed) or untouched, and the database is sound."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.storehelpers import open_seeded
from vizzly_tui.store.bootstrap import integrity_check
from vizzly_tui.store.db import readonly_uri

COUNT = 200


def _done_decisions(db_path) -> int:
    try:
        conn = sqlite3.connect(readonly_uri(db_path), uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM decision WHERE state='done'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _cli(project_root, *args):
    return subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project_root), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [5, 60, 150])
def test_kill_during_accept_all_leaves_each_comparison_whole(tmp_path, kill_after):
    store, names = open_seeded(tmp_path, COUNT)
    project = store.project
    store.close()

    proc = subprocess.Popen(
        [sys.executable, "-m", "vizzly_tui", "--project", str(tmp_path), "accept", "--all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while _done_decisions(project.db_path) < kill_after and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.002)
    killed_midway = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert killed_midway, "accept --all finished before it could be killed"

    # The next command (any command) finishes or rolls back what the crash interrupted.
    result = _cli(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    assert integrity_check(project.db_path) == ["ok"]

    import json

    rows = {r["name"]: r for r in json.loads(result.stdout)["comparisons"]}
    accepted = 0
    for name in names:
        baseline = (project.baselines_dir / f"{name}.png").read_bytes()
        current = (project.current_dir / f"{name}.png").read_bytes()
        if rows[name]["status"] == "passed":
            accepted += 1
            assert baseline == current, name
        else:
            assert rows[name]["status"] == "failed", name
            assert baseline == b"baseline-" + name.encode(), name
    assert 0 < accepted < COUNT
    conn = sqlite3.connect(readonly_uri(project.db_path), uri=True)
    pending = conn.execute("SELECT COUNT(*) FROM decision WHERE state='pending'").fetchone()[0]
    conn.close()
    assert pending == 0
    # And what was accepted can still be undone, byte for byte.
    assert _cli(tmp_path, "undo").returncode == 0
    for name in names:
        assert (project.baselines_dir / f"{name}.png").read_bytes() == b"baseline-" + name.encode()
