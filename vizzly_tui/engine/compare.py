"""The comparison pipeline: bytes in, DiffResult out.

Cost is kept proportional to what changed:
1. byte-identical inputs are answered from the PNG headers alone;
2. both PNGs are decoded at once (decode.py);
3. a bit-exact equality mask over uint32 views finds the candidate pixels (~1 ms at 1080p);
4. CIEDE2000 runs on the candidates only, in float32 (colour.py);
5. the anti-aliasing tests run on the pixels above the threshold only (antialias.py);
6. connected components are labelled in small windows around the changes (clusters.py);
7. the diff image is a palette PNG at zlib level 1 (diffimage.py), drawn and written on the
   second core while this thread labels the clusters (workers.py).
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from .antialias import antialiased, may_be_antialiasing
from .clusters import ClusterTable, find_clusters, find_clusters_dense
from .colour import delta_e_rgba
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
from .workers import pool

#: ΔE at which the reported intensity saturates at 255 (honeydiff's scale).
_INTENSITY_FULL_SCALE = 10.0
#: Pixels per stripe of the scan: per-pixel temporaries never exceed a stripe, so one
#: comparison's memory is about the two images plus a few bytes a pixel, however much changed.
STRIPE_PIXELS = 1 << 20
#: Clusters are labelled on the full frame (find_clusters_dense) when more than 1/_DENSE_SHARE
#: of the pixels changed; below that, windows around the changes cost less.
_DENSE_SHARE = 8


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
    scan = _scan(a32, b32, threshold, antialiasing, rows)
    extra_rows = canvas_height - common
    if scan is None and extra_rows == 0:
        if diff_path is not None:
            retire(Path(diff_path))
        return _identical(width, canvas_height)
    if scan is None:
        scan = _Scan(common, width)
    extra_pixels = extra_rows * width
    diff_pixels = scan.changed_count + extra_pixels

    image_path: Path | None = None
    writing: Future[None] | None = None
    if diff_path is not None and (diff_pixels or scan.aa_count):
        image_path = Path(diff_path)

        def render() -> Any:
            return render_diff(baseline, current, scan.changed, scan.aa, rows)

        if background_diff and not queue_is_full():
            # After the verdict: the caller answers now; wait_for_diff finds it.
            write_in_background(render, image_path)
        else:
            # On the second core while this thread clusters.
            writing = pool().submit(lambda: write_atomically(render(), image_path))
    elif diff_path is not None:
        retire(Path(diff_path))
    try:
        if scan.changed_count * _DENSE_SHARE > common * width:
            # Most of the frame changed: bounded memory, one full-frame labelling.
            table = find_clusters_dense(scan.changed, scan.intensity, rows)
            box = _mask_box(scan.changed)
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


class _Scan:
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
        self._limit = height * width // _DENSE_SHARE

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


def _scan(
    a32: np.ndarray, b32: np.ndarray, threshold: float, antialiasing: bool, rows: int
) -> _Scan | None:
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
    found: _Scan | None = None
    for top in range(0, common, rows):
        bottom = min(common, top + rows)
        candidates = np.flatnonzero(a32[top:bottom] != b32[top:bottom]).astype(index_type)
        if candidates.size == 0:
            continue
        if found is None:
            found = _Scan(common, width)
        candidates += index_type(top * width)
        # Pixels stay packed as uint32 while they are gathered and selected: a 1-D gather of
        # uint32 is several times faster than a row gather of an (n, 4) uint8 array.
        first = flat_a[candidates]
        second = flat_b[candidates]
        # Exact ΔE is only needed up to the threshold and up to the intensity scale's top.
        delta_e = delta_e_rgba(
            _channels(first), _channels(second), saturate_at=max(threshold, _INTENSITY_FULL_SCALE)
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
        intensity = np.minimum(delta_e * (255.0 / _INTENSITY_FULL_SCALE), 255.0).astype(np.uint8)
        found.add(changed, intensity)
    return found


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the set pixels of a boolean mask, ends exclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def _channels(pixels: np.ndarray) -> np.ndarray:
    """View packed uint32 RGBA pixels as (n, 4) uint8 channels, without copying."""
    return pixels.view(np.uint8).reshape(-1, 4)


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
