"""The diff viewer: the Line-API image widget, the full-screen viewer and its input."""

from .preview import ImagePreview
from .render import Renderer
from .screen import ViewerScreen
from .subject import ViewerSubject, subject_from_detail
from .widget import ImageView

__all__ = [
    "ImagePreview",
    "ImageView",
    "Renderer",
    "ViewerScreen",
    "ViewerSubject",
    "subject_from_detail",
]
