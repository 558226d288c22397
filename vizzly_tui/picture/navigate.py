"""Jumping between diff clusters, and the pixel inspector's readout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vizzly_tui.engine.colour import delta_e_rgba

from .pair import Box, Pair, flatten
from .view import View, centred


def next_cluster(current: int | None, count: int, step: int) -> int | None:
    """The index `n` (step +1) or `N` (step -1) goes to; wraps around; None without clusters."""
    if count == 0:
        return None
    if current is None:
        return 0 if step > 0 else count - 1
    return (current + step) % count


def cluster_view(view: View, pair: Pair, index: int) -> View:
    """The view at 1:1 centred on cluster `index`'s box."""
    x, y, w, h = pair.clusters[index]
    return centred(view, x + w / 2, y + h / 2, pair.width, pair.height, 1.0)


def describe_cluster(pair: Pair, index: int) -> str:
    """'cluster 3/12  box 120,40 300x20' as the viewer's status shows it."""
    box: Box = pair.clusters[index]
    x, y, w, h = box
    return f"cluster {index + 1}/{len(pair.clusters)}  box {x},{y} {w}x{h}"


@dataclass(frozen=True)
class PixelInfo:
    x: int
    y: int
    baseline: tuple[int, int, int] | None
    current: tuple[int, int, int] | None
    delta_e: float | None

    def describe(self) -> str:
        def hexa(rgb: tuple[int, int, int] | None) -> str:
            return "none" if rgb is None else "#{:02x}{:02x}{:02x}".format(*rgb)

        delta = "n/a" if self.delta_e is None else f"{self.delta_e:.2f}"
        return (
            f"pixel {self.x},{self.y}  baseline {hexa(self.baseline)}  "
            f"current {hexa(self.current)}  ΔE2000 {delta}"
        )


def pixel_info(pair: Pair, x: int, y: int) -> PixelInfo:
    """Both colours at image pixel (x, y) and their CIEDE2000 difference."""

    def colour(image: np.ndarray | None) -> tuple[int, int, int] | None:
        if image is None or not (0 <= y < image.shape[0] and 0 <= x < image.shape[1]):
            return None
        r, g, b = (int(v) for v in flatten(image[y : y + 1, x : x + 1])[0, 0])
        return r, g, b

    first, second = colour(pair.baseline), colour(pair.current)
    delta = None
    if first is not None and second is not None:
        a = np.array([[*first, 255]], dtype=np.uint8)
        b = np.array([[*second, 255]], dtype=np.uint8)
        delta = float(delta_e_rgba(a, b)[0])
    return PixelInfo(x, y, first, second, delta)
