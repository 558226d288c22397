"""Cluster navigation, zoom and pan geometry, and the pixel inspector."""

from __future__ import annotations

import numpy as np

from vizzly_tui.picture import (
    View,
    cluster_view,
    describe_cluster,
    fit,
    next_cluster,
    pair_from_arrays,
    pan,
    pixel_info,
    zoom_step,
)


def _pair_with_blocks(boxes: list[tuple[int, int, int, int]]):
    baseline = np.full((720, 1280, 4), 255, dtype=np.uint8)
    current = baseline.copy()
    for x, y, w, h in boxes:
        current[y : y + h, x : x + w, :3] = 0
    return pair_from_arrays(baseline, current)


def test_n_visits_every_cluster_in_order_and_wraps() -> None:
    boxes = [(100, 50, 40, 30), (900, 600, 20, 10), (600, 300, 10, 10)]
    pair = _pair_with_blocks(boxes)
    # The engine orders clusters largest first.
    assert pair.clusters == ((100, 50, 40, 30), (900, 600, 20, 10), (600, 300, 10, 10))
    view = fit(1280, 720, 160, 88)
    index, seen = None, []
    for _ in range(4):
        index = next_cluster(index, len(pair.clusters), +1)
        view = cluster_view(view, pair, index)
        seen.append((index, describe_cluster(pair, index)))
        x, y, w, h = pair.clusters[index]
        assert view.scale == 1.0
        # Centred (or as close as the image edge allows), and the whole box is visible.
        assert view.x0 <= x and x + w <= view.x0 + 160
        assert view.y0 <= y and y + h <= view.y0 + 88
    assert [i for i, _ in seen] == [0, 1, 2, 0]
    assert seen[1][1] == "cluster 2/3  box 900,600 20x10"
    # N goes backwards, wrapping from the first to the last.
    assert next_cluster(0, 3, -1) == 2
    assert next_cluster(None, 3, -1) == 2
    assert next_cluster(None, 0, +1) is None


def test_cluster_view_centres_the_box() -> None:
    pair = _pair_with_blocks([(600, 300, 10, 10)])
    view = cluster_view(fit(1280, 720, 160, 88), pair, 0)
    assert (view.x0, view.y0) == (605 - 80, 305 - 44)


def test_zoom_steps_keep_the_centre_and_pan_stays_on_the_image() -> None:
    view = View(1.0, 400.0, 200.0, 160, 88)
    inside = zoom_step(view, +1, 1280, 720)
    assert inside.scale == 2.0
    assert inside.x0 + 40 == 480 and inside.y0 + 22 == 244
    out = zoom_step(view, -1, 1280, 720)
    assert out.scale == 2 / 3
    for _ in range(50):
        view = pan(view, +1, +1, 1280, 720)
    assert (view.x0, view.y0) == (1280 - 160, 720 - 88)
    for _ in range(50):
        view = pan(view, -1, -1, 1280, 720)
    assert (view.x0, view.y0) == (0, 0)


def test_fit_shows_the_whole_image_centred() -> None:
    view = fit(1280, 720, 160, 88)
    win_w, win_h = view.window
    assert win_w >= 1280 and abs(win_h - 720) < 1e-6
    assert abs(view.x0 + win_w / 2 - 640) < 1e-6
    small = fit(16, 8, 160, 88)
    assert small.scale == 8.0  # whole-step magnification, capped


def test_pixel_inspector_reports_both_colours_and_delta_e() -> None:
    pair = _pair_with_blocks([(10, 10, 2, 2)])
    info = pixel_info(pair, 10, 10)
    assert info.baseline == (255, 255, 255) and info.current == (0, 0, 0)
    assert abs(info.delta_e - 100.0) < 0.5  # white vs black is ΔE2000 100
    assert info.describe() == ("pixel 10,10  baseline #ffffff  current #000000  ΔE2000 100.00")
    same = pixel_info(pair, 0, 0)
    assert same.delta_e == 0.0
    outside = pixel_info(pair, 5000, 0)
    assert outside.baseline is None and outside.delta_e is None
