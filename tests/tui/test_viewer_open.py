"""Opening a comparison: the first picture needs one decoded image, and decoding starts
as the viewer screen is created."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vizzly_tui.picture import Options
from vizzly_tui.tui.viewer import render as render_module
from vizzly_tui.tui.viewer.render import Renderer, Request

from .viewerkit import make_subject, truecolour_pictures  # noqa: F401


@pytest.fixture
def events(monkeypatch) -> list[str]:
    """Every decode as 'decode <side>' (by file name), in order."""
    seen: list[str] = []
    real = render_module.decode_file

    def decode_file(path: Path | None):  # type: ignore[no-untyped-def]
        if path is not None and path.is_file():
            seen.append(f"decode {'baseline' if 'baseline' in path.name else 'current'}")
        return real(path)

    monkeypatch.setattr(render_module, "decode_file", decode_file)
    return seen


def hold(monkeypatch, side: str) -> tuple[threading.Event, list[bool]]:
    """Hold `side`'s decode until the event is set: a renderer that waited for that image
    before its first picture would time out (and record False)."""
    drawn = threading.Event()
    waited: list[bool] = []
    counted = render_module.decode_file

    def decode_file(path: Path | None):  # type: ignore[no-untyped-def]
        if path is not None and side in path.name:
            waited.append(drawn.wait(timeout=10))
        return counted(path)

    monkeypatch.setattr(render_module, "decode_file", decode_file)
    return drawn, waited


def test_overlay_is_first_drawn_from_the_current_image_alone(tmp_path, events, monkeypatch) -> None:
    subject = make_subject(tmp_path)
    renderer = Renderer()
    request = Request(subject, Options(mode="overlay"), None, 100, 54, "truecolor")
    drawn, waited = hold(monkeypatch, "baseline")

    def first_look(view, strips) -> None:  # type: ignore[no-untyped-def]
        events.append("first picture")
        drawn.set()

    renderer.render(request, first_look=first_look)
    assert waited == [True]
    assert events == ["decode current", "first picture", "decode baseline"]
    # The final picture's pair has both images and the changes.
    pair = renderer.loaded(subject)
    assert pair is not None and pair.baseline is not None and pair.changed.any()


def test_modes_showing_both_images_wait_for_both(tmp_path, events) -> None:
    subject = make_subject(tmp_path)
    renderer = Renderer()
    request = Request(subject, Options(mode="side-by-side"), None, 100, 54, "truecolor")
    renderer.render(request, first_look=lambda view, strips: events.append("first picture"))
    assert events == ["decode current", "decode baseline", "first picture"]


def test_blink_decodes_the_side_it_shows_first(tmp_path, events, monkeypatch) -> None:
    subject = make_subject(tmp_path)
    renderer = Renderer()
    options = Options(mode="blink", side="baseline")
    request = Request(subject, options, None, 100, 54, "truecolor")
    drawn, waited = hold(monkeypatch, "current")

    def first_look(view, strips) -> None:  # type: ignore[no-untyped-def]
        events.append("first picture")
        drawn.set()

    renderer.render(request, first_look=first_look)
    assert waited == [True]
    assert events == ["decode baseline", "first picture", "decode current"]


def test_the_first_picture_of_a_taller_pair_uses_the_whole_canvas(tmp_path) -> None:
    subject = make_subject(tmp_path, extra_rows=40)
    renderer = Renderer()
    request = Request(subject, Options(mode="overlay"), None, 100, 54, "truecolor")
    looks = []
    view, _ = renderer.render(request, first_look=lambda v, s: looks.append(v))
    assert looks == [view]  # fitted to 320x220, not to the current image alone


def test_a_prefetched_image_is_decoded_once(tmp_path, events) -> None:
    subject = make_subject(tmp_path)
    renderer = Renderer()
    renderer.prefetch(subject, "overlay")
    renderer.prefetch(subject, "overlay")  # asking twice starts one decode
    request = Request(subject, Options(mode="overlay"), None, 100, 54, "truecolor")
    renderer.render(request)
    assert sorted(events) == ["decode baseline", "decode current"]
    renderer.prefetch(subject, "overlay")  # already decoded: nothing more
    assert len(events) == 2


def test_a_new_screenshot_without_baseline_opens(tmp_path, events) -> None:
    subject = make_subject(tmp_path)
    subject.baseline_path.unlink()
    renderer = Renderer()
    renderer.prefetch(subject, "side-by-side")
    request = Request(subject, Options(mode="side-by-side"), None, 100, 54, "truecolor")
    _, strips = renderer.render(request)
    assert events == ["decode current"]
    assert len(strips) == 27
