"""The path of one screenshot: new baselines are crash-safe and are not review decisions."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.storehelpers import make_project
from vizzly_tui import engine, review
from vizzly_tui.capture import capture, start_build
from vizzly_tui.errors import NotFound
from vizzly_tui.store import decisions, files
from vizzly_tui.store.bootstrap import ensure_schema
from vizzly_tui.store.models import Baseline, Comparison, Decision
from vizzly_tui.store.store import open_store


def png(colour=(255, 255, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def test_a_crash_between_rows_and_baseline_file_is_finished_by_the_next_start(
    tmp_path, monkeypatch
):
    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "run")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between the commit and the file")

    monkeypatch.setattr(decisions, "apply_files", crash)
    with pytest.raises(KeyboardInterrupt):
        capture(store, build.id, "home", png(), {})
    store.close()
    monkeypatch.undo()
    baseline_files = list(project.baselines_dir.glob("home_*.png"))
    assert baseline_files == []  # the crash left rows that claim a file not yet written

    report = ensure_schema(project)  # what any next command does first
    assert any("capture" in line for line in report.recovered)
    [written] = project.baselines_dir.glob("home_*.png")
    assert written.read_bytes() == png()
    store = open_store(project, write=False)
    assert Baseline.get().sha256 == files.sha256_bytes(png())
    assert Decision.get().state == "done"
    store.close()


def test_new_baselines_are_not_in_the_log_and_cannot_be_undone(tmp_path):
    project = make_project(tmp_path)
    with open_store(project) as store:
        build = start_build(store, "run")
        result = capture(store, build.id, "home", png(), {})
        assert result.status == "new"
        assert Comparison.get().status == "new"
        assert review.history() == []
        with pytest.raises(NotFound, match="nothing to undo"):
            review.undo(store)
        again = capture(store, build.id, "home", png((250, 0, 0)), {})
        assert again.status == "failed"
        assert Comparison.select().count() == 1  # re-sent in the same build: replaced
        assert Comparison.get().initial_status == "new"


def _sha(path) -> str:
    return files.sha256_file(path)


def test_concurrent_captures_of_one_signature_keep_rows_and_files_in_step(tmp_path):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    project = make_project(tmp_path)
    images = [png((i * 30, 0, 255 - i * 30)) for i in range(8)]
    with open_store(project) as store, ThreadPoolExecutor(8) as pool:
        build = start_build(store, "serve")
        for round_ in range(6):
            name = f"shot{round_}"
            barrier = threading.Barrier(8)

            def go(image, name=name, barrier=barrier):
                barrier.wait()
                return capture(store, build.id, name, image, {})

            list(pool.map(go, images))
            baseline = Baseline.get(Baseline.name == name)
            assert baseline.sha256 == _sha(project.baselines_dir / baseline.file_name)
            comparison = Comparison.get(Comparison.name == name)
            assert comparison.current_sha256 == _sha(project.current_dir / comparison.file_name)


def test_an_accept_during_a_slow_compare_is_not_overwritten(tmp_path, monkeypatch):
    import threading
    import time

    # capture imports the engine's functions when it runs (start-up cost), so patch them there.

    project = make_project(tmp_path)
    first, changed = png(), png((255, 0, 0))
    with open_store(project) as store:
        build = start_build(store, "serve")
        capture(store, build.id, "home", first, {})
        assert capture(store, build.id, "home", changed, {}).status == "failed"
        real = engine.compare_bytes

        def slow(*args, **kwargs):
            result = real(*args, **kwargs)
            time.sleep(0.4)  # a large screenshot takes this long
            return result

        monkeypatch.setattr(engine, "compare_bytes", slow)
        outcome = {}
        worker = threading.Thread(
            target=lambda: outcome.update(r=capture(store, build.id, "home", changed, {}))
        )
        worker.start()
        time.sleep(0.15)
        assert review.accept(store, ["home"]).count == 1
        worker.join()
        comparison = Comparison.get()
        assert outcome["r"].status == "passed"  # compared again against the accepted baseline
        assert comparison.status == "passed"
        base = project.baselines_dir / comparison.file_name
        assert base.read_bytes() == (project.current_dir / comparison.file_name).read_bytes()


def test_a_failed_baseline_write_changes_nothing(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    with open_store(project) as store:
        build = start_build(store, "run")

        real = decisions.apply_files

        def disk_full(project, decision, *, forward=True):
            if forward:
                raise OSError(28, "No space left on device")
            return real(project, decision, forward=forward)

        monkeypatch.setattr(decisions, "apply_files", disk_full)
        with pytest.raises(OSError, match="No space left"):
            capture(store, build.id, "home", png(), {})
        assert Baseline.select().count() == 0
        assert Decision.get().state == "rolled-back"
        assert list(project.baselines_dir.glob("*.png")) == []
