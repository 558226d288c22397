"""The app across builds and time: viewing an older build, restoring a baseline version,
ignore regions with a recompare, and another process's commit showing up while it runs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store
from vizzly_tui.tui.screens import ConfirmScreen
from vizzly_tui.tui.widgets.comparisons import ComparisonList
from vizzly_tui.tui.widgets.panes import BaselinesTable, RegionsTable

from .apphelpers import (
    db_rows,
    loaded,
    make_app,
    prepare,
    row_names,
    screen_text,
    settle,
    status_of,
)

SCENARIO = "scenario-b-second-run"
CHROME_1280 = {"browser": "chrome", "viewport": {"width": 1280, "height": 720}}


def _new_run(project: Path, name: str) -> str:
    """A newer local run with one screenshot: `name`'s current image sent again."""
    from vizzly_tui.capture import capture, finish_build, start_build

    file_name = db_rows(project, "SELECT file_name FROM comparison WHERE name = ?", (name,))[0][0]
    png = (project / ".vizzly" / "current" / file_name).read_bytes()
    with open_store(Project(project)) as store:
        build = start_build(store, "run")
        capture(store, build.id, name, png, CHROME_1280)
        finish_build(store, build.id)
        return build.uid


async def test_an_older_build_is_shown_read_only(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    older = _new_run(project, "dashboard")
    _new_run(project, "Profile Card")
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        assert row_names(app) == ["Profile Card"]
        await pilot.press("1", "j", "enter")  # Builds: newest first
        await settle(pilot, lambda: row_names(app) == ["dashboard"])
        text = screen_text(app)
        assert f"Viewing older build {older}" in text and "read-only" in text
        assert "older build" in app.read_only_reason()
        await pilot.press("2")
        await settle(pilot, lambda: app.detail is not None and app.detail.name == "dashboard")
        # Its images are the ones it was made from, kept in objects/.
        objects = project / ".vizzly" / "objects"
        for path in (app.detail.current_path, app.detail.baseline_path):
            assert path is not None and path.parent == objects and path.is_file()
        await pilot.press("a")
        await settle(pilot, lambda: "Not changed" in screen_text(app))
        await pilot.press("r", "A", "x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        # Back to the newest build: decisions apply again.
        await pilot.press("1", "k", "enter")
        await settle(pilot, lambda: row_names(app) == ["Profile Card"])
        assert app.read_only_reason() is None
    assert db_rows(project, "SELECT COUNT(*) FROM decision WHERE actor = 'tui'") == [(0,)]
    assert status_of(project, "dashboard") == "failed"


async def test_review_build_option_opens_an_older_build_read_only(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    older = _new_run(project, "dashboard")
    _new_run(project, "Profile Card")
    app = make_app(project, build_uid=older)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        assert row_names(app) == ["dashboard"]
        assert "older build" in app.read_only_reason()
        await pilot.press("a")
        await settle(pilot, lambda: "Not changed" in screen_text(app))
    assert status_of(project, "dashboard") == "failed"


async def test_restore_an_older_baseline_version_and_undo_it(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    file_name = db_rows(project, "SELECT file_name FROM comparison WHERE name = 'dashboard'")[0][0]
    baseline = project / ".vizzly" / "baselines" / file_name
    original = baseline.read_bytes()
    app = make_app(project, filter="all")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("j")
        assert app.query_one(ComparisonList).selected.name == "dashboard"
        await pilot.press("a")
        await settle(pilot, lambda: len(app.versions) == 2)
        accepted = baseline.read_bytes()
        assert accepted != original
        table = app.query_one(BaselinesTable)
        await pilot.press("4")
        assert table.has_focus
        await pilot.press("j", "enter")  # the older version
        await settle(pilot, lambda: baseline.read_bytes() == original)
        await settle(pilot, lambda: "Restored" in screen_text(app))
        log = db_rows(project, "SELECT action, actor FROM decision ORDER BY id DESC LIMIT 1")
        assert log == [("restore", "tui")]
        await pilot.press("u")
        await settle(pilot, lambda: baseline.read_bytes() == accepted)


async def test_ignore_a_cluster_recompares_then_delete_the_region(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project, filter="all")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"login", "enter")
        await settle(pilot, lambda: row_names(app) == ["login"] and app.detail is not None)
        assert app.detail.status == "failed" and len(app.detail.clusters) == 1
        await pilot.press("5")
        assert app.query_one(RegionsTable).has_focus
        await pilot.press("i")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        preview = screen_text(app)
        assert "padded by 4 px" in preview and "local region" in preview
        # The padded box is drawn on the comparison's picture before anything is saved.
        c = app.detail.clusters[0]
        c = c.get("boundingBox", c)
        picture = app.screen.picture
        assert picture.options.guides
        assert picture.options.regions == (
            (c["x"] - 4, c["y"] - 4, c["width"] + 8, c["height"] + 8),
        )
        await settle(pilot, lambda: not picture.busy and picture.view is not None)
        assert db_rows(project, "SELECT COUNT(*) FROM region") == [(0,)]
        await pilot.press("y")
        # Saved and compared again at once: the only change is now ignored.
        await settle(pilot, lambda: app.detail is not None and app.detail.status == "passed")
        assert status_of(project, "login") == "passed"
        regions = db_rows(project, "SELECT name, source, actor FROM region")
        assert regions == [("login", "local", "tui")]
        assert "confirmed" in screen_text(app)
        regions_pane = app.query_one("#regions-pane")
        await pilot.press("5")  # already focused: collapse
        await settle(pilot, lambda: regions_pane.has_class("-collapsed"))
        await pilot.press("5")  # again: expand and focus
        table = app.query_one(RegionsTable)
        await settle(pilot, lambda: table.has_focus and not regions_pane.has_class("-collapsed"))
        await pilot.press("k")  # the new region is listed above the clusters
        assert table.selected_row()["type"] == "region"
        await pilot.press("x")
        await settle(pilot, lambda: app.detail is not None and app.detail.status == "failed")
    assert db_rows(project, "SELECT COUNT(*) FROM region") == [(0,)]
    assert status_of(project, "login") == "failed"


ACCEPT_SCRIPT = """
import sys, time
from pathlib import Path
from vizzly_tui import review
from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store
with open_store(Project(Path(sys.argv[1]))) as store:
    review.accept(store, [sys.argv[2]], actor="cli")
    print(time.time(), flush=True)  # the commit is done when accept returns
"""


async def test_a_commit_by_another_process_shows_within_half_a_second(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("j", "j")
        assert app.query_one(ComparisonList).selected.name == "login"
        cid = db_rows(project, "SELECT cid FROM comparison WHERE name = 'dashboard'")[0][0]
        # Timed from the other process's commit (the line it prints right after), not from
        # its start or its exit: interpreter start-up and shutdown are not the app's delay.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ACCEPT_SCRIPT, str(project), cid, stdout=subprocess.PIPE
        )
        committed = float((await asyncio.wait_for(proc.stdout.readline(), 30)).strip())
        deadline = time.time() + 5
        while "needs review (4)" not in screen_text(app) and time.time() < deadline:
            await pilot.pause(0.005)
        shown = time.time()
        await proc.wait()
        assert "needs review (4)" in screen_text(app)
        assert "dashboard" not in row_names(app)
        assert shown - committed < 0.5, f"shown {shown - committed:.3f}s after the commit"
        # The cursor stayed on the item the user was looking at.
        assert app.query_one(ComparisonList).selected.name == "login"


async def test_all_baselines_view_deletes_a_baseline_and_undo_brings_it_back(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    file_name = db_rows(
        project, "SELECT file_name FROM baseline WHERE signature = 'settings|1280|chrome'"
    )[0][0]
    baseline = project / ".vizzly" / "baselines" / file_name
    original = baseline.read_bytes()
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        table = app.query_one(BaselinesTable)
        await pilot.press("4", "B")
        await settle(pilot, lambda: table.all_view and table.row_count == 9)
        assert "4 Baselines · all" in screen_text(app)
        while table.selected_key() != "settings|1280|chrome":
            await pilot.press("j")
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: not baseline.exists())
        await settle(pilot, lambda: table.row_count == 8)
        await pilot.press("u")
        await settle(pilot, lambda: baseline.exists())
    assert baseline.read_bytes() == original


async def test_live_updates_under_the_viewer_and_a_dialog_keep_the_app_running(scenario_project):
    from vizzly_tui.tui.viewer import ViewerScreen

    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    cids = dict(db_rows(project, "SELECT name, cid FROM comparison"))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ViewerScreen))
        subprocess.run(
            [sys.executable, "-c", ACCEPT_SCRIPT, str(project), cids["dashboard"]], check=True
        )
        await settle(pilot, lambda: "dashboard" not in row_names(app))
        await pilot.press("f")  # the list's keys do nothing over the viewer
        assert app.filter == "needs-review"
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is app.main)
        await pilot.press("A")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        subprocess.run(
            [sys.executable, "-c", ACCEPT_SCRIPT, str(project), cids["login"]], check=True
        )
        await settle(pilot, lambda: "login" not in row_names(app))
        await pilot.press("a", "q")  # neither accepts nor quits under the dialog
        assert app.is_running and isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot, lambda: app.screen is app.main)
    assert status_of(project, "Profile Card") == "failed"
