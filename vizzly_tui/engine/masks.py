"""Per-pixel masks of a comparison, for pictures (the review app's viewer, `vizzly-tui show`).

`compare_arrays` keeps its masks internal (it only needs counts, clusters and the diff PNG);
a viewer needs the pixels themselves to tint changes and anti-aliasing at any zoom. This is
the same pipeline as compare_arrays steps 3-5 (exact-equality candidates, ΔE2000 above the
threshold, the anti-aliasing tests), kept in its own small function so the comparison hot
path stays untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .antialias import antialiased, may_be_antialiasing
from .colour import delta_e_rgba


@dataclass(frozen=True, slots=True)
class DiffMasks:
    """Boolean (rows, width) masks over the rows both images have."""

    changed: np.ndarray  # above the threshold and not anti-aliasing
    antialiasing: np.ndarray  # above the threshold but classified as anti-aliasing
    #: The same pixels as sorted row-major flat indices (y * width + x): changes are sparse,
    #: and a picture scatters these instead of scanning the masks again.
    changed_index: np.ndarray
    antialiasing_index: np.ndarray


def diff_masks(
    baseline: np.ndarray,
    current: np.ndarray,
    *,
    threshold: float = 2.0,
    antialiasing: bool = True,
) -> DiffMasks:
    """Masks for two (height, width, 4) uint8 RGBA arrays of equal width.

    Rows beyond the shorter image are not in the masks (they are all changed: a height
    difference); the caller knows them from the two heights.
    """
    baseline = np.ascontiguousarray(baseline, dtype=np.uint8)
    current = np.ascontiguousarray(current, dtype=np.uint8)
    if baseline.shape[1] != current.shape[1]:
        raise ValueError("diff_masks needs images of equal width")
    width = baseline.shape[1]
    common = min(baseline.shape[0], current.shape[0])
    a32 = baseline.view(np.uint32).reshape(baseline.shape[0], width)[:common]
    b32 = current.view(np.uint32).reshape(current.shape[0], width)[:common]
    changed = np.zeros(common * width, dtype=bool)
    aa = np.zeros(common * width, dtype=bool)
    candidates = np.flatnonzero(a32 != b32)
    hits = flagged = np.empty(0, dtype=np.intp)
    if candidates.size:
        first = a32.ravel()[candidates].view(np.uint8).reshape(-1, 4)
        second = b32.ravel()[candidates].view(np.uint8).reshape(-1, 4)
        above = np.flatnonzero(delta_e_rgba(first, second, saturate_at=threshold) > threshold)
        hits = candidates[above]
        changed[hits] = True
        if antialiasing and hits.size:
            maybe = np.flatnonzero(may_be_antialiasing(first[above], second[above]))
            if maybe.size:
                ys, xs = np.divmod(hits[maybe], width)
                is_aa = antialiased(a32, b32, ys, xs)
                flagged = hits[maybe[is_aa]]
                changed[flagged] = False
                aa[flagged] = True
    changed_index = hits[changed[hits]] if flagged.size else hits
    return DiffMasks(
        changed.reshape(common, width), aa.reshape(common, width), changed_index, flagged
    )
