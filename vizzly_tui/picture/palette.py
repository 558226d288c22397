"""Deliberate colour quantisation for terminals without truecolor.

Over ssh a terminal often reports 256 colours (COLORTERM is not forwarded) and some only 16.
Left alone, each terminal maps truecolor in its own way; choosing the palette entry here makes
the picture the same everywhere, testable, and lets equal neighbours merge into longer runs.

256 colours: the 6x6x6 cube (entries 16-231) or the 24-step grey ramp (232-255), whichever is
nearer; entries 0-15 are avoided because every terminal theme redefines them.
16 colours: the nearest of xterm's default 16 (the best guess available; themes differ).
"""

from __future__ import annotations

import numpy as np

#: Channel levels of the xterm 256-colour cube.
CUBE_LEVELS = np.array([0, 95, 135, 175, 215, 255], dtype=np.int32)
#: Values of the grey ramp, entries 232..255.
GREY_LEVELS = np.arange(24, dtype=np.int32) * 10 + 8

#: xterm's default 16 colours, the reference for 16-colour terminals.
ANSI16 = np.array(
    [
        (0, 0, 0),
        (205, 0, 0),
        (0, 205, 0),
        (205, 205, 0),
        (0, 0, 238),
        (205, 0, 205),
        (0, 205, 205),
        (229, 229, 229),
        (127, 127, 127),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (92, 92, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ],
    dtype=np.int32,
)

# value 0..255 -> nearest cube level index 0..5 (ties go to the lower level).
_CUBE_INDEX = np.array(
    [int(np.argmin(np.abs(CUBE_LEVELS - v))) for v in range(256)], dtype=np.int32
)
# Perceptual-ish weights (red 2, green 4, blue 3): cheap and good enough to pick a neighbour.
_WEIGHTS = np.array([2, 4, 3], dtype=np.int32)


def palette_256() -> np.ndarray:
    """RGB of the xterm 256-colour entries 16..255 at their index (0..15: the ANSI16 guess)."""
    table = np.zeros((256, 3), dtype=np.int32)
    table[:16] = ANSI16
    r, g, b = np.meshgrid(CUBE_LEVELS, CUBE_LEVELS, CUBE_LEVELS, indexing="ij")
    table[16:232] = np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1)
    table[232:] = GREY_LEVELS[:, None]
    return table


PALETTE_256 = palette_256()


def quantise_256(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) uint8 xterm palette indices 16..255."""
    rgb = np.asarray(rgb, dtype=np.int32)
    idx = _CUBE_INDEX[rgb]
    cube = CUBE_LEVELS[idx]
    cube_index = 16 + 36 * idx[..., 0] + 6 * idx[..., 1] + idx[..., 2]
    mean = (rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) // 3
    grey_step = np.clip((mean - 3) // 10, 0, 23)
    grey = GREY_LEVELS[grey_step]
    cube_err = (((rgb - cube) ** 2) * _WEIGHTS).sum(axis=-1)
    grey_err = (((rgb - grey[..., None]) ** 2) * _WEIGHTS).sum(axis=-1)
    return np.where(grey_err < cube_err, 232 + grey_step, cube_index).astype(np.uint8)


def quantise_16(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) uint8 indices 0..15 of the nearest xterm default colour."""
    rgb = np.asarray(rgb, dtype=np.int32)
    flat = rgb.reshape(-1, 3)
    # Distinct colours only: pictures have few, and (n, 16, 3) per pixel is wasteful.
    colours, inverse = np.unique(flat, axis=0, return_inverse=True)
    errors = (((colours[:, None, :] - ANSI16[None, :, :]) ** 2) * _WEIGHTS).sum(axis=-1)
    nearest = np.argmin(errors, axis=1).astype(np.uint8)
    return nearest[inverse.reshape(-1)].reshape(rgb.shape[:-1])


def to_rgb(indices: np.ndarray, system: str) -> np.ndarray:
    """Palette indices back to the RGB the reference palette says they show."""
    table = ANSI16 if system == "16" else PALETTE_256
    return table[np.asarray(indices, dtype=np.int32)].astype(np.uint8)
