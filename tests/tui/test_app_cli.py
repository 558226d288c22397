"""The app's entry points: no sub-command and `review` open it in a terminal; without one
they print the status; a folder without .vizzly/ is a clear message; ssh options."""

from __future__ import annotations

from click.testing import CliRunner

from vizzly_tui.cli import main
from vizzly_tui.tui.launch import apply_colors
from vizzly_tui.tui.settings import load_settings

from .app_pty import PtyApp
from .apphelpers import prepare

SCENARIO = "scenario-b-second-run"


def test_without_a_terminal_it_prints_the_status_and_how_to_open_the_app(scenario_project):
    project = scenario_project(SCENARIO)  # legacy JSON only: imported first
    for args in ([], ["review"]):
        result = CliRunner().invoke(main, ["--project", str(project), *args])
        assert result.exit_code == 0, result.output
        assert "9 comparisons: 4 passed, 4 failed, 1 new" in result.output
        assert "run `vizzly-tui review`" in result.output


def test_no_vizzly_folder_is_a_clear_message_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in ([], ["review"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert "No .vizzly/ folder" in result.output
        assert "Traceback" not in result.output


def test_colors_option_sets_the_environment_textual_reads():
    env: dict[str, str] = {}
    apply_colors("truecolor", env)
    assert env == {"COLORTERM": "truecolor"}
    env = {}
    apply_colors("256", env)
    assert env == {"TEXTUAL_COLOR_SYSTEM": "256"}
    apply_colors("16", env)
    assert env == {"TEXTUAL_COLOR_SYSTEM": "standard"}
    env = {}
    apply_colors("auto", env)
    assert env == {}


def test_review_opens_the_app_in_a_terminal_and_q_quits(scenario_project, tmp_path):
    project = prepare(scenario_project(SCENARIO))
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    app = PtyApp(
        [
            "--project",
            str(project),
            "review",
            "--no-mouse",
            "--colors",
            "truecolor",
            "--filter",
            "failed",
        ],
        cols=100,
        rows=30,
        env=env,
    )
    try:
        app.wait_for("failed (4)")
        app.wait_for("Profile Card")
    finally:
        status = app.quit()
    assert status == 0


def test_a_broken_config_file_is_a_notice_not_a_crash(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('default_filter = "everything"\ntheme = 3\n[keys]\naccept = ""\nz = 1\n')
    settings = load_settings(config)
    assert settings.default_filter is None and settings.theme is None
    assert settings.keymap == {}
    assert len(settings.problems) == 4
    config.write_text("not toml [")
    assert "not read" in load_settings(config).problems[0]
    assert load_settings(tmp_path / "missing.toml").problems == ()


def test_demo_in_a_terminal_ends_in_the_app(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    app = PtyApp(["demo", "--dir", str(tmp_path / "demo")], cols=100, rows=30, env=env)
    try:
        app.wait_for("7 comparisons")  # the summary is printed first
        app.wait_for("needs review (4)", timeout=30)
    finally:
        status = app.quit()
    assert status == 0


def test_demo_no_open_keeps_the_summary(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    app = PtyApp(["demo", "--dir", str(tmp_path / "demo"), "--no-open"], env=env)
    try:
        app.wait_for("Try: vizzly-tui", timeout=30)
        app.drain()
        assert "needs review" not in app.text()
    finally:
        status = app.quit()
    assert status == 0


CRASH = """
from vizzly_tui.tui.widgets import comparisons


def _crash(self, y):
    raise RuntimeError("drawing failed")


comparisons.ComparisonList.render_line = _crash
"""


def test_an_app_that_crashed_exits_non_zero(scenario_project, tmp_path):
    # A script or a CI job running the app must not read a crash as success.
    project = prepare(scenario_project(SCENARIO))
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH)
    from .app_pty import REPO_ROOT

    env = {"PYTHONPATH": f"{hook}:{REPO_ROOT}", "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    app = PtyApp(["--project", str(project), "review"], cols=100, rows=30, env=env)
    try:
        app.wait_for("drawing failed", timeout=20)
    finally:
        status = app.quit()
    assert status == 1
