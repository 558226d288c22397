"""Pictures to Textual strips, in worker threads, behind LRU caches.

The strip cache is keyed by everything that changes the output (comparison, mode and its
parameters, zoom, window, size, colour system), so a key that only flips between pictures
already drawn (blink, going back to a mode) costs a dictionary lookup and computes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image as PILImage
from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from vizzly_tui.picture import Options, Pair, View, compose, fit, geometry_width
from vizzly_tui.picture.cells import half_block_rows
from vizzly_tui.picture.pair import decode_images, pair_from_arrays
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
            # The palette entry's own RGB: Textual turns indexed colours into RGB through its
            # theme and the console maps RGB back to the entry, so the chosen entry is sent.
            r, g, b = (int(c) for c in to_rgb(np.array(value), system))
        colour = Color(
            f"#{r:02x}{g:02x}{b:02x}", ColorType.TRUECOLOR, triplet=ColorTriplet(r, g, b)
        )
        _COLOURS[key] = colour
    return colour


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


def _pair_bytes(pair: Pair) -> int:
    arrays = (pair.baseline, pair.current, pair.changed, pair.antialiasing)
    return sum(a.nbytes for a in arrays if a is not None)


class Renderer:
    """Decoded pairs and rendered strips, shared by every image widget of an app."""

    def __init__(self, pairs: int = 2, strips: int = 48) -> None:
        self._pairs = _LRU(pairs)
        self._strips = _LRU(strips)
        self._load_lock = threading.Lock()
        #: Composites computed so far (the redraw benchmark and tests read it).
        self.composites = 0

    def cached(self, request: Request, view: View) -> list[Strip] | None:
        return self._strips.get(request.key(view))

    def pair(self, subject: ViewerSubject, first_look: Any = None) -> Pair:
        """Decode and mask a subject's images once (blocking: call from a worker).

        `first_look(pair)` is called with a provisional pair (images, no masks yet) when the
        pair is decoded here, so a first picture can be shown while the masks are computed.
        """
        pair = self._pairs.get(subject.key)
        if pair is None:
            with self._load_lock:  # two workers asking for the same pair decode it once
                pair = self._pairs.get(subject.key)
                if pair is None:
                    first, second = decode_images(subject.baseline_path, subject.current_path)
                    clusters = list(subject.clusters)
                    if first_look is not None and first is not None and second is not None:
                        first_look(pair_from_arrays(first, second, clusters=clusters, masks=False))
                    pair = pair_from_arrays(
                        first, second, threshold=subject.threshold, clusters=clusters
                    )
                    self._pairs.put(subject.key, pair)
                    self._pairs.trim(PAIR_BUDGET, _pair_bytes)
        return pair

    def loaded(self, subject: ViewerSubject) -> Pair | None:
        return self._pairs.get(subject.key)

    def fit_view(self, pair: Pair, request: Request) -> View:
        width = geometry_width(request.options.mode, request.out_w)
        return fit(pair.width, pair.height, width, request.out_h)

    def render(
        self, request: Request, view: View | None = None, first_look: Any = None
    ) -> tuple[View, Any]:
        """The strips for a request, or a Pillow image for pixel graphics (blocking: call
        from a worker). `first_look(view, strips)` may receive a picture drawn before the
        masks are known (only when this call decodes the images)."""

        def provisional(pair: Pair) -> None:
            early = view or request.view or self.fit_view(pair, request)
            first_look(early, self._draw(pair, early, request))

        pair = self.pair(request.subject, provisional if first_look else None)
        view = view or request.view or self.fit_view(pair, request)
        key = request.key(view)
        strips = self._strips.get(key)
        if strips is None:
            strips = self._draw(pair, view, request)
            self._strips.put(key, strips)
        return view, strips

    def _draw(self, pair: Pair, view: View, request: Request) -> Any:
        picture = compose(pair, view, request.options, out_w=request.out_w)
        self.composites += 1
        if request.system == "pixels":
            # Pixel graphics (kitty/sixel): textual-image encodes the picture itself.
            return PILImage.fromarray(picture, "RGB")
        return picture_strips(picture, request.system)
