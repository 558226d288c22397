"""A running app on a temp project for route tests (aiohttp's test client, real store)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw

from vizzly_tui.capture import CaptureSettings, start_build
from vizzly_tui.project import Project
from vizzly_tui.server.app import ServerState, make_app
from vizzly_tui.store.store import open_store


def png(width: int = 200, height: int = 100, block: tuple[int, int, int] | None = None) -> bytes:
    """A small UI-like image; `block` paints a 40x20 rectangle of that colour."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 15), fill=(30, 30, 30))
    draw.text((5, 30), "Hello vizzly", fill=(20, 20, 20))
    if block is not None:
        draw.rectangle((120, 40, 160, 60), fill=block)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("VIZZLY_HOME", str(tmp_path / "home"))
    (tmp_path / "proj" / ".vizzly").mkdir(parents=True)
    return Project(tmp_path / "proj")


@pytest.fixture
async def server(project, aiohttp_client):
    """(client, state): the app over a real store, one `serve` build."""
    store = open_store(project)
    build = start_build(store, "serve")
    state = ServerState(store, build.id, build.uid, settings=CaptureSettings())
    client = await aiohttp_client(make_app(state))
    state.port = client.port
    yield client, state
    await client.close()
    store.close()
