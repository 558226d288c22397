"""Half-block rows as text for stdout: ANSI colours, or characters only without colour."""

from __future__ import annotations

import numpy as np

from .cells import Colour, Run

_RESET = "\x1b[0m"
#: Without colour a cell shows the darkness of its two pixels; changed pixels show as X.
_SHADES = " ░▒▓█"


def _sgr(colour: Colour, background: bool, system: str) -> str:
    if system == "truecolor":
        r, g, b = colour  # type: ignore[misc]
        return f"{48 if background else 38};2;{r};{g};{b}"
    if system == "256":
        return f"{48 if background else 38};5;{colour}"
    index = int(colour)  # type: ignore[arg-type]
    base = (40 if background else 30) if index < 8 else (100 if background else 90)
    return str(base + index % 8)


def ansi_lines(rows: list[list[Run]], system: str) -> list[str]:
    """One string per terminal row, each ending with a reset."""
    lines = []
    for row in rows:
        parts = []
        for run in row:
            codes = [_sgr(run.bg, True, system)]
            if run.fg is not None:
                codes.insert(0, _sgr(run.fg, False, system))
            parts.append(f"\x1b[{';'.join(codes)}m{run.text}")
        lines.append("".join(parts) + _RESET)
    return lines


def plain_lines(picture: np.ndarray, marked: np.ndarray | None = None) -> list[str]:
    """Characters only: a shade per cell from the mean darkness of its two pixels."""
    if picture.shape[0] % 2:
        picture = np.concatenate([picture, picture[-1:]], axis=0)
        if marked is not None:
            marked = np.concatenate([marked, marked[-1:]], axis=0)
    luma = picture[..., 0] * 0.299 + picture[..., 1] * 0.587 + picture[..., 2] * 0.114
    darkness = 1.0 - (luma[0::2] + luma[1::2]) / 510.0
    levels = np.clip(np.rint(darkness * (len(_SHADES) - 1)), 0, len(_SHADES) - 1).astype(int)
    cells = np.array(list(_SHADES))[levels]
    if marked is not None:
        cells[marked[0::2] | marked[1::2]] = "X"
    return ["".join(row).rstrip() for row in cells]
