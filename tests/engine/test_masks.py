"""diff_masks agrees pixel for pixel with compare_arrays' counts."""

from __future__ import annotations

import numpy as np

from vizzly_tui.engine import compare_arrays
from vizzly_tui.engine.masks import diff_masks


def test_masks_match_the_comparison_counts() -> None:
    rng = np.random.default_rng(3)
    baseline = np.full((120, 200, 4), 255, dtype=np.uint8)
    baseline[:, 50, :3] = 0  # a line whose edge shifts: anti-aliasing
    current = baseline.copy()
    current[60, 51, :3] = 128
    current[10:20, 100:130, :3] = rng.integers(0, 255, size=(10, 30, 3), dtype=np.uint8)
    current[100:104, 10:14, :3] = (0, 0, 255)
    result = compare_arrays(baseline, current)
    masks = diff_masks(baseline, current)
    assert int(masks.changed.sum()) == result.diff_pixels
    assert int(masks.antialiasing.sum()) == result.aa_pixels_ignored >= 1
    assert masks.antialiasing[60, 51] and not masks.changed[60, 51]
    assert masks.changed[100:104, 10:14].all()
    assert not (masks.changed & masks.antialiasing).any()


def test_masks_cover_only_the_common_rows() -> None:
    baseline = np.full((10, 8, 4), 255, dtype=np.uint8)
    current = np.full((14, 8, 4), 255, dtype=np.uint8)
    masks = diff_masks(baseline, current)
    assert masks.changed.shape == (10, 8) and not masks.changed.any()


def test_flat_indices_list_the_mask_pixels_in_order() -> None:
    baseline = np.full((40, 50, 4), 255, dtype=np.uint8)
    baseline[:, 20, :3] = 0
    current = baseline.copy()
    current[10, 21, :3] = 128  # anti-aliasing
    current[30:33, 5:9, :3] = 0
    masks = diff_masks(baseline, current)
    assert masks.changed_index.tolist() == np.flatnonzero(masks.changed).tolist()
    assert masks.antialiasing_index.tolist() == np.flatnonzero(masks.antialiasing).tolist()
    assert masks.antialiasing_index.size == 1
