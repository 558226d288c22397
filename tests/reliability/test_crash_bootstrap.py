"""kill -9 at seeded random moments during the first start of a large Vizzly CLI project
(issue 10): the legacy bootstrap (migration 001's import, then keeping the imported images).

After each kill the next start finishes the bootstrap, and then the import is done exactly
once, as a start that was never killed does it: the same baselines, comparisons (with their
image hashes), versions, builds and import log, nothing twice; the Vizzly CLI's files are
untouched; doctor finds no error; integrity_check and foreign_key_check pass.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from pathlib import Path

from tests.reliability.helpers import (
    assert_settled_and_sound,
    cli,
    kept_on_failure,
    kill_when,
    record,
    rounds,
    start,
)
from tests.reliability.legacy_project import make_legacy_project
from vizzly_tui.store.db import readonly_uri

# 1,000 screenshots (1,250 images to keep) with --long; 300 in the short run, for its time.
SCREENSHOTS, SHORT_SCREENSHOTS = 1000, 300
SEED = 20261203

# What the import wrote, without ids and times (which differ from one start to the next).
QUERIES = {
    "baselines": "SELECT signature, name, file_name, sha256, size, width, height FROM baseline",
    "versions": "SELECT signature, sha256, size, source FROM baseline_version",
    "comparisons": (
        "SELECT cid, name, status, signature, file_name, current_sha256, baseline_sha256, "
        "diff_percentage FROM comparison"
    ),
    "details": "SELECT c.cid FROM comparison_detail d JOIN comparison c ON c.id = d.comparison_id",
    "builds": "SELECT kind, uid, name, status, cloud_build_id FROM build",
    "import_log": "SELECT source, item, outcome, detail FROM import_log",
    "settings": "SELECT key FROM setting",
    "migrations": "SELECT name FROM migratehistory",
}


def _imported(root: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(readonly_uri(root / ".vizzly" / "state.db"), uri=True)
    try:
        # Sorted lists, not sets: a row imported twice shows.
        return {key: sorted(conn.execute(sql).fetchall(), key=repr) for key, sql in QUERIES.items()}
    finally:
        conn.close()


def _legacy_files(root: Path) -> dict[str, bytes]:
    vizzly = root / ".vizzly"
    return {
        path.relative_to(vizzly).as_posix(): path.read_bytes()
        for path in sorted(vizzly.rglob("*"))
        if path.is_file() and path.relative_to(vizzly).parts[0] != "objects"
    }


def _progress(root: Path) -> int:
    """0 before the database exists, 1 once it does, 2 once its WAL is written (migration
    001 is importing), then 2 + the objects kept so far (the imported images)."""
    vizzly = root / ".vizzly"
    try:
        return 2 + len(os.listdir(vizzly / "objects"))
    except OSError:
        pass
    if not (vizzly / "state.db").exists():
        return 0
    try:
        return 2 if (vizzly / "state.db-wal").stat().st_size > 0 else 1
    except OSError:
        return 1


def test_kill_during_the_bootstrap_of_a_large_legacy_project(tmp_path, kills, long_run):
    rng = random.Random(SEED)
    screenshots = SCREENSHOTS if long_run else SHORT_SCREENSHOTS
    template = tmp_path / "template"
    make_legacy_project(template, screenshots)
    legacy = _legacy_files(template)

    whole = tmp_path / "whole"
    shutil.copytree(template, whole)
    done = cli(whole, "db", "migrate")
    assert done.returncode == 0, done.stderr
    expected = _imported(whole)
    assert len(expected["comparisons"]) == screenshots
    assert all(row[5] for row in expected["comparisons"]), "an imported image without a hash"
    objects = len(os.listdir(whole / ".vizzly" / "objects"))

    killed = 0
    commands = (("status",), ("db", "migrate"), ("baselines",))
    for i in rounds(kills):
        root = tmp_path / f"k{i}"
        shutil.copytree(template, root)
        # A third of the kills land before any image is kept: in the import itself.
        target = rng.randrange(0, 3) if rng.random() < 1 / 3 else rng.randrange(3, objects + 3)
        proc = start(root, *commands[i % len(commands)])
        killed += kill_when(proc, lambda r=root, t=target: _progress(r) >= t)
        label = (
            f"seed {SEED}, kill {i} of `{' '.join(commands[i % len(commands)])}` (target {target})"
        )
        with kept_on_failure(root, label):
            # assert_settled_and_sound's next start finishes the bootstrap; doctor is clean.
            assert_settled_and_sound(root)
            assert _imported(root) == expected
            after = _legacy_files(root)
            assert {k: after.get(k) for k in legacy} == legacy, "a Vizzly CLI file changed"
    ran = i + 1  # rounds() may stop early (--kill-minutes)
    assert killed >= ran // 2, f"only {killed} of {ran} runs were killed midway"
    record(f"legacy bootstrap ({screenshots} screenshots)", kills=killed, runs=ran)
