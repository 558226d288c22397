"""Safe PNG decoding: header checks before any big allocation, and two decodes at once.

PNG decoding is the floor of a comparison's cost, so the two images are decoded in parallel
by libspng (spng.py), which runs without the GIL and writes RGBA straight into our array.
Before any decoder touches the pixel data we read the size from the IHDR chunk and refuse
images larger than a pixel budget, because a 30-byte file can claim to be 100,000 x 100,000
pixels and make a naive decoder try to allocate 40 GB; and we walk the chunk headers to
refuse a file whose image data is cut off or could not possibly hold the pixels it claims.
Pillow decodes what libspng would decode differently (16-bit greyscale), and everything when
pyspng is not installed.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import ImageError
from .workers import pool

#: Default pixel budget per image (50 megapixels, e.g. 7071 x 7071 or a 4K screenshot 6 times).
DEFAULT_MAX_PIXELS = 50_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Signature (8) + IHDR length (4) + type (4) + width (4) + height (4) + 5 bytes + CRC (4).
_HEADER_LEN = 33
# The PNG specification caps each dimension at 2^31 - 1.
_MAX_DIMENSION = 2**31 - 1
#: No image above this is decoded whatever max_pixels says (Pillow's decompression-bomb
#: limit, 2 * Image.MAX_IMAGE_PIXELS, kept when libspng took over the decoding).
_HARD_LIMIT = 2 * (1024 * 1024 * 1024 // 4 // 3)
# Deflate's largest expansion: a 258-byte match costs at least 2 bits.
_MAX_DEFLATE_RATIO = 1032


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


def _bits_per_pixel(color_type: int, bit_depth: int) -> int:
    """Bits per pixel of the raw image data, from IHDR's colour type and bit depth."""
    return {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color_type, 4) * bit_depth


def _scan(data: bytes, width: int, height: int, label: str) -> tuple[int, int, int]:
    """Walk the chunks: every chunk complete, some image data, and enough of it.

    Returns (bit depth, colour type, total IDAT bytes). Costs microseconds: chunk headers only.
    A file cut short is refused here whatever its header claims, before any pixel buffer is
    allocated: deflate cannot expand data more than 1032-fold, so IDAT bytes that could not
    hold the rows the header promises are a truncated (or hostile) file. A 68-byte file
    claiming 1 x 50,000,000 pixels is refused in microseconds, not after allocating 200 MB.
    """
    bit_depth, color_type = data[24], data[25]
    size = len(data)
    position = 8
    idat = 0
    while position + 8 <= size:
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > size:
            raise ImageError(
                f"{label} is a corrupt or truncated PNG: its {kind.decode('latin-1')!r} chunk "
                f"is cut off ({size - position - 12} of {length} bytes)"
            )
        if kind == b"IDAT":
            idat += length
        elif kind == b"IEND":
            break
        position = end
    if idat == 0:
        raise ImageError(f"{label} is a corrupt or truncated PNG: it has no image data")
    # The smallest possible raw data (interlacing only adds filter bytes); compared with
    # what the compressed bytes could at most inflate to, plus slack for the zlib framing.
    least_raw = height * width * _bits_per_pixel(color_type, bit_depth) // 8
    if idat * _MAX_DEFLATE_RATIO + 1024 < least_raw:
        raise ImageError(
            f"{label} is a corrupt or truncated PNG: {idat:,} bytes of image data cannot "
            f"hold {width}x{height} pixels"
        )
    return bit_depth, color_type, idat


def verify_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, label: str = "image") -> None:
    """Check that PNG bytes decode completely (for data stored before it is ever compared).

    Raises ImageError exactly as decode_png would.
    """
    decode_png(data, max_pixels=max_pixels, label=label)


def decode_png(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, label: str = "image"
) -> np.ndarray:
    """Decode PNG bytes to a C-contiguous (height, width, 4) uint8 RGBA array.

    Every failure (not a PNG, truncated, corrupt, too large) raises ImageError naming `label`.
    """
    data = bytes(data) if not isinstance(data, bytes) else data
    width, height = _parse_header(data[:_HEADER_LEN], label)
    check_pixel_budget(width, height, max_pixels, label)
    if width * height > _HARD_LIMIT:
        # A ceiling whatever budget a caller sets (Pillow's decompression-bomb limit).
        raise ImageError(
            f"{label} is too large to decode safely: {width * height:,} pixels is more than "
            f"{_HARD_LIMIT:,}"
        )
    bit_depth, color_type, _ = _scan(data, width, height, label)
    # 16-bit greyscale: Pillow's rule (clip to 255) differs from libspng's (keep the high
    # byte); Pillow keeps deciding it, so results do not change. One other difference is
    # left to libspng on purpose: a 2- or 4-bit grey image with a tRNS colour key, whose
    # keyed pixels libspng makes transparent as the PNG spec says (Pillow 13 leaves them
    # opaque, not scaling the key to 8 bits); screenshots practically never use it.
    if not (color_type == 0 and bit_depth == 16):
        from . import spng

        if spng.available():
            try:
                return spng.decode_rgba8(data, width, height)
            except spng.SpngError as exc:
                raise ImageError(f"{label} is a corrupt or truncated PNG: {exc}") from exc
    return _decode_with_pillow(data, width, height, label)


def _decode_with_pillow(data: bytes, width: int, height: int, label: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            image.load()
            # Pillow's own PNG rules for the flavours it is asked about.
            raw = image.convert("RGBA").tobytes()
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label} is too large to decode safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{label} is not a decodable PNG: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        # Pillow reports truncated data and bad chunks as OSError/SyntaxError/ValueError.
        raise ImageError(f"{label} is a corrupt or truncated PNG: {exc}") from exc
    # No copy: numpy reads the bytes object (the array is read-only).
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 4)


def decode_pair(
    baseline: bytes, current: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, np.ndarray]:
    """Decode both images concurrently (current in the pool, baseline in this thread)."""
    # Header checks first and in this thread, so a hostile input fails fast and we never
    # queue work for a pair that cannot be compared.
    for data, label in ((baseline, "baseline image"), (current, "current image")):
        width, height = _parse_header(bytes(data[:_HEADER_LEN]), label)
        check_pixel_budget(width, height, max_pixels, label)
        _scan(data, width, height, label)
    future = pool().submit(decode_png, current, max_pixels=max_pixels, label="current image")
    try:
        first = decode_png(baseline, max_pixels=max_pixels, label="baseline image")
    except BaseException:
        # Let the other decode finish in the background; its result is simply dropped.
        future.cancel()
        raise
    return first, future.result()
