"""Pictures to Textual strips, in worker threads, behind LRU caches.

The strip cache is keyed by everything that changes the output (comparison, mode and its
parameters, zoom, window, size, colour system), so a key that only flips between pictures
already drawn (blink, going back to a mode) costs a dictionary lookup and computes nothing.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from rich._palettes import STANDARD_PALETTE
from rich.color import Color, ColorSystem, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from vizzly_tui.engine.decode import decode_png, read_png_size
from vizzly_tui.engine.errors import ImageError
from vizzly_tui.engine.workers import pool
from vizzly_tui.picture import (
    Options,
    Pair,
    View,
    cluster_view,
    compose,
    fit,
    geometry_width,
    next_cluster,
)
from vizzly_tui.picture.cells import half_block_rows
from vizzly_tui.picture.pair import pair_from_arrays
from vizzly_tui.picture.palette import to_rgb

from .subject import ViewerSubject


class _LRU:
    """A small thread-safe LRU (workers fill it, the UI thread reads it)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def trim(self, budget: int, size_of: Any) -> None:
        """Drop the oldest entries while they weigh more than `budget` (keeping the newest)."""
        with self._lock:
            while len(self._items) > 1 and sum(map(size_of, self._items.values())) > budget:
                self._items.popitem(last=False)


def colour_system(console_system: str | None) -> str:
    """Rich's console colour system -> the picture's quantisation."""
    if console_system == "truecolor":
        return "truecolor"
    if console_system == "256":
        return "256"
    return "16"


@dataclass(frozen=True)
class Request:
    """One picture: a subject seen through a view in a mode, at a size, in a colour system."""

    subject: ViewerSubject
    options: Options
    view: View | None  # None: fit, known once the images are decoded
    out_w: int
    out_h: int  # display pixels (2 per cell row)
    system: str

    def key(self, view: View) -> tuple:
        return (self.subject.key, self.options.key(), view.key(), self.out_w, self.system)


_STYLES: dict[tuple, Style] = {}
_COLOURS: dict[tuple, Color] = {}


def _style(fg: Any, bg: Any, system: str) -> Style:
    # Cached: a 4K page at fit has thousands of distinct cell styles, and building a Rich
    # Style from scratch costs ~10 µs (the first picture of a pair would pay ~100 ms).
    key = (fg, bg, system)
    style = _STYLES.get(key)
    if style is None:
        style = Style.from_color(_colour(fg, system), _colour(bg, system))
        _STYLES[key] = style
    return style


def _colour(value: Any, system: str) -> Color | None:
    if value is None:
        return None
    key = (value, system)
    colour = _COLOURS.get(key)
    if colour is None:
        if system == "truecolor":
            r, g, b = value
        else:
            r, g, b = console_rgb(int(value), system)
        colour = Color(
            f"#{r:02x}{g:02x}{b:02x}", ColorType.TRUECOLOR, triplet=ColorTriplet(r, g, b)
        )
        _COLOURS[key] = colour
    return colour


@functools.cache
def console_rgb(index: int, system: str) -> tuple[int, int, int]:
    """The RGB to style a cell with so that a 16/256-colour console sends palette `index`.

    Textual hands Rich RGB colours and Rich maps them to an entry by its own rules: in 16
    colours by nearest entry of its own palette (not xterm's), in 256 colours greys by
    lightness onto the grey ramp (one step off for some ramp entries, and the cube's greys
    land on the ramp). So the entry's RGB is nudged until Rich's mapping gives it back.
    """
    console = ColorSystem.STANDARD if system == "16" else ColorSystem.EIGHT_BIT
    if system == "16":
        start = tuple(STANDARD_PALETTE[index])
    else:
        start = tuple(int(c) for c in to_rgb(np.array(index), system))
    r0, g0, b0 = start
    for dr, dg, db in _NUDGES:
        r, g, b = min(max(r0 + dr, 0), 255), min(max(g0 + dg, 0), 255), min(max(b0 + db, 0), 255)
        triplet = ColorTriplet(r, g, b)
        if Color.from_triplet(triplet).downgrade(console).number == index:
            return r, g, b
    return r0, g0, b0  # not reachable for xterm's entries (tested); the nearest then


#: Nudges tried in order: none, then greys up and down the ramp, then (for the cube's greys,
#: which Rich sends to the ramp below 15 % saturation) tinted just enough towards blue.
_NUDGES = (
    [(0, 0, 0)]
    + [(d, d, d) for n in range(1, 8) for d in (n, -n)]
    + [(-down, -down, up) for up in range(0, 48, 4) for down in range(0, 48, 4)]
)


def picture_strips(picture: np.ndarray, system: str) -> list[Strip]:
    """Half-block strips of a picture, one per terminal row."""
    strips = []
    width = picture.shape[1]
    for row in half_block_rows(picture, system):
        segments = [Segment(run.text, _style(run.fg, run.bg, system)) for run in row]
        strips.append(Strip(segments, width))
    return strips


#: Decoded pairs kept for going back and forth (the newest is always kept): two 1080p pairs
#: fit, a 4K pair (66 MB of pixels plus 16 MB of masks) stays alone, within the app's RSS goal.
PAIR_BUDGET = 96 * 1024 * 1024


#: Modes whose first picture needs both images; the others show one (overlay: current).
BOTH_IMAGES = ("side-by-side", "onion", "slider")


def first_side(subject: ViewerSubject, mode: str) -> str | None:
    """The image to decode first for `mode` ("baseline"/"current" for blink's sides)."""
    wanted = mode if mode in ("baseline", "current") else "current"
    order = (wanted, "baseline" if wanted == "current" else "current")
    for side in order:
        path = _path(subject, side)
        if path is not None and Path(path).is_file():
            return side
    return None


def _path(subject: ViewerSubject, side: str) -> Path | None:
    return subject.current_path if side == "current" else subject.baseline_path


def decode_file(path: Path | None) -> np.ndarray | None:
    """One PNG as RGBA, None when there is no such file (a new screenshot's baseline)."""
    if path is None or not Path(path).is_file():
        return None
    return decode_png(Path(path).read_bytes(), label=f"image {Path(path).name}")


def canvas_height(subject: ViewerSubject) -> int | None:
    """The taller image's height from the PNG headers (no decoding)."""
    heights = []
    for side in ("baseline", "current"):
        path = _path(subject, side)
        if path is not None and Path(path).is_file():
            try:
                heights.append(read_png_size(path)[1])
            except ImageError:
                continue  # the decode reports it
    return max(heights, default=None)


def _pair_bytes(pair: Pair) -> int:
    arrays = (pair.baseline, pair.current, pair.changed, pair.antialiasing)
    return sum(a.nbytes for a in arrays if a is not None)


class Renderer:
    """Decoded pairs and rendered strips, shared by every image widget of an app."""

    def __init__(self, pairs: int = 2, strips: int = 48) -> None:
        self._pairs = _LRU(pairs)
        self._strips = _LRU(strips)
        self._load_lock = threading.Lock()
        self._early: tuple[tuple, Future] | None = None
        self._early_lock = threading.Lock()
        #: Composites computed so far (the redraw benchmark and tests read it).
        self.composites = 0

    def cached(self, request: Request, view: View) -> list[Strip] | None:
        return self._strips.get(request.key(view))

    def prefetch(self, subject: ViewerSubject, mode: str = "overlay") -> None:
        """Start decoding the image a mode's first picture needs, before any widget has a
        size (the viewer screen calls this as it is created: mounting it takes ~50 ms)."""
        if self._pairs.get(subject.key) is not None:
            return
        side = first_side(subject, mode)
        if side is None:
            return
        with self._early_lock:
            if self._early is not None and self._early[0] == (subject.key, side):
                return
            path = subject.current_path if side == "current" else subject.baseline_path
            # One slot: opening another comparison drops the older early decode.
            self._early = ((subject.key, side), pool().submit(decode_file, path))

    def _decoded(self, subject: ViewerSubject, side: str) -> Future:
        with self._early_lock:
            early, self._early = self._early, None
        if early is not None and early[0] == (subject.key, side):
            return early[1]
        path = subject.current_path if side == "current" else subject.baseline_path
        done: Future = Future()
        try:
            done.set_result(decode_file(path))
        except Exception as exc:  # re-raised by .result(), like a pool future
            done.set_exception(exc)
        return done

    def pair(self, subject: ViewerSubject, first_look: Any = None, mode: str = "overlay") -> Pair:
        """Decode and mask a subject's images once (blocking: call from a worker).

        `first_look(pair, height)` is called with a provisional pair (no masks yet, and only
        the image `mode` shows when it needs one) and the canvas height when the pair is
        decoded here, so a first picture can be shown while the rest is decoded and masked.
        """
        pair = self._pairs.get(subject.key)
        if pair is None:
            with self._load_lock:  # two workers asking for the same pair decode it once
                pair = self._pairs.get(subject.key)
                if pair is None:
                    pair = self._load(subject, first_look, mode)
                    self._pairs.put(subject.key, pair)
                    self._pairs.trim(PAIR_BUDGET, _pair_bytes)
        return pair

    def _load(self, subject: ViewerSubject, first_look: Any, mode: str) -> Pair:
        # The image the first picture needs is decoded alone (on a 2-core machine the app is
        # still mounting the screen on the other core); the other one is decoded while that
        # picture is drawn, then the masks are computed.
        side = first_side(subject, mode) or "current"
        other = "baseline" if side == "current" else "current"
        images = {side: self._decoded(subject, side).result()}
        later = pool().submit(decode_file, _path(subject, other))
        clusters = list(subject.clusters)
        if first_look is not None and images[side] is not None and mode not in BOTH_IMAGES:
            first_look(
                pair_from_arrays(
                    images.get("baseline"), images.get("current"), clusters=clusters, masks=False
                ),
                canvas_height(subject),
            )
        images[other] = later.result()
        first, second = images["baseline"], images["current"]
        both = first is not None and second is not None
        if first_look is not None and mode in BOTH_IMAGES and both:
            first_look(pair_from_arrays(first, second, clusters=clusters, masks=False), None)
        return pair_from_arrays(first, second, threshold=subject.threshold, clusters=clusters)

    def loaded(self, subject: ViewerSubject) -> Pair | None:
        return self._pairs.get(subject.key)

    def fit_view(self, pair: Pair, request: Request, height: int | None = None) -> View:
        """The fit view; `height`: the canvas's when the pair has only one image yet."""
        width = geometry_width(request.options.mode, request.out_w)
        return fit(pair.width, height or pair.height, width, request.out_h)

    def render(
        self, request: Request, view: View | None = None, first_look: Any = None
    ) -> tuple[View, Any]:
        """The strips for a request, or a Pillow image for pixel graphics (blocking: call
        from a worker). `first_look(view, strips)` may receive a picture drawn before the
        masks are known (only when this call decodes the images)."""

        def provisional(pair: Pair, height: int | None) -> None:
            early = view or request.view or self.fit_view(pair, request, height)
            first_look(early, self._draw(pair, early, request))

        mode = request.options.mode
        if mode == "blink":
            mode = request.options.side  # blink shows one image: decode that one first
        pair = self.pair(request.subject, provisional if first_look else None, mode)
        view = view or request.view or self.fit_view(pair, request)
        key = request.key(view)
        strips = self._strips.get(key)
        if strips is None:
            strips = self._draw(pair, view, request)
            self._strips.put(key, strips)
        return view, strips

    def next_cluster_request(self, request: Request, view: View) -> Request | None:
        """The picture `n` would show after `request` (None before the masks are known)."""
        pair = self.loaded(request.subject)
        if pair is None or pair.masks_pending or not pair.clusters:
            return None
        index = next_cluster(request.options.active_cluster, len(pair.clusters), 1)
        if index is None:
            return None
        return replace(
            request,
            options=replace(request.options, active_cluster=index),
            view=cluster_view(view, pair, index),
        )

    def draw_next_cluster(self, request: Request, view: View) -> None:
        """Draw the picture `n` would show next into the strip cache (blocking: call from a
        worker; a 1:1 window costs a few ms), so the jump itself is a cache lookup."""
        ahead = self.next_cluster_request(request, view)
        if ahead is not None and ahead.view is not None and not self.cached(ahead, ahead.view):
            self.render(ahead)

    def _draw(self, pair: Pair, view: View, request: Request) -> Any:
        picture = compose(pair, view, request.options, out_w=request.out_w)
        self.composites += 1
        if request.system == "pixels":
            # Pixel graphics (kitty/sixel): textual-image encodes the picture itself.
            return PILImage.fromarray(picture, "RGB")
        return picture_strips(picture, request.system)
