"""Errors the diff engine raises. Callers catch `EngineError`; str(e) is a complete message."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the diff engine raises on purpose."""


class ImageError(EngineError):
    """An input is not a usable PNG: unreadable, truncated, not a PNG, or too large."""


class DimensionMismatch(EngineError):
    """The two images have different widths, so they cannot be compared pixel by pixel.

    The message contains "Image dimensions don't match" like honeydiff's, because the Vizzly
    CLI (and code ported from it) recognises a dimension mismatch by that substring.
    """

    def __init__(self, size1: tuple[int, int], size2: tuple[int, int]) -> None:
        self.size1 = size1
        self.size2 = size2
        super().__init__(
            f"Image dimensions don't match: {size1[0]}x{size1[1]} vs {size2[0]}x{size2[1]}"
        )
