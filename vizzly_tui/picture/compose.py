"""The six view modes as pictures: (out_h, out_w, 3) uint8 arrays, one display pixel each.

Everything is sampled into the view first and composed at display resolution, so a mode
costs the same on a 4K screenshot as on a thumbnail once the layers are sampled, and masks
are max-pooled (a one-pixel change stays visible at fit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .pair import Pair, cluster_box
from .sample import (
    box_outline,
    draw_outline,
    sample_image,
    sample_mask,
    sample_points,
    spans,
)
from .view import View

MODES = ("side-by-side", "overlay", "onion", "slider", "blink", "diff")

BACKGROUND = (28, 28, 28)  # outside the image
HATCH = ((70, 70, 70), (40, 40, 40))  # rows an image does not have (a height difference)
CHANGED = (255, 32, 65)  # on the 64-level grid of truecolor cells (cells.py)
ANTIALIASING = (255, 198, 0)
EXTRA_ROWS = (255, 96, 96)  # tint of rows only one image has
CLUSTER = (0, 160, 255)
CLUSTER_ACTIVE = (0, 255, 255)
SPLIT = (255, 255, 0)
REGION = (40, 220, 90)
HOTSPOT = (170, 90, 255)
DIFF_BACKGROUND = (16, 16, 16)
SEPARATOR = (90, 90, 90)


@dataclass(frozen=True)
class Options:
    """What a mode draws besides the images; part of every cache key."""

    mode: str = "overlay"
    mix: float = 0.5  # onion: share of current
    split: float = 0.5  # slider: share of the width showing the baseline
    side: str = "current"  # blink: which image
    guides: bool = False  # regions and hotspot bands
    regions: tuple[tuple[int, int, int, int], ...] = field(default=())
    hotspots: tuple[tuple[int, int], ...] = field(default=())  # (y1, y2) row bands
    active_cluster: int | None = None

    def key(self) -> tuple:
        return (
            self.mode,
            round(self.mix, 3) if self.mode == "onion" else None,
            round(self.split, 3) if self.mode == "slider" else None,
            self.side if self.mode == "blink" else None,
            self.guides,
            self.regions if self.guides else (),
            self.hotspots if self.guides else (),
            self.active_cluster,
        )


def guide_boxes(
    regions: Sequence[Mapping[str, Any]], hotspots: Sequence[Mapping[str, Any]]
) -> tuple[tuple[tuple[int, int, int, int], ...], tuple[tuple[int, int], ...]]:
    """Regions as boxes and hotspot bands as (y1, y2), from the store's dict shapes."""
    boxes = []
    for region in regions:
        if all(k in region for k in ("x1", "y1", "x2", "y2")):
            try:
                x1, y1, x2, y2 = (int(region[k]) for k in ("x1", "y1", "x2", "y2"))
            except (TypeError, ValueError):
                continue
            boxes.append((min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)))
        else:
            box = cluster_box(region)
            if box is not None:
                boxes.append(box)
    bands = []
    for hotspot in hotspots:
        entries = hotspot.get("regions") if isinstance(hotspot.get("regions"), list) else [hotspot]
        for band in entries:
            try:
                bands.append((int(band["y1"]), int(band["y2"])))
            except (KeyError, TypeError, ValueError):
                continue
    return tuple(boxes), tuple(bands)


def _hatch(view: View) -> np.ndarray:
    ys, xs = np.mgrid[0 : view.out_h, 0 : view.out_w]
    stripes = ((xs + ys) // 3) % 2 == 0
    out = np.empty((view.out_h, view.out_w, 3), dtype=np.uint8)
    out[stripes] = HATCH[0]
    out[~stripes] = HATCH[1]
    return out


def layer(pair: Pair, side: str, view: View) -> np.ndarray:
    """One image sampled into the view; rows it lacks (height difference) hatched."""
    image = pair.pil_image(side)
    if image is None:
        out = np.empty((view.out_h, view.out_w, 3), dtype=np.uint8)
        out[:] = BACKGROUND
        missing = np.ones((pair.height, pair.width), dtype=bool)
        return _paint(out, sample_mask(missing, view), _hatch(view))
    out = sample_image(image, view, BACKGROUND)
    rows = image.size[1]
    if rows >= pair.height:
        return out
    missing = np.ones((pair.height - rows, pair.width), dtype=bool)
    return _paint(out, sample_mask(missing, view, row_offset=rows), _hatch(view))


def _paint(out: np.ndarray, where: np.ndarray, colour: Any) -> np.ndarray:
    if isinstance(colour, np.ndarray):
        out[where] = colour[where]
    else:
        out[where] = colour
    return out


def _extra_rows(pair: Pair, view: View) -> np.ndarray:
    if not pair.has_height_diff:
        return np.zeros((view.out_h, view.out_w), dtype=bool)
    extra = np.ones((pair.height - pair.common, pair.width), dtype=bool)
    return sample_mask(extra, view, row_offset=pair.common)


def _faded(picture: np.ndarray) -> np.ndarray:
    """Greyscale faded towards white: the content stays readable, the tints stand out."""
    luma = picture[..., 0] * 0.299 + picture[..., 1] * 0.587 + picture[..., 2] * 0.114
    grey = 255 - (255 - luma) * 0.45
    # 16 grey levels over the faded range: a backdrop needs no more, and equal neighbours
    # merge into runs (the overlay is the mode most often on screen).
    grey = np.minimum(np.rint(grey / 8) * 8, 255)
    return np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)


def _marks(pair: Pair, view: View, picture: np.ndarray) -> np.ndarray:
    if view.scale <= 1:
        aa = sample_points(pair.antialiasing_points, view)
        changed = sample_points(pair.changed_points, view)
    else:
        aa = sample_mask(pair.antialiasing, view)
        changed = sample_mask(pair.changed, view)
    picture[aa & ~changed] = ANTIALIASING
    picture[changed] = CHANGED
    extra = _extra_rows(pair, view)
    if extra.any():
        tint = (picture[extra].astype(np.uint16) + EXTRA_ROWS) // 2
        picture[extra] = tint.astype(np.uint8)
    return picture


def _clusters(pair: Pair, view: View, picture: np.ndarray, active: int | None) -> None:
    for index, box in enumerate(pair.clusters):
        rect = box_outline(box, view)
        if rect is not None:
            # One display pixel outside the box, so the outline never hides the changes.
            left, top, right, bottom = rect
            outline = (left - 1, top - 1, right + 1, bottom + 1)
            draw_outline(picture, outline, CLUSTER_ACTIVE if index == active else CLUSTER)


def _guides(options: Options, view: View, picture: np.ndarray, width: int) -> None:
    if not options.guides:
        return
    for y1, y2 in options.hotspots:
        rect = box_outline((0, y1, width, y2 - y1 + 1), view)
        if rect is None:
            continue
        top, bottom = max(rect[1], 0), min(rect[3], view.out_h - 1)
        band = picture[top : bottom + 1]
        band[:] = ((band.astype(np.uint16) * 2 + HOTSPOT) // 3).astype(np.uint8)
    for box in options.regions:
        rect = box_outline(box, view)
        if rect is not None:
            draw_outline(picture, rect, REGION)


def compose(pair: Pair, view: View, options: Options, *, out_w: int | None = None) -> np.ndarray:
    """The picture of `options.mode` for this view: (view.out_h, out_w, 3) uint8.

    In side-by-side `view` is one pane (see `geometry_width`) and the picture is `out_w`
    wide (default: two panes and the separator); other modes ignore `out_w`.
    """
    mode = options.mode
    if mode == "side-by-side":
        return _side_by_side(pair, view, options, out_w or 2 * view.out_w + 1)
    if mode == "overlay":
        base = pair.current if pair.current is not None else pair.baseline
        side = "current" if base is pair.current else "baseline"
        picture = _faded(layer(pair, side, view))
        # Only the image is faded: a margin faded to light grey would merge with the page's
        # own light edges and the image's outline would be lost.
        x_lo, x_hi, y_lo, y_hi = spans(view, pair.width, pair.height)
        image = picture[y_lo:y_hi, x_lo:x_hi].copy()
        picture[:] = BACKGROUND
        picture[y_lo:y_hi, x_lo:x_hi] = image
        _marks(pair, view, picture)
        _clusters(pair, view, picture, options.active_cluster)
    elif mode == "onion":
        first = layer(pair, "baseline", view).astype(np.float32)
        second = layer(pair, "current", view).astype(np.float32)
        mix = min(max(options.mix, 0.0), 1.0)
        picture = np.rint(first * (1 - mix) + second * mix).astype(np.uint8)
    elif mode == "slider":
        picture = layer(pair, "current", view)
        split = round(min(max(options.split, 0.0), 1.0) * view.out_w)
        picture[:, :split] = layer(pair, "baseline", view)[:, :split]
        if 0 <= split < view.out_w:
            picture[:, split] = SPLIT
    elif mode == "blink":
        picture = layer(pair, options.side, view)
    elif mode == "diff":
        picture = np.empty((view.out_h, view.out_w, 3), dtype=np.uint8)
        picture[:] = BACKGROUND
        x_lo, x_hi, y_lo, y_hi = spans(view, pair.width, pair.height)
        picture[y_lo:y_hi, x_lo:x_hi] = DIFF_BACKGROUND
        _marks(pair, view, picture)
    else:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    _guides(options, view, picture, pair.width)
    return picture


def geometry_width(mode: str, out_w: int) -> int:
    """Display width a mode's view is computed for: one pane in side-by-side."""
    return max(1, (out_w - 1) // 2) if mode == "side-by-side" else out_w


def _side_by_side(pair: Pair, pane: View, options: Options, out_w: int) -> np.ndarray:
    """Baseline | current: `pane` is one pane's view; both panes zoom and pan in step."""
    picture = np.empty((pane.out_h, out_w, 3), dtype=np.uint8)
    picture[:] = SEPARATOR
    left = layer(pair, "baseline", pane)
    right = layer(pair, "current", pane)
    extra = _extra_rows(pair, pane)
    for part in (left, right):
        if extra.any():
            part[extra] = ((part[extra].astype(np.uint16) + EXTRA_ROWS) // 2).astype(np.uint8)
        _guides(options, pane, part, pair.width)
    picture[:, : pane.out_w] = left
    start = out_w - pane.out_w
    picture[:, start:] = right
    return picture
