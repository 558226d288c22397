"""CIEDE2000: the vectorised float32 implementation against published and reference values."""

from __future__ import annotations

import numpy as np
import pytest

from vizzly_tui.engine import colour

from .helpers import SHARMA_PAIRS, ref_ciede2000, ref_delta_e_rgb, ref_srgb_to_lab


def test_reference_implementation_matches_sharma_table() -> None:
    # The plain-Python reference is itself checked against the published data first.
    for lab1, lab2, expected in SHARMA_PAIRS:
        assert ref_ciede2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("swap", [False, True], ids=["forward", "swapped"])
def test_vectorised_ciede2000_matches_sharma_table(swap: bool) -> None:
    first = np.array([pair[0] for pair in SHARMA_PAIRS], dtype=np.float32).T
    second = np.array([pair[1] for pair in SHARMA_PAIRS], dtype=np.float32).T
    if swap:  # CIEDE2000 is symmetric; the hue rules must not break that
        first, second = second, first
    got = colour.ciede2000_lab(*first, *second)
    expected = np.array([pair[2] for pair in SHARMA_PAIRS])
    np.testing.assert_allclose(got, expected, atol=2e-4)


def test_identical_colours_have_zero_difference() -> None:
    lab = np.array([[50.0, 0.0, 0.0], [0.0, 0.0, 0.0], [100.0, 10.0, -20.0]], np.float32).T
    assert np.all(colour.ciede2000_lab(*lab, *lab) == 0)


def test_rgba_path_matches_reference_on_random_colours() -> None:
    rng = np.random.default_rng(1)
    first = rng.integers(0, 256, (400, 4), dtype=np.uint8)
    second = rng.integers(0, 256, (400, 4), dtype=np.uint8)
    first[:, 3] = second[:, 3] = 255
    # Half of the pairs close together, where thresholds like 1 or 2 matter.
    close = np.clip(first[:200, :3].astype(int) + rng.integers(-4, 5, (200, 3)), 0, 255)
    second[:200, :3] = close
    got = colour.delta_e_rgba(first, second)
    expected = [
        ref_delta_e_rgb(tuple(a[:3].tolist()), tuple(b[:3].tolist()))
        for a, b in zip(first, second, strict=True)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=2e-3)


def test_lab_conversion_matches_reference() -> None:
    samples = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (12, 200, 90), (3, 4, 5)]
    lightness, a, b = colour.rgba_to_lab(np.array([(*s, 255) for s in samples], np.uint8))
    for i, sample in enumerate(samples):
        ref = ref_srgb_to_lab(sample)
        assert (lightness[i], a[i], b[i]) == pytest.approx(ref, abs=2e-3)


def test_alpha_is_composited_onto_white() -> None:
    # Fully transparent pixels look like the white page whatever their hidden RGB.
    transparent = np.array([[0, 0, 0, 0], [255, 0, 0, 0]], np.uint8)
    white = np.array([[255, 255, 255, 255], [255, 255, 255, 255]], np.uint8)
    assert np.all(colour.delta_e_rgba(transparent, white) == 0)
    # Half-transparent black over white is sRGB grey 127 (compositing is done in sRGB).
    half = np.array([[0, 0, 0, 128]], np.uint8)
    grey = round(255 - 255 * 128 / 255)
    expected = ref_delta_e_rgb((grey, grey, grey), (255, 255, 255))
    got = colour.delta_e_rgba(half, white[:1])[0]
    assert got == pytest.approx(expected, rel=2e-3)


def test_saturate_at_keeps_exact_values_below_and_bounds_above() -> None:
    rng = np.random.default_rng(2)
    first = rng.integers(0, 256, (5000, 4), dtype=np.uint8)
    second = rng.integers(0, 256, (5000, 4), dtype=np.uint8)
    first[:, 3] = second[:, 3] = 255
    exact = colour.delta_e_rgba(first, second)
    fast = colour.delta_e_rgba(first, second, saturate_at=10.0)
    below = exact <= 10
    assert below.any() and (~below).any()
    np.testing.assert_allclose(fast[below], exact[below], rtol=1e-6)
    # Above the cut only a lower bound is promised: above the cut, and not above the truth.
    assert np.all(fast[~below] > 10)
    assert np.all(fast[~below] <= exact[~below] + 1e-3)


def test_blocks_give_the_same_answer_as_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    first = rng.integers(0, 256, (3000, 4), dtype=np.uint8)
    second = rng.integers(0, 256, (3000, 4), dtype=np.uint8)
    whole = colour.delta_e_rgba(first, second, saturate_at=10)
    monkeypatch.setattr(colour, "BLOCK", 7)
    np.testing.assert_array_equal(colour.delta_e_rgba(first, second, saturate_at=10), whole)
