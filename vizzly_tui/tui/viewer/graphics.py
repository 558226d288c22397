"""Opt-in pixel graphics for the viewer (`--graphics auto|kitty|sixel|halfblock`).

Half-blocks are the default and work everywhere (ssh, tmux, CI, snapshots). With textual-image
installed (`pip install 'vizzly-tui[graphics]'`) the viewer can send real pixels with the
kitty graphics protocol or sixels. The terminal must be asked whether it can before Textual
starts (Textual's input thread would swallow the answers), so `probe()` runs in the launcher;
any failure (package missing, not a terminal, no answer) falls back to half-blocks with a
one-line notice.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

CHOICES = ("auto", "kitty", "sixel", "halfblock")


@dataclass(frozen=True)
class Graphics:
    mode: str  # "kitty" | "sixel" | "halfblock"
    cell: tuple[int, int] = (1, 2)  # pixels per cell (half-blocks: 1 x 2)
    notice: str | None = None


#: What the viewer uses in this process (set once by the launcher, before the app starts).
ACTIVE = Graphics("halfblock")


def _fallback(choice: str, why: str) -> Graphics:
    return Graphics("halfblock", notice=f"--graphics {choice}: {why}; using half-blocks")


def probe(choice: str, *, is_terminal: bool | None = None) -> Graphics:
    """Decide the graphics mode for `choice` (asks the terminal; call before Textual starts)."""
    if choice not in CHOICES:
        raise ValueError(f"unknown graphics mode {choice!r}; choose one of {', '.join(CHOICES)}")
    if choice == "halfblock":
        return Graphics("halfblock")
    if is_terminal is None:
        is_terminal = bool(
            sys.__stdout__ and sys.__stdout__.isatty() and sys.stdin and sys.stdin.isatty()
        )
    if not is_terminal:
        # The queries would be written into a pipe or a log (textual-image writes them to
        # sys.__stdout__ whatever it is).
        return _fallback(choice, "not a terminal")
    try:
        import textual_image.renderable as renderable
        from textual_image._terminal import get_cell_size
        from textual_image.renderable import sixel, tgp
    except Exception as exc:  # ImportError, or a failure while it probes the terminal
        return _fallback(
            choice, f"textual-image is not available ({exc}; pip install 'vizzly-tui[graphics]')"
        )
    try:
        if choice == "auto":
            if renderable.Image is renderable.TGPImage:
                mode = "kitty"
            elif renderable.Image is renderable.SixelImage:
                mode = "sixel"
            else:
                return _fallback(choice, "the terminal answered neither kitty nor sixel queries")
        elif choice == "kitty":
            if not (renderable.Image is renderable.TGPImage or tgp.query_terminal_support()):
                return _fallback(choice, "the terminal does not answer the kitty graphics query")
            mode = "kitty"
        else:
            if not (renderable.Image is renderable.SixelImage or sixel.query_terminal_support()):
                return _fallback(choice, "the terminal does not report sixel support")
            mode = "sixel"
        cell = get_cell_size()
        # Importing the widgets probes the cell size once more; it must happen now, too.
        import textual_image.widget  # noqa: F401
    except Exception as exc:
        return _fallback(choice, f"probing the terminal failed ({exc})")
    return Graphics(mode, (max(1, cell.width), max(1, cell.height)))


def activate(graphics: Graphics) -> None:
    global ACTIVE
    ACTIVE = graphics


def pixel_widget(mode: str, *, id: str | None = None) -> Any:
    """textual-image's widget for `mode` (only after a successful probe)."""
    from textual_image.widget import SixelImage, TGPImage

    widget_class = TGPImage if mode == "kitty" else SixelImage
    return widget_class(None, id=id)
