"""Fixtures for the cloud tests: the API stand-in and a project with local baselines."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from tests.cloud.standin import TOKEN, CloudBuild, CloudStandIn, Shot


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


__all__ = ["CLOUD_CART", "CLOUD_HOME", "LOCAL", "TOKEN", "CloudBuild", "Shot", "png"]
