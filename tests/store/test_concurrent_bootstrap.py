"""Acceptance: four processes bootstrapping one legacy project at once import it exactly once.

Without the bootstrap's file lock, peewee-migrate lets every racer run migration 001 (the
legacy import ran twice and migratehistory got duplicate rows in 10/10 trials,
sqlite-peewee-migrate.md §2.6). Each round races on a fresh copy of scenario b.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, unpack_scenario
from tests.store.legacyhelpers import counts, import_log, load, rows
from vizzly_tui.store.bootstrap import packaged_migrations

PROCESSES = 4
ROUNDS = 3

# Everything is imported before the barrier, so the racers collide in ensure_schema itself.
RACER = """
import json, pathlib, sys, time
from vizzly_tui.project import Project
from vizzly_tui.store.bootstrap import ensure_schema
start, project, ready = (pathlib.Path(a) for a in sys.argv[1:4])
ready.touch()
deadline = time.monotonic() + 60
while not start.exists():
    if time.monotonic() > deadline:
        sys.exit("the start file never appeared")
    time.sleep(0.0005)
print(json.dumps(ensure_schema(Project(project)).applied))
"""


def _race(project: Path, start: Path, ready: Path) -> list[list[str]]:
    ready.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(start), str(project), str(ready / str(i))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(PROCESSES)
    ]
    # Barrier: release the racers only once every one has started and imported everything.
    deadline = time.monotonic() + 60
    while len(list(ready.iterdir())) < PROCESSES and time.monotonic() < deadline:
        time.sleep(0.001)
    start.touch()
    applied = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        applied.append(json.loads(out))
    return applied


@pytest.mark.slow
@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_racing_bootstraps_import_once(tmp_path, round_no):
    project = unpack_scenario("scenario-b-second-run", tmp_path)
    applied = _race(project, tmp_path / "start", tmp_path / "ready")

    migrations = packaged_migrations()
    assert sorted(applied, key=len) == [[]] * (PROCESSES - 1) + [migrations]
    history = rows(project, "SELECT name, COUNT(*) AS n FROM migratehistory GROUP BY name")
    assert {(r["name"], r["n"]) for r in history} == {(m, 1) for m in migrations}

    expected = len(load(project, "report-data.json")["comparisons"])
    found = counts(project)
    assert found["comparison"] == expected
    assert found["baseline"] == len(load(project, "baselines/metadata.json")["screenshots"])
    uids = [r["uid"] for r in rows(project, "SELECT uid FROM build")]
    assert uids.count("legacy-import") == 1
    log = import_log(project)
    assert len(log) == len(set(log))
    # One "imported N" row per legacy file, and one saying the images were kept.
    assert len([row for row in log if row[3].startswith("imported ")]) == 3
    assert ("objects/", None, "imported", "kept the imported images") in log
