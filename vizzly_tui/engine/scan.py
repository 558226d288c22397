"""Classifying every pixel of a pair, a stripe of rows at a time (compare.py's first stage).

Per-pixel temporaries (candidate indices, gathered pixels, ΔE) live for one stripe, so a
comparison where everything changed needs the two images plus a few bytes a pixel: a
changed mask, an anti-aliasing mask and an intensity image (one byte each), and later one
int32 label image for the clusters.
"""

from __future__ import annotations

import numpy as np

from .antialias import antialiased, may_be_antialiasing
from .colour import delta_e_rgba

#: ΔE at which the reported intensity saturates at 255 (honeydiff's scale).
INTENSITY_FULL_SCALE = 10.0
#: Clusters are labelled on the full frame (find_clusters_dense) when more than 1/DENSE_SHARE
#: of the pixels changed; below that, windows around the changes cost less.
DENSE_SHARE = 8


class Scan:
    """What the stripe scan found: full-frame masks and intensities, and their counts."""

    def __init__(self, height: int, width: int) -> None:
        # np.zeros maps zeroed pages lazily: a few changed pixels touch a few pages.
        self.changed = np.zeros((height, width), dtype=bool)
        self.aa = np.zeros((height, width), dtype=bool)
        self.intensity = np.zeros((height, width), dtype=np.uint8)
        self.histogram = np.zeros(256, dtype=np.int64)
        self.changed_count = 0
        self.aa_count = 0
        # The changed pixels' flat indices, stripe by stripe, while they are few (they are
        # what the windowed clustering needs); dropped once a dense share of the frame changed.
        self._parts: list[np.ndarray] | None = []
        self._limit = height * width // DENSE_SHARE

    def add(self, changed: np.ndarray, intensity: np.ndarray) -> None:
        self.changed.reshape(-1)[changed] = True
        self.intensity.reshape(-1)[changed] = intensity
        self.histogram += np.bincount(intensity, minlength=256)
        self.changed_count += int(changed.size)
        if self._parts is not None:
            self._parts.append(changed)
            if self.changed_count > self._limit:
                self._parts = None

    def changed_indices(self) -> np.ndarray:
        """Row-major flat indices of the changed pixels."""
        if self._parts is None:
            return np.flatnonzero(self.changed)
        if not self._parts:
            return np.empty(0, dtype=np.intp)
        return np.concatenate(self._parts)


def scan(
    a32: np.ndarray, b32: np.ndarray, threshold: float, antialiasing: bool, rows: int
) -> Scan | None:
    """Classify every pixel, a stripe of rows at a time; None when the pixels are identical.

    Per-pixel temporaries (candidate indices, gathered pixels, ΔE) live for one stripe, so a
    comparison where everything changed needs the two images plus a few bytes a pixel.
    """
    common, width = a32.shape
    # int32 indices halve the memory traffic of every gather and index computation on heavy
    # changes (decoded images are capped far below 2**31 pixels; arrays passed in may not be).
    index_type = np.int32 if common * width < 2**31 else np.int64
    flat_a = a32.reshape(-1)
    flat_b = b32.reshape(-1)
    found: Scan | None = None
    for top in range(0, common, rows):
        bottom = min(common, top + rows)
        candidates = np.flatnonzero(a32[top:bottom] != b32[top:bottom]).astype(index_type)
        if candidates.size == 0:
            continue
        if found is None:
            found = Scan(common, width)
        candidates += index_type(top * width)
        # Pixels stay packed as uint32 while they are gathered and selected: a 1-D gather of
        # uint32 is several times faster than a row gather of an (n, 4) uint8 array.
        first = flat_a[candidates]
        second = flat_b[candidates]
        # Exact ΔE is only needed up to the threshold and up to the intensity scale's top.
        delta_e = delta_e_rgba(
            _channels(first), _channels(second), saturate_at=max(threshold, INTENSITY_FULL_SCALE)
        )
        above = np.flatnonzero(delta_e > threshold)
        changed = candidates[above]
        delta_e = delta_e[above]
        if antialiasing and changed.size:
            # Only pixels that pass the cheap per-pixel condition get the neighbourhood tests.
            maybe = np.flatnonzero(may_be_antialiasing(_channels(first), _channels(second))[above])
            if maybe.size:
                aa_ys, aa_xs = np.divmod(changed[maybe], index_type(width))
                is_aa = antialiased(a32, b32, aa_ys, aa_xs)
                if is_aa.any():
                    found.aa.reshape(-1)[changed[maybe[is_aa]]] = True
                    found.aa_count += int(np.count_nonzero(is_aa))
                    keep = np.ones(changed.size, dtype=bool)
                    keep[maybe[is_aa]] = False
                    changed, delta_e = changed[keep], delta_e[keep]
        del first, second, candidates
        # honeydiff's intensity scale: ΔE 10 or more is 255; integers, so stats use a histogram.
        intensity = np.minimum(delta_e * (255.0 / INTENSITY_FULL_SCALE), 255.0).astype(np.uint8)
        found.add(changed, intensity)
    return found


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the set pixels of a boolean mask, ends exclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def _channels(pixels: np.ndarray) -> np.ndarray:
    """View packed uint32 RGBA pixels as (n, 4) uint8 channels, without copying."""
    return pixels.view(np.uint8).reshape(-1, 4)
