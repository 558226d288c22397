"""Decoding with libspng, comparing in stripes, and diff images written after the verdict."""

from __future__ import annotations

import io
import struct
import threading
import time
import tracemalloc
import weakref
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vizzly_tui.engine import (
    ImageError,
    compare_arrays,
    compare_bytes,
    compare_files,
    pending_diff,
    spng,
    wait_for_diff,
)
from vizzly_tui.engine import compare as compare_module
from vizzly_tui.engine.clusters import find_clusters, find_clusters_dense
from vizzly_tui.engine.decode import decode_png, verify_png

from .helpers import flat, png_bytes, text_image, ui_like, write_png

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + payload))
    return struct.pack(">I", len(payload)) + kind + payload + crc


def png_from_rows(width: int, height: int, raw: bytes, *, interlaced: bool = False) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, int(interlaced))
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def tall_liar(rows: int) -> bytes:
    """Claims 1 x 50,000,000 RGBA pixels (the pixel budget exactly) but holds `rows` rows."""
    return png_from_rows(1, 50_000_000, b"\x00" * 5 * rows)


def test_a_header_claiming_50_megapixels_over_68_bytes_is_refused_at_once() -> None:
    baseline, current = tall_liar(1), tall_liar(2)
    assert (len(baseline), len(current)) == (68, 68)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageError, match=r"^image is a corrupt or truncated PNG.*1x50000000"):
        verify_png(baseline)
    with pytest.raises(ImageError, match=r"^baseline image is a corrupt or truncated PNG"):
        compare_bytes(baseline, current)
    with pytest.raises(ImageError, match=r"^current image is a corrupt or truncated PNG"):
        compare_bytes(png_bytes(flat(1, 3)), current)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 2_000_000  # no 200 MB buffer, no seconds of inflating


def test_image_data_that_ends_early_is_refused_whatever_the_header_claims() -> None:
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (40, 30, 4), dtype=np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    assert np.array_equal(decode_png(png_from_rows(30, 40, raw)), pixels)
    # Complete chunks, a complete zlib stream, one row short: only the decoder can tell.
    with pytest.raises(ImageError, match="image is a corrupt or truncated PNG"):
        decode_png(png_from_rows(30, 40, raw[: -(1 + 30 * 4)]))
    # A chunk cut off by the end of the file.
    whole = png_from_rows(30, 40, raw)
    with pytest.raises(ImageError, match="'IDAT' chunk is cut off"):
        decode_png(whole[:-20])
    # No image data at all.
    no_data = whole[:33] + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="no image data"):
        decode_png(no_data)


def adam7(pixels: np.ndarray) -> bytes:
    """The raw (filter 0) scanlines of an Adam7-interlaced RGBA image."""
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2))
    passes += ((0, 1, 1, 2),)
    out = bytearray()
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            out += b"".join(b"\x00" + row.tobytes() for row in sub)
    return bytes(out)


def test_interlaced_png_decodes_like_pillow() -> None:
    rng = np.random.default_rng(8)
    pixels = rng.integers(0, 256, (13, 11, 4), dtype=np.uint8)
    data = png_from_rows(11, 13, adam7(pixels), interlaced=True)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    np.testing.assert_array_equal(expected, pixels)  # the test's encoder is right
    np.testing.assert_array_equal(decode_png(data), pixels)


def raw_png(samples: np.ndarray, color_type: int, bit_depth: int) -> bytes:
    """A PNG of (height, width, channels) samples at 8 or 16 bits, filter 0."""
    height, width = samples.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    rows = b"".join(b"\x00" + row.astype(dtype).tobytes() for row in samples)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(rows))
    return SIGNATURE + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


def _flavours() -> dict[str, bytes]:
    rng = np.random.default_rng(11)
    rgb = rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)
    paletted = Image.fromarray(rgb).quantize(16)
    return {
        "RGB 16-bit": raw_png(rng.integers(0, 65536, (12, 9, 3)), 2, 16),
        "RGBA 16-bit": raw_png(rng.integers(0, 65536, (12, 9, 4)), 6, 16),
        "grey+alpha 16-bit": raw_png(rng.integers(0, 65536, (12, 9, 2)), 4, 16),
        "1-bit grey": png_bytes(Image.fromarray(rgb).convert("1")),
        "palette + tRNS": _save(paletted, transparency=3),
        "256-colour palette": png_bytes(Image.fromarray(rgb).quantize(200)),
        "grey + tRNS": _save(Image.fromarray(rgb).convert("L"), transparency=7),
    }


def _save(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


@pytest.mark.parametrize("flavour", list(_flavours()))
def test_more_png_flavours_decode_like_pillow(flavour: str) -> None:
    data = _flavours()[flavour]
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    np.testing.assert_array_equal(decode_png(data), expected)


def test_the_decoder_in_use_is_libspng() -> None:
    # pyspng is a dependency: if its C API ever stopped loading, every decode would silently
    # fall back to Pillow (correct, but twice as slow); this test says so instead.
    assert spng.available()


@pytest.mark.parametrize("density", [0.01, 0.3, 0.9])
def test_dense_clustering_equals_windowed_clustering(density: float) -> None:
    rng = np.random.default_rng(int(density * 100))
    mask = rng.random((70, 90)) < density
    mask[30:34] = False  # an empty band
    intensity = rng.integers(0, 256, mask.shape, dtype=np.uint8)
    ys, xs = np.nonzero(mask)
    windowed = find_clusters(mask, ys, xs, intensity[mask])
    for stripe_rows in (1, 7, 70):
        dense = find_clusters_dense(mask, intensity, stripe_rows)
        for field in ("sizes", "mean_x", "mean_y", "mean_intensity", "x0", "y0", "x1", "y1"):
            np.testing.assert_array_equal(getattr(dense, field), getattr(windowed, field))


def _pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    base = ui_like(160, 90)
    dark = 255 - base
    dark[..., 3] = 255
    spots = base.copy()
    spots[10:12, 20:24] = (200, 0, 0, 255)
    spots[60, 100] = (0, 0, 0, 255)
    taller = np.concatenate([base, flat(160, 7, (0, 90, 0))])
    return [
        (base, spots),
        (base, dark),
        (text_image("Quarterly total"), text_image("Quarterly total", offset_quarter_px=1)),
        (text_image("Quarterly total"), text_image("Quarterly tota1")),
        (base, taller),
        (taller, spots),
    ]


@pytest.mark.parametrize("index", range(6))
def test_stripes_do_not_change_any_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index: int
) -> None:
    baseline, current = _pairs()[index]
    whole = compare_arrays(baseline, current, diff_path=tmp_path / "whole.png")
    # Stripes of 3 rows split clusters, anti-aliasing neighbourhoods and the diff image.
    monkeypatch.setattr(compare_module, "STRIPE_PIXELS", baseline.shape[1] * 3)
    striped = compare_arrays(baseline, current, diff_path=tmp_path / "striped.png")
    assert striped.to_vizzly_dict() == whole.to_vizzly_dict()
    if whole.diff_image is not None:
        assert striped.diff_image is not None
        first = np.asarray(Image.open(whole.diff_image).convert("RGB"))
        second = np.asarray(Image.open(striped.diff_image).convert("RGB"))
        np.testing.assert_array_equal(first, second)


def test_background_diff_is_written_after_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = write_png(tmp_path / "base.png", ui_like(120, 80))
    changed = ui_like(120, 80)
    changed[20:30, 20:40] = (220, 0, 0, 255)
    cur = write_png(tmp_path / "cur.png", changed)
    expected = compare_files(base, cur, diff_path=tmp_path / "sync.png")

    release = threading.Event()
    real_render = compare_module.render_diff

    def slow_render(*args: object, **kwargs: object):
        assert release.wait(10)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(compare_module, "render_diff", slow_render)
    out = tmp_path / "diffs" / "card.png"
    result = compare_files(base, cur, diff_path=out, background_diff=True)
    # The verdict is back while the image is still being drawn.
    assert result.to_vizzly_dict() == expected.to_vizzly_dict()
    assert result.diff_image == out and not out.exists()
    assert pending_diff(out) is not None
    assert wait_for_diff(out, timeout=0.01) is False
    release.set()
    assert wait_for_diff(out, timeout=10)
    assert pending_diff(out) is None
    written = np.asarray(Image.open(out).convert("RGB"))
    np.testing.assert_array_equal(
        written, np.asarray(Image.open(tmp_path / "sync.png").convert("RGB"))
    )
    # Only the finished file is in the folder: no temporary left behind.
    assert [p.name for p in out.parent.iterdir()] == ["card.png"]


def test_a_newer_comparison_wins_over_an_older_pending_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = write_png(tmp_path / "base.png", ui_like(120, 80))
    changed = ui_like(120, 80)
    changed[20:30, 20:40] = (220, 0, 0, 255)
    cur = write_png(tmp_path / "cur.png", changed)
    release, started = threading.Event(), threading.Event()
    real_render = compare_module.render_diff

    def slow_render(*args: object, **kwargs: object):
        started.set()
        assert release.wait(10)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(compare_module, "render_diff", slow_render)
    out = tmp_path / "diffs" / "card.png"
    compare_files(base, cur, diff_path=out, background_diff=True)
    assert started.wait(10)  # the old image is being drawn: only its rename can be refused
    # The screenshot is captured again and now matches: the old diff must not appear later.
    assert not compare_files(base, base, diff_path=out, background_diff=True).is_different
    release.set()
    assert wait_for_diff(out, timeout=10)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # no temporary either


def test_the_diff_image_is_the_changes_over_a_transparent_canvas(tmp_path: Path) -> None:
    first = ui_like(90, 60)
    second = first.copy()
    second[10:14, 20:30] = (0, 160, 0, 255)
    result = compare_arrays(first, second, diff_path=tmp_path / "diff.png")
    with Image.open(tmp_path / "diff.png") as image:
        rgba = np.asarray(image.convert("RGBA"))
    changed = rgba[..., 3] == 255
    assert changed.sum() == result.diff_pixels == 40
    assert changed[10:14, 20:30].all()
    assert (rgba[changed][:, :3] == (255, 0, 0)).all()
    # Laid over the current screenshot it leaves every unchanged pixel as it was.
    assert (rgba[~changed] == (255, 255, 255, 0)).all()


def test_a_big_comparison_writes_its_diff_before_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pending write holds both decoded images: above the size limit the caller gets its
    # memory back at once, even when it asked for the diff image later.
    monkeypatch.setattr(compare_module, "BACKGROUND_MAX_PIXELS", 100)
    first = flat(20, 10)
    second = flat(20, 10, (0, 0, 0))
    out = tmp_path / "big.png"
    compare_arrays(first, second, diff_path=out, background_diff=True)
    assert pending_diff(out) is None and out.exists()


def test_a_queued_diff_image_does_not_keep_the_decoded_images_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A burst of screenshots queues up to MAX_QUEUED diff images; each must hold only what
    # it draws (the change masks), not the two decoded frames (the server's peak memory).
    baseline = ui_like(120, 80)
    current = baseline.copy()
    current[20:30, 20:40] = (220, 0, 0, 255)
    release = threading.Event()
    real_render = compare_module.render_diff

    def slow_render(*args: object, **kwargs: object):
        assert release.wait(10)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(compare_module, "render_diff", slow_render)
    out = tmp_path / "diffs" / "card.png"
    result = compare_arrays(baseline, current, diff_path=out, background_diff=True)
    assert result.is_different and pending_diff(out) is not None
    alive = (weakref.ref(baseline), weakref.ref(current))
    del baseline, current
    try:
        assert [ref() is None for ref in alive] == [True, True]
    finally:
        release.set()
    assert wait_for_diff(out, timeout=10) and out.exists()
