"""Where the picture looks: zoom (display pixels per image pixel) and the top-left corner.

A terminal cell is one display pixel wide and two high (half-blocks), so an area of
`cols x rows` cells is `cols x 2*rows` display pixels. At zoom 1 ("1:1") one image pixel is
one display pixel: a 160x44 area shows 160x88 pixels of the screenshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

#: Zoom levels `=`/`-` step through (fit lies somewhere between them).
ZOOM_LEVELS = (
    1 / 32,
    1 / 24,
    1 / 16,
    1 / 12,
    1 / 8,
    1 / 6,
    1 / 4,
    1 / 3,
    1 / 2,
    2 / 3,
    1.0,
    2.0,
    3.0,
    4.0,
    6.0,
    8.0,
)
MAX_FIT = 8.0


@dataclass(frozen=True)
class View:
    """A window on an image: zoom `scale`, top-left image coordinate (x0, y0), output size."""

    scale: float
    x0: float
    y0: float
    out_w: int  # display pixels (= cells across)
    out_h: int  # display pixels (= 2 * cell rows)

    @property
    def window(self) -> tuple[float, float]:
        """Image pixels visible across and down."""
        return self.out_w / self.scale, self.out_h / self.scale

    def key(self) -> tuple:
        return (round(self.scale, 6), round(self.x0, 3), round(self.y0, 3), self.out_w, self.out_h)


def fit_scale(width: int, height: int, out_w: int, out_h: int) -> float:
    """The zoom that shows the whole image; magnified only by whole steps (crisp pixels)."""
    if width <= 0 or height <= 0:
        return 1.0
    scale = min(out_w / width, out_h / height)
    if scale >= 1:
        scale = min(float(math.floor(scale)), MAX_FIT)
    return scale


def _clamp_axis(origin: float, window: float, size: int) -> float:
    if window >= size:
        return (size - window) / 2  # centred, with a margin on both sides
    return min(max(origin, 0.0), size - window)


def clamp(view: View, width: int, height: int) -> View:
    """Keep the window on the image (centred on an axis the image does not fill)."""
    win_w, win_h = view.window
    x0 = _clamp_axis(view.x0, win_w, width)
    y0 = _clamp_axis(view.y0, win_h, height)
    if view.scale <= 1:
        # Whole image pixels at the corner: the same pan always samples the same blocks.
        step = 1.0
        x0 = x0 if win_w >= width else round(x0 / step) * step
        y0 = y0 if win_h >= height else round(y0 / step) * step
    return replace(view, x0=x0, y0=y0)


def fit(width: int, height: int, out_w: int, out_h: int) -> View:
    view = View(fit_scale(width, height, out_w, out_h), 0.0, 0.0, out_w, out_h)
    return clamp(view, width, height)


def centred(view: View, cx: float, cy: float, width: int, height: int, scale: float) -> View:
    """The view at `scale` centred on image point (cx, cy)."""
    x0 = cx - view.out_w / scale / 2
    y0 = cy - view.out_h / scale / 2
    return clamp(replace(view, scale=scale, x0=x0, y0=y0), width, height)


def zoom_step(view: View, direction: int, width: int, height: int) -> View:
    """One zoom level in (+1) or out (-1), keeping the centre of the window still."""
    if direction > 0:
        larger = [z for z in ZOOM_LEVELS if z > view.scale * 1.001]
        scale = larger[0] if larger else view.scale
    else:
        smaller = [z for z in ZOOM_LEVELS if z < view.scale / 1.001]
        scale = smaller[-1] if smaller else view.scale
    win_w, win_h = view.window
    return centred(view, view.x0 + win_w / 2, view.y0 + win_h / 2, width, height, scale)


def pan(view: View, dx: int, dy: int, width: int, height: int) -> View:
    """Move by a quarter of the window per step in each direction."""
    win_w, win_h = view.window
    step_x = max(1.0, math.floor(win_w / 4))
    step_y = max(1.0, math.floor(win_h / 4))
    moved = replace(view, x0=view.x0 + dx * step_x, y0=view.y0 + dy * step_y)
    return clamp(moved, width, height)


def resized(view: View, out_w: int, out_h: int, width: int, height: int) -> View:
    """The same centre and zoom in a new output size."""
    win_w, win_h = view.window
    cx, cy = view.x0 + win_w / 2, view.y0 + win_h / 2
    new = replace(view, out_w=out_w, out_h=out_h)
    return centred(new, cx, cy, width, height, view.scale)
