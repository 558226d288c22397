"""diff_masks agrees pixel for pixel with compare_arrays' counts."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

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


def _pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pairs whose counts exercise every path of the comparison's scan."""
    from .helpers import text_image, ui_like

    text = text_image("Pricing plans for teams of every size", width=420, height=40)
    shifted = text_image("Pricing plans for teams of every size", offset_quarter_px=1, width=420)
    edited = text_image("Pricing plans for teams of any size", width=420, height=40)
    page = ui_like(300, 200)
    taller = np.concatenate([ui_like(300, 200, seed=4), page[:37]], axis=0)
    inverted = page.copy()
    inverted[..., :3] = 255 - inverted[..., :3]  # everything changed: the dense path
    # Several stripes of rows (compare and masks scan a million pixels at a time).
    long_base = np.tile(ui_like(64, 400), (45, 1, 1))
    long_cur = long_base.copy()
    long_cur[100:103, 10:20, :3] = 0
    long_cur[16380:16390, 30:40, :3] = (255, 0, 0)  # across a stripe boundary
    long_cur[-5:, :, :3] = 12
    return {
        "anti-aliased text shifted a quarter pixel": (text, shifted),
        "anti-aliased text edited": (text, edited),
        "height difference": (page, taller),
        "height difference, current shorter": (taller, page),
        "everything changed": (page, inverted),
        "several stripes": (long_base, long_cur),
        "identical": (page, page.copy()),
    }


@pytest.mark.parametrize("name", list(_pairs()))
def test_masks_count_what_the_comparison_counts(name: str) -> None:
    baseline, current = _pairs()[name]
    result = compare_arrays(baseline, current)
    masks = diff_masks(baseline, current)
    extra = abs(baseline.shape[0] - current.shape[0]) * baseline.shape[1]
    assert int(masks.changed.sum()) + extra == result.diff_pixels
    assert int(masks.antialiasing.sum()) == result.aa_pixels_ignored
    assert masks.changed_index.tolist() == np.flatnonzero(masks.changed).tolist()
    assert masks.antialiasing_index.tolist() == np.flatnonzero(masks.antialiasing).tolist()
    if name.startswith("anti-aliased text shifted"):
        assert result.aa_pixels_ignored > 0  # the case is the one it claims to be


def test_masks_of_a_big_pair_stay_within_the_engines_memory_budget() -> None:
    """Everything changed on a 2000x2000 pair: peak allocations under 32 bytes a pixel."""
    rng = np.random.default_rng(5)
    baseline = rng.integers(0, 256, (2000, 2000, 4), dtype=np.uint8)
    baseline[..., 3] = 255
    current = baseline.copy()
    current[..., :3] = 255 - current[..., :3]
    pixels = 2000 * 2000
    tracemalloc.start()
    try:
        masks = diff_masks(baseline, current)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert masks.changed.sum() > pixels * 0.9  # nearly every pixel changed
    assert peak < 32 * pixels, f"{peak / pixels:.1f} bytes a pixel"
