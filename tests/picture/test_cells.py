"""Half-block cells: known pixels give known cells, and merging runs changes nothing visible."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vizzly_tui.picture import cell_pixels, half_block_rows
from vizzly_tui.picture.ansi import ansi_lines, plain_lines
from vizzly_tui.picture.palette import to_rgb

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def _image(rows: list[list[tuple[int, int, int]]]) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def test_known_4x4_image_gives_known_cells() -> None:
    image = _image(
        [
            [RED, RED, GREEN, WHITE],
            [BLUE, BLUE, GREEN, BLACK],
            [WHITE, WHITE, WHITE, WHITE],
            [WHITE, WHITE, WHITE, RED],
        ]
    )
    rows = half_block_rows(image, "truecolor")
    assert len(rows) == 2
    # Upper pixel is the foreground of ▀, lower pixel the background.
    assert cell_pixels(rows) == [
        [(RED, BLUE), (RED, BLUE), (GREEN, GREEN), (WHITE, BLACK)],
        [(WHITE, WHITE), (WHITE, WHITE), (WHITE, WHITE), (WHITE, RED)],
    ]
    # Equal neighbours share one run; a cell with equal halves is a space on its colour.
    assert rows[0] == [("▀▀", RED, BLUE), (" ", None, GREEN), ("▀", WHITE, BLACK)]
    assert rows[1] == [("   ", None, WHITE), ("▀", WHITE, RED)]


def _unmerged(image: np.ndarray) -> list[list[tuple]]:
    """The reference: every cell on its own, straight from the pixels."""
    return [
        [(tuple(image[2 * y, x]), tuple(image[2 * y + 1, x])) for x in range(image.shape[1])]
        for y in range(image.shape[0] // 2)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_run_merging_keeps_the_picture_identical(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Few colours, so long runs and solid cells both occur.
    colours = np.array([RED, GREEN, WHITE, BLACK], dtype=np.uint8)
    image = colours[rng.integers(0, 4, size=(40, 60))]
    image[:, 20:40] = WHITE  # a wide flat area: runs must merge
    rows = half_block_rows(image, "truecolor")
    expected = [
        [(tuple(map(int, u)), tuple(map(int, lo))) for u, lo in row] for row in _unmerged(image)
    ]
    assert cell_pixels(rows) == expected
    assert all(sum(len(run.text) for run in row) == 60 for row in rows)
    # Merged: far fewer runs than cells, and no two neighbouring runs share a style.
    assert sum(len(row) for row in rows) < 20 * 60 * 0.8
    for row in rows:
        for left, right in itertools.pairwise(row):
            assert (left.fg, left.bg, left.text[0]) != (right.fg, right.bg, right.text[0])


def test_odd_height_repeats_the_last_row() -> None:
    image = _image([[RED], [GREEN], [BLUE]])
    assert cell_pixels(half_block_rows(image, "truecolor")) == [[(RED, GREEN)], [(BLUE, BLUE)]]


def test_256_colour_cells_use_palette_indices() -> None:
    image = _image([[(255, 0, 0), (128, 128, 128)], [(0, 0, 255), (128, 128, 128)]])
    rows = half_block_rows(image, "256")
    assert rows[0] == [("▀", 196, 21), (" ", None, 244)]
    pixels = cell_pixels(rows)
    assert to_rgb(np.array(pixels[0][0]), "256").tolist() == [[255, 0, 0], [0, 0, 255]]


def test_ansi_lines_write_each_run_once() -> None:
    image = _image([[RED, RED, WHITE], [BLUE, BLUE, WHITE]])
    (line,) = ansi_lines(half_block_rows(image, "truecolor"), "truecolor")
    assert line == "\x1b[38;2;255;0;0;48;2;0;0;255m▀▀\x1b[48;2;255;255;255m \x1b[0m"
    (line256,) = ansi_lines(half_block_rows(image, "256"), "256")
    assert line256 == "\x1b[38;5;196;48;5;21m▀▀\x1b[48;5;231m \x1b[0m"
    (line16,) = ansi_lines(half_block_rows(image, "16"), "16")
    assert line16 == "\x1b[91;44m▀▀\x1b[107m \x1b[0m"


def test_plain_lines_shade_by_darkness_and_mark_changes() -> None:
    image = _image([[BLACK, WHITE, WHITE], [BLACK, WHITE, WHITE]])
    marked = np.array([[False, False, True], [False, False, False]])
    assert plain_lines(image, marked) == ["█ X"]
