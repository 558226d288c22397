"""A state.db deleted or replaced under a running store: SQLite would keep writing to the file
it has open (gone from the folder, or no longer the one at the path) while the image files
move, so the files and the database at .vizzly/state.db part ways. The writer notices before
its next command and refuses every write from then on, changing nothing."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from tests.damagehelpers import cli, digest, recorded_project
from tests.reliability.helpers import tree
from vizzly_tui import review
from vizzly_tui.errors import CorruptDatabase, DatabaseMoved
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.store import open_store


def _delete(db) -> None:
    db.unlink()


def _replace(db) -> None:
    # Another database moved over it (a restored backup, a copy from a colleague): the path
    # names a file the store never opened.
    other = db.with_name("other.db")
    shutil.copyfile(db, other)
    other.replace(db)


CHANGES = {"deleted": _delete, "replaced": _replace}


def _files(project) -> dict[str, str]:
    """Every file under .vizzly/ but the database's own (state.db*)."""
    return {k: v for k, v in tree(project.vizzly_dir).items() if not k.startswith("state.db")}


@pytest.mark.parametrize("change", CHANGES)
def test_a_store_whose_database_goes_away_refuses_to_write(tmp_path, change):
    project = recorded_project(tmp_path)
    store = open_store(project)
    try:
        CHANGES[change](project.db_path)
        files = _files(project)
        at_path = digest(project.db_path) if project.db_path.exists() else None
        with pytest.raises(DatabaseMoved) as refused:
            review.accept(store, all_=True, actor="cli")
        message = str(refused.value)
        assert str(project.db_path) in message
        assert "deleted or replaced while vizzly-tui was running" in message
        assert "nothing more is written to it" in message and "Restart" in message
        # Never written again, whatever the command.
        with pytest.raises(DatabaseMoved):
            review.undo(store, actor="cli")
        assert store.damaged == message
    finally:
        store.close()
    assert _files(project) == files
    if at_path is None:
        assert not project.db_path.exists()
    else:
        assert digest(project.db_path) == at_path


def test_a_store_left_in_place_keeps_writing(tmp_path):
    """The check refuses only a moved file: a rename of something else in .vizzly/ is fine."""
    project = recorded_project(tmp_path)
    with open_store(project) as store:
        (project.vizzly_dir / "unrelated.txt").write_text("x")
        (project.vizzly_dir / "unrelated.txt").rename(project.vizzly_dir / "moved.txt")
        result = review.accept(store, all_=True, actor="cli")
        assert result.count == 12
        assert store.damaged is None


def test_the_damage_refusal_is_the_same_path(tmp_path):
    """DatabaseMoved is a CorruptDatabase: every front end that says "damaged, not written
    again" (exit code 3, HTTP 503, the app's notice) says this too."""
    project = recorded_project(tmp_path)
    store = open_store(project)
    try:
        project.db_path.unlink()
        with pytest.raises(CorruptDatabase):
            store.call(lambda: None)
    finally:
        store.close()


def test_the_next_start_on_a_replaced_database_reads_the_new_one(tmp_path):
    project = recorded_project(tmp_path)
    store = open_store(project)
    _replace(project.db_path)
    with pytest.raises(DatabaseMoved):
        review.accept(store, all_=True, actor="cli")
    store.close()
    conn = sqlite3.connect(project.db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    result = cli(tmp_path, "accept", "--all")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("change", CHANGES)
def test_serve_answers_503_for_writes_and_keeps_serving_health(tmp_path, change):
    import base64
    import json

    from tests.racehelpers import png
    from tests.reliability.helpers import ServeProcess

    server = ServeProcess(tmp_path / "proj", tmp_path / "home")
    root = server.root
    try:
        shot = {"name": "home", "image": base64.b64encode(png((1, 2, 3))).decode()}
        assert server.post_json("/screenshot", shot)[0] == 200
        db = root / ".vizzly" / "state.db"
        conn = sqlite3.connect(readonly_uri(db), uri=True)
        try:
            cid = conn.execute("SELECT cid FROM comparison").fetchone()[0]
        finally:
            conn.close()
        CHANGES[change](db)
        files = {k: v for k, v in tree(root / ".vizzly").items() if not k.startswith("state.db")}
        again = {"name": "home", "image": base64.b64encode(png((200, 2, 3))).decode()}
        for path, body in (
            ("/screenshot", again),
            ("/api/baseline/accept-all", {}),
            ("/api/baseline/reject", {"id": cid}),
        ):
            status, answer = server.post_json(path, body)
            assert status == 503, (path, answer)
            error = json.loads(answer)["error"]
            assert "deleted or replaced while vizzly-tui was running" in error, error
            assert server.healthy()
        # Many at once, so every reader thread answers one, even one that never opened the
        # (now gone) file: the server is alive, /health says so.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(lambda _: server.healthy(), range(24)))
        assert {
            k: v for k, v in tree(root / ".vizzly").items() if not k.startswith("state.db")
        } == files
    finally:
        err = server.stop()
    assert "Traceback" not in err, err


def test_a_database_deleted_during_a_batch_stops_it_at_the_next_decision(tmp_path):
    from vizzly_tui.errors import PartlyApplied

    project = recorded_project(tmp_path)
    store = open_store(project)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 2:
            project.db_path.unlink()

    try:
        before = _files(project)
        with pytest.raises(PartlyApplied) as stopped:
            review.accept(store, all_=True, actor="cli", progress=progress)
        after = _files(project)
    finally:
        store.close()
    message = str(stopped.value)
    assert "deleted or replaced while vizzly-tui was running" in message
    assert "left applied" in message  # it says which two stay applied
    assert seen == [1, 2]  # not one decision after the file was gone
    changed = {k for k in after if before.get(k) != after[k]} | (before.keys() - after.keys())
    # Only the two decisions' baselines changed (plus what they keep in objects/).
    assert {k for k in changed if not k.startswith("objects/")} == {
        k for k in changed if k.startswith("baselines/")
    }
    applied = message.split("left applied:", 1)[1]
    baselines = {k for k in changed if k.startswith("baselines/")}
    assert baselines and all(k.split("/")[1].rsplit("_", 1)[0] in applied for k in baselines)
    assert "shot-02" not in applied
