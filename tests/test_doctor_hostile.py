"""`doctor` and `doctor --repair` against what a hostile user or a busy team does to .vizzly/
(issue 10's review): junk in baselines/, odd server files, WAL files left behind, repairs
that fail, are killed, or meet another process."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.damagehelpers import checkpoint, cli, digest, recorded_project
from tests.racehelpers import png
from vizzly_tui.project import Project


def doctor(root: Path, *args: str):
    result = cli(root, "doctor", "--json", *args, timeout=30)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else None, result


def history(project: Project, path: Path | None = None) -> list[tuple]:
    """The decision log and the baselines, as rows: what a repair must carry over."""
    conn = sqlite3.connect(Path(path or project.db_path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        decisions = conn.execute("SELECT id, action, state FROM decision ORDER BY id").fetchall()
        baselines = conn.execute("SELECT signature, sha256 FROM baseline ORDER BY 1").fetchall()
    finally:
        conn.close()
    return decisions + baselines


def aside(project: Project) -> list[Path]:
    return sorted(p for p in project.vizzly_dir.iterdir() if ".damaged-" in p.name)


def all_items(data) -> list[str]:
    return [i for f in data["findings"] for i in f["items"]]


# --- junk in baselines/ ----------------------------------------------------------------------


def test_junk_in_baselines_is_named_never_followed_and_repair_does_not_crash(tmp_path):
    project = recorded_project(tmp_path / "p", count=4)
    root = project.root
    outside = tmp_path / "outside.png"
    outside.write_bytes(png((1, 2, 3)))
    folder = project.baselines_dir
    (folder / "link_0123456789ab.png").symlink_to(outside)
    (folder / "dir_0123456789ab.png").mkdir()
    (folder / "empty_0123456789ab.png").write_bytes(b"")
    (folder / "text_0123456789ab.png").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    os.mkfifo(folder / "fifo_0123456789ab.png")
    (folder / "zero_0123456789ab.png").symlink_to("/dev/zero")
    (folder / os.fsdecode(b"caf\xe9_0123456789ab.png")).write_bytes(png((4, 5, 6)))
    before = history(project)

    code, data, result = doctor(root)  # a FIFO or /dev/zero must not hang it
    assert code == 1, result.stderr
    items = " ".join(all_items(data))
    for name in ("link_", "dir_", "empty_", "text_", "fifo_", "zero_", "caf\\xe9_"):
        assert name in items
    assert "not followed" in items

    code, data, result = doctor(root, "--repair")
    assert code == 5, result.stderr  # done, with what was not recovered listed
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    not_recovered = " ".join(data["repair"]["notRecovered"])
    for name in ("link_", "dir_", "empty_", "text_", "fifo_", "zero_", "caf\\xe9_"):
        assert name in not_recovered
    assert history(project) == before  # the review history carried over
    # Nothing was read through the link: the outside file's bytes are not in objects/.
    assert not project.object_path(digest(outside)).exists()
    assert outside.read_bytes() == png((1, 2, 3))


def test_a_folder_where_a_recorded_baseline_was_leaves_the_database_whole(tmp_path):
    project = recorded_project(tmp_path, count=3)
    before = history(project)
    file_name = sorted(p.name for p in project.baselines_dir.iterdir())[0]
    (project.baselines_dir / file_name).unlink()
    (project.baselines_dir / file_name).mkdir()
    code, data, result = doctor(tmp_path)
    assert code == 3 and f"baselines/{file_name} (a folder)" in all_items(data)

    code, data, result = doctor(tmp_path, "--repair")
    assert code == 5, result.stderr
    assert history(project) == before  # not an empty new database
    assert file_name in " ".join(data["repair"]["notRecovered"])
    # Following the advice works: move it away, repair again, the bytes come back.
    (project.baselines_dir / file_name).rmdir()
    code, data, result = doctor(tmp_path, "--repair")
    assert code == 0, result.stdout + result.stderr
    assert f"baselines/{file_name}" in data["repair"]["baselinesRestored"]
    assert doctor(tmp_path)[0] == 0


def test_a_recorded_baseline_cut_short_is_not_recorded_as_it_is(tmp_path):
    project = recorded_project(tmp_path, count=3)
    file_name = sorted(p.name for p in project.baselines_dir.iterdir())[0]
    path = project.baselines_dir / file_name
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    code, data, _ = doctor(tmp_path)
    assert code == 3 and "not a whole PNG" in " ".join(f["message"] for f in data["findings"])
    code, data, _ = doctor(tmp_path, "--repair")
    assert code == 5
    conn = sqlite3.connect(project.db_path)
    sha = conn.execute("SELECT sha256 FROM baseline WHERE file_name = ?", (file_name,))
    assert sha.fetchone()[0] == digest_bytes(whole)  # the half file did not become the baseline
    conn.close()


def digest_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# --- server files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ['{"pid": 1, "port": 99999}', '{"pid": 0, "port": -5}', '{"pid": 1e400, "port": 1}',
     '{"pid": 123456789012345678901234567890, "port": 47392}'],
)  # fmt: skip
def test_a_server_json_with_numbers_out_of_range_is_a_stale_file_not_a_crash(tmp_path, content):
    project = recorded_project(tmp_path, count=1)
    (project.vizzly_dir / "server.json").write_text(content)
    code, data, result = doctor(tmp_path)
    assert code == 1, result.stderr
    assert [f["check"] for f in data["findings"] if f["severity"] == "warning"] == ["server"]
    status = cli(tmp_path, "status")
    assert status.returncode == 0, status.stderr


def test_a_registry_with_garbage_rows_does_not_stop_doctor(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("VIZZLY_HOME", str(home))
    conn = sqlite3.connect(home / "servers.db")
    conn.execute("CREATE TABLE server (pid, port, directory)")
    conn.execute("INSERT INTO server VALUES ('abc', 1, 'x'), (1e400, 2, 'y'), (3, 3, 'z')")
    conn.commit()
    conn.close()
    recorded_project(tmp_path / "p", count=1)
    code, data, result = doctor(tmp_path / "p")
    assert code in (1, 3), result.stderr
    assert data is not None and all(f["check"] == "server" for f in data["findings"])


# --- database files --------------------------------------------------------------------------


def test_a_vizzly_cli_project_not_yet_imported_is_healthy(tmp_path, scenario_project):
    root = scenario_project("scenario-c1-accept-reject")
    (root / ".vizzly" / "server.json").unlink(missing_ok=True)
    code, data, result = doctor(root)
    assert code == 0, result.stdout
    assert "--repair" not in json.dumps(data)
    assert "imports" in json.dumps(data)


def _wal_with_frames(project: Project) -> bytes:
    """Leave state.db-wal holding committed frames, as a process killed before its
    checkpoint does; return its bytes."""
    db = project.db_path
    keep = {}
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE baseline SET updated_at = updated_at + 1")
    conn.commit()
    for suffix in ("", "-wal"):  # copied while open: what a kill -9 leaves
        keep[suffix] = Path(f"{db}{suffix}").read_bytes()
    conn.close()
    for suffix, data in keep.items():
        Path(f"{db}{suffix}").write_bytes(data)
    Path(f"{db}-shm").unlink(missing_ok=True)
    assert keep["-wal"]
    return keep["-wal"]


def test_a_wal_left_without_its_database_is_kept_aside_not_destroyed(tmp_path):
    project = recorded_project(tmp_path, count=2)
    wal = _wal_with_frames(project)
    project.db_path.unlink()
    code, data, _ = doctor(tmp_path)
    assert code == 3
    assert "state.db-wal is left without" in json.dumps(data)

    result = cli(tmp_path, "accept", "--all")  # a command that creates state.db
    assert "Traceback" not in result.stderr
    assert "kept as state.db-wal.orphaned-" in result.stdout + result.stderr
    kept = [p for p in project.vizzly_dir.iterdir() if ".orphaned-" in p.name]
    assert [p.read_bytes() for p in kept] == [wal]
    assert sqlite3.connect(project.db_path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_kept_aside_file_keeps_its_wal_when_the_name_is_taken(tmp_path, monkeypatch):
    from vizzly_tui.store import repair as repair_module

    project = recorded_project(tmp_path, count=2)
    _wal_with_frames(project)
    expected = history(project)  # read through the WAL
    monkeypatch.setattr(repair_module.time, "strftime", lambda *_: "20260101T000000")
    taken = project.vizzly_dir / "state.db.damaged-20260101T000000"
    taken.write_bytes(b"an earlier repair's file")
    repair_module.repair(project)
    assert taken.read_bytes() == b"an earlier repair's file"
    kept = [p for p in aside(project) if p != taken and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1
    assert Path(f"{kept[0]}-wal").exists()  # SQLite pairs <file> with <file>-wal
    assert history(project, kept[0]) == expected  # the kept copy opens with its last changes


# --- repairs that fail, are killed, or meet another process -----------------------------------

CHILD = r"""
import os, sys, time, pathlib
from vizzly_tui.store import repair
from vizzly_tui import cli

flags = pathlib.Path(sys.argv[1])
mode = sys.argv[2]
original = repair.baselines_from_files

def paused(project, conn, result):
    original(project, conn, result)
    (flags / "paused").touch()
    if mode == "fail":
        raise OSError(28, "No space left on device")
    while not (flags / "go").exists():
        time.sleep(0.01)

repair.baselines_from_files = paused
sys.argv = ["vizzly-tui", "--project", sys.argv[3], "doctor", "--repair"]
cli.main()
"""


def _paused_repair(tmp_path: Path, root: Path, mode: str) -> subprocess.Popen[str]:
    flags = tmp_path / "flags"
    flags.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(flags), mode, str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child ended first: {proc.communicate()}")
        assert time.monotonic() < deadline, "child never reached the pause"
        time.sleep(0.02)


def test_a_repair_that_fails_part_way_changes_nothing(tmp_path):
    project = recorded_project(tmp_path / "p", count=3)
    before = digest(project.db_path)
    child = _paused_repair(tmp_path, project.root, "fail")
    _, err = child.communicate(timeout=60)
    assert (
        child.returncode == 3 and "no space left" in err.lower() and "left exactly as it was" in err
    )
    assert digest(project.db_path) == before and not aside(project)
    assert not [p for p in project.vizzly_dir.iterdir() if "repair" in p.name]  # no half file


def test_kill_9_during_a_repair_loses_nothing_and_the_rerun_keeps_the_history(tmp_path):
    project = recorded_project(tmp_path / "p", count=3)
    assert cli(project.root, "accept", "--all").returncode == 0
    checkpoint(project.db_path)
    before_rows = history(project)
    before = digest(project.db_path)
    child = _paused_repair(tmp_path, project.root, "pause")
    _wait_for(tmp_path / "flags" / "paused", child)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert digest(project.db_path) == before and not aside(project)
    assert cli(project.root, "status").returncode == 0  # usable as it was

    code, _, result = doctor(project.root, "--repair")
    assert code == 0, result.stdout + result.stderr
    assert history(project) == before_rows
    assert [digest(p) for p in aside(project) if p.name.count("-") == 1] == [before]


def test_sigint_during_a_repair_changes_nothing(tmp_path):
    project = recorded_project(tmp_path / "p", count=3)
    before = digest(project.db_path)
    child = _paused_repair(tmp_path, project.root, "pause")
    _wait_for(tmp_path / "flags" / "paused", child)
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=30)
    assert child.returncode != 0
    assert digest(project.db_path) == before and not aside(project)


def test_a_second_repair_waits_for_the_first(tmp_path):
    project = recorded_project(tmp_path / "p", count=3)
    before_rows = history(project)
    first = _paused_repair(tmp_path, project.root, "pause")
    _wait_for(tmp_path / "flags" / "paused", first)
    second = subprocess.Popen(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project.root), "doctor",
         "--repair", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    (tmp_path / "flags" / "go").touch()
    assert first.wait(timeout=60) == 0
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, out + err
    assert history(project) == before_rows
    assert len([p for p in aside(project) if p.name.count("-") == 1]) == 2


OPEN_APP = r"""
import sys, time
from pathlib import Path
from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store
from vizzly_tui.store import queries
with open_store(Project(Path(sys.argv[1]))) as store:
    queries.current_build()
    print("open", flush=True)
    sys.stdin.readline()
"""


def test_repair_refuses_while_another_process_has_the_database_open(tmp_path):
    project = recorded_project(tmp_path / "p", count=2)
    app = subprocess.Popen(
        [sys.executable, "-c", OPEN_APP, str(project.root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert app.stdout.readline().strip() == "open"
        before = digest(project.db_path)
        code, _, result = doctor(project.root, "--repair")
        assert code == 2 and "open in another vizzly-tui process" in result.stderr
        assert digest(project.db_path) == before and not aside(project)
    finally:
        app.communicate("\n", timeout=30)
    code, _, result = doctor(project.root, "--repair")
    assert code == 0, result.stdout + result.stderr


# --- Ctrl-C ----------------------------------------------------------------------------------


def test_ctrl_c_during_accept_all_says_what_happened_and_exits_130(tmp_path):
    from tests.racehelpers import paused_cli

    project = recorded_project(tmp_path / "p", count=6)
    flags = tmp_path / "flags"
    child = paused_cli(flags, project.root, "accept", "accept", "--all")
    _wait_for(flags / "paused", child)
    child.send_signal(signal.SIGINT)  # the writer is half-way through the batch
    (flags / "go").touch()
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted" in err and "vizzly-tui log" in err and "Aborted" not in err
    # Nothing half-done: the batch is whole, in the log, and can be undone.
    assert doctor(project.root)[0] == 0
    log = cli(project.root, "log")
    assert "accept" in log.stdout
    assert cli(project.root, "undo").returncode == 0
    assert doctor(project.root)[0] == 0


def test_a_repair_on_a_full_disk_says_so_and_changes_nothing(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        project = recorded_project(mount / "p", count=2)
        before = digest(project.db_path)
        # Fill the disk.
        with (mount / "filler").open("wb", buffering=0) as fh, pytest.raises(OSError):
            while True:
                fh.write(b"\0" * 4096)
        code, _, result = doctor(project.root, "--repair")
        assert code == 3, result.stdout + result.stderr
        assert "is full (no space left on the device)" in result.stderr
        assert "nothing was changed" in result.stderr
        assert digest(project.db_path) == before and not aside(project)
        (mount / "filler").unlink()
        code, _, result = doctor(project.root, "--repair")
        assert code == 0, result.stdout + result.stderr
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_an_earlier_version_cut_short_in_objects_is_named(tmp_path):
    project = recorded_project(tmp_path, count=2)
    assert cli(tmp_path, "accept", "--all").returncode == 0
    conn = sqlite3.connect(project.db_path)
    # An earlier version: one the baseline row no longer points at.
    (sha,) = conn.execute(
        "SELECT v.sha256 FROM baseline_version v JOIN baseline b USING (signature) "
        "WHERE v.sha256 != b.sha256 LIMIT 1"
    ).fetchone()
    conn.close()
    path = project.object_path(sha)
    path.write_bytes(path.read_bytes()[:20])
    code, data, _ = doctor(tmp_path)
    assert code == 3
    assert any(i.startswith(f"objects/{sha}.png") and "cut short" in i for i in all_items(data))


def test_doctor_on_a_read_only_folder_says_it_cannot_see_the_wal(tmp_path):
    from tests.damagehelpers import read_only

    project = recorded_project(tmp_path, count=2)
    _wal_with_frames(project)
    with read_only(project.vizzly_dir):
        code, data, result = doctor(tmp_path)
    assert code == 1, result.stdout + result.stderr
    assert "state.db-wal holds changes that cannot be read" in json.dumps(data)
