"""--graphics: the probe's fallbacks, and the pixel path handing Pillow images to a widget."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widget import Widget

from vizzly_tui.tui.viewer import ImageView
from vizzly_tui.tui.viewer import graphics as viewer_graphics
from vizzly_tui.tui.viewer.graphics import Graphics, probe

from .viewerkit import ViewerApp, make_subject, truecolour_pictures  # noqa: F401


def test_halfblock_needs_no_probe() -> None:
    assert probe("halfblock") == Graphics("halfblock")


def test_no_terminal_falls_back_to_half_blocks_with_a_notice() -> None:
    chosen = probe("kitty", is_terminal=False)
    assert chosen.mode == "halfblock"
    assert chosen.notice == "--graphics kitty: not a terminal; using half-blocks"


def test_missing_textual_image_falls_back_with_a_notice(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "textual_image", None)
    monkeypatch.setitem(sys.modules, "textual_image.renderable", None)
    chosen = probe("sixel", is_terminal=True)
    assert chosen.mode == "halfblock"
    assert "textual-image is not available" in chosen.notice
    assert "vizzly-tui[graphics]" in chosen.notice


def test_unknown_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown graphics mode"):
        probe("iterm")


class FakePixels(Widget):
    """Stands in for textual-image's widget: records the pictures it is given."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.images: list = []

    @property
    def image(self):  # type: ignore[no-untyped-def]
        return self.images[-1] if self.images else None

    @image.setter
    def image(self, value) -> None:  # type: ignore[no-untyped-def]
        self.images.append(value)


async def test_pixel_graphics_get_pictures_at_pixel_resolution(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(viewer_graphics, "ACTIVE", Graphics("kitty", (10, 20)))
    monkeypatch.setattr(viewer_graphics, "pixel_widget", lambda mode, id=None: FakePixels(id=id))
    app = ViewerApp(make_subject(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        image = app.screen.query_one(ImageView)
        pixels = app.screen.query_one(FakePixels)
        first = pixels.image
        assert first is not None
        # One picture pixel per screen pixel: 100 x 27 cells of 10 x 20 pixels.
        assert first.size == (image.size.width * 10, image.size.height * 20) == (1000, 540)
        assert "fit" in str(app.screen.query_one("#viewer-title").render())
        await pilot.press("5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        composites = image.renderer.composites
        await pilot.press("space")
        await pilot.pause()
        assert pixels.image is not pixels.images[-2]
        assert image.renderer.composites == composites  # the flip came from the cache


async def test_a_fallback_notice_shows_in_the_viewer(tmp_path: Path, monkeypatch) -> None:
    notice = "--graphics kitty: not a terminal; using half-blocks"
    monkeypatch.setattr(viewer_graphics, "ACTIVE", Graphics("halfblock", notice=notice))
    app = ViewerApp(make_subject(tmp_path))
    async with app.run_test(size=(120, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert notice in str(app.screen.query_one("#viewer-status").render())
