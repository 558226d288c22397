"""Fixtures for the cloud tests: the API stand-in and a project with local baselines."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from tests.cloud.standin import TOKEN, CloudBuild, CloudStandIn, Shot
from tests.storehelpers import make_project
from vizzly_tui.capture import CaptureSettings, capture, start_build
from vizzly_tui.store.store import open_store


def png(block: tuple[int, int, int] | None = None, text: str = "Hello") -> bytes:
    image = Image.new("RGB", (320, 200), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 320, 20), fill=(30, 30, 30))
    draw.text((8, 40), text, fill=(20, 20, 20))
    if block is not None:
        draw.rectangle((200, 100, 260, 140), fill=block)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


LOCAL = png(text="local")
CLOUD_HOME = png((200, 30, 30), text="cloud home")
CLOUD_CART = png((30, 30, 200), text="cloud cart")


@pytest.fixture
def cloud(monkeypatch):
    standin = CloudStandIn().start()
    monkeypatch.setenv("VIZZLY_API_URL", standin.url)
    monkeypatch.setenv("VIZZLY_TOKEN", TOKEN)
    standin.add_build(CloudBuild("build-1", [Shot("home", CLOUD_HOME), Shot("cart", CLOUD_CART)]))
    yield standin
    standin.stop()


@pytest.fixture
def project(tmp_path):
    """A project whose local baselines are `home` and `old-page` (chrome, 1280)."""
    project = make_project(tmp_path / "proj")
    with open_store(project) as store:
        build = start_build(store, "serve")
        props = {"browser": "chrome", "viewport": {"width": 1280, "height": 200}}
        capture(store, build.id, "home", LOCAL, props, CaptureSettings())
        capture(store, build.id, "old-page", LOCAL, props, CaptureSettings())
    return project


__all__ = ["CLOUD_CART", "CLOUD_HOME", "LOCAL", "TOKEN", "CloudBuild", "Shot", "png"]
