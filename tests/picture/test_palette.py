"""Deliberate 256- and 16-colour quantisation of known colours."""

from __future__ import annotations

import numpy as np
import pytest

from vizzly_tui.picture.palette import PALETTE_256, quantise_16, quantise_256


@pytest.mark.parametrize(
    ("rgb", "index"),
    [
        ((0, 0, 0), 16),  # cube black, not the themable ANSI 0
        ((255, 255, 255), 231),  # cube white
        ((255, 0, 0), 196),
        ((0, 255, 0), 46),
        ((0, 0, 255), 21),
        ((95, 135, 175), 16 + 36 * 1 + 6 * 2 + 3),  # exact cube entry 67
        ((128, 128, 128), 244),  # grey ramp 8 + 10*12 = 128
        ((238, 238, 238), 255),  # top of the grey ramp
        ((10, 10, 10), 232),  # near black: the ramp's 8 is nearer than the cube's 0
        ((250, 240, 0), 226),  # yellow to cube (5, 5, 0)
        ((255, 32, 65), 197),  # the viewer's change tint: red with a touch of blue
    ],
)
def test_known_colours_map_to_known_256_entries(rgb: tuple[int, int, int], index: int) -> None:
    assert int(quantise_256(np.array([rgb], dtype=np.uint8))[0]) == index


def test_every_cube_and_grey_entry_maps_to_itself() -> None:
    entries = PALETTE_256[16:].astype(np.uint8)
    assert quantise_256(entries).tolist() == list(range(16, 256))


def test_256_never_uses_the_themable_system_colours() -> None:
    rng = np.random.default_rng(7)
    colours = rng.integers(0, 256, size=(5000, 3), dtype=np.uint8)
    assert quantise_256(colours).min() >= 16


@pytest.mark.parametrize(
    ("rgb", "index"),
    [
        ((0, 0, 0), 0),
        ((255, 255, 255), 15),
        ((250, 10, 10), 9),
        ((200, 0, 0), 1),
        ((128, 128, 128), 8),
        ((230, 230, 230), 7),
        ((0, 0, 230), 4),
        ((255, 198, 0), 3),  # the anti-aliasing tint: nearer the darker yellow
    ],
)
def test_known_colours_map_to_known_16_entries(rgb: tuple[int, int, int], index: int) -> None:
    assert int(quantise_16(np.array([[rgb]], dtype=np.uint8))[0, 0]) == index
