"""One small thread pool shared by the engine, to use a second core while the caller works.

numpy ufuncs, zlib (PNG encode/decode) and Pillow's decoders release the GIL, so two threads
really do run in parallel on them. Work submitted here never waits for other work submitted
here (only the calling thread waits), so a busy pool can delay a comparison but never
deadlock it, however many comparisons run at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The shared pool, created on first use (threads cost ~0.1 ms each to start)."""
    global _executor
    if _executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vizzly-engine")
    return _executor


def _load_malloc_trim():  # type: ignore[no-untyped-def]
    """glibc's malloc_trim, or None elsewhere (macOS, musl): then nothing is released early."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = None
_trim_loaded = False


def release_free_memory() -> None:
    """Give the memory freed by a comparison back to the operating system.

    A comparison allocates tens of megabytes in several threads; glibc keeps what each
    thread's arena freed for reuse, so a long-running server's resident memory climbs to the
    sum of every thread's worst comparison instead of one comparison's. malloc_trim returns
    the free pages of every arena (about a millisecond). Called after each screenshot."""
    global _malloc_trim, _trim_loaded
    if not _trim_loaded:
        _malloc_trim = _load_malloc_trim()
        _trim_loaded = True
    if _malloc_trim is not None:
        _malloc_trim(0)
