"""Damaged, foreign, newer and read-only databases: a clear message, exit code 3, and the
file left exactly as it was."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from tests.storehelpers import make_project
from vizzly_tui.cli import main
from vizzly_tui.store import bootstrap
from vizzly_tui.store.store import open_store


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _assert_refused(tmp_path, needle):
    before = (tmp_path / ".vizzly" / "state.db").read_bytes()
    for command in (["status"], ["accept", "--all"], ["db", "migrate"]):
        result = run("--project", str(tmp_path), *command)
        assert result.exit_code == 3, (command, result.output)
        assert needle in result.output, result.output
        assert "Traceback" not in result.output
    assert (tmp_path / ".vizzly" / "state.db").read_bytes() == before


def test_a_file_that_is_not_sqlite(tmp_path):
    make_project(tmp_path)
    (tmp_path / ".vizzly" / "state.db").write_bytes(b"this is not a database" * 10)
    _assert_refused(tmp_path, "is not an SQLite database")


def test_a_database_of_another_application(tmp_path):
    make_project(tmp_path)
    conn = sqlite3.connect(tmp_path / ".vizzly" / "state.db")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    _assert_refused(tmp_path, "another application")


def test_a_database_stamped_with_another_application_id(tmp_path):
    make_project(tmp_path)
    conn = sqlite3.connect(tmp_path / ".vizzly" / "state.db")
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    _assert_refused(tmp_path, "another application")


def test_the_vizzly_cli_sqlite_store_is_recognised(tmp_path):
    make_project(tmp_path)
    conn = sqlite3.connect(tmp_path / ".vizzly" / "state.db")
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE comparisons (id TEXT PRIMARY KEY)")
    conn.commit()
    conn.close()
    _assert_refused(tmp_path, "Vizzly CLI's own SQLite store")


def test_a_database_from_a_newer_version(tmp_path):
    project = make_project(tmp_path)
    open_store(project).close()
    conn = sqlite3.connect(project.db_path)
    conn.execute(
        "INSERT INTO migratehistory (name, migrated_at) VALUES ('999_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    _assert_refused(tmp_path, "newer vizzly-tui")


def test_a_damaged_page_is_reported_as_damage(tmp_path):
    project = make_project(tmp_path)
    store = open_store(project)
    store.close()
    data = bytearray(project.db_path.read_bytes())
    if len(data) < 8192:
        pytest.skip("database too small to damage an interior page")
    data[4096:8192] = b"\xff" * 4096  # overwrite the second page
    project.db_path.write_bytes(bytes(data))
    result = run("--project", str(tmp_path), "status")
    assert result.exit_code == 3
    assert "damaged" in result.output or "malformed" in result.output or "database" in result.output


def test_read_only_location_opens_read_only_with_a_notice(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    open_store(project).close()
    monkeypatch.setattr(bootstrap, "location_is_read_only", lambda project: True)
    status = run("--project", str(tmp_path), "status")
    assert status.exit_code == 0, status.output
    assert "read-only" in status.output
    accept = run("--project", str(tmp_path), "accept", "--all")
    assert accept.exit_code == 3
    assert "read-only" in accept.output


def test_read_only_location_with_only_legacy_json_explains_itself(tmp_path, monkeypatch):
    make_project(tmp_path)
    (tmp_path / ".vizzly" / "report-data.json").write_text('{"comparisons": []}')
    monkeypatch.setattr(bootstrap, "location_is_read_only", lambda project: True)
    result = run("--project", str(tmp_path), "status")
    assert result.exit_code == 3
    assert "cannot be imported" in result.output
    assert not (tmp_path / ".vizzly" / "state.db").exists()


def test_missing_project_is_exit_2(tmp_path):
    result = run("--project", str(tmp_path), "status")
    assert result.exit_code == 2
    assert "has no .vizzly/ folder" in result.output


@pytest.fixture
def read_only_mount(tmp_path):
    """A read-only bind mount of a writable folder (needs root; skipped elsewhere)."""
    import subprocess

    source, mount = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    mount.mkdir()

    def make_read_only():
        for args in (
            ["mount", "--bind", str(source), str(mount)],
            ["mount", "-o", "remount,ro,bind", str(mount)],
        ):
            done = subprocess.run(args, capture_output=True, text=True)
            if done.returncode != 0:
                subprocess.run(["umount", str(mount)], capture_output=True)
                pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")

    yield source, mount, make_read_only
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_real_read_only_filesystem(read_only_mount):
    source, mount, make_read_only = read_only_mount
    from tests.storehelpers import open_seeded

    store, names = open_seeded(source, 2)
    store.close()
    make_read_only()
    status = run("--project", str(mount), "status")
    assert status.exit_code == 0, status.output
    assert "read-only" in status.output
    assert names[0] in status.output
    accept = run("--project", str(mount), "accept", "--all")
    assert accept.exit_code == 3
    assert "read-only" in accept.output


def test_a_real_read_only_filesystem_with_only_legacy_json(read_only_mount):
    source, mount, make_read_only = read_only_mount
    (source / ".vizzly").mkdir()
    (source / ".vizzly" / "report-data.json").write_text('{"comparisons": []}')
    make_read_only()
    result = run("--project", str(mount), "status")
    assert result.exit_code == 3
    assert "cannot be imported" in result.output


def test_a_schema_with_unreadable_text_is_a_database_problem(tmp_path):
    project = make_project(tmp_path)
    open_store(project).close()
    data = bytearray(project.db_path.read_bytes())
    at = data.find(b'CREATE TABLE "decision"')
    assert at > 0
    data[at + 14] = 0xDF  # one byte of the table's SQL text
    project.db_path.write_bytes(bytes(data))
    result = run("--project", str(tmp_path), "status")
    assert result.exit_code == 3, result.output
    assert "damaged" in result.output
