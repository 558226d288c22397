"""The review app driven with Pilot on copies of the shared Vizzly fixtures: each test does
what a user does with the keys and checks what they would notice (the screen, the files,
the decision log)."""

from __future__ import annotations

from vizzly_tui.tui.screens import ConfirmScreen
from vizzly_tui.tui.widgets.comparisons import ComparisonList

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
# Review order of scenario B's "needs review" queue: failed by diff size (pricing has no
# diff %: a size change), then new.
QUEUE = ["Profile Card", "dashboard", "login", "pricing", "checkout"]


def _selected(app):
    return app.query_one(ComparisonList).selected


def _files(project, name):
    file_name = db_rows(project, "SELECT file_name FROM comparison WHERE name = ?", (name,))[0][0]
    vizzly = project / ".vizzly"
    return (vizzly / "baselines" / file_name, vizzly / "current" / file_name)


async def test_opens_on_the_review_queue(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        assert row_names(app) == QUEUE
        text = screen_text(app)
        assert "needs review (5)" in text
        assert "4 failed 1 new 0 rejected 0 error 4 passed" in text
        assert "22.36%" in text  # Profile Card's diff, and its numbers in the detail pane
        assert "257,601 of 1,152,000" in text


async def test_accept_makes_the_current_screenshot_the_baseline(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    baseline, current = _files(project, "dashboard")
    assert baseline.read_bytes() != current.read_bytes()
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("j")
        assert _selected(app).name == "dashboard"
        await pilot.press("a")
        await settle(pilot, lambda: "dashboard" not in row_names(app))
        # The queue moved on to the next item.
        assert _selected(app).name == "login"
        assert "Accepted dashboard" in screen_text(app)
    assert status_of(project, "dashboard") == "passed"
    assert baseline.read_bytes() == current.read_bytes()
    log = db_rows(project, "SELECT action, actor, name FROM decision WHERE action = 'accept'")
    assert log == [("accept", "tui", "dashboard")]


async def test_reject_then_undo(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await settle(pilot, lambda: "Profile Card" not in row_names(app))
        assert status_of(project, "Profile Card") == "rejected"
        await pilot.press("f", "f", "f")  # needs review -> failed -> new -> rejected
        await settle(pilot, lambda: row_names(app) == ["Profile Card"])
        await pilot.press("u")
        await settle(pilot, lambda: row_names(app) == [])
        assert status_of(project, "Profile Card") == "failed"
        assert "Undid" in screen_text(app)


async def test_skip_moves_on_without_deciding(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("s", "s")
        assert _selected(app).name == "login"
        await settle(pilot, lambda: app.detail is not None and app.detail.name == "login")
    assert db_rows(project, "SELECT COUNT(*) FROM decision WHERE action != 'capture'") == [(0,)]


async def test_undo_restores_the_baseline_bytes(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    baseline, current = _files(project, "Profile Card")
    original = baseline.read_bytes()
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        await settle(pilot, lambda: "Profile Card" not in row_names(app))
        assert baseline.read_bytes() == current.read_bytes()
        await pilot.press("u")
        await settle(pilot, lambda: "Profile Card" in row_names(app))
    assert baseline.read_bytes() == original
    assert status_of(project, "Profile Card") == "failed"


async def test_accept_all_asks_first_and_cancel_changes_nothing(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("A")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Accept 5 comparisons" in screen_text(app)
        await pilot.press("n")
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert row_names(app) == QUEUE
        assert "cancelled" in screen_text(app)
        assert db_rows(project, "SELECT COUNT(*) FROM decision WHERE action='accept'") == [(0,)]

        await pilot.press("A")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: row_names(app) == [])
        text = screen_text(app)
        assert "Nothing left to review: 9 passed, 0 failed, 0 new, 0" in text
    statuses = db_rows(project, "SELECT DISTINCT status FROM comparison")
    assert statuses == [("passed",)]
    # One batch: one undo reverses all of it.
    batches = db_rows(project, "SELECT COUNT(DISTINCT batch) FROM decision WHERE action='accept'")
    assert batches == [(1,)]


async def test_accept_all_takes_only_what_the_filter_shows(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"dash", "enter")
        await settle(pilot, lambda: row_names(app) == ["dashboard"])
        await pilot.press("A")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Accept 1 comparison shown" in screen_text(app)
        await pilot.press("y")
        await settle(pilot, lambda: row_names(app) == [])
    assert status_of(project, "dashboard") == "passed"
    assert status_of(project, "login") == "failed"


async def test_each_filter_search_browser_and_viewport(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        expected = [
            ("failed", ["Profile Card", "dashboard", "login", "pricing"]),
            ("new", ["checkout"]),
            ("rejected", []),
            ("all", None),
            ("needs review", QUEUE),
        ]
        for label, names in expected:
            await pilot.press("f")
            await settle(pilot, lambda label=label: f"· {label} (" in screen_text(app))
            if names is not None:
                assert row_names(app) == names, label
        await pilot.press("f", "f", "f", "f")  # back to "all"
        await settle(pilot, lambda: len(row_names(app)) == 9)
        # Variants of one name stay together.
        names = row_names(app)
        first = names.index("homepage")
        assert names[first : first + 3] == ["homepage"] * 3
        await pilot.press("b")  # chrome
        await settle(pilot, lambda: len(row_names(app)) == 8)
        await pilot.press("b")  # firefox
        await settle(pilot, lambda: row_names(app) == ["homepage"])
        await pilot.press("b", "v")  # all browsers, viewport 375
        await settle(pilot, lambda: row_names(app) == ["homepage"])
        assert "375" in _selected(app).variant
        await pilot.press("v", "v")  # 1280, then all
        await settle(pilot, lambda: len(row_names(app)) == 9)
        await pilot.press("slash", *"PRO")
        await settle(pilot, lambda: row_names(app) == ["Profile Card"])
        assert "search “PRO”" in screen_text(app)
        await pilot.press("escape")
        assert app.query_one(ComparisonList).has_focus


async def test_keys_from_the_user_config(scenario_project, tmp_path):
    from vizzly_tui.tui.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text('default_filter = "all"\n[keys]\naccept = "y"\n')
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project, settings=load_settings(config))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        assert len(row_names(app)) == 9
        await pilot.press("a")  # no longer accept
        await pilot.press("y")
        await settle(pilot, lambda: status_of(project, "Profile Card") == "passed")
        assert "Profile Card" in row_names(app)  # "all" keeps decided items in place


async def test_a_failing_decision_says_why_and_changes_nothing(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    _, current = _files(project, "Profile Card")
    current.unlink()  # e.g. cleaned by another tool meanwhile
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        await settle(pilot, lambda: "Current screenshot not found" in screen_text(app))
        assert row_names(app) == QUEUE
        assert app.is_running
    assert status_of(project, "Profile Card") == "failed"


async def test_read_only_refuses_decisions(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project, read_only=True)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        assert "read-only" in screen_text(app)
        await pilot.press("a")
        await settle(pilot, lambda: "Not changed" in screen_text(app))
    assert status_of(project, "Profile Card") == "failed"


async def test_enter_opens_the_comparison_full_size(scenario_project):
    from vizzly_tui.tui.viewer import ViewerScreen

    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ViewerScreen))
        assert "Profile Card" in screen_text(app)


async def test_command_palette_runs_review_commands(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Filter: rejected")
        await settle(pilot, lambda: "Filter: rejected" in screen_text(app))
        await pilot.press("enter")
        await settle(pilot, lambda: app.filter == "rejected" and row_names(app) == [])
        assert "Nothing matches the filter" in screen_text(app)


async def test_help_lists_every_key_with_the_users_keymap(scenario_project, tmp_path):
    from vizzly_tui.tui.screens import HelpScreen
    from vizzly_tui.tui.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text('[keys]\naccept = "y,a"\n')
    project = prepare(scenario_project(SCENARIO))
    app = make_app(project, settings=load_settings(config))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        lines = screen_text(app).splitlines()
        accept = next(line for line in lines if "the current screenshot becomes" in line)
        assert "y, a" in accept and "accept" in accept
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_a_project_with_nothing_recorded_says_what_to_do(tmp_path):
    (tmp_path / ".vizzly").mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await loaded(pilot)
        assert "No screenshots recorded yet" in screen_text(app)
        await pilot.press("a")
        await settle(pilot, lambda: "No comparison selected" in screen_text(app))


async def test_delete_asks_first_and_undo_brings_it_back(scenario_project):
    project = prepare(scenario_project(SCENARIO))
    baseline, _ = _files(project, "pricing")
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("G", "k")  # the last failed item: pricing
        assert _selected(app).name == "pricing"
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Delete pricing" in screen_text(app)
        await pilot.press("y")
        await settle(pilot, lambda: "pricing" not in row_names(app))
        assert not baseline.exists()
        assert db_rows(project, "SELECT COUNT(*) FROM comparison WHERE name='pricing'") == [(0,)]
        await pilot.press("u")
        await settle(pilot, lambda: "pricing" in row_names(app))
    assert baseline.exists()
    assert status_of(project, "pricing") == "failed"
