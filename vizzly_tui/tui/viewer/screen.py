"""The full-screen viewer: six modes, zoom and pan, cluster jumps, guides, pixel inspector."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget

from vizzly_tui.formatting import printable
from vizzly_tui.tui.widgets.footer import KeysFooter

from . import graphics as viewer_graphics
from .subject import ViewerSubject
from .widget import ImageView, shared_renderer

MODE_KEYS = ("side-by-side", "overlay", "onion", "slider", "blink", "diff")


class _Line(Widget):
    """One line of text that repaints without a layout pass (Static.update re-lays out the
    screen, which delays the label a frame behind the picture)."""

    DEFAULT_CSS = "_Line { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()

    def show(self, text: Text) -> None:
        # Names come from SDKs: their control characters never reach the terminal (one
        # character for one, so the styles' spans stay in place).
        text = Text(printable(text.plain), style=text.style, spans=text.spans)
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return self._text


def desktop_opener() -> list[str] | None:
    """The desktop's "open this file" command, when there is a desktop to show it on."""
    if os.environ.get("SSH_CONNECTION") and not os.environ.get("DISPLAY"):
        return None
    if shutil.which("open") and os.uname().sysname == "Darwin":
        return ["open"]
    if (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and shutil.which(
        "xdg-open"
    ):
        return ["xdg-open"]
    return None


class ViewerScreen(Screen[None]):
    """One comparison full size. Every binding has an id so users can remap it."""

    DEFAULT_CSS = """
    ViewerScreen { layout: vertical; }
    ViewerScreen #viewer-title { height: 1; background: $panel; color: $text; }
    ViewerScreen #viewer-status { height: 1; background: $panel; color: $text-muted; }
    ViewerScreen ImageView { height: 1fr; }
    ViewerScreen #viewer-stack { height: 1fr; layers: picture pixels; }
    ViewerScreen #viewer-stack ImageView { layer: picture; }
    ViewerScreen #viewer-pixels { layer: pixels; width: 100%; height: 100%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="viewer-close"),
        Binding("1", "mode('side-by-side')", "Side", id="viewer-mode-side-by-side"),
        Binding("2", "mode('overlay')", "Overlay", id="viewer-mode-overlay"),
        Binding("3", "mode('onion')", "Onion", id="viewer-mode-onion"),
        Binding("4", "mode('slider')", "Slider", id="viewer-mode-slider"),
        Binding("5", "mode('blink')", "Blink", id="viewer-mode-blink"),
        Binding("6", "mode('diff')", "Diff", id="viewer-mode-diff"),
        Binding("space", "flip", "Flip", id="viewer-blink-flip"),
        Binding("n", "cluster(1)", "Next change", id="viewer-next-cluster"),
        Binding("N", "cluster(-1)", "Prev change", id="viewer-prev-cluster"),
        Binding("0", "fit", "Fit", id="viewer-zoom-fit"),
        Binding("equals_sign,plus", "zoom(1)", "Zoom in", id="viewer-zoom-in"),
        Binding("minus", "zoom(-1)", "Zoom out", id="viewer-zoom-out"),
        Binding("z", "one_to_one", "1:1", id="viewer-zoom-1to1"),
        Binding("left,h", "pan(-1, 0)", "Left", show=False, id="viewer-pan-left"),
        Binding("right,l", "pan(1, 0)", "Right", show=False, id="viewer-pan-right"),
        Binding("up,k", "pan(0, -1)", "Up", show=False, id="viewer-pan-up"),
        Binding("down,j", "pan(0, 1)", "Down", show=False, id="viewer-pan-down"),
        Binding("left_square_bracket", "step(-1)", "Less", show=False, id="viewer-step-down"),
        Binding("right_square_bracket", "step(1)", "More", show=False, id="viewer-step-up"),
        Binding("g", "guides", "Regions", id="viewer-guides"),
        Binding("i", "inspector", "Inspect", id="viewer-inspector"),
        Binding("o", "open_files", "Open", id="viewer-open"),
    ]

    def __init__(self, subject: ViewerSubject, *, mode: str = "overlay") -> None:
        super().__init__()
        self.subject = subject
        self._mode = mode
        self._opened: str | None = None
        # Decoding starts now, while the screen mounts (~50 ms before the picture's worker).
        shared_renderer().prefetch(subject, mode)

    def compose(self) -> ComposeResult:
        yield _Line(id="viewer-title")
        graphics = viewer_graphics.ACTIVE
        if graphics.mode == "halfblock":
            yield ImageView(self.subject, mode=self._mode, id="viewer-image")
        else:
            # textual-image's widget on a layer above ours: ours keeps the state, the keys
            # and the worker threads, and hands it each picture as a Pillow image.
            with Container(id="viewer-stack"):
                yield ImageView(
                    self.subject, mode=self._mode, pixels=graphics.cell, id="viewer-image"
                )
                yield viewer_graphics.pixel_widget(graphics.mode, id="viewer-pixels")
        yield _Line(id="viewer-status")
        # One line of text, not Footer's widget per key: mounting Footer's ~20 keys took
        # ~150 ms of the UI thread while the first picture was being drawn.
        yield KeysFooter(id="viewer-keys")

    @property
    def image(self) -> ImageView:
        return self.query_one(ImageView)

    def on_mount(self) -> None:
        image = self.image
        if image.pixels:
            pixels = self.query_one("#viewer-pixels")

            def show(picture: Any) -> None:
                pixels.image = picture

            image.pixel_sink = show
        image.status_listener = self._labels
        notice = viewer_graphics.ACTIVE.notice
        if notice:
            self._opened = notice  # the one-line notice of a graphics fallback
        image.focus()
        self._labels()

    def on_image_view_status_changed(self, message: ImageView.StatusChanged) -> None:
        self._labels()

    def _labels(self) -> None:
        image = self.image
        subject = self.subject
        title = Text()
        title.append(f" {subject.name} ", style="bold")
        title.append(f"[{subject.status}] ")
        title.append(
            image.mode_text(), style="bold reverse" if image.options.mode == "blink" else "bold"
        )
        title.append(f"  {image.zoom_text()}")
        if image.finding_changes:
            title.append("  finding changes…", style="italic")
        elif image.busy:
            title.append("  drawing…", style="italic")
        if subject.read_only:
            title.append("  read-only")
        self.query_one("#viewer-title", _Line).show(title)
        parts = []
        inspector = image.inspector_text()
        if inspector:
            parts.append(inspector)  # first: it is what the user is reading while inspecting
        count = image.cluster_count()
        cluster = image.cluster_text()
        if cluster:
            parts.append(cluster)
        elif count is not None:
            parts.append(f"{count} cluster{'s' if count != 1 else ''} (n: next)")
        if subject.height_diff:
            parts.append(f"height {subject.height_diff:+d} rows (hatched/tinted)")
        if image.options.guides:
            parts.append(
                f"regions {len(image.options.regions)} · bands {len(image.options.hotspots)}"
            )
        if self._opened:
            parts.append(self._opened)
        self.query_one("#viewer-status", _Line).show(Text(" " + "   ".join(parts)))

    # --- actions ---------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_mode(self, mode: str) -> None:
        self.image.set_mode(mode)

    def action_flip(self) -> None:
        self.image.flip()

    def action_cluster(self, step: int) -> None:
        self.image.jump_cluster(step)

    def action_fit(self) -> None:
        self.image.fit()

    def action_zoom(self, direction: int) -> None:
        self.image.zoom(direction)

    def action_one_to_one(self) -> None:
        self.image.one_to_one()

    def action_pan(self, dx: int, dy: int) -> None:
        self.image.pan(dx, dy)

    def action_step(self, step: int) -> None:
        self.image.step_mix(step)

    def action_guides(self) -> None:
        self.image.toggle_guides()

    def action_inspector(self) -> None:
        self.image.toggle_inspector()

    def action_open_files(self) -> None:
        subject = self.subject
        paths = [
            ("baseline", subject.baseline_path),
            ("current", subject.current_path),
            ("diff", subject.diff_path),
        ]
        text = "  ".join(f"{label}: {path or '-'}" for label, path in paths)
        opener = desktop_opener()
        if opener:
            for _, path in paths:
                if path is not None:
                    # Detached: the viewer must not wait for (or die with) the image viewer.
                    subprocess.Popen(
                        [*opener, str(path)],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
            text += f"  (opened with {opener[0]})"
        self._opened = text
        self.notify(text, title="files", timeout=8)
        self._labels()
