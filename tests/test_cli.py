"""The command line as a user and a script see it: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from vizzly_tui.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_version_and_help():
    assert "vizzly-tui, version" in run("--version").output
    help_text = run("--help").output
    for command in ("status", "accept", "reject", "delete", "reset", "undo", "db", "config"):
        assert command in help_text


def test_demo_prints_a_summary_with_changes(tmp_path):
    result = run("demo", "--dir", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    assert "7 comparisons: 3 passed, 3 failed, 1 new" in result.output
    status = json.loads(run("--project", tmp_path / "demo", "status", "--json").output)
    failed = {c["name"] for c in status["comparisons"] if c["status"] == "failed"}
    assert failed == {"login", "checkout", "pricing"}
    # Running the demo again recreates its own project instead of piling up.
    again = run("demo", "--dir", tmp_path / "demo")
    assert again.exit_code == 0
    assert "7 comparisons" in again.output


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    result = run("demo", "--dir", tmp_path)
    assert result.exit_code == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_status_json_on_an_imported_vizzly_project(scenario_project):
    project = scenario_project("scenario-c1-accept-reject")
    result = run("--project", project, "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stderr notes the fixture's dead server.json, removed
    assert data["summary"] == {
        "total": 9,
        "passed": 5,
        "failed": 2,
        "new": 1,
        "rejected": 1,
        "errors": 0,
    }
    assert data["build"]["kind"] == "import"
    row = data["comparisons"][0]
    for key in ("id", "name", "signature", "status", "diffPercentage", "properties"):
        assert key in row


def test_accept_then_undo_from_the_command_line(scenario_project):
    project = scenario_project("scenario-b-second-run")
    vizzly = project / ".vizzly"
    rows = json.loads(run("--project", project, "status", "--json").stdout)["comparisons"]
    target = next(r for r in rows if r["status"] == "failed" and r["reason"] == "pixel-diff")
    file_name = target["current"].rsplit("/", 1)[-1]
    before = (vizzly / "baselines" / file_name).read_bytes()

    accepted = run("--project", project, "accept", target["id"], "--json")
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.output)["count"] == 1
    assert (vizzly / "baselines" / file_name).read_bytes() == (
        vizzly / "current" / file_name
    ).read_bytes()

    undone = run("--project", project, "undo")
    assert undone.exit_code == 0
    assert "Undid 1" in undone.output
    assert (vizzly / "baselines" / file_name).read_bytes() == before
    log = run("--project", project, "log", "--json")
    assert [r["action"] for r in json.loads(log.output)] == ["undo", "accept"]


def test_reset_without_a_terminal_needs_yes(scenario_project):
    project = scenario_project("scenario-a-first-run")
    result = run("--project", project, "reset")
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert run("--project", project, "reset", "--yes").exit_code == 0
    assert list((project / ".vizzly" / "baselines").glob("*.png")) == []


def test_db_status_reports_the_legacy_import(scenario_project):
    project = scenario_project("scenario-d2-oauth-download-hotspots-regions")
    before = json.loads(run("--project", project, "db", "status", "--json").output)
    assert before["exists"] is False and before["pending"] == [
        "001_initial",
        "002_priority_regions",
    ]
    run("--project", project, "status")
    after = json.loads(run("--project", project, "db", "status", "--json").output)
    assert after["applied"] == ["001_initial", "002_priority_regions"] and after["pending"] == []
    assert after["legacyImport"]["imported"] == {
        "baseline-metadata.json": 1,
        "baselines/metadata.json": 6,
        "report-data.json": 6,
        "comparison-details.json": 5,
        "hotspots.json": 3,
        "regions.json": 3,
    }
    assert after["legacyImport"]["skipped"] == []
    text = run("--project", project, "db", "status").output
    assert "schema version: 2" in text


def test_compare_exit_codes(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("RGB", (64, 64), "white").save(a)
    changed = Image.new("RGB", (64, 64), "white")
    changed.paste((255, 0, 0), (10, 10, 30, 30))
    changed.save(b)
    assert run("compare", a, a).exit_code == 0
    different = run("compare", a, b, "--json", "--diff", tmp_path / "d.png")
    assert different.exit_code == 1
    assert json.loads(different.output)["diffPixels"] == 400
    assert (tmp_path / "d.png").exists()
    wide = tmp_path / "wide.png"
    Image.new("RGB", (80, 64), "white").save(wide)
    mismatch = run("compare", a, wide, "--json")
    assert mismatch.exit_code == 1
    assert json.loads(mismatch.output)["reason"] == "dimension-mismatch"
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert run("compare", a, tmp_path / "bad.png").exit_code == 2


def test_config_shows_sources(tmp_path, monkeypatch):
    (tmp_path / ".vizzly").mkdir()
    (tmp_path / "vizzly.toml").write_text("threshold = 0\n")
    monkeypatch.setenv("VIZZLY_PORT", "50000")
    data = json.loads(run("--project", tmp_path, "config", "--json").output)["settings"]
    assert data["threshold"] == {"value": 0.0, "source": "vizzly.toml"}
    assert data["port"]["source"] == "env VIZZLY_PORT"
    bad = run("--project", tmp_path, "config", "--threshold", "-1")
    assert bad.exit_code == 2


def test_config_in_a_legacy_project_imports_it_once(scenario_project):
    project = scenario_project("scenario-a-first-run")
    assert run("--project", project, "config").exit_code == 0
    assert (project / ".vizzly" / "state.db").exists()


def test_compare_refuses_a_diff_path_that_is_not_a_regular_file(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("RGB", (8, 8), "white").save(a)
    Image.new("RGB", (8, 8), "black").save(b)
    for target in (tmp_path, tmp_path / "missing" / "d.png", Path("/dev/null")):
        result = run("compare", a, b, "--diff", target)
        assert result.exit_code == 2, (target, result.output)
    assert Path("/dev/null").is_char_device()
    assert not (tmp_path / "missing").exists()


def test_text_output_never_carries_escape_sequences_from_properties(tmp_path):
    import io

    from vizzly_tui import capture
    from vizzly_tui.project import Project
    from vizzly_tui.store.store import open_store

    (tmp_path / ".vizzly").mkdir()
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(out, "PNG")
    # An SDK passes property values through: OSC 52 sets the clipboard of the terminal
    # that prints it, OSC 0 its title.
    hostile = {"browser": "clip\x1b]52;c;cHduZWQ=\x07", "device": "t\x1b]0;pwned\x07"}
    with open_store(Project(tmp_path)) as store:
        build = capture.start_build(store, "run")
        capture.capture(store, build.id, "page", out.getvalue(), hostile)
        capture.finish_build(store, build.id)
    for command in (["status"], ["accept", "page"], ["log"], ["undo"]):
        result = run("--project", tmp_path, *command)
        assert result.exit_code == 0, result.output
        assert "clip" in result.output or command in (["log"], ["undo"])
        assert "\x1b" not in result.output and "\x07" not in result.output, command
