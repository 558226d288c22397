"""Hostile sequences against the engine: races between diff writes of the same screenshot."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vizzly_tui.engine import compare as compare_module
from vizzly_tui.engine import compare_arrays, wait_for_diff

from .helpers import ui_like


def _red(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        rgba = np.asarray(image.convert("RGBA"))
    return (rgba[..., 3] == 255) & (rgba[..., 0] == 255) & (rgba[..., 1] == 0)


def test_an_older_background_diff_never_replaces_a_newer_foreground_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A burst fills the background queue (or a big frame): the next comparison of the same
    # screenshot writes its diff before returning. The older queued image must not land later
    # on top of it, or the reviewer sees changes the current screenshot does not have.
    base = ui_like(120, 80)
    old, new = base.copy(), base.copy()
    old[5:10, 5:15] = (0, 0, 200, 255)
    new[50:60, 60:90] = (0, 0, 200, 255)
    release, started = threading.Event(), threading.Event()
    real_render = compare_module.render_diff
    calls = []

    def render_first_slowly(*args: object, **kwargs: object):
        calls.append(1)
        if len(calls) == 1:
            started.set()
            assert release.wait(10)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(compare_module, "render_diff", render_first_slowly)
    out = tmp_path / "diffs" / "card.png"
    compare_arrays(base, old, diff_path=out, background_diff=True)
    assert started.wait(10)
    compare_arrays(base, new, diff_path=out, background_diff=False)
    assert _red(out)[50:60, 60:90].all()
    release.set()
    assert wait_for_diff(out, timeout=10)
    red = _red(out)
    assert red[50:60, 60:90].all() and not red[5:10, 5:15].any()
    assert [p.name for p in out.parent.iterdir()] == ["card.png"]
