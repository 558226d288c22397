"""A comparison's two images and its masks, decoded once and shared by every view mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vizzly_tui.engine.decode import decode_pair, decode_png
from vizzly_tui.engine.masks import diff_masks

Box = tuple[int, int, int, int]  # x, y, width, height in image pixels


def _flatten(rgba: np.ndarray) -> np.ndarray:
    """RGB on white, as the engine judges colours (a transparent pixel looks white)."""
    rgb = rgba[..., :3]
    alpha = rgba[..., 3]
    if alpha.min() == 255:
        return np.ascontiguousarray(rgb)
    a = alpha[..., None].astype(np.uint16)
    return ((rgb.astype(np.uint16) * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def cluster_box(cluster: Mapping[str, Any]) -> Box | None:
    """(x, y, width, height) of an engine cluster or a bare box dict; None when malformed."""
    box = cluster.get("boundingBox", cluster.get("bounding_box", cluster))
    if not isinstance(box, Mapping):
        return None
    try:
        values = [int(box[key]) for key in ("x", "y", "width", "height")]
    except (KeyError, TypeError, ValueError):
        return None
    return values[0], values[1], values[2], values[3]


@dataclass(frozen=True)
class Pair:
    """Baseline and current as RGB arrays on one canvas (width x max height) with masks.

    Either image may be missing (a new screenshot has no baseline); then the masks are empty.
    Rows that only one image has are the `extra` band: `height1`/`height2` say which.
    """

    baseline: np.ndarray | None  # (height1, width, 3) uint8
    current: np.ndarray | None  # (height2, width, 3) uint8
    changed: np.ndarray  # (common, width) bool, not anti-aliasing
    antialiasing: np.ndarray  # (common, width) bool
    clusters: tuple[Box, ...] = field(default=())

    @property
    def width(self) -> int:
        image = self.current if self.current is not None else self.baseline
        return 0 if image is None else int(image.shape[1])

    @property
    def height1(self) -> int:
        return 0 if self.baseline is None else int(self.baseline.shape[0])

    @property
    def height2(self) -> int:
        return 0 if self.current is None else int(self.current.shape[0])

    @property
    def height(self) -> int:
        return max(self.height1, self.height2)

    @property
    def common(self) -> int:
        return int(self.changed.shape[0])

    @property
    def has_height_diff(self) -> bool:
        return (
            self.baseline is not None
            and self.current is not None
            and (self.height1 != self.height2)
        )

    def image(self, side: str) -> np.ndarray | None:
        return self.baseline if side == "baseline" else self.current


def pair_from_arrays(
    baseline: np.ndarray | None,
    current: np.ndarray | None,
    *,
    threshold: float = 2.0,
    clusters: Sequence[Mapping[str, Any]] | None = None,
) -> Pair:
    """Build a Pair from decoded (h, w, 4) RGBA arrays; clusters from the engine if not given."""
    width = next((int(a.shape[1]) for a in (current, baseline) if a is not None), 0)
    boxes: list[Box] = []
    if baseline is not None and current is not None and baseline.shape[1] == current.shape[1]:
        masks = diff_masks(baseline, current, threshold=threshold)
        changed, aa = masks.changed, masks.antialiasing
        if clusters is None:
            from vizzly_tui.engine import compare_arrays

            result = compare_arrays(baseline, current, threshold=threshold)
            clusters = [c.to_vizzly_dict() for c in result.diff_clusters]
    else:
        changed = aa = np.zeros((0, width), dtype=bool)
    for cluster in clusters or ():
        box = cluster_box(cluster)
        if box is not None:
            boxes.append(box)
    return Pair(
        baseline=None if baseline is None else _flatten(baseline),
        current=None if current is None else _flatten(current),
        changed=changed,
        antialiasing=aa,
        clusters=tuple(boxes),
    )


def load_pair(
    baseline_path: Path | None,
    current_path: Path | None,
    *,
    threshold: float = 2.0,
    clusters: Sequence[Mapping[str, Any]] | None = None,
) -> Pair:
    """Decode the two PNGs (in parallel) and compute the masks. Raises engine ImageError."""
    base = baseline_path if baseline_path is not None and Path(baseline_path).is_file() else None
    cur = current_path if current_path is not None and Path(current_path).is_file() else None
    if base is not None and cur is not None:
        first, second = decode_pair(Path(base).read_bytes(), Path(cur).read_bytes())
    else:
        first = decode_png(Path(base).read_bytes()) if base is not None else None
        second = decode_png(Path(cur).read_bytes()) if cur is not None else None
    return pair_from_arrays(first, second, threshold=threshold, clusters=clusters)
