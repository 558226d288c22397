"""The review app's detail-area picture: overlay at fit, no keys of its own."""

from __future__ import annotations

from .widget import ImageView


class ImagePreview(ImageView, can_focus=False):
    """Set `preview.subject = subject` (None clears it); `enter` opens the full viewer."""

    DEFAULT_CSS = """
    ImagePreview { width: 1fr; height: 1fr; min-height: 6; background: rgb(28,28,28); }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(None, mode="overlay", id=id, classes=classes)
