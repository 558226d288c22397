"""Snapshots of the review app on a copy of scenario B: the main screen at 80x24 and
120x36, the help screen, the accept-all confirmation and the regions pane.

Nothing in them moves: no clock in the header, animations off, the search cursor does not
blink, times are UTC and the rows the import stamps with "now" get a fixed time."""

from __future__ import annotations

from textual.widgets import Input

from vizzly_tui.tui.screens import ConfirmScreen, HelpScreen

from .apphelpers import loaded, make_app, prepare, settle

SCENARIO = "scenario-b-second-run"


def _app(scenario_project, **options):
    return make_app(prepare(scenario_project(SCENARIO)), **options)


def _steps(*keys: str, until=None):
    async def run_before(pilot) -> None:
        pilot.app.query_one(Input).cursor_blink = False
        await loaded(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        if until is not None:
            await settle(pilot, lambda: until(pilot.app))
        await pilot.app.workers.wait_for_complete()

    return run_before


def test_main_screen_80x24(snap_compare, scenario_project):
    app = _app(scenario_project)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steps())


def test_main_screen_120x36(snap_compare, scenario_project):
    app = _app(scenario_project)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_steps())


def test_help_screen(snap_compare, scenario_project):
    app = _app(scenario_project)
    until = lambda app: isinstance(app.screen, HelpScreen)  # noqa: E731
    assert snap_compare(app, terminal_size=(100, 40), run_before=_steps("?", until=until))


def test_accept_all_confirmation(snap_compare, scenario_project):
    app = _app(scenario_project)
    until = lambda app: isinstance(app.screen, ConfirmScreen)  # noqa: E731
    assert snap_compare(app, terminal_size=(100, 30), run_before=_steps("A", until=until))


def test_regions_pane(snap_compare, scenario_project):
    app = _app(scenario_project, filter="all")
    assert snap_compare(app, terminal_size=(120, 36), run_before=_steps("j", "j", "5"))
