"""The engine's answers seen through the server: lying PNG headers, and diff images written
after the SDK's answer."""

from __future__ import annotations

import io
import struct
import time
import zlib

from PIL import Image

from tests.server.conftest import b64, png

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + payload))
    return struct.pack(">I", len(payload)) + kind + payload + crc


def claims_50_megapixels(rows: int) -> bytes:
    """A 1 x 50,000,000 RGBA header with `rows` rows of image data: 68 bytes for 1 row."""
    header = struct.pack(">IIBBBBB", 1, 50_000_000, 8, 6, 0, 0, 0)
    data = zlib.compress(b"\x00" * 5 * rows)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


async def test_a_png_claiming_far_more_pixels_than_it_holds_is_refused(server):
    client, state = server
    lying = claims_50_megapixels(1)
    assert len(lying) == 68
    started = time.perf_counter()
    response = await client.post("/screenshot", json={"name": "tall", "image": b64(lying)})
    elapsed = time.perf_counter() - started
    assert response.status == 400
    error = (await response.json())["error"]
    assert "truncated" in error and "1x50000000" in error
    assert elapsed < 2.0  # refused from its chunk headers, not after decoding 200 MB
    project = state.store.project
    assert list(project.baselines_dir.glob("*")) == []
    assert list(project.current_dir.glob("tall_*")) == []
    # Against an existing baseline of that name, a slightly longer liar is refused too.
    first = await client.post("/screenshot", json={"name": "tall", "image": b64(png())})
    assert first.status == 200
    again = await client.post(
        "/screenshot", json={"name": "tall", "image": b64(claims_50_megapixels(2))}
    )
    assert again.status == 400
    (baseline,) = project.baselines_dir.glob("tall_*")
    assert baseline.read_bytes() == png()


async def test_the_diff_image_is_served_as_soon_as_the_answer_names_it(server):
    client, _ = server
    body = {"name": "card", "image": b64(png())}
    assert (await (await client.post("/screenshot", json=body)).json())["status"] == "new"
    changed = {"name": "card", "image": b64(png(block=(200, 30, 30)))}
    answer = await (await client.post("/screenshot", json=changed)).json()
    assert answer["status"] == "diff"
    detail = await (await client.get("/api/comparison/card")).json()
    diff_url = detail["diff"]
    assert diff_url.startswith("/images/diffs/")
    # Asked at once: the route waits for a write still in progress instead of a 404.
    response = await client.get(diff_url)
    assert response.status == 200
    with Image.open(io.BytesIO(await response.read())) as diff:
        diff.load()  # a complete PNG, not a half-written one
        assert diff.size == (200, 100)
        assert diff.convert("RGB").getpixel((140, 50)) == (255, 0, 0)  # the block is marked
