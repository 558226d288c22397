"""A deterministic screenshot pair and a minimal app around the viewer, for viewer tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from textual.app import App

from vizzly_tui.engine import compare_files
from vizzly_tui.tui.viewer import Renderer, ViewerScreen, ViewerSubject
from vizzly_tui.tui.viewer import widget as viewer_widget


@pytest.fixture(autouse=True)
def truecolour_pictures(monkeypatch):
    """Pictures in truecolor whatever TERM the tests run under (snapshots stay the same)."""
    monkeypatch.setattr(viewer_widget, "FORCED_COLOURS", "truecolor")


def draw_page(width: int, height: int, *, changed: bool, extra_rows: int = 0) -> Image.Image:
    """A page-like picture: a header bar, lines of 'text', a button and a card."""
    image = Image.new("RGB", (width, height + extra_rows), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    sx, sy = width / 320, height / 180
    draw.rectangle([0, 0, width, int(24 * sy)], fill=(33, 52, 90))
    draw.rectangle([int(10 * sx), int(8 * sy), int(60 * sx), int(16 * sy)], fill=(240, 240, 240))
    for i in range(6):
        y = int((40 + 12 * i) * sy)
        length = int((180 - 17 * i) * sx)
        draw.rectangle(
            [int(12 * sx), y, int(12 * sx) + length, y + max(1, int(3 * sy))], fill=(60, 60, 60)
        )
    button = (46, 160, 67) if not changed else (215, 58, 73)
    draw.rounded_rectangle(
        [int(220 * sx), int(40 * sy), int(300 * sx), int(62 * sy)], radius=4, fill=button
    )
    draw.rectangle(
        [int(220 * sx), int(80 * sy), int(300 * sx), int(160 * sy)], outline=(120, 120, 120)
    )
    if changed:
        # A word changed in the third line, and a one-pixel dot in the card.
        y = int(64 * sy)
        draw.rectangle(
            [int(40 * sx), y, int(70 * sx), y + max(1, int(3 * sy))], fill=(250, 250, 250)
        )
        draw.point((int(260 * sx), int(120 * sy)), fill=(0, 0, 0))
        draw.point((int(261 * sx), int(120 * sy)), fill=(0, 0, 0))
    if extra_rows:
        draw.rectangle([0, height, width, height + extra_rows], fill=(200, 220, 255))
    return image


def make_subject(
    folder: Path, width: int = 320, height: int = 180, *, extra_rows: int = 0, name: str = "page"
) -> ViewerSubject:
    folder.mkdir(parents=True, exist_ok=True)
    baseline = folder / f"{name}-baseline.png"
    current = folder / f"{name}-current.png"
    diff = folder / f"{name}-diff.png"
    draw_page(width, height, changed=False).save(baseline)
    draw_page(width, height, changed=True, extra_rows=extra_rows).save(current)
    result = compare_files(baseline, current, diff_path=diff)
    return ViewerSubject(
        comparison_id=f"{name}-id",
        name=name,
        status="failed",
        baseline_path=baseline,
        current_path=current,
        diff_path=diff,
        clusters=tuple(c.to_vizzly_dict() for c in result.diff_clusters),
        regions=({"x": 210, "y": 30, "width": 100, "height": 40, "label": "button"},),
        hotspots=({"y1": 60, "y2": 70},),
        height_diff=extra_rows or None,
        threshold=2.0,
    )


class ViewerApp(App[None]):
    """Just the viewer screen, as the review app pushes it."""

    def __init__(self, subject: ViewerSubject, *, mode: str = "overlay") -> None:
        super().__init__()
        self.subject = subject
        self.mode = mode
        self.renderer = Renderer()

    def on_mount(self) -> None:
        self.push_screen(ViewerScreen(self.subject, mode=self.mode))
