"""Connected components (8-connectivity) of the changed pixels, and their statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .windows import row_bands

if TYPE_CHECKING:
    from types import ModuleType

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def _ndimage() -> ModuleType:
    # Imported on first use: scipy.ndimage costs ~100 ms to import, and importing the engine
    # is on the start-up path of every command.
    from scipy import ndimage

    return ndimage


@dataclass(frozen=True, slots=True)
class ClusterTable:
    """Per-cluster arrays, in the order the clusters were found (row-major scan order)."""

    sizes: np.ndarray  # int64 pixel counts
    mean_x: np.ndarray  # float64 centre of mass
    mean_y: np.ndarray
    mean_intensity: np.ndarray  # float64, 0..255
    x0: np.ndarray  # int64 bounding boxes, inclusive start, exclusive end
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    def __len__(self) -> int:
        return int(self.sizes.size)


def find_clusters(
    mask: np.ndarray, ys: np.ndarray, xs: np.ndarray, intensity: np.ndarray
) -> ClusterTable:
    """Label the changed pixels into 8-connected clusters.

    `mask` is the (height, width) boolean image of the changed pixels and (ys, xs) are the
    same pixels in row-major order, with their intensities. scipy.ndimage.label runs on one
    window per band of rows instead of the full frame: with few changes that saves most of
    the work, with many it is one full-size call. A band boundary always has an empty row,
    so no cluster is split between two windows.
    """
    ndimage = _ndimage()
    height, width = mask.shape
    labels = np.empty(ys.size, dtype=np.int64)
    boxes: list[tuple[int, int, int, int]] = []
    offset = 0
    for win in row_bands(ys, xs, height, width, margin=0, max_gap=16):
        labelled, found = ndimage.label(
            mask[win.y0 : win.y1, win.x0 : win.x1], structure=_EIGHT_CONNECTED
        )
        local = (ys[win.start : win.stop] - win.y0) * (win.x1 - win.x0) + (
            xs[win.start : win.stop] - win.x0
        )
        labels[win.start : win.stop] = labelled.ravel()[local]
        labels[win.start : win.stop] += offset - 1
        # find_objects returns one (row slice, column slice) per label, in label order.
        boxes.extend(
            (rows.start + win.y0, rows.stop + win.y0, cols.start + win.x0, cols.stop + win.x0)
            for rows, cols in ndimage.find_objects(labelled)
        )
        offset += found
    sizes = np.bincount(labels, minlength=offset)
    safe = np.maximum(sizes, 1)
    box_array = np.array(boxes, dtype=np.int64).reshape(-1, 4)
    if intensity.size and intensity.min() == intensity.max():
        # Common on heavy changes (everything saturated at 255): skip a weighted bincount.
        mean_intensity = np.full(offset, float(intensity[0]))
    else:
        mean_intensity = np.bincount(labels, weights=intensity, minlength=offset) / safe
    return ClusterTable(
        sizes=sizes,
        mean_x=np.bincount(labels, weights=xs, minlength=offset) / safe,
        mean_y=np.bincount(labels, weights=ys, minlength=offset) / safe,
        mean_intensity=mean_intensity,
        y0=box_array[:, 0],
        y1=box_array[:, 1],
        x0=box_array[:, 2],
        x1=box_array[:, 3],
    )


def find_clusters_dense(mask: np.ndarray, intensity: np.ndarray, stripe_rows: int) -> ClusterTable:
    """find_clusters for a mask where much of the frame changed, in bounded extra memory.

    `intensity` is a (height, width) uint8 image, read where `mask` is set. One full-frame
    label image (int32, 4 bytes a pixel) is the only full-size allocation: the statistics are
    summed stripe by stripe, so a theme switch over 49 megapixels never builds the per-pixel
    coordinate and label arrays (8 bytes each, per changed pixel) that find_clusters would.
    Sums of integer coordinates and intensities are exact in float64, so the means equal
    find_clusters' to the last bit, and labels are numbered in the same row-major order.
    """
    ndimage = _ndimage()
    height, width = mask.shape
    labels, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    sizes = np.zeros(count + 1, dtype=np.int64)
    sum_x = np.zeros(count + 1, dtype=np.float64)
    sum_y = np.zeros(count + 1, dtype=np.float64)
    sum_i = np.zeros(count + 1, dtype=np.float64)
    for top in range(0, height, stripe_rows):
        bottom = min(height, top + stripe_rows)
        flat = labels[top:bottom].ravel()
        # Runs of one label along a row: a heavy change is long runs, so the sums below go
        # over runs, not pixels (a run's x sum is arithmetic: (x0 + x1 - 1) * length / 2).
        boundary = np.empty(flat.size, dtype=bool)
        boundary[0] = True
        np.not_equal(flat[1:], flat[:-1], out=boundary[1:])
        boundary[::width] = True  # a run never continues onto the next row
        starts = np.flatnonzero(boundary)
        ends = np.empty_like(starts)
        ends[:-1] = starts[1:]
        ends[-1] = flat.size
        run_labels = flat[starts]
        labelled = run_labels != 0
        starts, ends, run_labels = starts[labelled], ends[labelled], run_labels[labelled]
        if starts.size == 0:
            continue
        lengths = ends - starts
        ys, x0 = np.divmod(starts, width)
        ys += top
        # Only the label range present in this stripe is summed into (bincount's length).
        low = int(run_labels.min())
        run_labels -= low
        span = int(run_labels.max()) + 1
        part = slice(low, low + span)
        sizes[part] += np.bincount(run_labels, weights=lengths, minlength=span).astype(np.int64)
        # Exact: sum(x0 .. x0+L-1) = (2 x0 + L - 1) L / 2, an even product, far below 2**53.
        sum_x[part] += np.bincount(run_labels, weights=(2 * x0 + lengths - 1) * lengths / 2)
        sum_y[part] += np.bincount(run_labels, weights=ys * lengths)
        # Intensity sums over runs from a running total of the stripe's intensities (zero
        # wherever nothing changed, and a run holds one label's pixels only).
        running = np.zeros(flat.size + 1, dtype=np.int64)
        np.cumsum(intensity[top:bottom].ravel(), out=running[1:])
        sum_i[part] += np.bincount(run_labels, weights=running[ends] - running[starts])
    boxes = np.array(
        [
            (rows.start, rows.stop, cols.start, cols.stop)
            for rows, cols in ndimage.find_objects(labels)
        ],
        dtype=np.int64,
    ).reshape(-1, 4)
    del labels
    sizes = sizes[1:]
    safe = np.maximum(sizes, 1)
    return ClusterTable(
        sizes=sizes,
        mean_x=sum_x[1:] / safe,
        mean_y=sum_y[1:] / safe,
        mean_intensity=sum_i[1:] / safe,
        y0=boxes[:, 0],
        y1=boxes[:, 1],
        x0=boxes[:, 2],
        x1=boxes[:, 3],
    )
