"""Safe decoding: hostile and broken inputs fail with ImageError before big allocations."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vizzly_tui.engine import (
    DEFAULT_MAX_PIXELS,
    EngineError,
    ImageError,
    compare_bytes,
    compare_files,
    read_png_size,
)
from vizzly_tui.engine.decode import decode_pair, decode_png

from .helpers import flat, png_bytes, ui_like

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def claimed_size_png(width: int, height: int) -> bytes:
    """A well-formed PNG header claiming any size, followed by a tiny IDAT and IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_header_claiming_100000_squared_is_refused_before_decoding() -> None:
    bomb = claimed_size_png(100_000, 100_000)
    good = png_bytes(flat(10, 10))
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageError) as caught:
        compare_bytes(bomb, good)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    message = str(caught.value)
    assert "too large" in message and "100000x100000" in message and "baseline" in message
    assert peak < 5_000_000 and elapsed < 1.0


def test_pillow_bomb_check_is_turned_into_image_error() -> None:
    # With our own budget raised out of the way, Pillow's DecompressionBombError still fires
    # (the header claims far more than its limit) and must surface as an ImageError.
    bomb = claimed_size_png(100_000, 100_000)
    with pytest.raises(ImageError, match="too large to decode safely"):
        decode_png(bomb, max_pixels=10**11)


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    first = png_bytes(flat(40, 25))
    second = png_bytes(flat(40, 25, (0, 0, 0)))
    with pytest.raises(ImageError, match="1,000 pixels exceeds the limit of 999"):
        compare_bytes(first, second, max_pixels=999)
    assert compare_bytes(first, second, max_pixels=1000).is_different
    assert DEFAULT_MAX_PIXELS == 50_000_000
    # Byte-identical inputs skip decoding but not the size check.
    with pytest.raises(ImageError, match="too large"):
        compare_bytes(first, first, max_pixels=999)


def test_truncated_png_is_an_image_error() -> None:
    data = png_bytes(ui_like(200, 120))
    truncated = data[: len(data) // 2]
    with pytest.raises(ImageError, match="current image is a corrupt or truncated PNG"):
        compare_bytes(data, truncated)
    with pytest.raises(ImageError, match="truncated"):
        compare_bytes(data[:20], data)


@pytest.mark.parametrize(
    "payload",
    [b"", b"hello world, not an image", b"GIF89a" + b"\x00" * 40, b"\xff\xd8\xff\xe0" + b"0" * 40],
    ids=["empty", "text", "gif", "jpeg"],
)
def test_not_a_png_is_an_image_error(payload: bytes) -> None:
    good = png_bytes(flat(10, 10))
    with pytest.raises(ImageError, match="current image is not a PNG") as caught:
        compare_bytes(good, payload)
    assert isinstance(caught.value, EngineError)


def test_corrupt_header_checksum_is_an_image_error() -> None:
    data = bytearray(png_bytes(flat(10, 10)))
    data[20] ^= 0xFF  # inside IHDR's height field
    with pytest.raises(ImageError, match="checksum"):
        compare_bytes(bytes(data), png_bytes(flat(10, 10)))


def test_corrupt_pixel_data_is_an_image_error() -> None:
    good = png_bytes(ui_like(100, 60))
    ihdr = good[8:33]
    broken = SIGNATURE + ihdr + chunk(b"IDAT", b"this is not zlib data") + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="baseline image"):
        compare_bytes(broken, good)


def test_missing_file_is_an_image_error(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes(flat(4, 4)))
    with pytest.raises(ImageError, match="cannot read current image"):
        compare_files(tmp_path / "a.png", tmp_path / "missing.png")


def test_read_png_size_from_bytes_and_path(tmp_path: Path) -> None:
    data = png_bytes(flat(37, 21))
    (tmp_path / "x.png").write_bytes(data)
    assert read_png_size(data) == (37, 21)
    assert read_png_size(tmp_path / "x.png") == (37, 21)
    assert read_png_size(str(tmp_path / "x.png")) == (37, 21)
    assert read_png_size(claimed_size_png(100_000, 3)) == (100_000, 3)
    with pytest.raises(ImageError, match="not a PNG"):
        read_png_size(b"nope")
    with pytest.raises(ImageError, match="cannot read"):
        read_png_size(tmp_path / "missing.png")


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16", "RGB+tRNS"])
def test_every_png_flavour_decodes_like_pillow_rgba(mode: str) -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)
    if mode == "RGB+tRNS":
        rgb[0, 0] = (1, 2, 3)
        image = Image.fromarray(rgb)
        image.info["transparency"] = (1, 2, 3)
        data = png_bytes(image)
    elif mode == "I;16":
        data = png_bytes(Image.fromarray(rng.integers(0, 65535, (12, 9), dtype=np.uint16)))
    elif mode == "P":
        data = png_bytes(Image.fromarray(rgb).quantize(16))
    else:
        data = png_bytes(Image.fromarray(rgb).convert(mode))
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    decoded = decode_png(data)
    assert decoded.shape == (12, 9, 4)
    np.testing.assert_array_equal(decoded, expected)
    if mode == "RGB+tRNS":
        assert decoded[0, 0, 3] == 0  # the colour key became transparent


def test_pair_decoding_reports_which_image_failed() -> None:
    good = png_bytes(flat(8, 8))
    with pytest.raises(ImageError, match=r"^baseline image"):
        decode_pair(b"junk", good)
    with pytest.raises(ImageError, match=r"^current image"):
        decode_pair(good, b"junk")
    first, second = decode_pair(good, png_bytes(flat(8, 8, (1, 2, 3))))
    assert first[0, 0].tolist() == [255, 255, 255, 255]
    assert second[0, 0].tolist() == [1, 2, 3, 255]
