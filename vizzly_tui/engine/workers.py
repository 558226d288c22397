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
