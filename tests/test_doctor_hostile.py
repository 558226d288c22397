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
    assert child.returncode == 3 and "No space left" in err and "left exactly as it was" in err
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
        assert "disk is full" in result.stderr and "left exactly as it was" in result.stderr
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


# --- links in the image folders --------------------------------------------------------------


@pytest.mark.parametrize("command", [("accept", "shot-01"), ("delete", "shot-01")])
def test_a_baseline_that_links_to_state_db_is_replaced_not_written_through(tmp_path, command):
    project = recorded_project(tmp_path, count=2)
    link = project.baselines_dir / "shot-01_0695073592aa.png"
    assert link.is_file()
    link.unlink()
    link.symlink_to("../state.db")
    result = cli(tmp_path, *command)
    assert result.returncode == 0, result.stderr
    assert project.db_path.read_bytes()[:16] == b"SQLite format 3\x00"  # not a PNG over it
    log = cli(tmp_path, "log")
    assert log.returncode == 0 and command[0] in log.stdout  # the decision reached the database
    assert not link.is_symlink()


def test_a_state_db_that_is_a_link_is_a_problem_for_doctor_as_for_every_command(tmp_path):
    project = recorded_project(tmp_path / "p", count=1)
    elsewhere = tmp_path / "elsewhere.db"
    project.db_path.rename(elsewhere)
    project.db_path.symlink_to(elsewhere)
    assert cli(project.root, "status").returncode == 3
    code, data, _ = doctor(project.root)
    assert code == 3 and "symbolic link" in json.dumps(data)


def test_a_file_where_baselines_belongs_is_named_and_the_advice_works(tmp_path):
    project = recorded_project(tmp_path / "p", count=2)
    for path in project.baselines_dir.iterdir():
        path.unlink()
    project.baselines_dir.rmdir()
    project.baselines_dir.write_text("not a folder")
    code, data, _ = doctor(project.root)
    assert code == 3 and "is a file, not a folder" in json.dumps(data)
    project.baselines_dir.rename(tmp_path / "moved-away")
    code, data, result = doctor(project.root, "--repair")
    assert code == 0, result.stdout + result.stderr
    assert len(data["repair"]["baselinesRestored"]) == 2


# --- doctor while others work ----------------------------------------------------------------


def test_doctor_during_a_decision_in_progress_reports_no_false_problem(tmp_path, monkeypatch):
    from tests.racehelpers import paused_cli
    from vizzly_tui import doctor as doc
    from vizzly_tui.store import decisions

    project = recorded_project(tmp_path, count=4)
    flags = tmp_path / "flags"
    child = paused_cli(flags, project.root, "accept:after", "accept", "--all")
    _wait_for(flags / "paused", child)  # pending row and its files written, not yet done
    lock = decisions.project_lock

    def releasing(project: Project, timeout: float = 120):
        (flags / "go").touch()  # the decision goes on while doctor waits for the lock
        return lock(project, timeout=timeout)

    monkeypatch.setattr(decisions, "project_lock", releasing)
    # Without the lock, doctor would see that decision pending and call it interrupted.
    report = doc.diagnose(project)
    assert report.exit_code == 0, report.to_json()
    child.communicate(timeout=60)
    assert child.returncode == 0


def test_a_temporary_file_being_written_is_not_called_interrupted_until_it_is_old(tmp_path):
    project = recorded_project(tmp_path, count=1)
    temp = project.objects_dir / (".vizzly-tmp-0123456789ab-" + "0" * 64 + ".png")
    temp.write_bytes(b"half")
    assert doctor(tmp_path)[0] == 0  # a capture may be writing it right now
    old = time.time() - 120
    os.utime(temp, (old, old))
    code, data, _ = doctor(tmp_path)
    assert code == 1 and temp.name in " ".join(all_items(data))


# --- first start of a Vizzly CLI project -----------------------------------------------------

KILLED_IMPORT = r"""
import os, signal, sys
from vizzly_tui.store import import_images
from vizzly_tui import cli

keep = import_images._keep
calls = []

def dying(project, folder, file_name):
    calls.append(file_name)
    if len(calls) == 3:  # the migrations are committed; a few images are kept, not all
        os.kill(os.getpid(), signal.SIGKILL)
    return keep(project, folder, file_name)

import_images._keep = dying
cli.main(args=sys.argv[1:], prog_name="vizzly-tui")
"""


def test_a_kill_while_the_first_start_keeps_the_imported_images_is_finished_next_start(
    scenario_project,
):
    root = scenario_project("scenario-c1-accept-reject")
    child = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, "--project", str(root), "status"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL
    assert cli(root, "status").returncode == 0  # the next start
    code, data, _ = doctor(root)
    assert code == 0, [f for f in data["findings"] if f["severity"] != "note"]


def test_after_a_kill_mid_decision_doctor_points_to_settling_it_not_to_repair(tmp_path):
    from tests.racehelpers import paused_cli

    project = recorded_project(tmp_path, count=4)
    flags = tmp_path / "flags"
    child = paused_cli(flags, project.root, "accept:after", "accept", "shot-01")  # a failed one
    _wait_for(flags / "paused", child)  # its baseline file written, the rows not yet done
    child.kill()
    child.wait(timeout=10)
    code, data, _ = doctor(tmp_path)
    # Only the interrupted decision, with the advice that settles it: no baseline "changed
    # outside vizzly-tui" whose advice (--repair) would record its half-done files as they are.
    assert code == 1, data
    assert [f["check"] for f in data["findings"] if f["severity"] != "note"] == ["decisions"]
    assert cli(tmp_path, "db", "migrate").returncode == 0
    assert doctor(tmp_path)[0] == 0


def test_an_image_no_screenshot_name_explains_is_not_sent_to_repair_for_ever(tmp_path):
    project = recorded_project(tmp_path, count=1)
    (project.baselines_dir / "hand-made_0123456789ab.png").write_bytes(png((9, 9, 9)))
    code, data, _ = doctor(tmp_path)
    assert code == 1
    finding = next(f for f in data["findings"] if f["items"])
    assert finding["items"] == ["baselines/hand-made_0123456789ab.png"]
    assert "--repair" not in finding["action"] and "move them out" in finding["action"]


def test_the_damage_message_says_to_move_the_wal_away_before_restoring_a_backup(tmp_path):
    # A backup copied over state.db while the damaged file's -wal stays would get that WAL
    # replayed into it by SQLite.
    from tests.damagehelpers import overwrite, page_of

    project = recorded_project(tmp_path, count=2)
    offset, size = page_of(project.db_path, "comparison")
    overwrite(project.db_path, offset, b"\xff" * size)
    result = cli(tmp_path, "status")
    assert result.returncode == 3
    assert "move state.db-wal and state.db-shm away first" in result.stderr
