"""An imported build (the Vizzly CLI's JSON report) keeps its images: after a newer run
replaces current/ and baselines/, its comparisons still show the pair they were made from."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import peewee as pw
import pytest

from vizzly_tui.project import Project
from vizzly_tui.store import queries_history
from vizzly_tui.store.bootstrap import ensure_schema
from vizzly_tui.store.import_images import keep_imported_images
from vizzly_tui.store.store import open_store

SCENARIO = "scenario-b-second-run"


def _rows(project: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(project / ".vizzly" / "state.db")) as db:
        return db.execute(sql).fetchall()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_imported_comparisons_keep_their_images_after_a_newer_run(scenario_project):
    root = scenario_project(SCENARIO)
    project = Project(root)
    ensure_schema(project)
    rows = _rows(
        root,
        "SELECT c.id, c.file_name, c.current_sha256, c.baseline_sha256 FROM comparison c "
        "JOIN build b ON b.id = c.build_id WHERE b.kind = 'import'",
    )
    assert rows
    originals = {}
    for comparison_id, file_name, current_sha, baseline_sha in rows:
        current = project.current_dir / file_name
        assert current_sha == _sha(current)
        assert project.object_path(current_sha).read_bytes() == current.read_bytes()
        baseline = project.baselines_dir / file_name
        if baseline.exists():
            assert baseline_sha == _sha(baseline)
        originals[comparison_id] = (current.read_bytes(), baseline_sha)
    # A newer run overwrites every working file, as the next test run would.
    for _, file_name, _, _ in rows:
        (project.current_dir / file_name).write_bytes(b"newer run")
        if (project.baselines_dir / file_name).exists():
            (project.baselines_dir / file_name).write_bytes(b"newer baseline")
    with open_store(project) as store:
        from vizzly_tui.store.models import Build

        now = int(time.time() * 1000) + 60_000
        store.call(lambda: Build.create(kind="run", uid="later", started_at=now, status="finished"))
        for comparison_id, (current_bytes, baseline_sha) in originals.items():
            images = store.call(
                lambda cid=comparison_id: queries_history.comparison_images(project, cid)
            )
            assert images.historical
            assert images.current.read_bytes() == current_bytes
            if baseline_sha:
                assert _sha(images.baseline) == baseline_sha


def test_a_database_imported_earlier_is_left_alone(scenario_project):
    root = scenario_project(SCENARIO)
    project = Project(root)
    ensure_schema(project)
    # A database imported before this step existed: hashes unknown, and a run came since,
    # so current/ may hold that run's screenshots: they must not be attached to the import.
    with closing(sqlite3.connect(project.db_path)) as db, db:
        db.execute("UPDATE comparison SET current_sha256 = NULL, baseline_sha256 = NULL")
        db.execute(
            "INSERT INTO build (uid, kind, status, started_at) VALUES ('later', 'run', "
            "'finished', ?)",
            (int(time.time() * 1000) + 60_000,),
        )
    ensure_schema(project)
    db = pw.SqliteDatabase(str(project.db_path))
    with db.connection_context():
        assert keep_imported_images(db, project) == 0  # even when asked directly
    assert _rows(root, "SELECT COUNT(*) FROM comparison WHERE current_sha256 IS NOT NULL") == [(0,)]


def _doctor_errors(root: Path) -> list[dict]:
    from vizzly_tui.doctor import diagnose

    return [f.to_json() for f in diagnose(Project(root)).findings if f.severity == "error"]


def test_a_crash_after_the_import_committed_is_finished_at_the_next_start(
    scenario_project, monkeypatch
):
    # Found by the bootstrap kill scenario (tests/reliability/test_crash_bootstrap.py): a
    # first start killed after migration 001 committed, before the images were kept, left
    # every imported baseline version without its object for good (doctor: error).
    root = scenario_project(SCENARIO)
    project = Project(root)
    from vizzly_tui.store import import_images

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    with monkeypatch.context() as m:
        m.setattr(import_images, "keep_imported_images", killed)
        with pytest.raises(KeyboardInterrupt):
            ensure_schema(project)
    assert _rows(root, "SELECT COUNT(*) FROM comparison WHERE current_sha256 IS NOT NULL") == [(0,)]

    ensure_schema(project)  # the next start
    for file_name, current_sha in _rows(root, "SELECT file_name, current_sha256 FROM comparison"):
        assert current_sha == _sha(project.current_dir / file_name)
    for (sha,) in _rows(root, "SELECT sha256 FROM baseline_version"):
        assert project.object_path(sha).is_file()
    assert _doctor_errors(root) == []
    # Done once: a third start has nothing left to do.
    assert not import_images.pending(pw.SqliteDatabase(str(project.db_path)))


def test_baselines_without_a_comparison_keep_their_versions(scenario_project):
    # A project whose report-data.json was reset: baselines/metadata.json lists baselines no
    # comparison uses. Their imported versions need their bytes in objects/ too.
    root = scenario_project(SCENARIO)
    (root / ".vizzly" / "report-data.json").unlink()
    (root / ".vizzly" / "comparison-details.json").unlink(missing_ok=True)
    project = Project(root)
    ensure_schema(project)
    versions = _rows(root, "SELECT sha256 FROM baseline_version")
    assert versions
    for (sha,) in versions:
        assert project.object_path(sha).is_file()
    assert _doctor_errors(root) == []


def test_the_first_start_of_a_large_project_reports_its_progress(tmp_path):
    from tests.reliability.legacy_project import make_legacy_project

    made = make_legacy_project(tmp_path, 40)
    calls: list[tuple[int, int]] = []
    ensure_schema(Project(tmp_path), lambda done, total: calls.append((done, total)))
    # One call per comparison and per baseline version, counting up to the same total.
    total = made["comparisons"] + len(made["signatures"])
    assert calls == [(done, total) for done in range(1, total + 1)]
    calls.clear()
    ensure_schema(Project(tmp_path), lambda done, total: calls.append((done, total)))
    assert calls == []  # nothing long left to do


def test_the_cli_shows_the_bootstrap_progress_on_a_terminal(tmp_path):
    from tests.reliability.legacy_project import make_legacy_project
    from tests.terminalhelpers import run_cli

    make_legacy_project(tmp_path, 40)
    # stderr is a terminal, as when a user runs it: the bar is drawn there.
    ran = run_cli(["--project", str(tmp_path), "status"], stdout_tty=False, stderr_tty=True)
    assert ran.code == 0, ran.stderr
    assert "importing the Vizzly CLI's files" in ran.stderr
    assert "page-00039" in ran.stdout
