"""The windowed, gathered AA implementation against a dense whole-image reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from vizzly_tui.engine import antialias
from vizzly_tui.engine.antialias import antialiased, sibling_counts

from .helpers import text_image, ui_like


def as_u32(rgba: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgba).view(np.uint32)[..., 0]


def reference_siblings(u32: np.ndarray) -> np.ndarray:
    height, width = u32.shape
    counts = np.zeros((height, width), dtype=int)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            shifted = np.full((height + 2, width + 2), -1, dtype=np.int64)
            shifted[1:-1, 1:-1] = u32
            neighbour = shifted[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
            counts += neighbour == u32
    border = np.zeros((height, width), dtype=bool)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    return counts + border


def reference_aa(first: np.ndarray, second: np.ndarray, ys: np.ndarray, xs: np.ndarray):
    """The three tests of antialias.py, written densely with scipy filters, float64."""
    a = first.astype(np.int64)
    b = second.astype(np.int64)
    size = (3, 3, 1)
    low_a = ndimage.minimum_filter(a, size=size, mode="nearest")
    high_a = ndimage.maximum_filter(a, size=size, mode="nearest")
    low_b = ndimage.minimum_filter(b, size=size, mode="nearest")
    high_b = ndimage.maximum_filter(b, size=size, mode="nearest")
    chroma_a = a[..., :3].max(-1) - a[..., :3].min(-1)
    chroma_b = b[..., :3].max(-1) - b[..., :3].min(-1)
    max_chroma_a = ndimage.maximum_filter(chroma_a, size=3, mode="nearest")
    max_chroma_b = ndimage.maximum_filter(chroma_b, size=3, mode="nearest")
    busy = (reference_siblings(as_u32(first)) <= 2) | (reference_siblings(as_u32(second)) <= 2)
    verdict = []
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        if not busy[y, x]:
            verdict.append(False)
            continue
        pa, pb = a[y, x], b[y, x]
        edge = np.maximum(
            np.maximum(high_a[y, x] - pa, pa - low_a[y, x]),
            np.maximum(high_b[y, x] - pb, pb - low_b[y, x]),
        )[:3]
        change = np.abs(pb - pa)
        small = np.all(change[:3] <= antialias.MAX_CHANGE_RATIO * edge) and change[3] == 0

        def inside(value, low, high):
            tol = antialias.RANGE_MARGIN + antialias.RANGE_CONTRAST * (high - low)[:3].max()
            return np.all(value >= low - tol) and np.all(value <= high + tol)

        def plausible_chroma(value, max_chroma):
            chroma = value[:3].max() - value[:3].min()
            return chroma <= max_chroma * (1 + antialias.CHROMA_SLACK) + antialias.CHROMA_MARGIN

        b_in_a = inside(pb, low_a[y, x], high_a[y, x]) and plausible_chroma(pb, max_chroma_a[y, x])
        a_in_b = inside(pa, low_b[y, x], high_b[y, x]) and plausible_chroma(pa, max_chroma_b[y, x])
        verdict.append(bool(small and b_in_a and a_in_b))
    return np.array(verdict, dtype=bool)


def test_sibling_counts_match_reference() -> None:
    rng = np.random.default_rng(0)
    u32 = rng.integers(0, 3, (23, 31)).astype(np.uint32)  # few values: many equal neighbours
    np.testing.assert_array_equal(sibling_counts(u32), reference_siblings(u32))
    single = np.zeros((1, 5), np.uint32)
    np.testing.assert_array_equal(sibling_counts(single), reference_siblings(single))


@pytest.mark.parametrize("density", [0.002, 0.05, 1.0], ids=["sparse", "medium", "all"])
def test_windowed_verdicts_equal_the_dense_reference(density: float) -> None:
    first = ui_like(160, 120, seed=1)
    second = ui_like(160, 120, seed=2)
    # Shift the text rows of the second image by one pixel to get edge-like changes too.
    second[:, 1:, :3] = (first[:, :-1, :3].astype(int) * 3 // 4 + first[:, 1:, :3] // 4).astype(
        np.uint8
    )
    changed = np.flatnonzero(as_u32(first) != as_u32(second))
    rng = np.random.default_rng(4)
    chosen = np.sort(rng.choice(changed, max(1, int(changed.size * density)), replace=False))
    # Include pixels on every image border.
    border = [0, 159, 119 * 160, 119 * 160 + 159, 5 * 160, 7 * 160 + 159, 80]
    chosen = np.union1d(chosen, [i for i in border if i in set(changed.tolist())])
    ys, xs = np.divmod(chosen.astype(np.int32), np.int32(160))
    got = antialiased(as_u32(first), as_u32(second), ys, xs)
    np.testing.assert_array_equal(got, reference_aa(first, second, ys, xs))


def test_block_size_does_not_change_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    first = text_image("anti-aliasing blocks", size=14)
    second = text_image("anti-aliasing blocks", size=14, offset_quarter_px=1)
    changed = np.flatnonzero(as_u32(first) != as_u32(second))
    ys, xs = np.divmod(changed.astype(np.int32), np.int32(first.shape[1]))
    whole = antialiased(as_u32(first), as_u32(second), ys, xs)
    monkeypatch.setattr(antialias, "_BLOCK", 5)
    np.testing.assert_array_equal(antialiased(as_u32(first), as_u32(second), ys, xs), whole)
    assert whole.sum() > 100


def test_flat_area_change_is_never_anti_aliasing() -> None:
    first = np.full((20, 20, 4), 255, np.uint8)
    second = first.copy()
    second[5:15, 5:15, :3] = 250  # small change, all inside a flat area
    changed = np.flatnonzero(as_u32(first) != as_u32(second))
    ys, xs = np.divmod(changed.astype(np.int32), np.int32(20))
    assert not antialiased(as_u32(first), as_u32(second), ys, xs).any()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (2, 2), (3, 5)])
def test_tiny_images_equal_the_reference(shape: tuple[int, int]) -> None:
    # Every pixel is on the image border here: the border rules must hold on their own.
    rng = np.random.default_rng(shape[0] * 10 + shape[1])
    for _ in range(20):
        first = (rng.integers(0, 4, (*shape, 4)) * 80).astype(np.uint8)
        first[..., 3] = 255
        second = first.copy()
        second[..., :3] = np.where(
            rng.random((*shape, 1)) < 0.5, (rng.integers(0, 4, (*shape, 3)) * 80), first[..., :3]
        )
        changed = np.flatnonzero(as_u32(first) != as_u32(second))
        ys, xs = np.divmod(changed.astype(np.int32), np.int32(shape[1]))
        got = antialiased(as_u32(first), as_u32(second), ys, xs)
        np.testing.assert_array_equal(got, reference_aa(first, second, ys, xs))
