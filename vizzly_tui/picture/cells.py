"""Half-block cells: two pixels per terminal cell, merged into runs of equal style.

A cell shows `▀` with the upper pixel as foreground and the lower pixel as background; a
cell whose two pixels are equal is a space on that background (its foreground is free, so
it merges with its neighbours more often). Consecutive cells of the same style form one run:
a run costs one escape sequence however long it is, which is what keeps a full repaint of a
160x44 picture under 80 KB over ssh (one style per cell costs ~300 KB).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .palette import quantise_16, quantise_256

UPPER_HALF = "▀"

#: Colour systems: "truecolor" colours are (r, g, b) tuples, "256" and "16" palette indices.
SYSTEMS = ("truecolor", "256", "16")

Colour = tuple[int, int, int] | int


class Run(NamedTuple):
    """`text` drawn with foreground `fg` (None: not needed, a space) on background `bg`."""

    text: str
    fg: Colour | None
    bg: Colour


#: Truecolor pictures keep 64 levels per channel (steps of ~4, invisible in a terminal cell):
#: neighbours that differ by a level or two then share a run, ~10 % fewer bytes per frame.
_LEVELS_64 = np.rint(np.arange(64) * 255 / 63).astype(np.int64)


def quantise(rgb: np.ndarray, system: str) -> np.ndarray:
    """(h, w, 3) uint8 -> (h, w) int64 colour keys: packed 0xRRGGBB or palette indices."""
    if system == "truecolor":
        rgb = _LEVELS_64[rgb >> 2]
        return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    if system == "256":
        return quantise_256(rgb).astype(np.int64)
    if system == "16":
        return quantise_16(rgb).astype(np.int64)
    raise ValueError(f"unknown colour system {system!r}; choose one of {', '.join(SYSTEMS)}")


def _colour(key: int, system: str) -> Colour:
    if system == "truecolor":
        return ((key >> 16) & 255, (key >> 8) & 255, key & 255)
    return key


def half_block_rows(rgb: np.ndarray, system: str = "truecolor") -> list[list[Run]]:
    """Rows of merged runs for an (h, w, 3) uint8 picture; h odd gets a background row."""
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, rgb[-1:]], axis=0)
    keys = quantise(rgb, system)
    upper, lower = keys[0::2], keys[1::2]
    solid = upper == lower
    # A cell's style key: (fg, bg), or (-1, bg) for a space whose foreground does not matter.
    fg = np.where(solid, -1, upper)
    rows: list[list[Run]] = []
    width = keys.shape[1]
    for y in range(upper.shape[0]):
        f, b = fg[y], lower[y]
        changes = np.flatnonzero((f[1:] != f[:-1]) | (b[1:] != b[:-1])) + 1
        starts = [0, *changes.tolist()]
        ends = [*changes.tolist(), width]
        f_list, b_list = f.tolist(), b.tolist()
        row = []
        for start, end in zip(starts, ends, strict=True):
            fk, bk = f_list[start], b_list[start]
            if fk < 0:
                row.append(Run(" " * (end - start), None, _colour(bk, system)))
            else:
                row.append(
                    Run(UPPER_HALF * (end - start), _colour(fk, system), _colour(bk, system))
                )
        rows.append(row)
    return rows


def cell_pixels(rows: list[list[Run]], system: str = "truecolor") -> list[list[tuple]]:
    """Expand runs back to per-cell (upper, lower) colours: what a terminal would show."""
    out = []
    for row in rows:
        cells = []
        for run in row:
            for char in run.text:
                upper = run.bg if char == " " else run.fg
                cells.append((upper, run.bg))
        out.append(cells)
    return out
