"""`doctor` against links in the image folders, a busy project (serve capturing, a decision in
progress or killed half-way), the first start of a Vizzly CLI project, and its advice
(issue 10's review; the helpers are test_doctor_hostile's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.damagehelpers import cli, recorded_project
from tests.racehelpers import png
from tests.test_doctor_hostile import _wait_for, all_items, doctor
from vizzly_tui.project import Project

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
