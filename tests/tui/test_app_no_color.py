"""NO_COLOR: Textual draws every line through a monochrome filter, which needs a style on
each segment the app's own Line-API widgets produce."""

from __future__ import annotations

from vizzly_tui.tui.viewer import ViewerScreen

from .apphelpers import loaded, make_app, prepare, screen_text, settle

SCENARIO = "scenario-b-second-run"


async def test_the_app_and_the_viewer_run_under_no_color(scenario_project, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(prepare(scenario_project(SCENARIO)))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await loaded(pilot)
        assert "dashboard" in screen_text(app)
        await pilot.press("j", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ViewerScreen))
        for key in ("1", "3", "4", "5", "space", "6", "2", "n", "i", "g"):
            await pilot.press(key)
        await settle(pilot, lambda: not app.screen.image.busy)
        assert "dashboard" in screen_text(app)
        await pilot.press("escape", "question_mark")
        await settle(pilot, lambda: "next item" in screen_text(app))
    assert app.return_code in (None, 0), app.return_code
