"""kill -9 at seeded random moments during `vizzly-tui baselines download` (issue 10).

The download runs in a subprocess against the cloud stand-in (tests/cloud/standin.py). The
kill lands while files are fetched (objects/ grows), while the decision writes the baseline
files, or just before it completes. After each kill the next start settles it, and then the
download is fully applied or untouched: every baseline holds all the cloud's bytes or all the
old ones, the rows agree, nothing is pending, and a completed download can still be undone.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cloud.standin import TOKEN, CloudBuild, CloudStandIn, Shot
from tests.racehelpers import png
from tests.reliability.helpers import (
    assert_settled_and_sound,
    cli,
    kill_when,
    record,
    rounds,
    start,
)
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.files import TEMP_PREFIX

# 100 baselines with --long; 40 in the short run, for its time.
LONG_SHOTS, SHORT_SHOTS = 100, 40
SEED = 20261202
PROPS = {"browser": "chrome", "viewport": {"width": 1280, "height": 30}}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def shots(long_run) -> int:
    return LONG_SHOTS if long_run else SHORT_SHOTS


@pytest.fixture
def standin(monkeypatch, shots):
    cloud = CloudStandIn().start()
    # The subprocesses inherit these: the download goes to the stand-in, with its token.
    monkeypatch.setenv("VIZZLY_API_URL", cloud.url)
    monkeypatch.setenv("VIZZLY_TOKEN", TOKEN)
    pages = [Shot(f"page-{i:03d}", png((i * 2, 40, 200), (48, 32))) for i in range(shots)]
    cloud.add_build(CloudBuild("build-1", pages))
    yield cloud
    cloud.stop()


def _local_project(root: Path, shots: int) -> None:
    """`shots` local baselines under the cloud's names (other bytes), plus one the cloud set
    does not have (the download removes it)."""
    from vizzly_tui.capture import CaptureSettings, capture, start_build
    from vizzly_tui.project import Project
    from vizzly_tui.store.store import open_store

    (root / ".vizzly").mkdir(parents=True)
    with open_store(Project(root)) as store:
        build = start_build(store, "serve")
        for i in range(shots):
            data = png((i * 2, 200, 40), (48, 32))
            capture(store, build.id, f"page-{i:03d}", data, PROPS, CaptureSettings())
        capture(store, build.id, "old-page", png((1, 2, 3)), PROPS, CaptureSettings())


def _state(root: Path) -> tuple[dict[str, str], dict[str, str | None]]:
    """(baseline file name -> sha256 of its bytes, baseline signature -> recorded sha256)."""
    folder = root / ".vizzly" / "baselines"
    # A temp file may stay a minute after a kill (recovery sweeps older ones): not a baseline.
    files = {
        p.name: _sha(p.read_bytes())
        for p in sorted(folder.glob("*.png"))
        if not p.name.startswith(TEMP_PREFIX)
    }
    conn = sqlite3.connect(readonly_uri(root / ".vizzly" / "state.db"), uri=True)
    try:
        rows = dict(conn.execute("SELECT signature, sha256 FROM baseline").fetchall())
    finally:
        conn.close()
    return files, rows


def _progress(root: Path, inodes: dict[Path, int], objects_before: int) -> int:
    """Objects fetched so far, plus baseline files the decision has replaced or removed."""
    objects = root / ".vizzly" / "objects"
    try:
        fetched = len(os.listdir(objects)) - objects_before
    except OSError:
        fetched = 0
    replaced = 0
    for path, inode in inodes.items():
        try:
            replaced += os.stat(path).st_ino != inode
        except OSError:
            replaced += 1
    return fetched + replaced


def test_kill_during_a_cloud_download(tmp_path, standin, shots, kills):
    rng = random.Random(SEED)
    template = tmp_path / "template"
    _local_project(template, shots)
    old = _state(template)

    # One download that runs to the end: the cloud's state, and the kills' scale.
    whole = tmp_path / "whole"
    shutil.copytree(template, whole)
    done = cli(whole, "baselines", "download", "build-1")
    assert done.returncode == 0, done.stderr
    new = _state(whole)
    assert set(new[0].values()) == {_sha(s.data) for s in standin.builds["build-1"].shots}
    assert new != old and len(new[1]) == shots

    killed = applied = 0
    for i in rounds(kills):
        root = tmp_path / f"k{i}"
        shutil.copytree(template, root)
        baselines = root / ".vizzly" / "baselines"
        inodes = {p: p.stat().st_ino for p in baselines.glob("*.png")}
        objects_before = len(os.listdir(root / ".vizzly" / "objects"))
        # Up to `shots` objects to fetch, then `shots` + 1 files to replace or remove.
        target = rng.randrange(0, 2 * shots + 2)
        proc = start(root, "baselines", "download", "build-1")
        killed += kill_when(
            proc,
            lambda r=root, n=inodes, b=objects_before, t=target: _progress(r, n, b) >= t,
        )
        assert_settled_and_sound(root)
        after = _state(root)
        # Whole or nothing: all the cloud's bytes and rows, or all the old ones.
        assert after in (old, new), (target, after)
        if after == new:
            applied += 1
        elif target > shots:
            # Rolled back once the install had begun: the next download still runs to the end.
            again = cli(root, "baselines", "download", "build-1")
            assert again.returncode == 0, again.stderr
            assert _state(root) == new
        if _state(root) == new:
            # And the completed download can still be undone, back to the old baselines
            # (bytes and rows: _state).
            undone = cli(root, "undo")
            assert undone.returncode == 0, undone.stderr
            assert _state(root) == old
        shutil.rmtree(root)
    ran = i + 1  # rounds() may stop early (--kill-minutes)
    assert killed >= ran // 2, f"only {killed} of {ran} runs were killed midway"
    record(f"cloud download ({shots} baselines)", kills=killed, runs=ran, applied=applied)
