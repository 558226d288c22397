"""Damaged databases and read-only folders (issue 7, defects 4-7): every command says what is
wrong with a stable exit code, and a damaged state.db is never written again."""

from __future__ import annotations

import sqlite3

import pytest

from tests.damagehelpers import (
    checkpoint,
    cli,
    digest,
    overwrite,
    page_of,
    read_only,
    recorded_project,
)
from vizzly_tui.errors import CorruptDatabase
from vizzly_tui.store.store import open_store

COMMANDS = (("status",), ("db", "status"), ("accept", "--all"), ("log",), ("undo",))


def _assert_damaged_reported(result) -> None:
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "damaged" in result.stderr
    assert "internal error" not in result.stderr
    assert "backup" in result.stderr and "rename" in result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_migration_history_holding_bytes_is_reported_as_damage(tmp_path, command):
    project = recorded_project(tmp_path)
    conn = sqlite3.connect(project.db_path)
    conn.execute("UPDATE migratehistory SET name = X'7f7f7f7f7f7f7f7f'")
    conn.commit()
    conn.close()
    checkpoint(project.db_path)
    before = digest(project.db_path)
    _assert_damaged_reported(cli(tmp_path, *command))
    assert digest(project.db_path) == before


def test_garbage_over_a_migration_name_is_damage_not_a_newer_version(tmp_path):
    project = recorded_project(tmp_path)
    data = project.db_path.read_bytes()
    at = data.index(b"001_initial")
    overwrite(project.db_path, at, b"\x7f" * 11)
    result = cli(tmp_path, "status")
    _assert_damaged_reported(result)
    assert "newer" not in result.stderr


def _damage_comparison_table(project) -> str:
    offset, size = page_of(project.db_path, "comparison")
    overwrite(project.db_path, offset, bytes(range(256)) * (size // 256))
    return digest(project.db_path)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_damaged_page_is_noticed_and_the_file_left_as_it_is(tmp_path, command):
    project = recorded_project(tmp_path)
    damaged = _damage_comparison_table(project)
    _assert_damaged_reported(cli(tmp_path, *command))
    assert digest(project.db_path) == damaged


def test_garbage_in_the_middle_of_the_file_is_noticed(tmp_path):
    project = recorded_project(tmp_path, count=40)
    size = project.db_path.stat().st_size
    overwrite(project.db_path, (size // 2) // 4096 * 4096, b"\xa5" * 4096)
    damaged = digest(project.db_path)
    _assert_damaged_reported(cli(tmp_path, "status"))
    assert digest(project.db_path) == damaged


def test_serve_refuses_to_start_on_a_damaged_database(tmp_path):
    project = recorded_project(tmp_path)
    damaged = _damage_comparison_table(project)
    result = cli(tmp_path, "serve", "--port", "47999", timeout=60)
    _assert_damaged_reported(result)
    assert digest(project.db_path) == damaged
    assert not (project.vizzly_dir / "server.json").exists()


def test_a_store_that_meets_damage_while_running_is_never_written_again(tmp_path):
    from vizzly_tui.store.models import Setting

    project = recorded_project(tmp_path)
    store = open_store(project)
    # A commit before the damage is met: it sits in state.db-wal, not yet in the file.
    store.call(lambda: Setting.create(key="probe", value=1, updated_at=1))
    wal = project.db_path.with_name("state.db-wal")
    assert wal.stat().st_size > 0
    before = digest(project.db_path)
    ran = []

    def meets_damage():
        raise sqlite3.DatabaseError("database disk image is malformed")

    with pytest.raises(CorruptDatabase, match="damaged"):
        store.call(meets_damage)
    assert store.damaged is not None
    with pytest.raises(CorruptDatabase):
        store.call(lambda: ran.append(1))
    assert ran == []
    store.close()
    # Not even SQLite's checkpoint on close wrote into it.
    assert digest(project.db_path) == before
    assert wal.stat().st_size > 0


def test_db_status_works_on_a_read_only_project(tmp_path):
    project = recorded_project(tmp_path)
    with read_only(project.vizzly_dir):
        result = cli(tmp_path, "db", "status")
        assert result.returncode == 0, result.stderr
        assert "schema version: 2" in result.stdout  # 001 and 002 applied
        assert "001_initial, 002_priority_regions" in result.stdout
        assert cli(tmp_path, "status").returncode == 0
        assert cli(tmp_path, "log").returncode == 0


@pytest.mark.parametrize("command", [("accept", "--all"), ("undo",)], ids=" ".join)
def test_a_read_only_baselines_folder_is_named_and_nothing_changes(tmp_path, command):
    project = recorded_project(tmp_path)
    if command == ("undo",):
        assert cli(tmp_path, "accept", "--all").returncode == 0
    before = {p.name: p.read_bytes() for p in project.baselines_dir.iterdir()}
    status_before = cli(tmp_path, "status", "--json").stdout
    with read_only(project.baselines_dir):
        result = cli(tmp_path, *command)
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert ".vizzly/baselines/" in result.stderr
    assert "nothing was changed" in result.stderr
    assert "internal error" not in result.stderr
    assert {p.name: p.read_bytes() for p in project.baselines_dir.iterdir()} == before
    assert cli(tmp_path, "status", "--json").stdout == status_before


def test_an_empty_state_db_is_recreated_and_the_user_is_told(tmp_path):
    (tmp_path / ".vizzly").mkdir()
    (tmp_path / ".vizzly" / "state.db").write_bytes(b"")
    result = cli(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    assert "was empty (0 bytes)" in result.stderr
    assert "history" in result.stderr
    again = cli(tmp_path, "status")  # said once: the file is a database now
    assert again.returncode == 0 and "empty" not in again.stderr
