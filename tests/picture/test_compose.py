"""Each view mode's picture on small synthetic pairs, and fit-to-screen keeping thin lines."""

from __future__ import annotations

import numpy as np
import pytest

from vizzly_tui.picture import Options, View, compose, fit, half_block_rows, pair_from_arrays
from vizzly_tui.picture.compose import (
    ANTIALIASING,
    CHANGED,
    CLUSTER,
    HATCH,
    REGION,
    SPLIT,
    guide_boxes,
)

WHITE = (255, 255, 255)


def rgba(height: int, width: int, colour: tuple[int, int, int] = WHITE) -> np.ndarray:
    image = np.empty((height, width, 4), dtype=np.uint8)
    image[..., :3] = colour
    image[..., 3] = 255
    return image


def one_to_one(width: int, height: int) -> View:
    return View(1.0, 0.0, 0.0, width, height)


@pytest.fixture
def pair():
    """16x8 white baseline; the current has a black 3x2 block at (4, 2)."""
    baseline = rgba(8, 16)
    current = baseline.copy()
    current[2:4, 4:7, :3] = 0
    return pair_from_arrays(baseline, current)


def test_blink_shows_each_image_exactly(pair) -> None:
    view = one_to_one(16, 8)
    base = compose(pair, view, Options(mode="blink", side="baseline"))
    cur = compose(pair, view, Options(mode="blink", side="current"))
    assert (base == 255).all()
    assert (cur[2:4, 4:7] == 0).all()
    assert (cur[:2] == 255).all() and (cur[4:] == 255).all()


def test_overlay_tints_changed_pixels_and_boxes_the_cluster(pair) -> None:
    assert pair.clusters == ((4, 2, 3, 2),)
    picture = compose(pair, one_to_one(16, 8), Options(mode="overlay"))
    assert (picture[2:4, 4:7] == CHANGED).all()
    # The cluster box is outlined one pixel outside the changed pixels.
    assert (picture[1, 3:8] == CLUSTER).all() and (picture[4, 3:8] == CLUSTER).all()
    assert (picture[1:5, 3] == CLUSTER).all() and (picture[1:5, 7] == CLUSTER).all()
    # Everything else is the current image, faded to light grey (never pure white or red).
    assert (picture[6:, :] == 255).all()


def test_overlay_marks_antialiasing_in_its_own_tint() -> None:
    # A dark line on white whose edge pixel moved to a grey between the two: anti-aliasing.
    baseline = rgba(9, 9)
    baseline[:, 4, :3] = 0
    current = baseline.copy()
    current[4, 5, :3] = 128
    pair = pair_from_arrays(baseline, current)
    picture = compose(pair, one_to_one(9, 9), Options(mode="overlay"))
    assert pair.antialiasing[4, 5] and not pair.changed.any()
    assert tuple(picture[4, 5]) == ANTIALIASING


def test_diff_only_shows_changes_on_a_flat_background(pair) -> None:
    picture = compose(pair, one_to_one(16, 8), Options(mode="diff"))
    assert (picture[2:4, 4:7] == CHANGED).all()
    others = np.ones((8, 16), dtype=bool)
    others[2:4, 4:7] = False
    assert len(np.unique(picture[others], axis=0)) == 1


def test_onion_mixes_the_two_images(pair) -> None:
    half = compose(pair, one_to_one(16, 8), Options(mode="onion", mix=0.5))
    assert tuple(half[2, 4]) == (128, 128, 128)  # halfway between white and black
    assert (half[0, 0] == 255).all()
    all_current = compose(pair, one_to_one(16, 8), Options(mode="onion", mix=1.0))
    assert (all_current[2:4, 4:7] == 0).all()


def test_slider_shows_baseline_left_of_the_split_and_current_right(pair) -> None:
    picture = compose(pair, one_to_one(16, 8), Options(mode="slider", split=0.375))
    assert (picture[:, 6] == SPLIT).all()  # round(0.375 * 16)
    assert (picture[2:4, 4:6] == 255).all()  # baseline (white) left of the split
    moved = compose(pair, one_to_one(16, 8), Options(mode="slider", split=0.25))
    assert (moved[2:4, 5:7] == 0).all()  # current (black) right of the split


def test_side_by_side_puts_baseline_left_and_current_right_in_step(pair) -> None:
    picture = compose(pair, one_to_one(16, 8), Options(mode="side-by-side"))
    assert picture.shape == (8, 33, 3)
    left, right = picture[:, :16], picture[:, 17:]
    assert (left == 255).all()
    assert (right[2:4, 4:7] == 0).all()
    assert len(np.unique(picture[:, 16], axis=0)) == 1  # the separator column


def test_height_difference_hatches_missing_rows_and_tints_extra_rows() -> None:
    baseline = rgba(8, 8)
    current = rgba(12, 8)
    pair = pair_from_arrays(baseline, current)
    assert pair.has_height_diff and pair.height == 12
    view = one_to_one(8, 12)
    base = compose(pair, view, Options(mode="blink", side="baseline"))
    assert {tuple(c) for c in base[8:].reshape(-1, 3)} == set(HATCH)
    assert (base[:8] == 255).all()
    overlay = compose(pair, view, Options(mode="overlay"))
    extra = overlay[8:].reshape(-1, 3)
    assert (extra[:, 0] > extra[:, 1]).all()  # red-tinted
    assert not (overlay[:8, :, 0] > overlay[:8, :, 1]).any()


def test_guides_draw_regions_and_hotspot_bands(pair) -> None:
    regions, bands = guide_boxes(
        [{"x1": 1, "y1": 1, "x2": 5, "y2": 5}], [{"regions": [{"y1": 6, "y2": 7}]}]
    )
    assert regions == ((1, 1, 4, 4),) and bands == ((6, 7),)
    options = Options(mode="blink", side="baseline", guides=True, regions=regions, hotspots=bands)
    picture = compose(pair, one_to_one(16, 8), options)
    assert tuple(picture[1, 1]) == REGION and tuple(picture[4, 4]) == REGION
    assert (picture[6:8, 10, 0] < 255).all()  # band tinted purple over white
    assert (picture[0, 10] == 255).all()
    plain = compose(pair, one_to_one(16, 8), Options(mode="blink", side="baseline"))
    assert (plain == 255).all()


def test_a_one_pixel_dark_line_survives_fit_to_screen() -> None:
    """1280x720 with one 1-px black vertical line and one horizontal: fit into 160x88."""
    image = rgba(720, 1280)
    image[:, 637, :3] = 0
    image[361, :, :3] = 0
    pair = pair_from_arrays(image, image.copy())
    view = fit(1280, 720, 160, 88)
    picture = compose(pair, view, Options(mode="blink", side="current"))
    luma = picture.mean(axis=2)
    x_lo = int(np.ceil(-view.x0 * view.scale))  # the image is centred with margins
    inside = luma[:, x_lo : 160 - x_lo]
    background = np.median(inside)
    assert background > 250
    # The vertical line: one display column clearly darker on every row.
    line_column = int(np.argmin(inside[10]))
    assert (inside[:, line_column] < background - 20).all()
    # The horizontal line: one display row clearly darker across the whole width.
    darkest_row = int(inside.mean(axis=1).argmin())
    assert (inside[darkest_row] < background - 20).all()
    # And it still shows in the cells a terminal gets, in 256 colours too.
    cells = half_block_rows(picture, "256")
    assert any(len(row) > 1 for row in cells)


def test_nearest_neighbour_would_lose_the_line() -> None:
    """Guard for the test above: the line is one that naive sampling drops."""
    image = np.full((720, 1280), 255, dtype=np.uint8)
    image[:, 637] = 0
    step = 1280 / 160
    sampled = image[0, (np.arange(160) * step + step / 2).astype(int)]
    assert (sampled == 255).all()


def test_a_single_changed_pixel_stays_visible_at_fit() -> None:
    baseline = rgba(720, 1280)
    current = baseline.copy()
    current[400, 900, :3] = 0
    pair = pair_from_arrays(baseline, current)
    picture = compose(pair, fit(1280, 720, 160, 88), Options(mode="diff"))
    assert (picture == CHANGED).all(axis=2).sum() == 1


def test_zoomed_in_pixels_are_crisp_blocks(pair) -> None:
    picture = compose(pair, View(2.0, 3.0, 1.0, 8, 8), Options(mode="blink", side="current"))
    # Image pixel (4, 2) is display pixels (2..3, 2..3); the block starts at image x 4.
    assert (picture[2:6, 2:8] == 0).all()
    assert (picture[0:2] == 255).all()


def test_unknown_mode_is_refused(pair) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        compose(pair, one_to_one(16, 8), Options(mode="sepia"))


def test_a_4k_page_at_fit_is_an_area_average_with_its_thin_lines() -> None:
    """3840x2160 into 160x88 (~1/24): blocks are reduced first, then box-filtered."""
    from PIL import Image

    from vizzly_tui.picture.sample import sample_image

    rng = np.random.default_rng(7)
    image = rgba(2160, 3840)
    image[::97, :, :3] = rng.integers(0, 255, size=(23, 3840, 3), dtype=np.uint8)
    image[:, 1913, :3] = 0  # a one-pixel dark line
    view = fit(3840, 2160, 160, 88)
    assert view.scale < 1 / 20
    pil = Image.frombuffer("RGBX", (3840, 2160), image, "raw", "RGBX", 0, 1)
    ours = sample_image(pil, view, (28, 28, 28)).astype(int)
    # The exact area average of every display pixel, computed directly.
    x_lo = int(np.ceil(-view.x0 * view.scale))
    edges_x = view.x0 + np.arange(x_lo, 161 - x_lo) / view.scale
    edges_y = view.y0 + np.arange(0, 89) / view.scale
    exact = np.asarray(
        pil.resize(
            (len(edges_x) - 1, 88),
            Image.Resampling.BOX,
            box=(edges_x[0], edges_y[0], edges_x[-1], edges_y[-1]),
        )
    )[..., :3].astype(int)
    inside = ours[:, x_lo : x_lo + exact.shape[1]]
    assert np.abs(inside - exact).mean() < 3
    assert np.abs(inside - exact).max() < 40
    # The line still darkens its column on every row (a light grey, not lost).
    luma = inside.mean(axis=2)
    column = int(np.argmin(luma[1]))
    assert (luma[:, column] < np.median(luma) - 5).all()


def test_overlay_keeps_the_margins_around_the_image_dark() -> None:
    """A wide view of a small image: only the image is faded, the margins stay BACKGROUND."""
    from vizzly_tui.picture.compose import BACKGROUND

    image = rgba(8, 16, (30, 40, 90))
    pair = pair_from_arrays(image, image.copy())
    view = fit(16, 8, 40, 8)  # 16 px wide, centred in 40: 12 px of margin each side
    picture = compose(pair, view, Options(mode="overlay"))
    assert (picture[:, :12] == BACKGROUND).all() and (picture[:, 28:] == BACKGROUND).all()
    inside = picture[:, 12:28]
    assert (inside > 100).all()  # the dark image, faded towards white
