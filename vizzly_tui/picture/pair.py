"""A comparison's two images and its masks, decoded once and shared by every view mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vizzly_tui.engine.decode import decode_pair, decode_png
from vizzly_tui.engine.masks import diff_masks

Box = tuple[int, int, int, int]  # x, y, width, height in image pixels


def flatten(rgba: np.ndarray) -> np.ndarray:
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
    """Baseline and current as decoded RGBA arrays on one canvas (width x max height), with
    the masks of changed and anti-aliasing pixels.

    The arrays are the decoder's own buffers (no copy: a 4K pair is 66 MB); pictures sample
    them through Pillow images that share those buffers, and flatten alpha onto white after
    sampling, on display-sized data.
    Either image may be missing (a new screenshot has no baseline); then the masks are empty.
    Rows that only one image has are the `extra` band: `height1`/`height2` say which.
    """

    baseline: np.ndarray | None  # (height1, width, 4) uint8 RGBA
    current: np.ndarray | None  # (height2, width, 4) uint8 RGBA
    changed: np.ndarray  # (common, width) bool, not anti-aliasing
    antialiasing: np.ndarray  # (common, width) bool
    clusters: tuple[Box, ...] = field(default=())
    #: Flat indices (y * width + x) of the mask pixels when the engine gave them.
    changed_index: np.ndarray | None = None
    antialiasing_index: np.ndarray | None = None
    #: True for a first, quick picture drawn before the masks are known (no change tints).
    masks_pending: bool = False

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

    @cached_property
    def _pil(self) -> dict[str, Image.Image | None]:
        return {}

    def pil_image(self, side: str) -> Image.Image | None:
        """A Pillow view of one array (sharing its memory), made on first use: an overlay
        needs only the current image, and checking a 4K image for alpha costs ~5 ms."""
        if side in self._pil:
            return self._pil[side]
        array = self.image(side)
        image = None
        if array is not None:
            array = np.ascontiguousarray(array)
            height, width = array.shape[:2]
            # Opaque images are sampled as RGBX: Pillow would premultiply a whole RGBA image
            # before every resize (30 ms at 4K) for an alpha that is 255 everywhere.
            opaque = bool((array.view(np.uint32) >= np.uint32(0xFF000000)).all())
            mode = "RGBX" if opaque else "RGBA"
            image = Image.frombuffer(mode, (width, height), array, "raw", mode, 0, 1)
        self._pil[side] = image
        return image

    @cached_property
    def changed_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(ys, xs) of the changed pixels: changes are sparse, so views scatter these."""
        return _points(self.changed, self.changed_index)

    @cached_property
    def antialiasing_points(self) -> tuple[np.ndarray, np.ndarray]:
        return _points(self.antialiasing, self.antialiasing_index)


def _points(mask: np.ndarray, index: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if index is None:
        ys, xs = np.nonzero(mask)
    else:
        ys, xs = np.divmod(index, max(1, mask.shape[1]))
    return ys.astype(np.int32), xs.astype(np.int32)


def pair_from_arrays(
    baseline: np.ndarray | None,
    current: np.ndarray | None,
    *,
    threshold: float = 2.0,
    clusters: Sequence[Mapping[str, Any]] | None = None,
    masks: bool = True,
) -> Pair:
    """Build a Pair from decoded (h, w, 4) RGBA arrays; clusters from the engine if not given.

    masks=False skips the comparison (empty masks, `masks_pending`): a 4K pair can be shown
    ~60 ms sooner while its masks are computed.
    """
    width = next((int(a.shape[1]) for a in (current, baseline) if a is not None), 0)
    boxes: list[Box] = []
    comparable = (
        baseline is not None and current is not None and baseline.shape[1] == current.shape[1]
    )
    if comparable and not masks:
        common = min(baseline.shape[0], current.shape[0])
        changed = aa = np.zeros((common, width), dtype=bool)
        empty = np.empty(0, dtype=np.intp)
        indices = (empty, empty)
    elif comparable:
        masks = diff_masks(baseline, current, threshold=threshold)
        changed, aa = masks.changed, masks.antialiasing
        indices = (masks.changed_index, masks.antialiasing_index)
        if clusters is None:
            from vizzly_tui.engine import compare_arrays

            result = compare_arrays(baseline, current, threshold=threshold)
            clusters = [c.to_vizzly_dict() for c in result.diff_clusters]
    else:
        changed = aa = np.zeros((0, width), dtype=bool)
        indices = (None, None)
    for cluster in clusters or ():
        box = cluster_box(cluster)
        if box is not None:
            boxes.append(box)
    return Pair(
        baseline=baseline,
        current=current,
        changed=changed,
        antialiasing=aa,
        clusters=tuple(boxes),
        changed_index=indices[0],
        antialiasing_index=indices[1],
        masks_pending=comparable and not masks,
    )


def load_pair(
    baseline_path: Path | None,
    current_path: Path | None,
    *,
    threshold: float = 2.0,
    clusters: Sequence[Mapping[str, Any]] | None = None,
) -> Pair:
    """Decode the two PNGs (in parallel) and compute the masks. Raises engine ImageError."""
    first, second = decode_images(baseline_path, current_path)
    return pair_from_arrays(first, second, threshold=threshold, clusters=clusters)


def decode_images(
    baseline_path: Path | None, current_path: Path | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both PNGs as RGBA arrays (decoded in parallel); a missing file is None."""
    base = baseline_path if baseline_path is not None and Path(baseline_path).is_file() else None
    cur = current_path if current_path is not None and Path(current_path).is_file() else None
    if base is not None and cur is not None:
        return decode_pair(Path(base).read_bytes(), Path(cur).read_bytes())
    first = decode_png(Path(base).read_bytes()) if base is not None else None
    second = decode_png(Path(cur).read_bytes()) if cur is not None else None
    return first, second
