"""The comparisons list pages from SQL: a long build is never loaded whole into the widget,
rows scrolled to are read on demand, and the cursor stays on its comparison when a refresh
moves it to another place in the order."""

from __future__ import annotations

import json
import time
from pathlib import Path

from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store
from vizzly_tui.tui.widgets.comparisons import ComparisonList

from .apphelpers import db_rows, loaded, make_app, screen_text, settle

ROWS = 600


def _long_project(root: Path) -> Path:
    """A build of ROWS failed comparisons, page-000 the biggest diff (first in the order)."""
    project = Project(root)
    (root / ".vizzly").mkdir(parents=True)
    project.ensure_dirs()
    now = int(time.time() * 1000)
    with open_store(project) as store:
        from vizzly_tui.store.models import Build, Comparison

        def command() -> None:
            build = Build.create(kind="run", uid="long-run", started_at=now, status="finished")
            rows = [
                {
                    "build": build.id,
                    "cid": f"{i:016x}",
                    "name": f"page-{i:03d}",
                    "signature": f"page-{i:03d}|1280|chrome",
                    "file_name": f"page-{i:03d}.png",
                    "status": "failed",
                    "initial_status": "failed",
                    "properties": json.dumps({"browser": "chrome", "viewport_width": 1280}),
                    "diff_percentage": float(ROWS - i),
                    "timestamp": now,
                    "updated_at": now,
                }
                for i in range(ROWS)
            ]
            for start in range(0, len(rows), 200):
                Comparison.insert_many(rows[start : start + 200]).execute()

        store.call(command)
    return root


async def test_a_long_list_is_read_a_page_at_a_time(tmp_path):
    project = _long_project(tmp_path / "long")
    app = make_app(project, filter="all")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        widget = app.query_one(ComparisonList)
        assert "all (600)" in screen_text(app)
        assert widget.selected.name == "page-000"
        assert len(widget.rows) < 200  # a window around the viewport, not the build
        await pilot.press("G")  # far outside the window: its page is read on demand
        await settle(pilot, lambda: widget.selected is not None)
        assert widget.selected.name == "page-599"
        assert "page-599" in screen_text(app)
        await settle(pilot, lambda: app.detail is not None and app.detail.name == "page-599")
        assert len(widget.rows) < 400
        await pilot.press("g")
        await settle(pilot, lambda: widget.selected is not None)
        assert widget.selected.name == "page-000"


async def test_the_cursor_follows_its_comparison_when_a_refresh_reorders(tmp_path):
    project = _long_project(tmp_path / "long")
    app = make_app(project, filter="all")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        widget = app.query_one(ComparisonList)
        for _ in range(8):
            await pilot.press("pagedown")
        await settle(pilot, lambda: widget.selected is not None)
        chosen = widget.selected
        place = widget.cursor
        assert place >= 60  # far outside the first window
        # Another process passes the first ten comparisons: they move to the end of the
        # order, so the chosen one is now ten places higher.
        cids = [r[0] for r in db_rows(project, "SELECT cid FROM comparison ORDER BY id LIMIT 10")]
        with open_store(Project(project)) as store:
            from vizzly_tui.store.models import Comparison

            store.call(
                lambda: Comparison.update(status="passed").where(Comparison.cid.in_(cids)).execute()
            )
        await settle(pilot, lambda: widget.cursor == place - 10)
        assert widget.selected.id == chosen.id
        assert chosen.name in screen_text(app)
