"""libspng through ctypes: PNG bytes straight into a caller's RGBA buffer, without the GIL.

pyspng ships libspng (0.7.x) and exports its C API. Its own `pyspng.load` holds the GIL and
allocates its own array, so two decodes on two threads run one after the other. Calling
libspng through ctypes instead releases the GIL for the whole decode (ctypes does so around
every foreign call), so the baseline and the current image decode on two cores at once, and
the pixels land directly in a numpy array we allocated after our own header and pixel-budget
checks, already in the RGBA layout the comparison views as uint32.

Loaded on first use (importing the engine stays cheap); `available()` is False when pyspng
or its exported symbols are missing, and the caller then decodes with Pillow instead.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

# From spng.h (libspng 0.7): output formats and decode flags.
FMT_RGBA8 = 1
DECODE_TRNS = 1  # apply the tRNS chunk: a colour key or palette alpha becomes alpha

#: Memory libspng may keep for ancillary chunks (text, ICC profiles...), at least: a
#: screenshot needs a few kilobytes; a hostile file must not make us buffer far more than
#: its own size of them (the default is unlimited).
CHUNK_CACHE_LIMIT = 16 << 20


class _Ihdr(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("bit_depth", ctypes.c_uint8),
        ("color_type", ctypes.c_uint8),
        ("compression_method", ctypes.c_uint8),
        ("filter_method", ctypes.c_uint8),
        ("interlace_method", ctypes.c_uint8),
    ]


class SpngError(Exception):
    """libspng refused the data; str(e) is libspng's own reason."""


_lib: ctypes.CDLL | None = None
_loaded = False
_lock = threading.Lock()


def _load() -> ctypes.CDLL | None:
    try:
        import pyspng
    except ImportError:
        return None
    candidates = glob.glob(os.path.join(os.path.dirname(pyspng.__file__), "_pyspng_c*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            void_p, size_t, c_int = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
            lib.spng_ctx_new.restype = void_p
            lib.spng_ctx_new.argtypes = [c_int]
            lib.spng_ctx_free.restype = None
            lib.spng_ctx_free.argtypes = [void_p]
            lib.spng_set_png_buffer.argtypes = [void_p, ctypes.c_char_p, size_t]
            lib.spng_set_chunk_limits.argtypes = [void_p, size_t, size_t]
            lib.spng_get_ihdr.argtypes = [void_p, ctypes.POINTER(_Ihdr)]
            lib.spng_decoded_image_size.argtypes = [void_p, c_int, ctypes.POINTER(size_t)]
            lib.spng_decode_image.argtypes = [void_p, void_p, size_t, c_int, c_int]
            lib.spng_strerror.restype = ctypes.c_char_p
            lib.spng_strerror.argtypes = [c_int]
        except (OSError, AttributeError):
            continue
        return lib
    return None


def _library() -> ctypes.CDLL | None:
    global _lib, _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                _lib = _load()
                _loaded = True
    return _lib


def available() -> bool:
    """Whether libspng could be loaded (pyspng installed, with its C API exported)."""
    return _library() is not None


def decode_rgba8(data: bytes, width: int, height: int) -> np.ndarray:
    """Decode PNG `data`, whose header says width x height, to a (height, width, 4) uint8 array.

    The caller has checked the header and the pixel budget. libspng checks every chunk's CRC
    and the zlib stream's checksum and fails on image data that ends early. Raises SpngError.
    """
    lib = _library()
    if lib is None:
        raise SpngError("libspng is not available")
    ctx = lib.spng_ctx_new(0)
    if not ctx:
        raise SpngError("out of memory")
    try:
        _check(lib, lib.spng_set_png_buffer(ctx, data, len(data)))
        # No chunk can be longer than the file; libspng wants chunk size <= cache limit.
        chunk_limit = min(len(data), 2**31 - 1)
        _check(
            lib, lib.spng_set_chunk_limits(ctx, chunk_limit, max(chunk_limit, CHUNK_CACHE_LIMIT))
        )
        header = _Ihdr()
        _check(lib, lib.spng_get_ihdr(ctx, ctypes.byref(header)))
        if (header.width, header.height) != (width, height):
            raise SpngError("header changed between reads")
        size = ctypes.c_size_t()
        _check(lib, lib.spng_decoded_image_size(ctx, FMT_RGBA8, ctypes.byref(size)))
        pixels = np.empty((height, width, 4), dtype=np.uint8)
        if size.value != pixels.nbytes:
            raise SpngError(f"unexpected decoded size {size.value}")
        code = lib.spng_decode_image(ctx, pixels.ctypes.data, pixels.nbytes, FMT_RGBA8, DECODE_TRNS)
        _check(lib, code)
        return pixels
    finally:
        lib.spng_ctx_free(ctx)


def _check(lib: ctypes.CDLL, code: int) -> None:
    if code != 0:
        message = lib.spng_strerror(code)
        raise SpngError(message.decode("ascii", "replace") if message else f"error {code}")
