"""glibc malloc tuning for the long-running server (Linux only; a no-op elsewhere).

Kept out of the engine so the server can apply it before the engine (numpy) is imported.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

# mallopt parameter number (glibc malloc.h).
_M_MMAP_THRESHOLD = -3
#: Blocks from this size up are mapped on their own and unmapped when freed.
MMAP_THRESHOLD = 256 * 1024

_libc: Any = None
_loaded = False
_lock = threading.Lock()


def _glibc() -> Any:
    """libc with malloc_trim and mallopt, or None (macOS, musl, no ctypes)."""
    global _libc, _loaded
    with _lock:
        if not _loaded:
            _loaded = True
            if sys.platform.startswith("linux"):
                try:
                    libc = ctypes.CDLL("libc.so.6")  # glibc; find_library runs ldconfig (~20 ms)
                    libc.malloc_trim.argtypes = [ctypes.c_size_t]
                    libc.malloc_trim.restype = ctypes.c_int
                    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                    libc.mallopt.restype = ctypes.c_int
                    _libc = libc
                except (OSError, AttributeError):
                    _libc = None
        return _libc


def trim() -> None:
    """Return every arena's free pages to the operating system (about a millisecond)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def fix_mmap_threshold() -> bool:
    """Map every block of MMAP_THRESHOLD or more on its own, for the rest of the process.

    glibc raises its mmap threshold each time a mapped block is freed (up to 32 MB), so after
    the first comparison the numpy temporaries of a stripe (a megabyte or more) come from the
    arenas of the threads that made them; freed, they stay resident as fragments between
    live blocks, and the server's memory climbs tens of MB above what one comparison needs.
    A fixed threshold (which also switches the adjustment off) hands them back when freed.
    Measured: peak RSS of two SDK runs 169 -> ~141 MB, comparison times unchanged. Returns
    whether it was applied."""
    libc = _glibc()
    return libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
