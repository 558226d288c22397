"""The database runs out of space in the middle of `accept --all` (a follow-up probe of issue
7): the user reads that the disk is full, not SQLite's "cannot rollback - no transaction is
active", and the files and rows still agree. Space is limited with `max_page_count` on the
writer's connection, which fails exactly as a full disk does (SQLITE_FULL)."""

from __future__ import annotations

import threading

import pytest

from tests.damagehelpers import recorded_project
from vizzly_tui import review
from vizzly_tui.errors import PartlyApplied
from vizzly_tui.store import db as db_module
from vizzly_tui.store.models import Comparison
from vizzly_tui.store.store import open_store


def _limit_database_growth(monkeypatch, pages: int) -> None:
    original = db_module.SplitDatabase._connect

    def limited(self):
        conn = original(self)
        if threading.get_ident() == self.writer_ident:
            count = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {count + pages}")
        return conn

    monkeypatch.setattr(db_module.SplitDatabase, "_connect", limited)


@pytest.mark.parametrize("pages", [0, 3])
def test_a_full_disk_during_accept_all_is_named_and_files_agree(tmp_path, monkeypatch, pages):
    project = recorded_project(tmp_path)
    _limit_database_growth(monkeypatch, pages)
    store = open_store(project)
    try:
        with pytest.raises(Exception) as caught:
            review.accept(store, all_=True, actor="cli")
    finally:
        store.close()
    message = str(caught.value)
    assert "disk is full" in message
    assert "no transaction is active" not in message
    if isinstance(caught.value, PartlyApplied):
        assert "left applied" in message
    monkeypatch.undo()
    with open_store(project, write=False):
        for row in Comparison.select():
            if row.status == "passed":
                baseline = (project.baselines_dir / row.file_name).read_bytes()
                assert baseline == (project.current_dir / row.file_name).read_bytes()


def test_a_repair_that_fails_puts_the_old_database_back(tmp_path, monkeypatch):
    # Found on a real full disk (tests/test_disk_full_real.py): `doctor --repair` set the
    # healthy state.db aside, failed to build the new one, and left an empty state.db.
    import errno

    from vizzly_tui.store import repair as repair_module

    project = recorded_project(tmp_path)
    before = project.db_path.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(repair_module, "baselines_from_files", no_space)
    with pytest.raises(OSError):
        repair_module.repair(project)
    assert project.db_path.read_bytes() == before
    assert not list(project.vizzly_dir.glob("state.db.damaged*"))
    with open_store(project, write=False):
        assert Comparison.select().count() == 12
