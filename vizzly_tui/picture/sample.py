"""Sampling an image or a mask into a view: area (box) averaging down, nearest up.

Area averaging keeps thin features: a one-pixel dark text stroke shrunk 8x becomes a
light-grey column instead of vanishing (nearest-neighbour keeps one column in eight).
Masks are max-pooled instead: a single changed pixel still marks its whole display pixel,
so the smallest change stays visible at fit-to-screen.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .pair import flatten
from .view import View

#: Shrinks beyond 1/(2 * this) reduce by whole blocks first (see sample_image).
REDUCING_GAP = 4.0


def _span(origin: float, scale: float, out: int, size: int) -> tuple[int, int]:
    """Display pixels [lo, hi) whose source interval lies inside [0, size)."""
    lo = max(0, math.ceil(-origin * scale - 1e-6))
    hi = min(out, math.floor((size - origin) * scale + 1e-6))
    return lo, max(lo, hi)


def spans(view: View, width: int, height: int) -> tuple[int, int, int, int]:
    """(x_lo, x_hi, y_lo, y_hi) of the display pixels the image covers."""
    x_lo, x_hi = _span(view.x0, view.scale, view.out_w, width)
    y_lo, y_hi = _span(view.y0, view.scale, view.out_h, height)
    return x_lo, x_hi, y_lo, y_hi


def sample_image(image: Image.Image, view: View, background: tuple[int, int, int]) -> np.ndarray:
    """(out_h, out_w, 3) RGB view of an RGBX/RGBA Pillow image, `background` outside it.

    Pillow reads only the window (`box`), so a 1:1 view of a 4K image costs what its 160x88
    pixels cost. Alpha is flattened onto white after sampling, on display-sized data.
    """
    out = np.empty((view.out_h, view.out_w, 3), dtype=np.uint8)
    out[:] = background
    width, height = image.size
    x_lo, x_hi, y_lo, y_hi = spans(view, width, height)
    if x_hi <= x_lo or y_hi <= y_lo:
        return out
    s = view.scale
    # Clamped: the span's rounding tolerance may put an edge a hair outside the image.
    box = (
        max(0.0, view.x0 + x_lo / s),
        max(0.0, view.y0 + y_lo / s),
        min(float(width), view.x0 + x_hi / s),
        min(float(height), view.y0 + y_hi / s),
    )
    resample = Image.Resampling.BOX if s < 1 else Image.Resampling.NEAREST
    # A big shrink (a 4K page at fit is ~1/25) first averages whole blocks with Pillow's
    # reduce(), then box-filters the rest: still an area average (a one-pixel line stays),
    # within a few levels of the exact one, in 7 ms instead of 16 ms at 4K.
    gap = REDUCING_GAP if s < 1 / (2 * REDUCING_GAP) else None
    size = (x_hi - x_lo, y_hi - y_lo)
    scaled = np.asarray(image.resize(size, resample, box=box, reducing_gap=gap))
    out[y_lo:y_hi, x_lo:x_hi] = flatten(scaled) if image.mode == "RGBA" else scaled[..., :3]
    return out


def sample_points(
    points: tuple[np.ndarray, np.ndarray], view: View, *, row_offset: int = 0
) -> np.ndarray:
    """Like sample_mask for a sparse mask given as (ys, xs): scatter instead of pooling.

    Only for views at or below 1:1 (each image pixel lands in exactly one display pixel).
    """
    out = np.zeros((view.out_h, view.out_w), dtype=bool)
    ys, xs = points
    if ys.size == 0:
        return out
    dy = np.floor((ys + row_offset - view.y0) * view.scale + 1e-6).astype(np.int64)
    dx = np.floor((xs - view.x0) * view.scale + 1e-6).astype(np.int64)
    keep = (dy >= 0) & (dy < view.out_h) & (dx >= 0) & (dx < view.out_w)
    out[dy[keep], dx[keep]] = True
    return out


def _starts(origin: float, scale: float, lo: int, hi: int) -> np.ndarray:
    positions = origin + np.arange(lo, hi + 1) / scale
    return np.floor(positions + 1e-6).astype(np.int64)


def sample_mask(mask: np.ndarray, view: View, *, row_offset: int = 0) -> np.ndarray:
    """(out_h, out_w) bool: True where any source pixel under a display pixel is set.

    `row_offset` places a mask that starts below the image's top (its first row is image
    row `row_offset`).
    """
    out = np.zeros((view.out_h, view.out_w), dtype=bool)
    rows, width = mask.shape
    if rows == 0 or width == 0:
        return out
    shifted = View(view.scale, view.x0, view.y0 - row_offset, view.out_w, view.out_h)
    x_lo, x_hi, y_lo, y_hi = spans(shifted, width, rows)
    if x_hi <= x_lo or y_hi <= y_lo:
        return out
    xs = _starts(shifted.x0, view.scale, x_lo, x_hi)
    ys = _starts(shifted.y0, view.scale, y_lo, y_hi)
    # Slice to the window so reduceat's last block ends at the window's edge.
    window = mask[ys[0] : max(ys[-1], ys[0] + 1), xs[0] : max(xs[-1], xs[0] + 1)]
    local_y = np.minimum(ys[:-1] - ys[0], window.shape[0] - 1)
    local_x = np.minimum(xs[:-1] - xs[0], window.shape[1] - 1)
    pooled = np.logical_or.reduceat(window, local_y, axis=0)
    pooled = np.logical_or.reduceat(pooled, local_x, axis=1)
    out[y_lo:y_hi, x_lo:x_hi] = pooled
    return out


def box_outline(
    box: tuple[float, float, float, float], view: View
) -> tuple[int, int, int, int] | None:
    """Display-pixel rectangle (x0, y0, x1, y1 inclusive) of an image box, None if off-view."""
    x, y, w, h = box
    s = view.scale
    left = math.floor((x - view.x0) * s)
    top = math.floor((y - view.y0) * s)
    right = max(left, math.ceil((x + w - view.x0) * s) - 1)
    bottom = max(top, math.ceil((y + h - view.y0) * s) - 1)
    if right < 0 or bottom < 0 or left >= view.out_w or top >= view.out_h:
        return None
    return left, top, right, bottom


def draw_outline(
    picture: np.ndarray, rect: tuple[int, int, int, int], colour: tuple[int, int, int]
) -> None:
    """Draw a 1-pixel rectangle outline, clipped to the picture."""
    height, width = picture.shape[:2]
    left, top, right, bottom = rect
    x0, x1 = max(left, 0), min(right, width - 1)
    y0, y1 = max(top, 0), min(bottom, height - 1)
    if x0 > x1 or y0 > y1:
        return
    if 0 <= top < height:
        picture[top, x0 : x1 + 1] = colour
    if 0 <= bottom < height:
        picture[bottom, x0 : x1 + 1] = colour
    if 0 <= left < width:
        picture[y0 : y1 + 1, left] = colour
    if 0 <= right < width:
        picture[y0 : y1 + 1, right] = colour
