"""The pixel inspector's cursor: one half of a half-block cell painted magenta."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

CURSOR = Style(color="rgb(255,0,255)")


def mark_cell(strip: Strip, col: int, lower: int) -> Strip:
    """The strip with the upper (lower=0) or lower half of cell `col` painted as the cursor."""
    cell = strip.crop(col, col + 1)
    segments = list(cell)
    style = segments[0].style if segments else None
    text = segments[0].text if segments else " "
    # Keep the half that is not inspected; paint the inspected half in magenta.
    if style is None:
        other = None
    elif lower:
        other = style.color if text == "▀" else style.bgcolor
    else:
        other = style.bgcolor
    mark = Segment("▄" if lower else "▀", CURSOR + Style(bgcolor=other))
    return Strip.join([strip.crop(0, col), Strip([mark], 1), strip.crop(col + 1)])
