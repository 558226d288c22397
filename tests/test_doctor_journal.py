"""A write killed while state.db is in rollback-journal mode (the first start converting a
new or repaired file to WAL) leaves a hot `state.db-journal`. That is SQLite's own crash
recovery, not damage: doctor (read-only) must not call the file damaged, and
`doctor --repair` must never pair the old journal with the new file (SQLite would "roll it
back" into it)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

import pytest

from tests.damagehelpers import cli, digest, recorded_project
from vizzly_tui.project import Project

# A child process that starts changing every baseline row of a rollback-mode state.db, spills
# the change into the file (cache of 1 page), says so, and waits to be killed.
KILLED_WRITE = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE baseline SET sha256 = 'half-written'")
conn.execute("UPDATE comparison SET name = name || '-half-written'")
print("written", flush=True)
time.sleep(120)
"""


def baselines(project: Project) -> dict[str, str]:
    conn = sqlite3.connect(project.db_path)
    try:
        return dict(conn.execute("SELECT signature, sha256 FROM baseline").fetchall())
    finally:
        conn.close()


def hot_journal(project: Project) -> None:
    """state.db as a kill in rollback mode leaves it: its -journal holds the pages to restore."""
    conn = sqlite3.connect(project.db_path)
    conn.execute("PRAGMA journal_mode = delete")  # as doctor --repair leaves its new file
    conn.close()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITE, str(project.db_path)], stdout=subprocess.PIPE
    )
    assert child.stdout.readline() == b"written\n"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    journal = project.db_path.with_name("state.db-journal")
    assert journal.stat().st_size > 0


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VIZZLY_HOME", str(tmp_path / "home"))


def test_doctor_after_a_kill_in_rollback_mode_says_interrupted_not_damaged(tmp_path, home):
    project = recorded_project(tmp_path)
    before = baselines(project)
    hot_journal(project)
    journal = project.db_path.with_name("state.db-journal")
    files = (digest(project.db_path), digest(journal))

    result = cli(tmp_path, "doctor", "--json")
    report = json.loads(result.stdout)
    database = [f for f in report["findings"] if f["check"] == "database"]
    assert [f["severity"] for f in database] == ["warning"], database
    assert "is damaged" not in database[0]["message"]
    assert "state.db-journal" in database[0]["message"]
    assert "--repair" not in (database[0]["action"] or "")
    assert result.returncode == 1
    assert (digest(project.db_path), digest(journal)) == files  # doctor only reads

    # The next command rolls the interrupted write back: nothing of it stays.
    assert cli(tmp_path, "db", "migrate").returncode == 0
    assert not journal.exists()
    assert baselines(project) == before
    healthy = cli(tmp_path, "doctor", "--json")
    assert healthy.returncode == 0, healthy.stdout


def test_repair_with_a_hot_journal_keeps_it_with_the_old_file_and_salvages_its_rows(tmp_path, home):
    project = recorded_project(tmp_path)
    before = baselines(project)
    hot_journal(project)
    journal = project.db_path.with_name("state.db-journal")
    old = (digest(project.db_path), digest(journal))

    result = cli(tmp_path, "doctor", "--repair", "--json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    # The old file and its journal, side by side under one name, byte for byte.
    kept = sorted(p.name for p in project.vizzly_dir.iterdir() if ".damaged-" in p.name)
    assert len(kept) == 2 and kept[1] == kept[0] + "-journal", kept
    aside = project.vizzly_dir / kept[0]
    assert (digest(aside), digest(aside.with_name(kept[1]))) == old
    assert not journal.exists()
    # The rows were read as SQLite's recovery leaves them (the killed write undone), and the
    # next start keeps them: no stale journal is replayed into the new file.
    assert baselines(project) == before
    assert cli(tmp_path, "db", "migrate").returncode == 0
    assert baselines(project) == before
    after = cli(tmp_path, "doctor", "--json")
    assert after.returncode == 0, after.stdout
