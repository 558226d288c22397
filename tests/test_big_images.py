"""Issue 7, defect 9 (the server's part): at most one comparison above 10 megapixels runs at
a time, while small screenshots keep being compared beside it."""

from __future__ import annotations

import io
import threading

from PIL import Image

from tests.racehelpers import in_thread, png, wait_until
from tests.storehelpers import make_project
from vizzly_tui import capture as capture_module
from vizzly_tui import engine
from vizzly_tui.capture import capture, start_build
from vizzly_tui.store.store import open_store

BIG = (4000, 2600)  # 10.4 megapixels


def same_pixels_other_bytes(size: tuple[int, int]) -> bytes:
    """The baseline's pixels in different PNG bytes: a full comparison that finds nothing."""
    out = io.BytesIO()
    Image.new("RGB", size, (250, 250, 250)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def test_one_big_comparison_at_a_time_small_ones_beside_it(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    store = open_store(project)
    build = start_build(store, "serve")
    for name in ("big-a", "big-b"):
        capture(store, build.id, name, png((250, 250, 250), BIG))
    capture(store, build.id, "small", png((250, 250, 250)))

    real = engine.compare_bytes
    active = {"big": 0, "most": 0, "small_done": False}
    guard = threading.Lock()
    gate = threading.Event()

    def watched(baseline, current, **kwargs):
        if len(current) > 10_000:  # the big screenshots (the small one is a few hundred bytes)
            with guard:
                active["big"] += 1
                active["most"] = max(active["most"], active["big"])
            gate.wait(60)
            with guard:
                active["big"] -= 1
        return real(baseline, current, **kwargs)

    # capture imports the engine where it first needs it, so patch it at the source.
    monkeypatch.setattr(engine, "compare_bytes", watched)
    limiter = getattr(capture_module, "BIG_COMPARISONS", None)
    threads = [
        in_thread(lambda n=name: capture(store, build.id, n, same_pixels_other_bytes(BIG)))
        for name in ("big-a", "big-b")
    ]
    # Both big comparisons started, or one runs and the other waits for the slot.
    wait_until(
        lambda: (
            active["most"] == 2
            or (active["big"] == 1 and limiter is not None and limiter.waiting == 1)
        )
    )
    # A small screenshot is not held up by the big one.
    assert capture(store, build.id, "small", png((0, 0, 0))).status == "failed"
    gate.set()
    for thread, box in threads:
        thread.join(120)
        assert box["result"].status == "passed"
    assert active["most"] == 1
    store.close()
