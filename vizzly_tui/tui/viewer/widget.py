"""The image widget: half-block strips on Textual's Line API, drawn by worker threads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from vizzly_tui.picture import (
    Options,
    View,
    cluster_view,
    describe_cluster,
    geometry_width,
    guide_boxes,
    next_cluster,
    pan,
    pixel_info,
    resized,
    zoom_step,
)
from vizzly_tui.picture import (
    fit as fit_view,
)
from vizzly_tui.picture.view import centred, clamp

from .cursor import mark_cell
from .render import Renderer, Request, colour_system
from .subject import ViewerSubject

MODE_LABELS = {
    "side-by-side": "side-by-side",
    "overlay": "overlay",
    "onion": "onion skin",
    "slider": "slider",
    "blink": "blink",
    "diff": "diff only",
}
_BLANK = Style(bgcolor="rgb(28,28,28)")

#: Colour system for pictures instead of the terminal's (tests pin it so snapshots do not
#: depend on the TERM/COLORTERM of the machine running them); None follows the terminal.
FORCED_COLOURS: str | None = None

#: One Renderer per process: the app's preview and its viewer share decoded pairs and strips.
_SHARED: Renderer | None = None


def shared_renderer() -> Renderer:
    global _SHARED
    if _SHARED is None:
        _SHARED = Renderer()
    return _SHARED


class ImageView(Widget, can_focus=True):
    """A comparison's picture in one of the six modes, with zoom, pan and cluster jumps."""

    DEFAULT_CSS = """
    ImageView { width: 1fr; height: 1fr; background: rgb(28,28,28); }
    """

    class StatusChanged(Message):
        """The mode, zoom, cluster or inspector readout changed (labels redraw)."""

        def __init__(self, view: ImageView) -> None:
            super().__init__()
            self.image_view = view

    def __init__(
        self,
        subject: ViewerSubject | None = None,
        *,
        mode: str = "overlay",
        renderer: Renderer | None = None,
        pixels: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.renderer = renderer or shared_renderer()
        #: Pixel graphics (kitty/sixel): pixels per cell; pictures go to `pixel_sink` as
        #: Pillow images instead of half-block rows (see graphics.py).
        self.pixels = pixels
        self.pixel_sink: Any = None
        self.status_listener: Any = None
        self._options = Options(mode=mode)
        self._strips: list[Strip] = []
        self.cursor = (0, 0)
        self._reset(subject)
        #: Pictures drawn by a worker, and pictures taken straight from the cache.
        self.computed = 0
        self.from_cache = 0

    # --- state ------------------------------------------------------------------------

    @property
    def subject(self) -> ViewerSubject | None:
        return self._subject

    @subject.setter
    def subject(self, subject: ViewerSubject | None) -> None:
        if subject == self._subject:
            return
        self._reset(subject)
        # Never leave another comparison's picture up while this one is decoded.
        self._strips = []
        self.refresh()
        self._update()

    def _reset(self, subject: ViewerSubject | None) -> None:
        self._subject = subject
        self._shown: tuple | None = None
        self._pending: tuple | None = None
        self.finding_changes = False
        self._view: View | None = None
        self._fitted = True
        self._error: str | None = None
        self.cluster: int | None = None
        self.inspector = False
        regions, bands = guide_boxes(subject.regions, subject.hotspots) if subject else ((), ())
        self._options = replace(self._options, regions=regions, hotspots=bands, active_cluster=None)

    @property
    def options(self) -> Options:
        return self._options

    @property
    def view(self) -> View | None:
        return self._view

    @property
    def busy(self) -> bool:
        """A picture is being drawn (none yet, or the shown one is older)."""
        if self._subject is None or self._error is not None or self.size.area == 0:
            return False
        wanted = self._wanted_key()
        return wanted is None or self._shown != wanted

    def _pair_size(self) -> tuple[int, int] | None:
        pair = self.renderer.loaded(self._subject) if self._subject else None
        return None if pair is None else (pair.width, pair.height)

    def _display_size(self) -> tuple[int, int]:
        """The widget in display pixels: 1 x 2 per cell with half-blocks."""
        cell_w, cell_h = self.pixels or (1, 2)
        return self.size.width * cell_w, self.size.height * cell_h

    def _request(self) -> Request | None:
        if self._subject is None or self.size.width <= 0 or self.size.height <= 0:
            return None
        if self.pixels:
            system = "pixels"
        else:
            system = FORCED_COLOURS or colour_system(self.app.console.color_system)
        out_w, out_h = self._display_size()
        return Request(self._subject, self._options, self._view, out_w, out_h, system)

    def _wanted_key(self) -> tuple | None:
        request = self._request()
        if request is None or self._view is None:
            return None
        return request.key(self._view)

    def _conform_view(self) -> None:
        """Keep the view's size in step with the widget (refit when showing the whole image)."""
        size = self._pair_size()
        if size is None:
            self._view = None
            return
        full_w, out_h = self._display_size()
        out_w = geometry_width(self._options.mode, full_w)
        if self._view is None or self._fitted:
            self._view = fit_view(size[0], size[1], out_w, out_h)
            self._fitted = True
        elif (self._view.out_w, self._view.out_h) != (out_w, out_h):
            self._view = resized(self._view, out_w, out_h, *size)

    def _update(self) -> None:
        request = self._request()
        if request is None:
            self._show(None, [])
            return
        self._conform_view()
        request = self._request()
        assert request is not None
        if self._view is not None:
            cached = self.renderer.cached(request, self._view)
            if cached is not None:
                self.from_cache += 1
                self._show(request.key(self._view), cached)
                self._draw_ahead(request, self._view)
                return
        # The same picture already on its way (a resize and a mount can ask twice): wait.
        token = (
            request.key(self._view)
            if self._view is not None
            else (request.subject.key, request.options.key(), request.out_w, request.out_h)
        )
        if token == self._pending:
            return
        self._pending = token
        self.run_worker(
            lambda: self._draw(request),
            thread=True,
            exclusive=True,
            group="image-view",
            exit_on_error=False,
        )
        self._status_changed()

    def _draw(self, request: Request) -> None:
        """Worker thread: compute the picture (and, in blink, the other side too)."""

        def first_look(view: View, strips: Any) -> None:
            self.app.call_from_thread(self._first_look, request, view, strips)

        try:
            view, strips = self.renderer.render(request, first_look=first_look)
        except Exception as exc:  # an unreadable PNG must not take the app down
            self.app.call_from_thread(self._failed, request, exc)
            return
        self.app.call_from_thread(self._drawn, request, view, strips)
        if request.options.mode == "blink":
            other = "baseline" if request.options.side == "current" else "current"
            flipped = replace(request, options=replace(request.options, side=other), view=view)
            self.renderer.render(flipped)
        self.renderer.draw_next_cluster(request, view)

    def _draw_ahead(self, request: Request, view: View) -> None:
        """After a picture came from the cache (no worker ran): draw the next cluster's.
        Not in blink: a flip between two drawn pictures computes nothing at all."""
        if request.options.mode == "blink":
            return
        ahead = self.renderer.next_cluster_request(request, view)
        if ahead is None or ahead.view is None or self.renderer.cached(ahead, ahead.view):
            return
        self.run_worker(
            lambda: self.renderer.render(ahead),
            thread=True,
            exclusive=True,
            group="image-ahead",
            exit_on_error=False,
        )

    def _drawn(self, request: Request, view: View, strips: list[Strip]) -> None:
        self._pending = None
        if request.subject != self._subject:
            return
        self.computed += 1
        if self._view is None:
            self._view = view
            self._fitted = True
        if request.key(view) == self._wanted_key():
            self._show(request.key(view), strips)
        else:
            self._update()  # the size or the pair arrived: draw what is wanted now

    def _first_look(self, request: Request, view: View, strips: Any) -> None:
        """The images before their masks: shown at once, replaced when the masks are in."""
        if request.subject != self._subject or self._shown is not None:
            return
        self.finding_changes = True
        self._show(None, strips)
        self.finding_changes = True  # _show posts the label update; keep the note until done

    def _failed(self, request: Request, exc: Exception) -> None:
        self._pending = None
        if request.subject != self._subject:
            return
        self._error = f"cannot show this comparison: {exc}"
        self._show(None, [])
        # No picture before it either: _show found no changed rows, but the message is new.
        self.refresh()

    def _show(self, key: tuple | None, strips: Any) -> None:
        if key is not None:
            self._error = None
            self.finding_changes = False
        self._shown = key
        if self.pixels and not isinstance(strips, list):
            # Pixel graphics: a Pillow image for textual-image's widget over this one.
            self._strips = []
            if self.pixel_sink is not None:
                self.pixel_sink(strips)
            self.refresh()
        else:
            old, self._strips = self._strips, strips
            self._refresh_changed(old, strips)
        self._status_changed()

    def _refresh_changed(self, old: list[Strip], new: list[Strip]) -> None:
        """Repaint only the rows that differ: a blink flip or a mix step changes few rows,
        and every repainted row travels over ssh."""
        width = self.size.width
        same_shape = len(old) == len(new) and all(
            a.cell_length == b.cell_length == width for a, b in zip(old, new, strict=True)
        )
        if not same_shape:
            self.refresh()
            return
        start = None
        for y, (a, b) in enumerate(zip(old, new, strict=True)):
            differs = a is not b and a != b
            if differs and start is None:
                start = y
            elif not differs and start is not None:
                self.refresh(Region(0, start, width, y - start))
                start = None
        if start is not None:
            self.refresh(Region(0, start, width, len(new) - start))

    def _status_changed(self) -> None:
        # A listener (the viewer screen's labels) is told at once, in this same refresh:
        # through a message the title would reach the terminal a frame after the picture.
        if self.status_listener is not None:
            self.status_listener()
        else:
            self.post_message(self.StatusChanged(self))

    # --- Line API -------------------------------------------------------------------------

    def on_mount(self) -> None:
        # A subject set before the widget had a size (mounted and given its subject in one
        # go) is drawn once the first layout has happened.
        self.call_after_refresh(self._update)

    def on_resize(self) -> None:
        self._update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y < len(self._strips):
            strip = self._strips[y]
            if strip.cell_length != width:
                strip = strip.crop_extend(0, width, _BLANK)
            if self.inspector:
                strip = self._with_cursor(strip, y)
            return strip
        if y == 0 and (self._error or (self._subject is None)):
            text = self._error or ""
            return Strip([Segment(text[:width].ljust(width), _BLANK)], width)
        return Strip([Segment(" " * width, _BLANK)], width)

    def _with_cursor(self, strip: Strip, y: int) -> Strip:
        view = self._view
        if view is None:
            return strip
        x, py = self.cursor
        col = int(x - view.x0)
        row, lower = divmod(int(py - view.y0), 2)
        if row != y or not 0 <= col < view.out_w:
            return strip
        columns = [col]
        if self._options.mode == "side-by-side":
            # The same image pixel in the current pane (right-aligned, as compose draws it),
            # so both colours being compared are pointed at.
            columns.append(strip.cell_length - view.out_w + col)
        for column in columns:
            if 0 <= column < strip.cell_length:
                strip = mark_cell(strip, column, lower)
        return strip

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    # --- commands (the viewer screen's keys call these) ----------------------------------

    def set_mode(self, mode: str) -> None:
        if mode == self._options.mode:
            return
        geometry_changes = "side-by-side" in (mode, self._options.mode)
        self._options = replace(self._options, mode=mode)
        if geometry_changes and self._view is not None and not self._fitted:
            size = self._pair_size()
            if size is not None:
                width = geometry_width(mode, self._display_size()[0])
                self._view = resized(self._view, width, self._view.out_h, *size)
        self._update()

    def fit(self) -> None:
        self.inspector = False  # the inspector reads pixels at 1:1 only
        self._fitted = True
        self._view = None
        self._update()

    def zoom(self, direction: int) -> None:
        size = self._pair_size()
        if self._view is None or size is None:
            return
        self._fitted = False
        self._view = zoom_step(self._view, direction, *size)
        self.inspector = self.inspector and self._view.scale == 1.0
        self._update()

    def one_to_one(self) -> None:
        size = self._pair_size()
        if self._view is None or size is None:
            return
        win_w, win_h = self._view.window
        cx, cy = self._view.x0 + win_w / 2, self._view.y0 + win_h / 2
        self._fitted = False
        self._view = centred(self._view, cx, cy, size[0], size[1], 1.0)
        self._update()

    def pan(self, dx: int, dy: int) -> None:
        size = self._pair_size()
        if self._view is None or size is None:
            return
        if self.inspector:
            self._move_cursor(dx, dy, *size)
            return
        self._fitted = False
        self._view = pan(self._view, dx, dy, *size)
        self._update()

    def jump_cluster(self, step: int) -> None:
        pair = self.renderer.loaded(self._subject) if self._subject else None
        if pair is None or self._view is None:
            return
        index = next_cluster(self.cluster, len(pair.clusters), step)
        if index is None:
            self.app.bell()
            return
        self.cluster = index
        self._fitted = False
        self._view = cluster_view(self._view, pair, index)
        self._options = replace(self._options, active_cluster=index)
        x, y, w, h = pair.clusters[index]
        self.cursor = (x + w // 2, y + h // 2)
        self._update()

    def cluster_text(self) -> str | None:
        pair = self.renderer.loaded(self._subject) if self._subject else None
        if pair is None or self.cluster is None or self.cluster >= len(pair.clusters):
            return None
        return describe_cluster(pair, self.cluster)

    def cluster_count(self) -> int | None:
        pair = self.renderer.loaded(self._subject) if self._subject else None
        return None if pair is None else len(pair.clusters)

    def step_mix(self, step: int) -> None:
        mode = self._options.mode
        if mode == "onion":
            mix = min(1.0, max(0.0, round(self._options.mix + step * 0.1, 2)))
            self._options = replace(self._options, mix=mix)
        elif mode == "slider":
            split = min(1.0, max(0.0, round(self._options.split + step * 0.05, 2)))
            self._options = replace(self._options, split=split)
        else:
            return
        self._update()

    def flip(self) -> None:
        side = "baseline" if self._options.side == "current" else "current"
        self._options = replace(self._options, side=side)
        if self._options.mode != "blink":
            self._options = replace(self._options, mode="blink")
        self._update()

    def toggle_guides(self) -> None:
        self._options = replace(self._options, guides=not self._options.guides)
        self._update()

    def toggle_inspector(self) -> None:
        size = self._pair_size()
        if self._view is None or size is None:
            return
        self.inspector = not self.inspector
        if self.inspector:
            if self._view.scale != 1.0:
                self.one_to_one()
            view = self._view
            win_w, win_h = view.window
            cx = min(max(self.cursor[0], int(view.x0)), int(view.x0 + win_w) - 1)
            cy = min(max(self.cursor[1], int(view.y0)), int(view.y0 + win_h) - 1)
            self.cursor = (max(cx, 0), max(cy, 0))
        self.refresh()
        self._status_changed()

    def _move_cursor(self, dx: int, dy: int, width: int, height: int) -> None:
        x = min(max(self.cursor[0] + dx, 0), width - 1)
        y = min(max(self.cursor[1] + dy, 0), height - 1)
        self.cursor = (x, y)
        view = self._view
        assert view is not None
        win_w, win_h = view.window
        if not (view.x0 <= x < view.x0 + win_w and view.y0 <= y < view.y0 + win_h):
            # Keep the cursor on screen: recentre the window on it.
            self._view = clamp(centred(view, x, y, width, height, view.scale), width, height)
            self._fitted = False
            self._update()
        else:
            self.refresh()
            self._status_changed()

    def inspector_text(self) -> str | None:
        pair = self.renderer.loaded(self._subject) if self._subject else None
        if not self.inspector or pair is None:
            return None
        return pixel_info(pair, *self.cursor).describe()

    def zoom_text(self) -> str:
        if self._view is None:
            return "…"
        percent = self._view.scale * 100
        label = f"{percent:.0f}%" if percent >= 10 else f"{percent:.1f}%"
        return f"fit {label}" if self._fitted else label

    def mode_text(self) -> str:
        options = self._options
        label = MODE_LABELS[options.mode]
        if options.mode == "onion":
            label += f" {options.mix * 100:.0f}% current"
        elif options.mode == "slider":
            label += f" split {options.split * 100:.0f}%"
        elif options.mode == "blink":
            label += f": {options.side.upper()}"
        return label
