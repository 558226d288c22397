"""The importer's contract with migration 001 and with `vizzly-tui db status`."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from pathlib import Path

import peewee as pw
import pytest

from tests.conftest import REPO_ROOT
from tests.store.legacyhelpers import bootstrap, counts
from vizzly_tui.store import legacy_baselines as lb
from vizzly_tui.store import legacy_cloud as lc
from vizzly_tui.store import legacy_report as lr
from vizzly_tui.store.db import open_database
from vizzly_tui.store.legacy import import_legacy_state, import_log_summary


def _migration_001():
    path = REPO_ROOT / "migrations" / "state" / "001_initial.py"
    spec = importlib.util.spec_from_file_location("migration_001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ddl_columns() -> dict[str, set[str]]:
    tables = {}
    for statement in _migration_001().SCHEMA:
        match = re.match(r'CREATE TABLE "(\w+)" \((.*)\)$', statement, re.S)
        if match:
            tables[match[1]] = set(re.findall(r'^\s*"(\w+)" [A-Z]', match[2], re.M))
    return tables


def _fresh_db(project: Path) -> pw.SqliteDatabase:
    """A database holding migration 001's DDL only, as the migration hands it to the import."""
    path = project / ".vizzly" / "state.db"
    conn = sqlite3.connect(path)
    for statement in _migration_001().SCHEMA:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return pw.SqliteDatabase(str(path), pragmas={"foreign_keys": 0})


def test_writes_only_columns_of_migration_001():
    ddl = _ddl_columns()
    written = {
        "build": lb.BUILD_COLUMNS,
        "baseline": lb.BASELINE_COLUMNS,
        "baseline_version": lb.VERSION_COLUMNS,
        "comparison": lr.COMPARISON_COLUMNS,
        "comparison_detail": lr.DETAIL_COLUMNS,
        "hotspot": lc.HOTSPOT_COLUMNS,
        "region": lc.REGION_COLUMNS,
    }
    for table, columns in written.items():
        assert set(columns) <= ddl[table], (table, set(columns) - ddl[table])
        assert len(set(columns)) == len(columns)
    # Every NOT NULL column without a default is written (else the INSERT would fail).
    assert {"properties", "timestamp", "has_diff_clusters"} <= set(lr.COMPARISON_COLUMNS)


def test_direct_call_returns_a_summary(scenario_project):
    project = scenario_project("scenario-d2-oauth-download-hotspots-regions")
    (project / ".vizzly" / "baselines" / "blog_3cfcea07b9cb.png").unlink()
    db = _fresh_db(project)
    try:
        summary = import_legacy_state(db)
    finally:
        db.close()
    assert (summary.builds, summary.comparisons, summary.details) == (2, 6, 5)
    assert (summary.baselines, summary.baseline_versions) == (5, 5)
    assert (summary.hotspots, summary.regions, summary.settings) == (3, 3, 5)
    assert [(e.source, e.item, e.outcome) for e in summary.skipped] == [
        ("baselines/metadata.json", "blog", "skipped")
    ]
    assert summary.notes == [] and not summary.already_imported


def test_database_errors_propagate_and_roll_back(scenario_project):
    project = scenario_project("scenario-b-second-run")
    db = _fresh_db(project)
    # A row the import will collide with: a real database error, not bad input.
    db.execute_sql(
        "INSERT INTO build (kind, uid, status, started_at) "
        "VALUES ('x', 'baseline:local-baseline', 'x', 1)"
    )
    try:
        with pytest.raises(pw.IntegrityError):
            import_legacy_state(db)
        for table in ("comparison", "baseline", "import_log", "setting"):
            assert db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    finally:
        db.close()


def test_import_log_summary_on_the_read_only_database(scenario_project):
    project = scenario_project("scenario-b-second-run")
    report = project / ".vizzly" / "report-data.json"
    report.write_text(report.read_text().replace('"status":"new"', '"status":null', 1))
    bootstrap(project)
    db = open_database(project / ".vizzly" / "state.db")
    try:
        summary = import_log_summary(db)
    finally:
        db.close()
    assert summary["imported"] == {
        "baselines/metadata.json": 9,
        "report-data.json": 8,
        "comparison-details.json": 3,
    }
    skipped = {"source": "report-data.json", "item": "bd3d155a044ff1a6"}
    assert summary["skipped"] == [{**skipped, "detail": "missing field 'status'"}]
    assert summary["notes"] == []
    assert counts(project)["comparison"] == 8
