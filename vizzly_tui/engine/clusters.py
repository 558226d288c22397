"""Connected components (8-connectivity) of the changed pixels, and their statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .windows import row_bands

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


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
    ys: np.ndarray, xs: np.ndarray, intensity: np.ndarray, height: int, width: int
) -> ClusterTable:
    """Label the points (ys, xs) (sorted by row) into 8-connected clusters.

    scipy.ndimage.label runs on one small window per band of rows instead of on a full-frame
    mask: with few changes that saves most of the work, with many it is one full-size call.
    A band boundary always has an empty row, so no cluster is split between two windows.
    """
    count = int(ys.size)
    labels = np.empty(count, dtype=np.int64)
    boxes: list[tuple[int, int, int, int]] = []
    offset = 0
    for win in row_bands(ys, xs, height, width, margin=0, max_gap=16):
        py = ys[win.start : win.stop] - win.y0
        px = xs[win.start : win.stop] - win.x0
        mask = np.zeros((win.y1 - win.y0, win.x1 - win.x0), dtype=bool)
        mask[py, px] = True
        labelled, found = ndimage.label(mask, structure=_EIGHT_CONNECTED)
        labels[win.start : win.stop] = labelled[py, px] + (offset - 1)
        # find_objects returns one (row slice, column slice) per label, in label order.
        boxes.extend(
            (rows.start + win.y0, rows.stop + win.y0, cols.start + win.x0, cols.stop + win.x0)
            for rows, cols in ndimage.find_objects(labelled)
        )
        offset += found
    sizes = np.bincount(labels, minlength=offset)
    safe = np.maximum(sizes, 1)
    box_array = np.array(boxes, dtype=np.int64).reshape(-1, 4)
    return ClusterTable(
        sizes=sizes,
        mean_x=np.bincount(labels, weights=xs, minlength=offset) / safe,
        mean_y=np.bincount(labels, weights=ys, minlength=offset) / safe,
        mean_intensity=np.bincount(labels, weights=intensity, minlength=offset) / safe,
        y0=box_array[:, 0],
        y1=box_array[:, 1],
        x0=box_array[:, 2],
        x1=box_array[:, 3],
    )
