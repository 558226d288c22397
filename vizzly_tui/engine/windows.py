"""Split a sparse set of pixels into small dense windows.

Neighbourhood work (anti-aliasing tests, connected components) is fastest as whole-array
numpy/scipy operations, but running it over a full 4K frame for three changed pixels would
waste most of the time budget. So the changed pixels are grouped into horizontal bands
(rows closer than `max_gap` join the same band) and each band is processed inside the
bounding box of its pixels, grown by `margin`. A heavy change becomes one full-frame window;
a few scattered pixels become a few tiny ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Window:
    """A rectangle [y0, y1) x [x0, x1) and the slice [start, stop) of the points inside it."""

    y0: int
    y1: int
    x0: int
    x1: int
    start: int
    stop: int


def row_bands(
    ys: np.ndarray,
    xs: np.ndarray,
    height: int,
    width: int,
    *,
    margin: int,
    max_gap: int,
) -> list[Window]:
    """Group points (sorted by row, as np.flatnonzero returns them) into row bands.

    Two consecutive points whose rows differ by more than `max_gap` start a new band. With
    `max_gap >= 1` a band boundary always has at least one empty row, so no 8-connected
    component ever spans two bands.
    """
    count = int(ys.size)
    if count == 0:
        return []
    breaks = np.flatnonzero(np.diff(ys) > max_gap) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [count]))
    top = np.maximum(ys[starts] - margin, 0)
    bottom = np.minimum(ys[stops - 1] + margin + 1, height)
    left = np.maximum(np.minimum.reduceat(xs, starts) - margin, 0)
    right = np.minimum(np.maximum.reduceat(xs, starts) + margin + 1, width)
    return [
        Window(int(y0), int(y1), int(x0), int(x1), int(s0), int(s1))
        for y0, y1, x0, x1, s0, s1 in zip(
            top.tolist(),
            bottom.tolist(),
            left.tolist(),
            right.tolist(),
            starts.tolist(),
            stops.tolist(),
            strict=True,
        )
    ]
