"""Building blocks checked against straightforward references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage

from vizzly_tui.engine.clusters import find_clusters
from vizzly_tui.engine.colour import delta_e_rgba
from vizzly_tui.engine.compare import _intensity_stats, compare_arrays
from vizzly_tui.engine.windows import row_bands

from .helpers import ui_like


def random_mask(height: int, width: int, density: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = rng.random((height, width)) < density
    mask[rng.integers(0, height) :, :3] = False  # some empty stretches
    return mask


@pytest.mark.parametrize("density", [0.001, 0.05, 0.4, 0.9])
def test_clusters_match_a_full_frame_label(density: float) -> None:
    mask = random_mask(90, 130, density, seed=int(density * 1000))
    ys, xs = (a.astype(np.int32) for a in np.nonzero(mask))
    intensity = (np.arange(ys.size) % 256).astype(np.uint8)
    table = find_clusters(mask, ys, xs, intensity)

    labelled, count = ndimage.label(mask, structure=np.ones((3, 3)))
    assert len(table) == count
    expected_sizes = np.bincount(labelled[mask], minlength=count + 1)[1:]
    # Compare as sets of (size, centre, box) since label numbering may differ.
    ours = sorted(
        zip(
            table.sizes.tolist(),
            np.round(table.mean_x, 6).tolist(),
            np.round(table.mean_y, 6).tolist(),
            table.x0.tolist(),
            table.y0.tolist(),
            table.x1.tolist(),
            table.y1.tolist(),
            np.round(table.mean_intensity, 6).tolist(),
            strict=True,
        )
    )
    reference = []
    for label, (rows, cols) in enumerate(ndimage.find_objects(labelled), start=1):
        member = labelled == label
        py, px = np.nonzero(member)
        reference.append(
            (
                int(expected_sizes[label - 1]),
                round(float(px.mean()), 6),
                round(float(py.mean()), 6),
                cols.start,
                rows.start,
                cols.stop,
                rows.stop,
                round(float(intensity[member[mask]].mean()), 6),
            )
        )
    assert ours == sorted(reference)


def test_row_bands_cover_every_point_once() -> None:
    mask = random_mask(200, 50, 0.01, seed=3)
    ys, xs = (a.astype(np.int32) for a in np.nonzero(mask))
    windows = row_bands(ys, xs, 200, 50, margin=2, max_gap=8)
    covered = np.zeros(ys.size, dtype=int)
    for win in windows:
        covered[win.start : win.stop] += 1
        wy, wx = ys[win.start : win.stop], xs[win.start : win.stop]
        # The points' bounding box grown by the margin, clipped to the image.
        assert (win.y0, win.y1) == (max(int(wy.min()) - 2, 0), min(int(wy.max()) + 3, 200))
        assert (win.x0, win.x1) == (max(int(wx.min()) - 2, 0), min(int(wx.max()) + 3, 50))
    assert (covered == 1).all()
    # Consecutive windows are separated by more than max_gap rows of points.
    for left, right in itertools.pairwise(windows):
        assert ys[right.start] - ys[left.stop - 1] > 8


def test_intensity_stats_match_numpy() -> None:
    rng = np.random.default_rng(8)
    for size, extra in [(1, 0), (2, 0), (7, 0), (1000, 0), (10, 5), (0, 4)]:
        values = rng.integers(0, 256, size).astype(np.uint8)
        stats = _intensity_stats(values, extra)
        everything = np.concatenate([values, np.full(extra, 255)]).astype(float)
        assert stats is not None
        assert stats.max == everything.max() and stats.min == everything.min()
        assert stats.mean == pytest.approx(everything.mean())
        assert stats.median == pytest.approx(float(np.median(everything)))
        assert stats.std_dev == pytest.approx(everything.std())
    assert _intensity_stats(np.empty(0, np.uint8), 0) is None


@pytest.mark.parametrize("threshold", [0.0, 1.0, 2.0, 5.0])
def test_changed_pixels_are_exactly_those_above_the_threshold(threshold: float) -> None:
    first = ui_like(120, 80, seed=1)
    rng = np.random.default_rng(int(threshold * 10))
    noise = rng.integers(-6, 7, first.shape)
    noise[..., 3] = 0
    second = np.clip(
        first.astype(int) + noise * (rng.random(first.shape[:2]) < 0.3)[..., None], 0, 255
    )
    second = second.astype(np.uint8)
    result = compare_arrays(
        first, second, threshold=threshold, antialiasing=False, min_cluster_size=1
    )
    flat_a = first.reshape(-1, 4)
    flat_b = second.reshape(-1, 4)
    exact = delta_e_rgba(flat_a, flat_b)
    assert result.diff_pixels == int((exact > threshold).sum())
    assert result.aa_pixels_ignored == 0


def test_translucent_pixels_are_compared_as_seen_on_white() -> None:
    first = np.zeros((10, 10, 4), np.uint8)  # fully transparent black
    second = np.zeros((10, 10, 4), np.uint8)
    second[..., :3] = 200  # fully transparent grey: looks identical
    assert compare_arrays(first, second).diff_pixels == 0
    second[2:4, 2:4, 3] = 255  # now opaque grey on a transparent (white) page
    assert compare_arrays(first, second).diff_pixels == 4
