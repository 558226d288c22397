"""Races between a live server and review commands in other processes (issue 7, defects 1-2),
reproduced deterministically: a command is paused between its pending row and its files."""

from __future__ import annotations

import pytest

from tests.damagehelpers import cli
from tests.racehelpers import in_thread, paused_cli, png, wait_until
from tests.storehelpers import make_project
from vizzly_tui import engine
from vizzly_tui.capture import capture, start_build
from vizzly_tui.store import decisions, files
from vizzly_tui.store.models import Comparison, Decision
from vizzly_tui.store.store import open_store

RED, BLUE, GREEN = (200, 0, 0), (0, 0, 200), (0, 160, 0)


def _watch_project_lock(monkeypatch) -> dict[str, bool]:
    """Record when this process is about to take, and holds, the project lock."""
    seen = {"locking": False, "held": False}
    original = decisions.project_lock

    class Watched:
        def __init__(self, project, **kwargs):
            self.lock = original(project, **kwargs)

        def acquire(self):
            seen["locking"] = True
            self.lock.acquire()
            seen["held"] = True

        def release(self):
            seen["held"] = False
            self.lock.release()

        def __enter__(self):
            self.acquire()
            return self

        def __exit__(self, *exc):
            self.release()

    def watched(project, **kwargs):
        return Watched(project, **kwargs)

    monkeypatch.setattr(decisions, "project_lock", watched)
    return seen


def test_a_screenshot_recorded_during_a_cli_accept_never_ends_passed_against_another_image(
    tmp_path, monkeypatch
):
    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "serve")
    capture(store, build.id, "home", png(RED))  # the baseline
    assert capture(store, build.id, "home", png(BLUE)).status == "failed"

    # `vizzly-tui accept home` stops between its pending row and its baseline write...
    child = paused_cli(tmp_path / "flags", tmp_path, "accept", "accept", "home")
    wait_until(lambda: (tmp_path / "flags" / "paused").exists() or child.poll() is not None)
    assert child.poll() is None, child.communicate()
    # ...while the server records a newer version of the same screenshot.
    seen = _watch_project_lock(monkeypatch)
    thread, box = in_thread(lambda: capture(store, build.id, "home", png(GREEN)))
    wait_until(lambda: box.get("done") or seen["locking"])
    (tmp_path / "flags" / "go").touch()
    _out, err = child.communicate(timeout=60)
    thread.join(60)
    assert child.returncode == 0, err
    assert "error" not in box, box.get("error")

    row = Comparison.get(Comparison.name == "home")
    current = (project.current_dir / row.file_name).read_bytes()
    baseline = (project.baselines_dir / row.file_name).read_bytes()
    assert baseline == png(BLUE)  # what the user accepted
    assert current == png(GREEN)  # the newer screenshot
    # The newer screenshot was compared against the accepted baseline, not the old one.
    assert row.status == "failed"
    assert row.current_sha256 == files.sha256_bytes(current)
    store.close()


def test_a_command_started_while_the_server_records_a_screenshot_leaves_that_capture_alone(
    tmp_path, monkeypatch
):
    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "serve")
    seen = _watch_project_lock(monkeypatch)
    reached, gate = [], []
    original = decisions.apply_files

    def paused(project, decision, *, forward=True):
        if decision.action == "capture" and forward:
            reached.append(True)
            wait_until(lambda: gate)
        return original(project, decision, forward=forward)

    monkeypatch.setattr(decisions, "apply_files", paused)
    thread, box = in_thread(lambda: capture(store, build.id, "home", png(RED)))
    wait_until(lambda: reached)  # the capture's pending row is committed, its file not yet

    flags = tmp_path / "flags"
    child = paused_cli(flags, tmp_path, "none", "status")
    # Either the command ran (and judged the live capture) or it waits for the capture.
    wait_until(lambda: child.poll() is not None or ((flags / "locking").exists() and seen["held"]))
    gate.append(True)
    out, err = child.communicate(timeout=60)
    thread.join(60)
    assert child.returncode == 0, err
    assert "interrupted" not in out + err
    assert box["result"].status == "new"
    decision = Decision.get(Decision.action == "capture")
    assert decision.state == "done"
    [baseline] = project.baselines_dir.glob("home_*.png")
    assert baseline.read_bytes() == png(RED)
    store.close()


def test_accept_all_racing_captures_accepts_what_was_listed_and_compares_the_rest_again(
    tmp_path, monkeypatch
):
    import json

    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "serve")
    names = ["shot-0", "shot-1", "shot-2"]
    for name in names:
        capture(store, build.id, name, png(RED))
        assert capture(store, build.id, name, png(BLUE)).status == "failed"

    flags = tmp_path / "flags"
    child = paused_cli(flags, tmp_path, "accept", "accept", "--all", "--json")
    wait_until(lambda: (flags / "paused").exists() or child.poll() is not None)
    assert child.poll() is None, child.communicate()
    # While shot-0's accept is half-way, the server records shot-0 again...
    seen = _watch_project_lock(monkeypatch)
    thread0, box0 = in_thread(lambda: capture(store, build.id, "shot-0", png(GREEN)))
    wait_until(lambda: box0.get("done") or seen["locking"])
    # ...and shot-2's new screenshot is being compared (not yet recorded) when the accept
    # gets there. Its current/ file is written only with its row, under the lock, so the
    # accept sees shot-2 as listed and accepts what the user reviewed (BLUE).
    comparing, gate = [], []
    original_compare = engine.compare_bytes

    def slow_compare(baseline, current, **kwargs):
        if current == png(GREEN) and not comparing:
            comparing.append(True)
            wait_until(lambda: gate)
        return original_compare(baseline, current, **kwargs)

    monkeypatch.setattr(engine, "compare_bytes", slow_compare)
    thread2, _ = in_thread(lambda: capture(store, build.id, "shot-2", png(GREEN)))
    wait_until(lambda: comparing)
    (flags / "go").touch()
    out, err = child.communicate(timeout=60)
    gate.append(True)
    thread0.join(60)
    thread2.join(60)

    assert child.returncode == 0, err
    report = json.loads(out)
    assert [i["name"] for i in report["items"]] == ["shot-0", "shot-1", "shot-2"]
    rows = {c.name: c for c in Comparison.select()}
    for name in names:
        assert (project.baselines_dir / rows[name].file_name).read_bytes() == png(BLUE)
    # Every passed comparison's baseline is its current image; nothing is left pending.
    for row in rows.values():
        if row.status == "passed":
            baseline = (project.baselines_dir / row.file_name).read_bytes()
            assert baseline == (project.current_dir / row.file_name).read_bytes(), row.name
    assert rows["shot-0"].status == "failed"  # GREEN against the accepted BLUE
    # GREEN, compared against RED while the accept ran, was compared again against BLUE.
    assert rows["shot-2"].status == "failed"
    assert (project.current_dir / rows["shot-2"].file_name).read_bytes() == png(GREEN)
    assert not Decision.select().where(Decision.state == "pending").exists()
    store.close()


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_accept_killed_half_way_then_captured_again_settles_to_match_the_capture(tmp_path, when):
    """kill -9 between an accept's pending row and its file (or its file and `done`), then
    the server records a newer screenshot, then any command recovers: the newer result was
    compared against the baseline file as the crash left it, so that file is kept."""
    import os
    import signal

    from vizzly_tui.store.models import Baseline

    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "serve")
    capture(store, build.id, "home", png(RED))
    capture(store, build.id, "home", png(BLUE))
    flags = tmp_path / "flags"
    child = paused_cli(flags, tmp_path, f"accept:{when}", "accept", "home")
    wait_until(lambda: (flags / "paused").exists() or child.poll() is not None)
    assert child.poll() is None, child.communicate()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    left = png(BLUE) if when == "after" else png(RED)
    assert capture(store, build.id, "home", png(GREEN)).status == "failed"
    store.close()

    result = cli(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    assert "captured again since" in result.stderr
    with open_store(project, write=False):
        row = Comparison.get(Comparison.name == "home")
        baseline = project.baselines_dir / row.file_name
        assert baseline.read_bytes() == left
        assert Baseline.get(Baseline.signature == row.signature).sha256 == files.sha256_bytes(left)
        assert row.status == "failed"
        assert not Decision.select().where(Decision.state == "pending").exists()
