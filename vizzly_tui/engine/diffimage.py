"""The diff image: the changes, on a transparent canvas the size of the screenshot.

Changed pixels are red, anti-aliasing pixels yellow, everything else transparent (white
underneath, for viewers that ignore alpha), and rows that exist in only one of the images (a
height change) show that image's rows, faded and tinted red. Viewers lay it over the current
screenshot (the Vizzly reporter's "overlay" view) or build their own composites from the
comparison's masks (the review app). A palette PNG that is mostly one transparent index
costs ~1 ms to draw and encode at 1080p, where a faded copy of the screenshot cost ~20 ms of
CPU on every comparison that found a change, competing with the next comparison's decode.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

_log = logging.getLogger(__name__)

_RAMP = 120  # palette entries per ramp
_TINT_BASE = _RAMP  # entries _RAMP .. 2*_RAMP-1: the red-tinted ramp for extra rows
CLEAR_INDEX = 253  # transparent
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
    entries += [(0, 0, 0)] * (CLEAR_INDEX - len(entries))
    entries += [(255, 255, 255), AA_COLOUR, DIFF_COLOUR]
    return [channel for entry in entries for channel in entry]


_PALETTE = _palette()
# Luma 0..255 -> ramp index 0.._RAMP-1.
_LUMA_TO_INDEX = [value * (_RAMP - 1) // 255 for value in range(256)]


def _ramp_indices(rgba: np.ndarray) -> np.ndarray:
    # Pillow's RGB->L conversion and its point() lookup are tight C loops: doing the luma
    # maths, or even the lookup alone (fancy indexing), in numpy costs several times more.
    from PIL import Image

    return np.asarray(Image.fromarray(rgba, "RGBA").convert("L").point(_LUMA_TO_INDEX))


def render_diff(
    changed: np.ndarray,
    antialiasing: np.ndarray,
    extra_rows: np.ndarray,
    stripe_rows: int,
) -> Image.Image:
    """Build the palette image, sized width x (common rows + extra rows).

    `changed` and `antialiasing` are boolean masks over the rows both images have;
    `extra_rows` is the RGBA of the rows only the taller image has (none when the heights
    match). Only these are taken, not the two decoded images: a diff image waiting for the
    background writer then holds a quarter of a frame's bytes instead of two whole frames.
    Drawn a stripe of rows at a time, so the only full-size buffer is the one-byte-a-pixel
    image.
    """
    common, width = changed.shape
    same_height = extra_rows.shape[0] == 0
    # Without a height change only three colours are needed: a 4-entry palette, which Pillow
    # writes at 2 bits a pixel, a quarter of the bytes to compress (~1 ms at 1080p).
    clear, aa, diff = (0, 1, 2) if same_height else (CLEAR_INDEX, AA_INDEX, DIFF_INDEX)
    indices = np.full((common + extra_rows.shape[0], width), clear, dtype=np.uint8)
    for top in range(0, common, stripe_rows):
        rows = slice(top, min(common, top + stripe_rows))
        np.putmask(indices[rows], antialiasing[rows], aa)
        np.putmask(indices[rows], changed[rows], diff)
    # Rows only one image has: show what appeared (or disappeared), faded and tinted.
    for top in range(0, extra_rows.shape[0], stripe_rows):
        rows = slice(top, min(extra_rows.shape[0], top + stripe_rows))
        indices[common + top : common + rows.stop] = _ramp_indices(extra_rows[rows]) + _TINT_BASE
    from PIL import Image  # imported on first use: the engine's import stays cheap

    image = Image.fromarray(indices, "P")
    image.putpalette([255, 255, 255, *AA_COLOUR, *DIFF_COLOUR] if same_height else _PALETTE)
    image.info["transparency"] = clear  # written as the PNG's tRNS chunk
    return image


def write_atomically(
    image: Image.Image, path: Path, still_wanted: Callable[[], bool] | None = None
) -> None:
    """Write a PNG so that readers never see a half-written file.

    The bytes go to a temporary file in the same folder (same filesystem, so the rename is
    atomic), are fsynced, then replace the target with os.replace. With `still_wanted`, the
    rename happens only if it returns True (checked under the registry lock, see below).
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
        if still_wanted is None:
            os.replace(tmp_name, path)
        else:
            with _lock:
                if still_wanted():
                    os.replace(tmp_name, path)
                else:
                    os.unlink(tmp_name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


# Diff images written after the verdict (compare_*(..., background_diff=True)). A later
# comparison of the same screenshot may finish before an earlier one's diff is written, so
# every path has a generation: only the newest comparison's image may be renamed into place,
# and a comparison that needs no image retires the pending one.
_lock = threading.Lock()
_generation: dict[str, int] = {}
_pending: dict[str, Future[None]] = {}
#: Queued diff images beyond which a comparison writes its own before returning: each one
#: holds its change masks (two bytes a pixel), so a burst of screenshots must not pile them up.
MAX_QUEUED = 4
_writer: ThreadPoolExecutor | None = None


def _lower_priority() -> None:
    # The writer yields the cores to comparisons in progress (Linux: a thread has its own
    # nice value); where that is not possible it simply runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _writer_pool() -> ThreadPoolExecutor:
    global _writer
    with _lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="vizzly-diff", initializer=_lower_priority
            )
        return _writer


def queue_is_full() -> bool:
    """Whether MAX_QUEUED diff images are already waiting to be written."""
    with _lock:
        return len(_pending) >= MAX_QUEUED


def _key(path: Path | str | os.PathLike[str]) -> str:
    # Resolved, so the writer's path and a route's resolved path name the same entry.
    return os.path.realpath(path)


def retire(path: Path) -> None:
    """A newer comparison of `path` needs no diff image: a pending older one is dropped."""
    key = _key(path)
    with _lock:
        if key in _pending:
            _generation[key] = _generation.get(key, 0) + 1


def write_in_background(render: Callable[[], Image.Image], path: Path) -> Future[None]:
    """Render and write a diff image on a low-priority writer thread; return at once."""
    key = _key(path)
    writer = _writer_pool()

    def still_wanted() -> bool:
        return _generation.get(key) == generation

    def job() -> None:
        try:
            if still_wanted():
                write_atomically(render(), path, still_wanted)
        except Exception:
            _log.exception("writing the diff image %s failed", path)
            raise

    # Generation and pending entry change together, so a `retire` from another thread sees
    # either neither or both.
    with _lock:
        generation = _generation.get(key, 0) + 1
        _generation[key] = generation
        future = writer.submit(job)
        _pending[key] = future

    def forget(done: Future[None]) -> None:
        with _lock:
            if _pending.get(key) is done:
                del _pending[key]
                if _generation.get(key) == generation:
                    del _generation[key]

    future.add_done_callback(forget)  # outside the lock: it may run at once, in this thread
    return future


def pending_diff(path: Path | str | os.PathLike[str]) -> Future[None] | None:
    """The write of the diff image at `path` that this process has not finished, if any.

    An asyncio server awaits `asyncio.wrap_future(...)` of it instead of blocking its loop.
    """
    with _lock:
        return _pending.get(_key(path))


def wait_for_diff(path: Path | str | os.PathLike[str], timeout: float | None = None) -> bool:
    """Wait until no diff image for `path` is being written by this process.

    For readers that want the file a comparison just promised (an HTTP route serving
    /images/diffs/...). Returns False if it is still being written after `timeout` seconds;
    a failed write counts as finished (it was logged; the old file, if any, is untouched).
    """
    future = pending_diff(path)
    if future is None:
        return True
    try:
        future.result(timeout)
    except TimeoutError:
        return False
    except Exception:
        pass
    return True
