"""Anti-aliasing detection: which changed pixels are rendering noise rather than content.

A changed pixel is classed as anti-aliasing (AA) only when its neighbourhood shows the edge
signature of anti-aliasing, tested in three steps, all of which must hold:

1. Few identical siblings (pixelmatch's first test): at most two of its 8 neighbours are
   bit-identical to it, in the baseline or in the current image. A pixel inside a flat area
   of both images is never AA, which is exactly what honeydiff gets wrong (it scores a red
   block on white as all-AA).
2. It sits on an edge, and the change is small next to that edge: in each RGB channel the
   change is at most `MAX_CHANGE_RATIO` of the largest difference between the pixel and one
   of its neighbours (in either image). A sub-pixel shift by t moves a value a fraction t of
   the way to its neighbour's; a glyph that appears, disappears or changes flips pixels by
   the full contrast.
3. It is a blend of the other image's neighbourhood, in both directions:
   - each channel lies within the min..max of the other image's 3x3 neighbourhood, give or
     take `RANGE_MARGIN` levels plus `RANGE_CONTRAST` of that neighbourhood's contrast
     (resampling filters overshoot edges, and a stem that spreads over two pixels loses its
     darkest value);
   - its chroma (max - min of RGB) is not above the neighbourhood's largest chroma, give or
     take `CHROMA_MARGIN` and `CHROMA_SLACK`: chroma is convex, so a blend is never more
     colourful than what it blends, while a green block drawn into grey text is.

Why not pixelmatch's full test? Measured on text drawn 0.25 px apart (4x supersampled,
LANCZOS-downsampled, default PIL font), its "darkest or brightest neighbour lies in a flat
area of both images" rule classed only ~15 % of the changed pixels as AA, because the
background next to a resampled glyph is rarely bit-identical in both images; and it is the
rule that labels a solid block drawn into busy text as AA (fixture `login`). The tests above
class all of those shifts as AA while a changed word, digit or punctuation mark in 11-20 px
text still leaves a cluster (see tests/engine/test_known_answers.py and test_antialias.py).

Known limit: a uniform recolour of thin text by less than about a third of its contrast
(e.g. #141414 to #5a5a5a at 14 px) is indistinguishable, pixel by pixel, from a sub-pixel
shift, and is classed as AA; larger text keeps flat glyph interiors and is detected.

Everything runs per window around the changed pixels (see windows.py): identical-neighbour
counts as whole-window array operations, then gathered 3x3 neighbourhoods, in blocks, for
the pixels that are not flat, so a heavy change over flat areas costs a few array passes.
"""

from __future__ import annotations

import numpy as np

from .windows import row_bands

#: Fixed per-channel tolerance of the range test, in 8-bit levels.
RANGE_MARGIN = 16
#: Extra range-test tolerance, as a fraction of the neighbourhood's contrast.
RANGE_CONTRAST = 0.4
#: Chroma test tolerance: levels, and a fraction of the neighbourhood's largest chroma
#: (resampling overshoot makes coloured text edges slightly more saturated than the text).
CHROMA_MARGIN = 16
CHROMA_SLACK = 0.4
#: Largest change, as a fraction of the pixel's strongest edge, that can still be AA.
MAX_CHANGE_RATIO = 0.7

# The 8 neighbours as (dy, dx).
_DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.intp)
_DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.intp)

# RGB change above which test 2 must fail, for may_be_antialiasing.
_PREFILTER_LIMIT = int(MAX_CHANGE_RATIO * 255)

# Points per block in the per-pixel tests.
_BLOCK = 1 << 15

# Four of the eight directions; each comparison is credited to both pixels of the pair.
_HALF_OFFSETS = ((0, 1), (1, -1), (1, 0), (1, 1))


def sibling_counts(window: np.ndarray) -> np.ndarray:
    """Per pixel: how many of its 8 neighbours are bit-identical (uint32 RGBA) to it.

    Like pixelmatch, a pixel on the window border gets one extra count, standing in for the
    neighbours it does not have. Callers only read counts of pixels at least one pixel away
    from window borders that are not image borders, so this equals a full-image count there.
    """
    height, width = window.shape
    counts = np.zeros((height, width), dtype=np.uint8)
    for dy, dx in _HALF_OFFSETS:
        # Pair (y, x) with (y + dy, x + dx) wherever both are inside the window.
        ya = slice(0, height - dy)
        yb = slice(dy, height)
        xa = slice(max(0, -dx), width - max(0, dx))
        xb = slice(max(0, dx), width + min(0, dx))
        same = window[ya, xa] == window[yb, xb]
        counts[ya, xa] += same
        counts[yb, xb] += same
    counts[0, :] += 1
    if height > 1:
        counts[-1, :] += 1
    counts[1:-1, 0] += 1
    if width > 1:
        counts[1:-1, -1] += 1
    return counts


def _planes(flat: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Gather uint32 RGBA pixels and split them into channel planes: (4, *index.shape) int16.

    Channel-planar data keeps every later step an elementwise operation over the points,
    which numpy vectorises; reductions over a trailing axis of 3 or 4 channels it does not.
    """
    pixels = flat[index].view(np.uint8).reshape(*index.shape, 4)
    return np.moveaxis(pixels, -1, 0).astype(np.int16)


def _chroma(planes: np.ndarray) -> np.ndarray:
    """max(R, G, B) - min(R, G, B) of channel planes (4, ...)."""
    red, green, blue = planes[0], planes[1], planes[2]
    return np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)


def _neighbourhood(
    flat: np.ndarray, nidx: np.ndarray, centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point, over its 3x3 neighbourhood: per-channel min and max, (4, n) int16, and the
    largest chroma, (n,) int16. `centre` is the point's own planes, (4, n)."""
    neighbours = _planes(flat, nidx)  # (4, 8, n)
    low = np.minimum(neighbours.min(axis=1), centre)
    high = np.maximum(neighbours.max(axis=1), centre)
    chroma = np.maximum(_chroma(neighbours).max(axis=0), _chroma(centre))
    return low, high, chroma


def _window_aa(wa: np.ndarray, wb: np.ndarray, py: np.ndarray, px: np.ndarray) -> np.ndarray:
    """AA verdict for points (py, px) of one window of the baseline (wa) and current (wb)."""
    height, width = wa.shape
    result = np.zeros(py.size, dtype=bool)
    centre = py * width + px
    # Test 1, on whole-window counts: most pixels of a heavy change (a theme switch, a moved
    # panel) are in flat areas and drop out here before any per-pixel gathering.
    busy = np.flatnonzero(
        (sibling_counts(wa).ravel()[centre] <= 2) | (sibling_counts(wb).ravel()[centre] <= 2)
    )
    flat_a = wa.ravel()
    flat_b = wb.ravel()
    # Blocks of points keep the (8, n) temporaries in the CPU cache on heavy changes.
    for start in range(0, busy.size, _BLOCK):
        chosen = busy[start : start + _BLOCK]
        result[chosen] = _edge_and_range_tests(
            flat_a, flat_b, py[chosen], px[chosen], centre[chosen], height, width
        )
    return result


def _edge_and_range_tests(
    flat_a: np.ndarray,
    flat_b: np.ndarray,
    cy: np.ndarray,
    cx: np.ndarray,
    cidx: np.ndarray,
    height: int,
    width: int,
) -> np.ndarray:
    """Tests 2 and 3 for points (cy, cx) of a window, flattened as flat_a / flat_b."""
    # Neighbour indices as (8, n): reductions over the first axis are elementwise min/max of
    # eight contiguous arrays, which numpy vectorises; over a trailing axis of 8 it does not.
    ny = cy + _DY[:, None]
    nx = cx + _DX[:, None]
    # A neighbour outside the image is clipped onto an edge pixel, which is itself inside
    # the 3x3 neighbourhood, so the min..max range below is unchanged by the clipping.
    np.clip(ny, 0, height - 1, out=ny)
    np.clip(nx, 0, width - 1, out=nx)
    nidx = ny * width + nx
    ia = _planes(flat_a, cidx)  # (4, n)
    ib = _planes(flat_b, cidx)
    low_a, high_a, chroma_a = _neighbourhood(flat_a, nidx, ia)
    low_b, high_b, chroma_b = _neighbourhood(flat_b, nidx, ib)

    # Test 2: the change is a fraction of the strongest edge at this pixel. The largest
    # |neighbour - centre| is max(high - centre, centre - low).
    edge = np.maximum(np.maximum(high_a - ia, ia - low_a), np.maximum(high_b - ib, ib - low_b))
    change = np.abs(ib - ia)
    # An alpha change is never anti-aliasing of an opaque screenshot.
    small = change[3] == 0
    for channel in range(3):
        small &= change[channel] <= MAX_CHANGE_RATIO * edge[channel]

    # Test 3: each value lies within the other image's neighbourhood range (centre included),
    # and is no more colourful than that neighbourhood: a blend of colours is never more
    # colourful than the most colourful of them (chroma, max - min of RGB, is convex), so a
    # saturated colour in grey text is new content.
    blend = small
    for value, low, high, chroma in ((ib, low_a, high_a, chroma_a), (ia, low_b, high_b, chroma_b)):
        spread = np.maximum(np.maximum(high[0] - low[0], high[1] - low[1]), high[2] - low[2])
        tolerance = RANGE_MARGIN + RANGE_CONTRAST * spread
        for channel in range(4):
            blend &= value[channel] >= low[channel] - tolerance
            blend &= value[channel] <= high[channel] + tolerance
        blend &= _chroma(value) <= chroma * (1 + CHROMA_SLACK) + CHROMA_MARGIN
    return blend


def may_be_antialiasing(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Cheap necessary condition of test 2 on (n, 4) uint8 RGBA pairs, no neighbourhood needed.

    A change can only be AA if no RGB channel moved by more than MAX_CHANGE_RATIO * 255 (no
    edge is stronger than 255) and alpha did not move. On a theme switch this rules out most
    changed pixels before any neighbourhood is gathered.
    """
    moved = np.maximum(first, second) - np.minimum(first, second)  # |a - b| without overflow
    # Channel by channel (1-D strided views): elementwise ufuncs over n points, not over 4.
    largest = np.maximum(np.maximum(moved[:, 0], moved[:, 1]), moved[:, 2])
    return (largest <= _PREFILTER_LIMIT) & (moved[:, 3] == 0)


def antialiased(
    baseline: np.ndarray, current: np.ndarray, ys: np.ndarray, xs: np.ndarray
) -> np.ndarray:
    """For changed pixels (ys, xs), sorted by row: True where the change is anti-aliasing.

    `baseline` and `current` are (height, width) uint32 views of RGBA images of equal size.
    """
    result = np.zeros(ys.size, dtype=bool)
    height, width = baseline.shape
    # Margin 1 keeps every point one pixel inside its window (unless at the image edge), where
    # the window's identical-neighbour counts equal the full image's. Gap 8: bridging a few
    # empty rows is cheaper than another window.
    for win in row_bands(ys, xs, height, width, margin=1, max_gap=8):
        result[win.start : win.stop] = _window_aa(
            baseline[win.y0 : win.y1, win.x0 : win.x1],
            current[win.y0 : win.y1, win.x0 : win.x1],
            ys[win.start : win.stop] - win.y0,
            xs[win.start : win.stop] - win.x0,
        )
    return result
