"""The review app under a user who presses keys faster than decisions land."""

from __future__ import annotations

from .apphelpers import db_rows, loaded, make_app, prepare, row_names, settle, status_of

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
