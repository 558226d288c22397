"""Migration 002, the first real upgrade: a database made by 001 alone (what today's released
vizzly-tui writes) upgrades in place, keeps every row, and the stored review order stays
right through inserts, updates and deletes."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import pytest

from tests.conftest import REPO_ROOT
from tests.storehelpers import make_project
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap, queries_history
from vizzly_tui.store.models import Build, Comparison
from vizzly_tui.store.store import open_store

D2 = "scenario-d2-oauth-download-hotspots-regions"
# Migration 001 as released: an applied migration is never edited (new changes are new
# migrations), or databases made before the edit and after it would differ.
MIGRATION_001_SHA256 = "444210557621699b2f0bf4bb5866879b29447859db6bb700ee8b2a0bb26d8479"
TABLES = (
    "build",
    "comparison",
    "comparison_detail",
    "baseline",
    "baseline_version",
    "decision",
    "hotspot",
    "region",
    "setting",
    "import_log",
)


def test_migration_001_is_unchanged():
    path = REPO_ROOT / "migrations" / "state" / "001_initial.py"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MIGRATION_001_SHA256


def _bootstrap_with_001_only(project: Project, tmp_path, monkeypatch) -> None:
    only_001 = tmp_path / "migrations-001"
    only_001.mkdir()
    shutil.copy(bootstrap.migrations_dir() / "001_initial.py", only_001)
    with monkeypatch.context() as m:
        m.setattr(bootstrap, "migrations_dir", lambda: only_001)
        assert bootstrap.ensure_schema(project).applied == ["001_initial"]


def _dump(db_path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db_path)
    try:
        out = {}
        for table in TABLES:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            if table == "comparison":
                columns = [
                    c
                    for c in columns
                    # Added by 002; current_sha256 is filled by the start that upgrades it,
                    # which keeps the imported build's images (import_images).
                    if c
                    not in (
                        "priority",
                        "group_priority",
                        "group_diff",
                        "baseline_sha256",
                        "current_sha256",
                    )
                ]
            if table == "region":
                columns = [c for c in columns if c not in ("created_at", "actor")]
            cols = ", ".join(f'"{c}"' for c in columns)
            out[table] = conn.execute(f'SELECT {cols} FROM "{table}" ORDER BY 1').fetchall()
        return out
    finally:
        conn.close()


def test_a_001_only_database_from_the_fixtures_upgrades_in_place(
    scenario_project, tmp_path, monkeypatch
):
    project = Project(scenario_project(D2))
    _bootstrap_with_001_only(project, tmp_path, monkeypatch)
    before = _dump(project.db_path)
    assert before["comparison"] and before["region"] and before["hotspot"]

    with open_store(project) as store:
        assert store.bootstrap_report.applied == ["002_priority_regions"]
    after = _dump(project.db_path)

    # The step after the import, cut off with 002 here, ran now: it added its "kept" row.
    kept = [r for r in after["import_log"] if r[1] == "objects/"]
    assert [r[4] for r in kept] == ["kept the imported images"]
    after["import_log"] = [r for r in after["import_log"] if r not in kept]
    assert after == before  # every row of every table kept, nothing cascaded away
    conn = sqlite3.connect(project.db_path)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        names = [r[0] for r in conn.execute("SELECT name FROM migratehistory ORDER BY id")]
        assert names == ["001_initial", "002_priority_regions"]
        # And the imported comparisons have their images kept (hashed, in objects/).
        for (sha,) in conn.execute("SELECT current_sha256 FROM comparison"):
            assert sha and project.object_path(sha).is_file()
        rank = {"failed": 0, "new": 1, "rejected": 2, "error": 3, "passed": 4}
        for status, priority in conn.execute("SELECT status, priority FROM comparison"):
            assert priority == rank.get(status, 4 if status != "baseline-created" else 1)
    finally:
        conn.close()
    with open_store(project) as store:  # a second start has nothing to do
        assert store.bootstrap_report.applied == []
        build = queries_history.list_builds()[0]
        rows = queries_history.page_comparisons(build.id)
        assert len(rows) == build.counts["total"] > 0
        assert rows[0].status == "failed"


def test_002_rolls_back_cleanly(tmp_path):
    project = make_project(tmp_path)
    open_store(project).close()
    from peewee_migrate import Router

    db = bootstrap._open_migration_connection(project.db_path)
    try:
        router = Router(db, migrate_dir=bootstrap.migrations_dir(), migrate_table="migratehistory")
        router.rollback()
        columns = [r[1] for r in db.execute_sql('PRAGMA table_info("comparison")')]
        assert "priority" not in columns and "baseline_sha256" not in columns
        assert router.done == ["001_initial"]
        assert router.run() == ["002_priority_regions"]
    finally:
        db.close()


def _order(build_id):
    return [(r.name, r.status) for r in queries_history.page_comparisons(build_id, limit=1000)]


@pytest.fixture
def store(tmp_path):
    s = open_store(make_project(tmp_path))
    yield s
    s.close()


def _add(build_id, name, browser, status, diff):
    Comparison.create(
        build=build_id,
        cid=f"{name}-{browser}",
        name=name,
        signature=f"{name}|{browser}",
        file_name=f"{name}-{browser}.png",
        status=status,
        diff_percentage=diff,
        properties={"browser": browser, "viewport_width": 1280},
        timestamp=1,
        updated_at=1,
    )


def test_review_order_failed_new_rejected_error_passed_with_variants_together(store):
    def seed():
        b = Build.create(kind="run", uid="b1", started_at=1).id
        _add(b, "about", "chrome", "passed", 0.0)
        _add(b, "about", "firefox", "failed", 0.5)  # pulls its passed variant up with it
        _add(b, "blog", "chrome", "failed", 7.0)
        _add(b, "cart", "chrome", "new", None)
        _add(b, "deals", "chrome", "rejected", 3.0)
        _add(b, "echo", "chrome", "error", None)
        _add(b, "faq", "chrome", "passed", 0.0)
        return b

    b = store.call(seed)
    assert _order(b) == [
        ("blog", "failed"),
        ("about", "failed"),
        ("about", "passed"),
        ("cart", "new"),
        ("deals", "rejected"),
        ("echo", "error"),
        ("faq", "passed"),
    ]

    # The triggers keep the order right whoever writes: an accept, a re-capture, a delete.
    store.call(
        lambda: (
            Comparison.update(status="passed")
            .where((Comparison.name == "about") & (Comparison.status == "failed"))
            .execute()
        )
    )
    assert _order(b) == [
        ("blog", "failed"),
        ("cart", "new"),
        ("deals", "rejected"),
        ("echo", "error"),
        ("about", "passed"),  # diff 0.5 before faq's 0.0
        ("about", "passed"),
        ("faq", "passed"),
    ]
    store.call(
        lambda: (
            Comparison.update(status="failed", diff_percentage=9.0)
            .where(Comparison.name == "faq")
            .execute()
        )
    )
    assert _order(b)[0] == ("faq", "failed")
    store.call(lambda: Comparison.delete().where(Comparison.name == "blog").execute())
    assert _order(b)[1] == ("cart", "new")
