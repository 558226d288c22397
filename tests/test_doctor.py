"""`vizzly-tui doctor` on each kind of damage, and `doctor --repair` (issue 10)."""

from __future__ import annotations

import json
import os
import random
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
from tests.racehelpers import png
from vizzly_tui.capture import capture, start_build
from vizzly_tui.project import Project
from vizzly_tui.store.repair import recover_signature
from vizzly_tui.store.store import open_store


def doctor(root, *args):
    result = cli(root, "doctor", "--json", *args)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else None, result


def baselines_of(project: Project) -> dict[str, tuple[str, str]]:
    conn = sqlite3.connect(project.db_path)
    try:
        rows = conn.execute("SELECT signature, file_name, sha256 FROM baseline").fetchall()
    finally:
        conn.close()
    return {sig: (file_name, sha) for sig, file_name, sha in rows}


def versions_of(project: Project) -> set[tuple[str, str]]:
    conn = sqlite3.connect(project.db_path)
    try:
        return set(conn.execute("SELECT signature, sha256 FROM baseline_version").fetchall())
    finally:
        conn.close()


def damaged_copies(project: Project) -> list:
    return sorted(p for p in project.vizzly_dir.iterdir() if ".damaged-" in p.name)


def messages(data, severity="error") -> str:
    return " ".join(f["message"] + " " + (f["action"] or "") for f in data["findings"]
                    if f["severity"] == severity)  # fmt: skip


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VIZZLY_HOME", str(tmp_path / "home"))


def test_a_healthy_project_exits_0(tmp_path, home):
    recorded_project(tmp_path)
    code, data, _ = doctor(tmp_path)
    assert code == 0 and data["healthy"]
    assert data["checked"]["baselines"] == 12
    assert data["checked"]["schemaVersion"] >= 2
    text = cli(tmp_path, "doctor")
    assert text.returncode == 0 and "healthy" in text.stdout


def test_a_truncated_file_is_damage_and_repair_keeps_it_beside_the_new_one(tmp_path, home):
    project = recorded_project(tmp_path)
    before = baselines_of(project)
    size = project.db_path.stat().st_size
    with project.db_path.open("r+b") as fh:
        fh.truncate(size // 2)
    damaged = digest(project.db_path)
    code, data, _ = doctor(tmp_path)
    assert code == 3 and not data["healthy"]
    assert "--repair" in messages(data)
    assert digest(project.db_path) == damaged  # doctor only reads

    code, data, result = doctor(tmp_path, "--repair")
    assert code in (0, 5), result.stderr
    kept = damaged_copies(project)
    assert [digest(p) for p in kept if not p.name.endswith(("-wal", "-shm"))] == [damaged]
    assert data["after"]["exitCode"] in (0, 1)
    # Every baseline is back, under its own signature and bytes.
    assert baselines_of(project).keys() == before.keys()
    assert {s: v[1] for s, v in baselines_of(project).items()} == {
        s: v[1] for s, v in before.items()
    }


def test_random_bytes_in_a_page_repair_carries_over_the_readable_tables(tmp_path, home):
    project = recorded_project(tmp_path)
    assert cli(tmp_path, "accept", "--all").returncode == 0
    checkpoint(project.db_path)
    decisions_before = _count(project, "decision")
    before = baselines_of(project)
    offset, page = page_of(project.db_path, "comparison")
    # The middle to the end of the page: where a leaf keeps its cells (rows).
    overwrite(project.db_path, offset + page // 2, random.Random(10).randbytes(page // 2))
    damaged = digest(project.db_path)
    code, data, _ = doctor(tmp_path)
    assert code == 3
    assert "--repair" in messages(data)

    code, data, result = doctor(tmp_path, "--repair")
    assert code in (0, 5), result.stderr
    assert digest(damaged_copies(project)[0]) == damaged
    repair = data["repair"]
    assert repair["salvaged"]["decision"] == decisions_before  # the review log is kept
    assert baselines_of(project) == before
    assert cli(tmp_path, "log").returncode == 0
    assert "accept" in cli(tmp_path, "log").stdout


def test_a_newer_schema_says_upgrade_and_repair_refuses(tmp_path, home):
    project = recorded_project(tmp_path)
    conn = sqlite3.connect(project.db_path)
    conn.execute("INSERT INTO migratehistory (name, migrated_at) VALUES ('999_future', 0)")
    conn.commit()
    conn.close()
    checkpoint(project.db_path)
    before = digest(project.db_path)
    code, data, _ = doctor(tmp_path)
    assert code == 3
    assert "newer" in messages(data) and "upgrade" in messages(data)
    code, _, result = doctor(tmp_path, "--repair")
    assert code == 2 and "newer" in result.stderr
    assert digest(project.db_path) == before and not damaged_copies(project)


def test_another_applications_database_is_named_and_repair_moves_it_aside(tmp_path, home):
    project = recorded_project(tmp_path, count=3)
    sig_before = set(baselines_of(project))
    for suffix in ("", "-wal", "-shm"):
        project.db_path.with_name("state.db" + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(project.db_path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    theirs = digest(project.db_path)
    code, data, _ = doctor(tmp_path)
    assert code == 3 and "another application" in messages(data)
    code, data, result = doctor(tmp_path, "--repair")
    assert code in (0, 5), result.stderr
    assert [digest(p) for p in damaged_copies(project)] == [theirs]
    assert set(baselines_of(project)) == sig_before


def test_a_read_only_folder_is_checked_and_repair_refuses(tmp_path, home):
    project = recorded_project(tmp_path, count=3)
    before = digest(project.db_path)
    with read_only(project.vizzly_dir):
        code, data, result = doctor(tmp_path)
        assert code == 0, result.stderr
        assert "read-only" in messages(data, "note")
        code, _, result = doctor(tmp_path, "--repair")
        assert code == 2 and "read-only" in result.stderr
    assert digest(project.db_path) == before


def test_missing_and_changed_baseline_files_are_named_and_repaired(tmp_path, home):
    project = recorded_project(tmp_path, count=4)
    rows = baselines_of(project)
    (_gone_sig, (gone_file, gone_sha)), (changed_sig, (changed_file, _)) = list(rows.items())[:2]
    (project.baselines_dir / gone_file).unlink()
    (project.baselines_dir / changed_file).write_bytes(png((1, 2, 3)))
    code, data, _ = doctor(tmp_path)
    assert code == 3
    items = [i for f in data["findings"] for i in f["items"]]
    assert f"baselines/{gone_file}" in items and f"baselines/{changed_file}" in items
    assert "missing" in messages(data) and "differ" in messages(data)

    code, data, result = doctor(tmp_path, "--repair")
    assert code == 0, result.stdout + result.stderr
    assert f"baselines/{gone_file}" in data["repair"]["baselinesRestored"]
    assert digest(project.baselines_dir / gone_file) == gone_sha
    after = baselines_of(project)
    assert after[changed_sig][1] == digest(project.baselines_dir / changed_file)
    assert (changed_sig, after[changed_sig][1]) in versions_of(project)
    assert data["after"]["exitCode"] == 0


def test_repair_of_a_deleted_database_brings_baselines_and_versions_back(tmp_path, home):
    project = recorded_project(tmp_path, count=6)
    before = baselines_of(project)
    for suffix in ("", "-wal", "-shm"):
        project.db_path.with_name("state.db" + suffix).unlink(missing_ok=True)
    code, data, _ = doctor(tmp_path)
    assert code == 3 and "missing" in messages(data)

    code, data, result = doctor(tmp_path, "--repair")
    assert code == 0, result.stdout + result.stderr
    assert data["repair"]["notRecovered"] == []
    assert baselines_of(project) == before
    assert {(s, v[1]) for s, v in before.items()} <= versions_of(project)
    assert cli(tmp_path, "doctor").returncode == 0
    # What a user notices: the same screenshot sent again matches its baseline.
    with open_store(project) as store:
        build = start_build(store, "serve")
        result = capture(store, build.id, "shot-00", png((0, 40, 90)))
    assert result.status == "passed"


def test_interrupted_decisions_and_a_stale_server_file_are_warnings(tmp_path, home):
    project = recorded_project(tmp_path, count=3)
    assert cli(tmp_path, "accept", "--all").returncode == 0
    conn = sqlite3.connect(project.db_path)
    conn.execute("UPDATE decision SET state = 'pending' WHERE id = (SELECT max(id) FROM decision)")
    conn.commit()
    conn.close()
    (project.vizzly_dir / "server.json").write_text(json.dumps({"pid": 2**22 + 7, "port": 9}))
    code, data, _ = doctor(tmp_path)
    assert code == 1
    text = messages(data, "warning")
    assert "interrupted" in text and "db migrate" in text
    assert "not running" in text
    # The advice works: after it, doctor says healthy.
    assert cli(tmp_path, "db", "migrate").returncode == 0
    assert cli(tmp_path, "status").returncode in (0, 1)
    assert doctor(tmp_path)[0] == 0


def test_unreferenced_objects_are_counted_with_their_size(tmp_path, home):
    project = recorded_project(tmp_path, count=2)
    stray = os.urandom(2 << 20)
    from vizzly_tui.store.files import sha256_bytes

    (project.objects_dir / f"{sha256_bytes(stray)}.png").write_bytes(stray)
    code, data, _ = doctor(tmp_path)
    assert code == 1
    assert "gc" in messages(data, "warning") and "MB" in messages(data, "warning")


@pytest.mark.parametrize(
    ("name", "props"),
    [("home", {}), ("check out", {"viewport_width": 1280, "browser": "firefox"}),
     ("a.b-c", {"viewport_width": 375})],
)  # fmt: skip
def test_a_signature_comes_back_from_its_file_name(name, props):
    from vizzly_tui.identity import identify

    clean, sig, file_name, _ = identify(name, props)
    assert recover_signature(file_name, props.get("viewport_width")) == (clean, sig, props)


def _count(project: Project, table: str) -> int:
    conn = sqlite3.connect(project.db_path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()
