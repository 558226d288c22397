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

import numpy as np

from .antialias import antialiased, may_be_antialiasing
from .clusters import find_clusters
from .colour import delta_e_rgba
from .decode import DEFAULT_MAX_PIXELS, check_pixel_budget, decode_pair, read_png_size
from .diffimage import render_diff, write_atomically
from .errors import DimensionMismatch, EngineError, ImageError
from .result import BoundingBox, Cluster, DiffResult, HeightDiff, IntensityStats
from .workers import pool

#: ΔE at which the reported intensity saturates at 255 (honeydiff's scale).
_INTENSITY_FULL_SCALE = 10.0
_EMPTY = np.empty(0, dtype=np.intp)


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
) -> DiffResult:
    """Compare two PNG images given as bytes.

    threshold: CIEDE2000 ΔE above which a pixel counts as changed (0 = any difference).
    min_cluster_size: clusters smaller than this are noise and do not make the result
        different (they still count in diff_pixels, like honeydiff's).
    antialiasing: ignore changes that look like anti-aliasing (see antialias.py).
    diff_path: where to write the diff image; written only when some pixel changed.
    max_pixels: refuse larger images (per image) before decoding them.
    Raises DimensionMismatch for different widths, ImageError for unusable input.
    """
    _check_options(threshold, min_cluster_size, max_pixels)
    if baseline == current:
        # Identical bytes are identical pixels; the header is still validated so that two
        # copies of the same non-PNG file are an error, not a pass.
        width, height = read_png_size(baseline)
        check_pixel_budget(width, height, max_pixels, "baseline image")
        return _identical(width, height, byte_identical=True)
    first, second = decode_pair(baseline, current, max_pixels=max_pixels)
    return compare_arrays(
        first,
        second,
        threshold=threshold,
        min_cluster_size=min_cluster_size,
        antialiasing=antialiasing,
        diff_path=diff_path,
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
) -> DiffResult:
    """Compare two decoded (height, width, 4) uint8 RGBA arrays."""
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
    # int32 indices halve the memory traffic of every gather and index computation on heavy
    # changes (decoded images are capped far below 2**31 pixels; arrays passed in may not be).
    index_type = np.int32 if common * width < 2**31 else np.int64
    candidates = np.flatnonzero(a32 != b32).astype(index_type)
    extra_rows = canvas_height - common
    if candidates.size == 0 and extra_rows == 0:
        return _identical(width, canvas_height)

    # Pixels stay packed as uint32 while they are gathered and selected: a 1-D gather of
    # uint32 is several times faster than a row gather of an (n, 4) uint8 array.
    first = a32.ravel()[candidates]
    second = b32.ravel()[candidates]
    # Exact ΔE is only needed up to the threshold and up to the intensity scale's top.
    delta_e = delta_e_rgba(
        _channels(first), _channels(second), saturate_at=max(threshold, _INTENSITY_FULL_SCALE)
    )
    above = np.flatnonzero(delta_e > threshold)
    changed = candidates[above]
    delta_e = delta_e[above]
    aa_ys = aa_xs = _EMPTY
    if antialiasing and changed.size:
        # Only pixels that pass the cheap per-pixel condition get the neighbourhood tests.
        maybe = np.flatnonzero(may_be_antialiasing(_channels(first), _channels(second))[above])
        if maybe.size:
            aa_ys, aa_xs = np.divmod(changed[maybe], index_type(width))
            is_aa = antialiased(a32, b32, aa_ys, aa_xs)
            aa_ys, aa_xs = aa_ys[is_aa], aa_xs[is_aa]
            if aa_ys.size:
                keep = np.ones(changed.size, dtype=bool)
                keep[maybe[is_aa]] = False
                changed, delta_e = changed[keep], delta_e[keep]
    extra_pixels = extra_rows * width
    diff_pixels = int(changed.size) + extra_pixels

    # The diff image is drawn and encoded on the second core while this thread clusters.
    image_path: Path | None = None
    writing: Future[None] | None = None
    if diff_path is not None and (diff_pixels or aa_ys.size):
        image_path = Path(diff_path)
        aa_flat = aa_ys * width + aa_xs
        writing = pool().submit(_write_diff, baseline, current, changed, aa_flat, image_path)
    try:
        ys, xs = np.divmod(changed, index_type(width))
        mask = np.zeros(common * width, dtype=bool)
        mask[changed] = True
        mask = mask.reshape(common, width)
        # honeydiff's intensity scale: ΔE 10 or more is 255; integers, so stats use a histogram.
        intensity = np.minimum(delta_e * (255.0 / _INTENSITY_FULL_SCALE), 255.0).astype(np.uint8)
        clusters = _clusters(mask, ys, xs, intensity, extra_rows, min_cluster_size)
    finally:
        if writing is not None:
            writing.result()  # re-raises a failed write; never leaves it running unseen

    return DiffResult(
        is_different=any(c.pixel_count >= min_cluster_size for c in clusters),
        diff_percentage=100.0 * diff_pixels / total,
        total_pixels=total,
        diff_pixels=diff_pixels,
        aa_pixels_ignored=int(aa_ys.size),
        aa_percentage=100.0 * int(aa_ys.size) / total,
        bounding_box=_bounding_box(ys, xs, common, width, extra_rows),
        height_diff=(
            HeightDiff(height1=height1, height2=height2, extra_pixels=extra_pixels)
            if height1 != height2
            else None
        ),
        diff_clusters=clusters,
        intensity_stats=_intensity_stats(intensity, extra_pixels),
        width=width,
        height=canvas_height,
        diff_image=image_path,
    )


def _write_diff(
    baseline: np.ndarray,
    current: np.ndarray,
    diff_flat: np.ndarray,
    aa_flat: np.ndarray,
    path: Path,
) -> None:
    write_atomically(render_diff(baseline, current, diff_flat, aa_flat), path)


def _channels(pixels: np.ndarray) -> np.ndarray:
    """View packed uint32 RGBA pixels as (n, 4) uint8 channels, without copying."""
    return pixels.view(np.uint8).reshape(-1, 4)


def _clusters(
    mask: np.ndarray,
    ys: np.ndarray,
    xs: np.ndarray,
    intensity: np.ndarray,
    extra_rows: int,
    min_cluster_size: int,
) -> list[Cluster]:
    """Clusters of at least min_cluster_size pixels, largest first (ties in scan order)."""
    common, width = mask.shape
    table = find_clusters(mask, ys, xs, intensity)
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
    ys: np.ndarray, xs: np.ndarray, common: int, width: int, extra_rows: int
) -> BoundingBox | None:
    if ys.size:
        # ys is sorted (row-major order), so its ends are the extreme rows.
        top, bottom = int(ys[0]), int(ys[-1]) + 1
        left, right = int(xs.min()), int(xs.max()) + 1
    elif not extra_rows:
        return None
    else:
        top, bottom, left, right = common, common, 0, width
    if extra_rows:
        top, bottom = min(top, common), common + extra_rows
        left, right = 0, width
    return BoundingBox(x=left, y=top, width=right - left, height=bottom - top)


def _intensity_stats(intensity: np.ndarray, extra_pixels: int) -> IntensityStats | None:
    """Exact statistics from a 256-bin histogram (intensities are integers 0..255)."""
    histogram = np.bincount(intensity, minlength=256).astype(np.int64)
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
