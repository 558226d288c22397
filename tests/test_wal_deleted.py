"""state.db-wal and state.db-shm deleted while a store has the database open (a clean-up
script, a user tidying .vizzly/): SQLite keeps writing to the deleted WAL, which no other
process sees, while another process starts a new one beside it; two WALs for one database
lose writes or damage it. The writer notices before its next write: it folds what the
deleted WAL holds into state.db (nothing committed is lost) and refuses every write after."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from tests.damagehelpers import cli
from tests.racehelpers import png
from vizzly_tui.capture import capture, start_build
from vizzly_tui.errors import DatabaseMoved
from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store


@pytest.mark.parametrize("deleted", [("-wal", "-shm"), ("-wal",), ("-shm",)])
def test_deleted_wal_files_are_noticed_and_nothing_committed_is_lost(tmp_path, deleted):
    (tmp_path / ".vizzly").mkdir()
    project = Project(tmp_path)
    store = open_store(project)
    try:
        build = start_build(store, "serve")
        for i in range(3):
            capture(store, build.id, f"shot-{i}", png((i * 40, 40, 90)))
        for suffix in deleted:
            project.db_path.with_name("state.db" + suffix).unlink()
        with pytest.raises(DatabaseMoved, match=re.escape("state.db-wal or state.db-shm")):
            capture(store, build.id, "later", png((9, 9, 9)))
        # Another process sees every screenshot recorded before the deletion.
        ran = cli(tmp_path, "status", "--json")
        assert ran.returncode == 0, ran.stderr
        names = sorted(c["name"] for c in json.loads(ran.stdout)["comparisons"])
        assert names == ["shot-0", "shot-1", "shot-2"]
    finally:
        store.close()
    conn = sqlite3.connect(project.db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM comparison").fetchone()[0] == 3
    finally:
        conn.close()


def test_wal_files_deleted_then_the_store_closed_keeps_what_was_committed(tmp_path):
    (tmp_path / ".vizzly").mkdir()
    project = Project(tmp_path)
    with open_store(project) as store:
        build = start_build(store, "serve")
        capture(store, build.id, "only", png((1, 40, 90)))
        for suffix in ("-wal", "-shm"):
            project.db_path.with_name("state.db" + suffix).unlink()
    ran = cli(tmp_path, "status", "--json")
    assert [c["name"] for c in json.loads(ran.stdout)["comparisons"]] == ["only"]
