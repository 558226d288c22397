"""Per-pixel masks of a comparison, for pictures (the review app's viewer, `vizzly-tui show`).

`compare_arrays` keeps its masks internal (it only needs counts, clusters and the diff PNG);
a viewer needs the pixels themselves to tint changes and anti-aliasing at any zoom. The masks
come from the comparison's own stripe scan (scan.py), so they cannot drift from what the
comparison counts, and their memory is the comparison's: a byte or three a pixel for the
masks, per-pixel temporaries for one stripe of rows at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scan import scan

#: Rows per stripe: the same budget as compare.py's (about a million pixels a stripe).
STRIPE_PIXELS = 1 << 20


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
    found = scan(a32, b32, threshold, antialiasing, max(1, STRIPE_PIXELS // max(width, 1)))
    if found is None:
        empty = np.zeros((common, width), dtype=bool)
        none = np.empty(0, dtype=np.intp)
        return DiffMasks(empty, empty, none, none)
    # The intensity image is the comparison's, not the picture's: drop it now.
    found.intensity = None  # type: ignore[assignment]
    aa_index = np.flatnonzero(found.aa) if found.aa_count else np.empty(0, dtype=np.intp)
    return DiffMasks(found.changed, found.aa, found.changed_indices(), aa_index)
