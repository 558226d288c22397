"""Undo and recovery when the world moved on: re-sent screenshots, deleted links, crashes."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest
from PIL import Image, ImageDraw

from tests.storehelpers import make_project
from vizzly_tui import review
from vizzly_tui.capture import capture, start_build
from vizzly_tui.errors import NotFound
from vizzly_tui.store.bootstrap import ensure_schema
from vizzly_tui.store.models import Comparison, Decision
from vizzly_tui.store.store import open_store


def png(block=None) -> bytes:
    image = Image.new("RGB", (200, 100), (250, 250, 250))
    if block:
        ImageDraw.Draw(image).rectangle((120, 40, 160, 60), fill=block)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


A, B, C = png(), png((255, 0, 0)), png((0, 0, 255))


@pytest.fixture
def served(tmp_path):
    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "serve")
    yield project, store, build
    store.close()


def _folder(project, name):
    return sorted(p.name for p in (project.vizzly_dir / name).glob("*.png"))


def test_undo_of_a_reset_after_a_rerun_is_refused_without_touching_files(served):
    project, store, build = served
    capture(store, build.id, "a", A, {})
    capture(store, build.id, "b", A, {})
    review.reset(store)
    capture(store, build.id, "a", B, {})  # the tests run again
    capture(store, build.id, "b", B, {})
    before = {f: _folder(project, f) for f in ("baselines", "current")}
    result = review.undo(store)
    assert [i["name"] for i in result.items] == [None]  # only the reset's settings row
    assert [s["name"] for s in result.skipped] == ["b", "a"]
    assert all("captured again after it was removed" in s["reason"] for s in result.skipped)
    assert {f: _folder(project, f) for f in ("baselines", "current")} == before
    assert Comparison.select().count() == 2
    assert Decision.select().where(Decision.state == "pending").count() == 0


def test_undo_of_an_accept_after_a_resend_is_refused(served):
    _, store, build = served
    capture(store, build.id, "home", A, {})
    capture(store, build.id, "home", B, {})
    review.accept(store, ["home"])
    capture(store, build.id, "home", A, {})  # re-sent: compared against the accepted B
    result = review.undo(store)
    assert result.items == [] and "captured again after this accept" in result.skipped[0]["reason"]
    assert Comparison.get().status == "failed"  # the newer result stands
    # Set aside: a further undo does not stop at it again (it goes on to older decisions).
    with pytest.raises(NotFound, match="nothing to undo"):
        review.undo(store)


def test_an_undo_never_sticks_on_a_decision_whose_screenshot_was_captured_again(served):
    # Found by the hostile review of issue 7: reject one, accept --all, one screenshot sent
    # again; every later undo used to fail ("cannot undo: ... captured again") for ever.
    project, store, build = served
    for name in ("one", "two", "three"):
        capture(store, build.id, name, A, {})
        capture(store, build.id, name, B, {})
    review.reject(store, ["one"])
    review.accept(store, [], all_=True)  # two and three
    capture(store, build.id, "three", C, {})  # three is sent again
    first = review.undo(store)  # undoes the accept of two, sets three's aside
    assert [i["name"] for i in first.items] == ["two"]
    assert [s["name"] for s in first.skipped] == ["three"]
    assert (project.baselines_dir / Comparison.get(name="two").file_name).read_bytes() == A
    assert (project.baselines_dir / Comparison.get(name="three").file_name).read_bytes() == B
    second = review.undo(store)  # goes on to the reject before it
    assert [i["undid"] for i in second.items] == ["reject"]
    assert Comparison.get(name="one").status == "failed"
    assert Decision.get(Decision.state == "superseded").name == "three"


def test_undo_chain_accept_delete_restores_the_comparison_status(served):
    project, store, build = served
    capture(store, build.id, "home", A, {})
    capture(store, build.id, "home", B, {})
    review.accept(store, ["home"])
    review.delete(store, ["home"])
    assert [i["undid"] for i in review.undo(store).items] == ["delete"]
    assert [i["undid"] for i in review.undo(store).items] == ["accept"]
    comparison = Comparison.get()
    assert comparison.status == "failed" and comparison.diff is not None
    baseline = project.baselines_dir / comparison.file_name
    assert baseline.read_bytes() == A
    assert (project.current_dir / comparison.file_name).read_bytes() == B


def test_a_crashed_undo_never_blocks_later_starts_or_destroys_newer_files(served):
    project, store, build = served
    capture(store, build.id, "home", A, {})
    capture(store, build.id, "home", B, {})
    review.delete(store, ["home"])
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from vizzly_tui import review
        from vizzly_tui.project import Project
        from vizzly_tui.store import decisions
        from vizzly_tui.store.store import open_store
        decisions.apply_files = lambda *a, **k: os._exit(9)  # killed after the pending row
        review.undo(open_store(Project(Path({str(project.root)!r}))))
        """
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert Decision.select().where(Decision.state == "pending").count() == 1
    assert capture(store, build.id, "home", C, {}).status == "new"  # the server gets it again
    report = ensure_schema(project)  # what every next command does first
    assert any("rolled back" in line for line in report.recovered)
    assert ensure_schema(project).recovered == []  # settled once, not again and again
    comparison = Comparison.get()
    assert (project.current_dir / comparison.file_name).read_bytes() == C
    assert (project.baselines_dir / comparison.file_name).read_bytes() == C
