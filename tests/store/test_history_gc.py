"""History keeps its images (objects/ by sha256) and `gc` removes only what nothing needs."""

from __future__ import annotations

import io
import os
import time

import pytest
from click.testing import CliRunner
from PIL import Image

from tests.storehelpers import make_project
from vizzly_tui import review
from vizzly_tui.capture import capture, start_build
from vizzly_tui.cli import main
from vizzly_tui.store import files, gc, queries_history
from vizzly_tui.store.models import Build, Comparison
from vizzly_tui.store.store import open_store


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), colour).save(out, "PNG")
    return out.getvalue()


RED, GREEN, BLUE = png((255, 0, 0)), png((0, 255, 0)), png((0, 0, 255))


@pytest.fixture
def store(tmp_path):
    s = open_store(make_project(tmp_path))
    yield s
    s.close()


def _run(store, data: bytes, name: str = "home") -> int:
    build = start_build(store, "run")
    capture(store, build.id, name, data, {})
    return Comparison.get((Comparison.build == build.id) & (Comparison.name == name)).id


def _objects(store) -> set[str]:
    return {p.name for p in store.project.objects_dir.iterdir()}


def _age_objects(store, seconds: float = 3600) -> None:
    old = time.time() - seconds
    for path in store.project.objects_dir.iterdir():
        os.utime(path, (old, old))


def test_an_older_builds_pair_is_still_shown_after_later_runs(store):
    first = _run(store, RED)  # new baseline: red
    second = _run(store, GREEN)  # failed: red vs green
    _run(store, BLUE)  # the newest build: current/ now holds blue

    images = queries_history.comparison_images(store.project, second)
    assert images.historical and images.diff is None
    assert images.baseline.read_bytes() == RED
    assert images.current.read_bytes() == GREEN
    first_images = queries_history.comparison_images(store.project, first)
    assert first_images.current.read_bytes() == RED
    newest = Comparison.select().order_by(Comparison.id.desc()).first()
    # The diff image is written just after the verdict (off the SDK's critical path).
    from vizzly_tui.engine import wait_for_diff

    assert wait_for_diff(store.project.diffs_dir / newest.file_name, timeout=30)
    now = queries_history.comparison_images(store.project, newest.id)
    assert not now.historical
    assert now.current == store.project.current_dir / newest.file_name
    assert now.current.read_bytes() == BLUE and now.diff is not None


def test_an_unchanged_screenshot_costs_nothing(store):
    _run(store, RED)
    pk = _run(store, GREEN)
    # The compared image is kept by hard link to its current/ file: no second copy.
    current = store.project.current_dir / Comparison.get_by_id(pk).file_name
    kept = store.project.object_path(files.sha256_bytes(GREEN))
    assert kept.stat().st_ino == current.stat().st_ino
    before = _objects(store)
    sizes = sum(p.stat().st_size for p in store.project.objects_dir.iterdir())
    for _ in range(3):
        _run(store, GREEN)
    assert _objects(store) == before
    assert sum(p.stat().st_size for p in store.project.objects_dir.iterdir()) == sizes


def test_gc_keeps_everything_referenced_and_removes_orphans(store):
    _run(store, RED)
    _run(store, GREEN)
    orphan = files.sha256_bytes(b"orphan")
    store.project.object_path(orphan).write_bytes(b"orphan")
    stray = store.project.objects_dir / "notes.txt"
    stray.write_text("not ours")
    _age_objects(store)

    result = gc.collect_garbage(store)

    assert result.removed_objects == 1 and result.freed_bytes == len(b"orphan")
    assert not store.project.object_path(orphan).exists()
    assert stray.exists()  # not something vizzly-tui wrote
    for sha in (files.sha256_bytes(RED), files.sha256_bytes(GREEN)):
        assert store.project.object_path(sha).exists()


def test_gc_keep_builds_drops_older_runs_but_not_baseline_versions(store):
    _run(store, RED)  # baseline version 1: red
    _run(store, GREEN)  # compared green: kept only by this build
    _run(store, BLUE)
    _age_objects(store)

    result = gc.collect_garbage(store, keep_builds=1)

    assert result.removed_builds == 2
    assert [b.uid for b in Build.select()] == [queries_history.list_builds()[0].uid]
    assert not store.project.object_path(files.sha256_bytes(GREEN)).exists()
    assert store.project.object_path(files.sha256_bytes(RED)).exists()  # baseline + version
    assert store.project.object_path(files.sha256_bytes(BLUE)).exists()
    assert result.removed_objects == 1


def test_gc_keeps_what_undo_needs_and_fresh_objects(store):
    _run(store, RED)
    _run(store, GREEN)
    review.accept(store, ["home"])  # undo would put red back
    store.call(lambda: Build.delete().where(Build.id == 1).execute())  # red's own run gone
    _age_objects(store)
    fresh = files.sha256_bytes(b"fresh")
    store.project.object_path(fresh).write_bytes(b"fresh")

    gc.collect_garbage(store, keep_builds=1)

    assert store.project.object_path(files.sha256_bytes(RED)).exists()
    assert store.project.object_path(fresh).exists()  # may belong to a row about to commit
    review.undo(store)
    baseline = store.project.baselines_dir / Comparison.get().file_name
    assert baseline.read_bytes() == RED


def test_gc_interrupted_half_way_leaves_no_row_without_its_file(store, monkeypatch):
    for colour in range(5):
        _run(store, png((colour * 40, 0, 0)))
    _age_objects(store)
    real_unlink = os.unlink
    calls = []

    def failing_unlink(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed while removing files")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(gc.os, "unlink", failing_unlink)
    with pytest.raises(KeyboardInterrupt):
        gc.collect_garbage(store, keep_builds=1)
    monkeypatch.undo()

    def missing() -> list[str]:
        needed = store.call(gc.referenced_objects)
        return [s for s in needed if not store.project.object_path(s).exists()]

    assert missing() == []
    gc.collect_garbage(store, keep_builds=1)  # the next run finishes the job
    assert missing() == []
    assert len(_objects(store)) == len(store.call(gc.referenced_objects))


def test_gc_command_says_how_much_it_freed(tmp_path):
    project = make_project(tmp_path)
    with open_store(project) as store:
        _run(store, RED)
        _run(store, GREEN)
        _run(store, BLUE)
        _age_objects(store)
    ran = CliRunner().invoke(main, ["--project", str(tmp_path), "gc", "--keep-builds", "1"])
    assert ran.exit_code == 0, ran.output
    assert "removed 2 older build(s)" in ran.output
    assert "removed 1 unreferenced image(s), freed" in ran.output
    ran = CliRunner().invoke(main, ["--project", str(tmp_path), "gc", "--keep-builds", "0"])
    assert ran.exit_code == 2 and "0 is not in the range" in ran.output


def test_without_hard_links_the_image_is_copied_into_objects(store, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError(1, "Operation not permitted")  # e.g. a filesystem without hard links

    monkeypatch.setattr(files.os, "link", no_links)
    _run(store, RED)
    pk = _run(store, GREEN)
    kept = store.project.object_path(files.sha256_bytes(GREEN))
    current = store.project.current_dir / Comparison.get_by_id(pk).file_name
    assert kept.read_bytes() == GREEN == current.read_bytes()
    assert kept.stat().st_ino != current.stat().st_ino
    assert not [p for p in store.project.current_dir.iterdir() if p.name.startswith(".vizzly-tmp")]
