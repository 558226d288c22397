"""The review app under a user who presses keys faster than decisions land."""

from __future__ import annotations

import subprocess
import sys

from vizzly_tui.tui.screens import ConfirmScreen

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


async def test_a_pressed_twenty_times_decides_each_comparison_once(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        queue = row_names(app)
        for _ in range(20):
            await pilot.press("a")
        await settle(pilot, app.screen_ready)
        logged = db_rows(
            project, "SELECT name, status_before, status_after FROM decision ORDER BY id"
        )
        # No comparison accepted twice: each decision logged changed something, so each
        # `u` undoes one visible decision.
        assert [name for name, _, _ in logged] == queue[: len(logged)]
        assert all(before != after for _, before, after in logged), logged
        last = logged[-1][0]
        await pilot.press("u")
        await settle(pilot, lambda: last in row_names(app))
    assert status_of(project, last) == logged[-1][1]


RECAPTURE_SCRIPT = """
import io, sys
from pathlib import Path
from PIL import Image
from vizzly_tui import capture
from vizzly_tui.project import Project
from vizzly_tui.store.models import Comparison
from vizzly_tui.store.store import open_store
project = Project(Path(sys.argv[1]))
with open_store(project) as store:
    c = store.call(lambda: Comparison.get(Comparison.name == sys.argv[2]))
    image = Image.open(project.current_dir / c.file_name).convert("RGB")
    image.paste((0, 200, 0), (0, 0, 200, 200))  # pixels the reviewer has not seen
    out = io.BytesIO()
    image.save(out, "PNG")
    props = {"browser": "chrome", "viewport": {"width": 1280, "height": 720}}
    capture.capture(store, c.build_id, sys.argv[2], out.getvalue(), props)
"""


async def test_accept_all_skips_a_comparison_captured_again_while_the_dialog_was_open(
    scenario_project,
):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("A")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        before = db_rows(project, "SELECT timestamp FROM comparison WHERE name = 'dashboard'")
        subprocess.run(
            [sys.executable, "-c", RECAPTURE_SCRIPT, str(project), "dashboard"], check=True
        )
        assert (
            db_rows(project, "SELECT timestamp FROM comparison WHERE name = 'dashboard'") != before
        )
        await pilot.press("y")
        await settle(pilot, lambda: row_names(app) == ["dashboard"])
        await settle(
            pilot, lambda: "dashboard" in screen_text(app) and "Left alone" in screen_text(app)
        )
    # The new pixels were never shown in the app: they are not the baseline.
    assert status_of(project, "dashboard") == "failed"
