"""Safe PNG decoding: header checks before any big allocation, and two decodes at once.

PNG decoding is the floor of a comparison's cost, so the two images are decoded in parallel:
Pillow releases the GIL inside its zlib/unfilter loop, so two threads really do use two cores.
Before Pillow touches the pixel data we read the size from the IHDR chunk and refuse images
larger than a pixel budget, because a 30-byte file can claim to be 100,000 x 100,000 pixels
and make a naive decoder try to allocate 40 GB.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageError
from .workers import pool

#: Default pixel budget per image (50 megapixels, e.g. 7071 x 7071 or a 4K screenshot 6 times).
DEFAULT_MAX_PIXELS = 50_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Signature (8) + IHDR length (4) + type (4) + width (4) + height (4) + 5 bytes + CRC (4).
_HEADER_LEN = 33
# The PNG specification caps each dimension at 2^31 - 1.
_MAX_DIMENSION = 2**31 - 1


def _parse_header(head: bytes, label: str) -> tuple[int, int]:
    if len(head) < len(PNG_SIGNATURE) or head[:8] != PNG_SIGNATURE:
        raise ImageError(f"{label} is not a PNG file (bad signature)")
    if len(head) < _HEADER_LEN:
        raise ImageError(f"{label} is a truncated PNG (no complete IHDR header)")
    length, chunk_type = struct.unpack(">I4s", head[8:16])
    if chunk_type != b"IHDR" or length != 13:
        raise ImageError(f"{label} is not a valid PNG (first chunk is not IHDR)")
    (crc,) = struct.unpack(">I", head[29:33])
    if zlib.crc32(head[12:29]) != crc:
        raise ImageError(f"{label} is a corrupt PNG (IHDR checksum mismatch)")
    width, height = struct.unpack(">II", head[16:24])
    if not (0 < width <= _MAX_DIMENSION and 0 < height <= _MAX_DIMENSION):
        raise ImageError(f"{label} has invalid PNG dimensions {width}x{height}")
    return width, height


def read_png_size(
    data_or_path: bytes | bytearray | memoryview | str | os.PathLike[str],
) -> tuple[int, int]:
    """Return (width, height) from a PNG's IHDR header without decoding any pixels.

    Accepts the PNG bytes or a path. Raises ImageError if it is not a readable PNG header.
    """
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        return _parse_header(bytes(data_or_path[:_HEADER_LEN]), "image")
    path = Path(data_or_path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEADER_LEN)
    except OSError as exc:
        raise ImageError(f"cannot read image {path}: {exc.strerror or exc}") from exc
    return _parse_header(head, f"image {path}")


def check_pixel_budget(width: int, height: int, max_pixels: int, label: str) -> None:
    """Refuse images above the pixel budget before anything allocates width*height*4 bytes."""
    if width * height > max_pixels:
        raise ImageError(
            f"{label} is too large: {width}x{height} = {width * height:,} pixels "
            f"exceeds the limit of {max_pixels:,} pixels"
        )


def _rgba_bytes(image: Image.Image) -> bytes:
    """The decoded pixels as packed RGBA bytes, with as few passes over them as possible."""
    if image.mode == "RGBA":
        return image.tobytes()
    if image.mode == "RGB" and "transparency" not in image.info:
        # Pillow stores RGB pixels in 4 bytes with the pad byte set to 255, so packing them
        # as "RGBX" is a straight copy that is already opaque RGBA. It skips the extra pass
        # of convert("RGBA"), a third of the decode time of a 1080p screenshot.
        return image.tobytes("raw", "RGBX")
    # Palette, greyscale, 16-bit, or a tRNS colour key: let Pillow apply the PNG rules.
    return image.convert("RGBA").tobytes()


def verify_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, label: str = "image") -> None:
    """Check that PNG bytes decode completely, without building the pixel array.

    For data that will be stored before it is ever compared (a new baseline): about a third
    cheaper than decode_png. Raises ImageError exactly as decode_png would.
    """
    _decode(data, max_pixels, label, keep=False)


def decode_png(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, label: str = "image"
) -> np.ndarray:
    """Decode PNG bytes to a C-contiguous (height, width, 4) uint8 RGBA array.

    Every failure (not a PNG, truncated, corrupt, too large) raises ImageError naming `label`.
    """
    pixels = _decode(data, max_pixels, label, keep=True)
    assert pixels is not None
    return pixels


def _decode(data: bytes, max_pixels: int, label: str, *, keep: bool) -> np.ndarray | None:
    width, height = _parse_header(bytes(data[:_HEADER_LEN]), label)
    check_pixel_budget(width, height, max_pixels, label)
    pixels = None
    try:
        # Pillow's own decompression-bomb check (Image.MAX_IMAGE_PIXELS) still applies after
        # ours; it only matters to a caller who raises max_pixels above Pillow's limit.
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            image.load()
            if keep:
                raw = _rgba_bytes(image)
                # No copy: numpy reads the bytes object (the array is read-only).
                pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 4)
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label} is too large to decode safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{label} is not a decodable PNG: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        # Pillow reports truncated data and bad chunks as OSError/SyntaxError/ValueError.
        raise ImageError(f"{label} is a corrupt or truncated PNG: {exc}") from exc
    return pixels


def decode_pair(
    baseline: bytes, current: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, np.ndarray]:
    """Decode both images concurrently (current in the pool, baseline in this thread)."""
    # Header checks first and in this thread, so a hostile input fails fast and we never
    # queue work for a pair that cannot be compared.
    for data, label in ((baseline, "baseline image"), (current, "current image")):
        width, height = _parse_header(bytes(data[:_HEADER_LEN]), label)
        check_pixel_budget(width, height, max_pixels, label)
    future = pool().submit(decode_png, current, max_pixels=max_pixels, label="current image")
    try:
        first = decode_png(baseline, max_pixels=max_pixels, label="baseline image")
    except BaseException:
        # Let the other decode finish in the background; its result is simply dropped.
        future.cancel()
        raise
    return first, future.result()
