"""A real full disk (issue 10): a project on a small tmpfs, filled to the last byte.

`accept --all`, a screenshot sent to `serve`, the first start of a Vizzly CLI project and
`doctor` each say the disk is full, with their exit code (or HTTP status); nothing is
half-written, state.db is never replaced or set aside, and once space is freed everything
works and doctor is clean. Needs a tmpfs mount (root): skipped, saying why, elsewhere.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.damagehelpers import recorded_project
from tests.racehelpers import png
from tests.reliability.helpers import ServeProcess, tree
from tests.reliability.legacy_project import make_legacy_project

SIZE_KB = 8192


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of SIZE_KB KiB mounted on a temp folder; unmounted whatever happens."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE_KB}k", "tmpfs", str(mount)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def fill(mount: Path) -> Path:
    """Write a filler file until the filesystem has no byte left; returns it."""
    filler = mount / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(chunk[:size])
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def dump(root: Path) -> list[str]:
    conn = sqlite3.connect(root / ".vizzly" / "state.db")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def assert_says_disk_full(result: subprocess.CompletedProcess[str], code: int = 3) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "is full (no space left on the device)" in output, output
    assert "Free some space there" in output, output
    assert "Traceback" not in output, output
    assert "--repair" not in output, output  # a full disk is not damage


def assert_doctor_clean(root: Path) -> None:
    result = cli(root, "doctor", "--json")
    report = json.loads(result.stdout)
    assert [f for f in report["findings"] if f["severity"] == "error"] == [], report
    assert not list((root / ".vizzly").glob("state.db.damaged*"))


@pytest.mark.parametrize("held", [False, True], ids=["closed", "held-open"])
def test_accept_all_on_a_full_disk(small_disk, held):
    root = small_disk / "p"
    recorded_project(root, 16)
    before = dump(root)
    files = tree(root / ".vizzly", skip="objects")
    # held: another process keeps state.db open (its -shm and -wal exist), so SQLite and
    # the image writes meet the full disk in the middle of the command, not at its start.
    reader = sqlite3.connect(root / ".vizzly" / "state.db") if held else None
    if reader is not None:
        reader.execute("SELECT count(*) FROM comparison").fetchone()
    filler = fill(small_disk)
    try:
        assert_says_disk_full(cli(root, "accept", "--all"))
    finally:
        if reader is not None:
            reader.close()
    filler.unlink()
    # Nothing half-written: the rows and every image are as they were.
    assert dump(root) == before
    after = {k: v for k, v in tree(root / ".vizzly", skip="objects").items()}
    assert {k: after.get(k) for k in files if not k.startswith("state.db")} == {
        k: v for k, v in files.items() if not k.startswith("state.db")
    }
    assert_doctor_clean(root)
    accepted = cli(root, "accept", "--all")
    assert accepted.returncode == 0, accepted.stderr
    assert_doctor_clean(root)


def test_a_screenshot_to_serve_on_a_full_disk(small_disk, tmp_path):
    root = small_disk / "p"
    server = ServeProcess(root, tmp_path / "home")
    try:

        def shot(name: str, colour: tuple[int, int, int]) -> tuple[int, bytes]:
            image = base64.b64encode(png(colour, (200, 150))).decode()
            return server.post_json("/screenshot", {"name": name, "image": image})

        assert shot("home", (10, 20, 30))[0] == 200
        filler = fill(small_disk)
        status, body = shot("cart", (200, 20, 30))
        assert status == 507, body
        assert b"is full (no space left on the device)" in body, body
        assert server.healthy()  # the server keeps serving
        filler.unlink()
        assert shot("cart", (200, 20, 30))[0] == 200
    finally:
        log = server.stop()
    assert "Traceback" not in log, log
    names = {r["name"] for r in json.loads(cli(root, "status", "--json").stdout)["comparisons"]}
    assert names == {"home", "cart"}
    assert_doctor_clean(root)


def test_the_first_start_of_a_legacy_project_on_a_full_disk(small_disk):
    root = small_disk / "p"
    make_legacy_project(root, 200)
    legacy = tree(root / ".vizzly")
    filler = fill(small_disk)
    assert_says_disk_full(cli(root, "status"))
    filler.unlink()
    # The Vizzly CLI's files untouched; whatever state.db the failed start left is no half
    # import: the next start imports everything, once.
    after = tree(root / ".vizzly")
    assert {k: after.get(k) for k in legacy} == legacy
    status = cli(root, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert len(json.loads(status.stdout)["comparisons"]) == 200
    assert_doctor_clean(root)


def test_doctor_on_a_full_disk(small_disk):
    root = small_disk / "p"
    recorded_project(root, 4)
    before = dump(root)
    db_bytes = (root / ".vizzly" / "state.db").read_bytes()
    filler = fill(small_disk)
    result = cli(root, "doctor")
    assert_says_disk_full(result)
    assert "damaged" not in result.stdout + result.stderr
    assert (root / ".vizzly" / "state.db").read_bytes() == db_bytes
    filler.unlink()
    assert dump(root) == before
    assert_doctor_clean(root)
    assert os.listdir(small_disk) == ["p"]


def test_repair_on_a_full_disk_is_refused_and_changes_nothing(small_disk):
    root = small_disk / "p"
    recorded_project(root, 4)
    db_bytes = (root / ".vizzly" / "state.db").read_bytes()
    filler = fill(small_disk)
    refused = cli(root, "doctor", "--repair")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 3, output
    assert "is full (no space left on the device)" in output
    assert "nothing was changed" in output
    assert (root / ".vizzly" / "state.db").read_bytes() == db_bytes
    assert not list((root / ".vizzly").glob("state.db.damaged*"))
    filler.unlink()
    assert_doctor_clean(root)
