"""The diff image: a faded greyscale copy of the current screenshot with changes painted on.

Changed pixels are red, anti-aliasing pixels yellow, and rows that exist in only one of the
images (a height change) are tinted red. The image is a palette PNG (one byte per pixel)
written with zlib level 1: encoding an RGB 1080p frame costs ~65 ms, this ~8 ms, and the
diff is on the critical path of the test that is waiting for the comparison.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

_RAMP = 120  # palette entries per ramp
_TINT_BASE = _RAMP  # entries _RAMP .. 2*_RAMP-1: the red-tinted ramp for extra rows
AA_INDEX = 254
DIFF_INDEX = 255
DIFF_COLOUR = (255, 0, 0)
AA_COLOUR = (255, 200, 0)


def _palette() -> list[int]:
    levels = np.linspace(0.0, 1.0, _RAMP)
    # Faded towards white so the red and yellow marks stand out over any content.
    grey = np.rint(255 - (1.0 - levels) * 255 * 0.45).astype(int)
    tinted_gb = np.rint(grey * 0.6).astype(int)
    entries = [(g, g, g) for g in grey.tolist()]
    entries += [(g, t, t) for g, t in zip(grey.tolist(), tinted_gb.tolist(), strict=True)]
    entries += [(0, 0, 0)] * (AA_INDEX - len(entries))
    entries += [AA_COLOUR, DIFF_COLOUR]
    return [channel for entry in entries for channel in entry]


_PALETTE = _palette()
# Luma 0..255 -> ramp index 0.._RAMP-1.
_LUMA_TO_INDEX = (np.arange(256) * (_RAMP - 1) // 255).astype(np.uint8)


def _ramp_indices(rgba: np.ndarray) -> np.ndarray:
    # Pillow's RGB->L conversion is a tight C loop; doing the luma maths in numpy costs more.
    luma = np.asarray(Image.fromarray(rgba, "RGBA").convert("L"))
    return _LUMA_TO_INDEX[luma]


def render_diff(
    baseline: np.ndarray, current: np.ndarray, diff_flat: np.ndarray, aa_flat: np.ndarray
) -> Image.Image:
    """Build the palette image, sized width x max(height1, height2).

    `diff_flat` and `aa_flat` are row-major pixel indices (y * width + x) of the changed and
    anti-aliasing pixels; flat indices make the marking a 1-D scatter.
    """
    height1 = baseline.shape[0]
    height2 = current.shape[0]
    indices = np.empty((max(height1, height2), current.shape[1]), dtype=np.uint8)
    indices[:height2] = _ramp_indices(current)
    if height1 > height2:
        # Rows only the baseline has: show what disappeared, tinted.
        indices[height2:] = _ramp_indices(baseline[height2:]) + _TINT_BASE
    elif height2 > height1:
        indices[height1:] += _TINT_BASE
    flat = indices.ravel()
    flat[aa_flat] = AA_INDEX
    flat[diff_flat] = DIFF_INDEX
    image = Image.fromarray(indices, "P")
    image.putpalette(_PALETTE)
    return image


def write_atomically(image: Image.Image, path: Path) -> None:
    """Write a PNG so that readers never see a half-written file.

    The bytes go to a temporary file in the same folder (same filesystem, so the rename is
    atomic), are fsynced, then replace the target with os.replace.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # The prefix is the one store.files uses, so a start after a crash sweeps leftovers.
    fd, tmp_name = tempfile.mkstemp(prefix=f".vizzly-tmp-{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a diff image is as readable as any other
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="PNG", compress_level=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
