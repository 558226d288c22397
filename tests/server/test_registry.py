"""The global server registry (`$VIZZLY_HOME/servers.db`): CRUD, stale pids, the one-time
servers.json import, refusals, and free-port search. Every test uses tmp_path as
VIZZLY_HOME; none may touch the real ~/.vizzly."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES_DIR, REPO_ROOT
from vizzly_tui.errors import ForeignDatabase, NewerDatabase, NotADatabase, StoreError
from vizzly_tui.server.registry import (
    Registry,
    ensure_registry_schema,
    find_free_port,
    packaged_registry_migrations,
    pid_alive,
    vizzly_home,
)
from vizzly_tui.store.bootstrap import APPLICATION_ID


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "vizzly-home"
    monkeypatch.setenv("VIZZLY_HOME", str(path))
    return path


@pytest.fixture
def registry(home):
    reg = Registry.open(home)
    yield reg
    reg.close()


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


def fixture_servers_json() -> bytes:
    archive = FIXTURES_DIR / "scenario-a-first-run.tar.gz"
    if not archive.exists():
        pytest.skip(f"fixture {archive} is not present")
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("home/.vizzly/servers.json"))
        return tar.extractfile(member).read()


def query(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "servers.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def listening(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


# ---------------------------------------------------------------- basics


def test_vizzly_home(tmp_path):
    assert vizzly_home({"VIZZLY_HOME": str(tmp_path)}) == tmp_path
    assert vizzly_home({"VIZZLY_HOME": ""}) == Path.home() / ".vizzly"
    assert vizzly_home({}) == Path.home() / ".vizzly"


def test_schema_is_migrated_once_and_stamped(home):
    ensure_registry_schema(home)
    ensure_registry_schema(home)  # nothing pending: no second history row
    assert query(home, "SELECT name FROM migratehistory") == [
        (name,) for name in packaged_registry_migrations()
    ]
    columns = [r[1] for r in query(home, "PRAGMA table_info(server)")]
    assert columns == [
        "id",
        "port",
        "pid",
        "directory",
        "started_at",
        "config_path",
        "name",
        "log_file",
    ]
    indexes = {r[1]: r[2] for r in query(home, "PRAGMA index_list(server)")}
    assert indexes["server_port"] == 1 and indexes["server_directory"] == 1
    assert "server_started_at" in indexes
    assert query(home, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert query(home, "PRAGMA journal_mode") == [("wal",)]


def test_register_list_find_unregister(registry, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    entry = registry.register(
        port=47392,
        pid=os.getpid(),
        directory=project / ".." / "proj",  # stored resolved
        name="proj",
        log_file=str(project / ".vizzly" / "server.log"),
    )
    assert list(entry) == [
        "id",
        "port",
        "pid",
        "directory",
        "startedAt",
        "configPath",
        "name",
        "logFile",
    ]
    assert entry["directory"] == str(project.resolve())
    assert len(entry["id"]) == 16 and int(entry["id"], 16) >= 0
    assert entry["startedAt"].endswith("Z") and entry["configPath"] is None
    assert registry.list() == [entry]
    assert registry.find(port=47392) == entry
    assert registry.find(directory=project) == entry
    assert registry.find(port=47392, directory=tmp_path) is None
    assert registry.used_ports() == {47392}

    second = registry.register(port=47393, pid=os.getpid(), directory=tmp_path)
    assert [s["port"] for s in registry.list()] == [47392, 47393]  # oldest first
    assert registry.unregister(port=47392) == 1
    assert registry.unregister(directory=tmp_path) == 1
    assert registry.unregister(port=1234) == 0
    assert registry.list() == [] and second["port"] == 47393
    with pytest.raises(ValueError):
        registry.find()


def test_same_port_or_directory_replaces_the_row(registry, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    registry.register(port=5000, pid=os.getpid(), directory=a)
    registry.register(port=5001, pid=os.getpid(), directory=b)
    registry.register(port=5000, pid=os.getpid(), directory=tmp_path / "c")  # same port as a
    registry.register(port=5002, pid=os.getpid(), directory=b)  # same directory as b
    assert {(s["port"], Path(s["directory"]).name) for s in registry.list()} == {
        (5000, "c"),
        (5002, "b"),
    }
    # Both ports of two different rows at once: both go, one transaction.
    registry.register(port=5000, pid=os.getpid(), directory=b)
    assert [(s["port"], Path(s["directory"]).name) for s in registry.list()] == [(5000, "b")]


def test_unregister_with_both_needs_both_to_match(registry, tmp_path):
    registry.register(port=5000, pid=os.getpid(), directory=tmp_path)
    assert registry.unregister(port=5000, directory=tmp_path / "other") == 0
    assert registry.unregister(port=5001, directory=tmp_path) == 0
    assert registry.unregister(port=5000, directory=tmp_path) == 1


def test_bad_values_are_refused(registry, tmp_path):
    for port, pid in (
        (0, 1),
        (70000, 1),
        (True, 1),
        (5000.0, 1),
        (5000, 0),
        (5000, "1"),
        (5000, 2**40),
    ):
        with pytest.raises(ValueError):
            registry.register(port=port, pid=pid, directory=tmp_path)
    assert registry.list() == []


def test_stale_pids_are_cleaned(registry, tmp_path):
    registry.register(port=5000, pid=os.getpid(), directory=tmp_path / "alive")
    registry.register(port=5001, pid=dead_pid(), directory=tmp_path / "dead")
    assert registry.cleanup_stale() == 1
    assert [s["port"] for s in registry.list()] == [5000]
    assert registry.cleanup_stale() == 0


def test_two_registries_in_one_process_stay_apart(tmp_path):
    with Registry.open(tmp_path / "h1") as one, Registry.open(tmp_path / "h2") as two:
        one.register(port=5000, pid=os.getpid(), directory=tmp_path / "a")
        two.register(port=6000, pid=os.getpid(), directory=tmp_path / "b")
        assert one.used_ports() == {5000}
        assert two.used_ports() == {6000}


# ---------------------------------------------------------------- legacy servers.json


def test_legacy_servers_json_is_imported_once(home):
    home.mkdir()
    source = home / "servers.json"
    source.write_bytes(fixture_servers_json())
    before = source.read_bytes()
    legacy = json.loads(before)["servers"][0]

    with Registry.open(home) as reg:
        assert reg.legacy.imported == 1 and reg.warnings == []
        assert reg.list() == [{**legacy, "directory": str(Path(legacy["directory"]).resolve())}]
        assert reg.unregister(port=legacy["port"]) == 1
    with Registry.open(home) as reg:  # the flag holds: not imported again
        assert reg.legacy.imported == 0 and reg.list() == []
    assert query(home, "SELECT value FROM registry_meta WHERE key='legacy_json_migrated'") == [
        ("1",)
    ]
    assert source.read_bytes() == before


def test_legacy_invalid_entries_are_skipped_later_ones_win(home, tmp_path):
    home.mkdir()
    good = {"port": 47392, "pid": 1, "directory": str(tmp_path / "a"), "startedAt": "x"}
    servers = [
        {**good, "id": "first"},
        {**good, "port": "47393"},  # not a number
        {**good, "pid": None},
        {**good, "pid": 1e30},
        {**good, "directory": ""},
        {**good, "directory": "relative/dir"},
        "not an object",
        {**good, "id": "second", "directory": str(tmp_path / "b")},  # same port as "first"
        {"port": 47394, "pid": 2, "directory": str(tmp_path / "c")},  # minimal but valid
    ]
    (home / "servers.json").write_text(json.dumps({"version": 1, "servers": servers}))
    with Registry.open(home) as reg:
        assert (reg.legacy.imported, reg.legacy.skipped) == (3, 6)
        rows = {s["port"]: s for s in reg.list()}
    assert sorted(rows) == [47392, 47394]
    assert rows[47392]["id"] == "second"
    assert len(rows[47394]["id"]) == 16 and rows[47394]["startedAt"].endswith("Z")
    assert rows[47394]["name"] is None


@pytest.mark.parametrize("content", ["{not json", '{"version": 1, "servers": 7}', "[]"])
def test_unreadable_servers_json_is_retried_next_open(home, content):
    home.mkdir()
    source = home / "servers.json"
    source.write_text(content)
    with Registry.open(home) as reg:
        assert reg.list() == []
        assert len(reg.warnings) == 1 and str(source) in reg.warnings[0]
    assert source.read_text() == content
    assert query(home, "SELECT * FROM registry_meta") == []

    source.write_bytes(fixture_servers_json())  # the Vizzly CLI finished writing it
    with Registry.open(home) as reg:
        assert reg.legacy.imported == 1 and reg.warnings == []
        assert [s["port"] for s in reg.list()] == [47392]


def test_missing_servers_json_sets_the_flag(home):
    with Registry.open(home) as reg:
        assert reg.legacy.imported == 0 and reg.warnings == []
    assert query(home, "SELECT value FROM registry_meta") == [("1",)]


RACER = """
import json, pathlib, sys, time
from vizzly_tui.server.registry import Registry
home, start, ready = (pathlib.Path(a) for a in sys.argv[1:4])
ready.touch()
deadline = time.monotonic() + 60
while not start.exists():
    if time.monotonic() > deadline:
        sys.exit("the start file never appeared")
    time.sleep(0.0005)
with Registry.open(home) as reg:
    print(json.dumps(reg.legacy.imported))
"""


def test_parallel_opens_import_once(home, tmp_path):
    home.mkdir()
    servers = [
        {"id": f"s{i}", "port": 47392 + i, "pid": 100 + i, "directory": f"/srv/p{i}"}
        for i in range(3)
    ]
    (home / "servers.json").write_text(json.dumps({"version": 1, "servers": servers}))
    start, ready = tmp_path / "start", tmp_path / "ready"
    ready.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "VIZZLY_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(home), str(start), str(ready / str(i))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 60
    while len(list(ready.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    start.touch()
    imported = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        imported.append(json.loads(out))
    assert sorted(imported) == [0, 3]
    assert query(home, "SELECT name, COUNT(*) FROM migratehistory GROUP BY name") == [
        ("001_initial", 1)
    ]
    assert query(home, "SELECT COUNT(*) FROM server") == [(3,)]


# ---------------------------------------------------------------- refusals


def _refused(home: Path, error: type[StoreError], needle: str) -> None:
    path = home / "servers.db"
    before = path.read_bytes()
    with pytest.raises(error) as info:
        Registry.open(home)
    assert str(path) in str(info.value) and needle in str(info.value)
    assert isinstance(info.value, StoreError)
    assert path.read_bytes() == before


def _sqlite(home: Path, *statements: str) -> None:
    home.mkdir(exist_ok=True)
    conn = sqlite3.connect(home / "servers.db")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_not_sqlite_is_refused(home):
    home.mkdir()
    (home / "servers.db").write_bytes(b"not a database at all" * 10)
    _refused(home, NotADatabase, "not an SQLite database")


def test_foreign_database_is_refused(home):
    _sqlite(home, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    _refused(home, ForeignDatabase, "another application")


def test_foreign_application_id_is_refused(home):
    _sqlite(home, "PRAGMA application_id = 1234", "CREATE TABLE t (x)")
    _refused(home, ForeignDatabase, "another application")


def test_vizzly_cli_registry_is_refused(home):
    _sqlite(
        home,
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)",
        "CREATE TABLE registry_servers (id TEXT PRIMARY KEY)",
    )
    _refused(home, ForeignDatabase, "Vizzly CLI")


def test_copied_state_db_is_refused(home):
    _sqlite(
        home,
        "CREATE TABLE migratehistory (id INTEGER PRIMARY KEY, name TEXT, migrated_at TEXT)",
        "INSERT INTO migratehistory (name, migrated_at) VALUES ('001_initial', 'x')",
        "CREATE TABLE build (id INTEGER PRIMARY KEY)",
    )
    _refused(home, ForeignDatabase, "not a vizzly-tui server registry")


def test_newer_database_is_refused(home):
    Registry.open(home).close()
    _sqlite(home, "INSERT INTO migratehistory (name, migrated_at) VALUES ('999_future', 'x')")
    _refused(home, NewerDatabase, "999_future")


# ---------------------------------------------------------------- free ports


def test_find_free_port_skips_a_bound_port():
    with listening(0) as sock:
        port = sock.getsockname()[1]
        found = find_free_port(port, attempts=20)
        assert found is not None and port < found < port + 20


def test_find_free_port_skips_live_registered_ports_and_reuses_stale_ones(registry, tmp_path):
    with listening(0) as sock:
        port = sock.getsockname()[1]
    # `port` was just free; register it for a live and then for a dead process.
    registry.register(port=port, pid=os.getpid(), directory=tmp_path / "live")
    found = find_free_port(port, registry=registry, attempts=20)
    assert found is not None and found != port
    registry.register(port=port, pid=dead_pid(), directory=tmp_path / "live")
    assert find_free_port(port, registry=registry, attempts=20) == port
    assert registry.list() == []  # cleaned before the search


def test_find_free_port_returns_none_when_all_attempts_are_taken():
    for _ in range(50):
        first = listening(0)
        port = first.getsockname()[1]
        try:
            second = listening(port + 1)
        except OSError:
            first.close()
            continue
        break
    else:
        pytest.skip("no two consecutive free ports found")
    with first, second:
        assert find_free_port(port, attempts=2) is None
        assert find_free_port(port, attempts=3) in (port + 2, None)
