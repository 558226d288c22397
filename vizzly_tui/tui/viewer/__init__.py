"""The diff viewer: the Line-API image widget, the full-screen viewer and its input.

The widgets load lazily, so `vizzly-tui show` (which only needs ViewerSubject and the
pictures) does not import Textual.
"""

from __future__ import annotations

from typing import Any

from .subject import ViewerSubject, subject_from_detail

_LAZY = {
    "ImagePreview": ".preview",
    "ImageView": ".widget",
    "Renderer": ".render",
    "ViewerScreen": ".screen",
}

__all__ = [
    "ImagePreview",
    "ImageView",
    "Renderer",
    "ViewerScreen",
    "ViewerSubject",
    "subject_from_detail",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
