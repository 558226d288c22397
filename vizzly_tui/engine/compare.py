"""The comparison pipeline: bytes in, DiffResult out.

Cost is kept proportional to what changed, and memory to the images:
1. byte-identical inputs are answered from the PNG headers alone;
2. both PNGs are decoded at once, by libspng on two cores (decode.py, spng.py);
3. a stripe of rows at a time (scan.py): a bit-exact equality test over uint32 views finds
   the candidate pixels (~1 ms at 1080p), CIEDE2000 runs on the candidates only, in float32
   (colour.py), and the anti-aliasing tests on the pixels above the threshold (antialias.py);
4. connected components are labelled in small windows around the changes, or once over the
   frame when much of it changed (clusters.py);
5. the diff image (diffimage.py) is drawn and written on the second core while this thread
   labels the clusters, or, with background_diff, after the answer has been returned.
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from .clusters import ClusterTable, find_clusters, find_clusters_dense
from .decode import DEFAULT_MAX_PIXELS, check_pixel_budget, decode_pair, read_png_size
from .diffimage import (
    queue_is_full,
    render_diff,
    retire,
    write_atomically,
    write_in_background,
)
from .errors import DimensionMismatch, EngineError, ImageError
from .result import BoundingBox, Cluster, DiffResult, HeightDiff, IntensityStats
from .scan import DENSE_SHARE, Scan, mask_box
from .scan import scan as scan_pixels
from .workers import pool

#: Pixels per stripe of the scan: per-pixel temporaries never exceed a stripe, so one
#: comparison's memory is about the two images plus a few bytes a pixel, however much changed.
STRIPE_PIXELS = 1 << 20
#: Above this size the diff image is written before returning even with background_diff: a
#: pending write holds both decoded images, and a caller that lets one big comparison run at
#: a time (the server, for memory) must not find the last one's still in memory.
BACKGROUND_MAX_PIXELS = 10_000_000


class OptionError(EngineError, ValueError):
    """An invalid comparison option (negative threshold, min_cluster_size below 1...)."""


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_options(threshold: float, min_cluster_size: int, max_pixels: int) -> None:
    # Checked up front so that a bad option from a config file or an SDK property is a clear
    # EngineError (the CLI reports it and exits 2), not a numpy error halfway through.
    valid_threshold = isinstance(threshold, numbers.Real) and not isinstance(threshold, bool)
    if not valid_threshold or not math.isfinite(threshold) or threshold < 0:
        raise OptionError(f"threshold must be a finite number >= 0, got {threshold!r}")
    if not _is_integer(min_cluster_size) or min_cluster_size < 1:
        raise OptionError(f"min_cluster_size must be an integer >= 1, got {min_cluster_size!r}")
    if not _is_integer(max_pixels) or max_pixels < 1:
        raise OptionError(f"max_pixels must be a positive integer, got {max_pixels!r}")


def _read(path: Path, label: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read {label} {path}: {exc.strerror or exc}") from exc


def compare_files(
    baseline: Path | str | os.PathLike[str],
    current: Path | str | os.PathLike[str],
    *,
    threshold: float = 2.0,
    min_cluster_size: int = 2,
    antialiasing: bool = True,
    diff_path: Path | str | os.PathLike[str] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    background_diff: bool = False,
) -> DiffResult:
    """Compare two PNG files. See `compare_bytes` for the options."""
    _check_options(threshold, min_cluster_size, max_pixels)
    return compare_bytes(
        _read(Path(baseline), "baseline image"),
        _read(Path(current), "current image"),
        threshold=threshold,
        min_cluster_size=min_cluster_size,
        antialiasing=antialiasing,
        diff_path=diff_path,
        max_pixels=max_pixels,
        background_diff=background_diff,
    )


def compare_bytes(
    baseline: bytes,
    current: bytes,
    *,
    threshold: float = 2.0,
    min_cluster_size: int = 2,
    antialiasing: bool = True,
    diff_path: Path | str | os.PathLike[str] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    background_diff: bool = False,
) -> DiffResult:
    """Compare two PNG images given as bytes.

    threshold: CIEDE2000 ΔE above which a pixel counts as changed (0 = any difference).
    min_cluster_size: clusters smaller than this are noise and do not make the result
        different (they still count in diff_pixels, like honeydiff's).
    antialiasing: ignore changes that look like anti-aliasing (see antialias.py).
    diff_path: where to write the diff image; written only when some pixel changed.
    background_diff: return as soon as the verdict is known and write the diff image on the
        engine's pool afterwards (atomically: readers see the old file or the new one, never
        part of one). `wait_for_diff(diff_path)` waits for it; a failed write is logged.
        Off (the default), the image is on disk when the call returns, or the call raises.
    max_pixels: refuse larger images (per image) before decoding them.
    Raises DimensionMismatch for different widths, ImageError for unusable input.
    """
    _check_options(threshold, min_cluster_size, max_pixels)
    if baseline == current:
        # Identical bytes are identical pixels; the header is still validated so that two
        # copies of the same non-PNG file are an error, not a pass.
        width, height = read_png_size(baseline)
        check_pixel_budget(width, height, max_pixels, "baseline image")
        if diff_path is not None:
            retire(Path(diff_path))
        return _identical(width, height, byte_identical=True)
    first, second = decode_pair(baseline, current, max_pixels=max_pixels)
    return compare_arrays(
        first,
        second,
        threshold=threshold,
        min_cluster_size=min_cluster_size,
        antialiasing=antialiasing,
        diff_path=diff_path,
        background_diff=background_diff,
    )


def _identical(width: int, height: int, *, byte_identical: bool = False) -> DiffResult:
    return DiffResult(
        is_different=False,
        diff_percentage=0.0,
        total_pixels=width * height,
        diff_pixels=0,
        aa_pixels_ignored=0,
        aa_percentage=0.0,
        bounding_box=None,
        height_diff=None,
        diff_clusters=[],
        intensity_stats=None,
        width=width,
        height=height,
        byte_identical=byte_identical,
    )


def compare_arrays(
    baseline: np.ndarray,
    current: np.ndarray,
    *,
    threshold: float = 2.0,
    min_cluster_size: int = 2,
    antialiasing: bool = True,
    diff_path: Path | str | os.PathLike[str] | None = None,
    background_diff: bool = False,
) -> DiffResult:
    """Compare two decoded (height, width, 4) uint8 RGBA arrays (see `compare_bytes`)."""
    _check_options(threshold, min_cluster_size, DEFAULT_MAX_PIXELS)
    baseline = np.ascontiguousarray(baseline, dtype=np.uint8)
    current = np.ascontiguousarray(current, dtype=np.uint8)
    if baseline.ndim != 3 or baseline.shape[2] != 4 or current.ndim != 3 or current.shape[2] != 4:
        raise OptionError("compare_arrays expects (height, width, 4) RGBA arrays")
    height1, width = baseline.shape[:2]
    height2, width2 = current.shape[:2]
    if width != width2:
        raise DimensionMismatch((width, height1), (width2, height2))
    common = min(height1, height2)
    canvas_height = max(height1, height2)
    total = width * canvas_height

    # Bit-exact comparison of whole RGBA pixels: one uint32 compare per pixel.
    a32 = baseline.view(np.uint32).reshape(height1, width)[:common]
    b32 = current.view(np.uint32).reshape(height2, width)[:common]
    rows = max(1, STRIPE_PIXELS // max(width, 1))
    scan = scan_pixels(a32, b32, threshold, antialiasing, rows)
    extra_rows = canvas_height - common
    if scan is None and extra_rows == 0:
        if diff_path is not None:
            retire(Path(diff_path))
        return _identical(width, canvas_height)
    if scan is None:
        scan = Scan(common, width)
    extra_pixels = extra_rows * width
    diff_pixels = scan.changed_count + extra_pixels

    image_path: Path | None = None
    writing: Future[None] | None = None
    if diff_path is not None and (diff_pixels or scan.aa_count):
        image_path = Path(diff_path)

        # The render keeps only what it draws (not the decoded images, nor the whole scan):
        # a queued background write must not pin two frames in memory.
        changed, aa = scan.changed, scan.aa
        taller = current if height2 > height1 else baseline
        extra = np.array(taller[common:])  # a copy: a view would keep the whole image alive

        def render() -> Any:
            return render_diff(changed, aa, extra, rows)

        if background_diff and total <= BACKGROUND_MAX_PIXELS and not queue_is_full():
            # After the verdict: the caller answers now; wait_for_diff finds it.
            write_in_background(render, image_path)
        else:
            # An older image of this path still queued must not land on top of this one.
            retire(image_path)
            # On the second core while this thread clusters.
            writing = pool().submit(lambda: write_atomically(render(), image_path))
    elif diff_path is not None:
        retire(Path(diff_path))
    try:
        if scan.changed_count * DENSE_SHARE > common * width:
            # Most of the frame changed: bounded memory, one full-frame labelling.
            table = find_clusters_dense(scan.changed, scan.intensity, rows)
            box = mask_box(scan.changed)
        else:
            flat = scan.changed_indices()
            ys, xs = np.divmod(flat, flat.dtype.type(width))
            table = find_clusters(scan.changed, ys, xs, scan.intensity.ravel()[flat])
            box = (
                (int(ys[0]), int(ys[-1]) + 1, int(xs.min()), int(xs.max()) + 1) if ys.size else None
            )
        clusters = _clusters(table, common, width, extra_rows, min_cluster_size)
    finally:
        if writing is not None:
            writing.result()  # re-raises a failed write; never leaves it running unseen

    return DiffResult(
        is_different=any(c.pixel_count >= min_cluster_size for c in clusters),
        diff_percentage=100.0 * diff_pixels / total,
        total_pixels=total,
        diff_pixels=diff_pixels,
        aa_pixels_ignored=scan.aa_count,
        aa_percentage=100.0 * scan.aa_count / total,
        bounding_box=_bounding_box(box, common, width, extra_rows),
        height_diff=(
            HeightDiff(height1=height1, height2=height2, extra_pixels=extra_pixels)
            if height1 != height2
            else None
        ),
        diff_clusters=clusters,
        intensity_stats=_histogram_stats(scan.histogram, extra_pixels),
        width=width,
        height=canvas_height,
        diff_image=image_path,
    )


def _clusters(
    table: ClusterTable, common: int, width: int, extra_rows: int, min_cluster_size: int
) -> list[Cluster]:
    """Clusters of at least min_cluster_size pixels, largest first (ties in scan order)."""
    kept = np.flatnonzero(table.sizes >= min_cluster_size)
    kept = kept[np.argsort(-table.sizes[kept], kind="stable")]
    clusters = [
        Cluster(
            pixel_count=size,
            center_of_mass=(cx, cy),
            avg_intensity=mean,
            bounding_box=BoundingBox(x=x0, y=y0, width=x1 - x0, height=y1 - y0),
        )
        for size, cx, cy, mean, x0, y0, x1, y1 in zip(
            table.sizes[kept].tolist(),
            table.mean_x[kept].tolist(),
            table.mean_y[kept].tolist(),
            table.mean_intensity[kept].tolist(),
            table.x0[kept].tolist(),
            table.y0[kept].tolist(),
            table.x1[kept].tolist(),
            table.y1[kept].tolist(),
            strict=True,
        )
    ]
    extra_pixels = extra_rows * width
    if extra_pixels and extra_pixels >= min_cluster_size:
        # Like honeydiff, the rows only one image has form one cluster of their own.
        band = Cluster(
            pixel_count=extra_pixels,
            center_of_mass=((width - 1) / 2.0, common + (extra_rows - 1) / 2.0),
            avg_intensity=255.0,
            bounding_box=BoundingBox(x=0, y=common, width=width, height=extra_rows),
        )
        position = sum(1 for c in clusters if c.pixel_count >= extra_pixels)
        clusters.insert(position, band)
    return clusters


def _bounding_box(
    box: tuple[int, int, int, int] | None, common: int, width: int, extra_rows: int
) -> BoundingBox | None:
    if box is not None:
        top, bottom, left, right = box
    elif not extra_rows:
        return None
    else:
        top, bottom, left, right = common, common, 0, width
    if extra_rows:
        top, bottom = min(top, common), common + extra_rows
        left, right = 0, width
    return BoundingBox(x=left, y=top, width=right - left, height=bottom - top)


def _intensity_stats(intensity: np.ndarray, extra_pixels: int) -> IntensityStats | None:
    """Exact statistics of the intensities (integers 0..255) plus extra_pixels at 255."""
    return _histogram_stats(np.bincount(intensity, minlength=256), extra_pixels)


def _histogram_stats(histogram: np.ndarray, extra_pixels: int) -> IntensityStats | None:
    """Exact statistics from a 256-bin histogram (intensities are integers 0..255)."""
    histogram = histogram.astype(np.int64)  # a copy: the caller's counts stay as they were
    histogram[255] += extra_pixels
    count = int(histogram.sum())
    if count == 0:
        return None
    levels = np.arange(256, dtype=np.float64)
    present = np.flatnonzero(histogram)
    mean = float(histogram @ levels) / count
    variance = max(float(histogram @ (levels - mean) ** 2) / count, 0.0)
    cumulative = np.cumsum(histogram)
    # Median of the sorted values: the middle one, or the mean of the two middle ones.
    lower = int(np.searchsorted(cumulative, (count - 1) // 2, side="right"))
    upper = int(np.searchsorted(cumulative, count // 2, side="right"))
    return IntensityStats(
        max=float(present[-1]),
        min=float(present[0]),
        mean=mean,
        median=(lower + upper) / 2.0,
        std_dev=math.sqrt(variance),
    )
