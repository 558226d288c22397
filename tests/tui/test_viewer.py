"""The viewer screen driven by keys: modes, cache hits, clusters, inspector, guides, open."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vizzly_tui.tui.viewer import ImageView, ViewerSubject
from vizzly_tui.tui.viewer import render as render_module

from .viewerkit import ViewerApp, make_subject, truecolour_pictures  # noqa: F401


@pytest.fixture
def subject(tmp_path: Path) -> ViewerSubject:
    return make_subject(tmp_path)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def title(app) -> str:
    return str(app.screen.query_one("#viewer-title").render())


def status(app) -> str:
    return str(app.screen.query_one("#viewer-status").render())


def shown(app) -> list[str]:
    """The text and styles the widget draws, row by row."""
    image = app.screen.query_one(ImageView)
    return [repr(list(image.render_line(y))) for y in range(image.size.height)]


async def press(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def test_number_keys_switch_modes_and_the_title_names_them(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "overlay" in title(app) and "fit 30%" in title(app)
        pictures = {"overlay": shown(app)}
        for key, label in [
            ("1", "side-by-side"),
            ("3", "onion skin 50% current"),
            ("4", "slider split 50%"),
            ("5", "blink: CURRENT"),
            ("6", "diff only"),
        ]:
            await press(pilot, key)
            assert label in title(app)
            pictures[label] = shown(app)
        # Every mode draws a different picture.
        assert len({tuple(p) for p in pictures.values()}) == len(pictures)


async def test_blink_flip_and_going_back_compute_nothing(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        image = app.screen.query_one(ImageView)
        await press(pilot, "5")
        current = shown(app)
        composites = image.renderer.composites
        await press(pilot, "space")
        assert "blink: BASELINE" in title(app)
        baseline = shown(app)
        assert baseline != current
        await press(pilot, "space", "space")
        assert "blink: BASELINE" in title(app)
        assert shown(app) == baseline
        await press(pilot, "2", "5")
        # The baseline was drawn ahead by the worker that drew the current; nothing since.
        assert image.renderer.composites == composites
        assert image.from_cache >= 5


async def test_pictures_are_composed_off_the_ui_thread(subject, monkeypatch) -> None:
    threads: list[threading.Thread] = []
    real = render_module.compose

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(render_module, "compose", spy)
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "1", "3", "n", "5")
    assert len(threads) >= 4
    assert all(thread is not threading.main_thread() for thread in threads)


async def test_n_and_shift_n_visit_every_cluster_in_order(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "3 clusters (n: next)" in status(app)
        seen = []
        for _ in range(4):
            await press(pilot, "n")
            seen.append(status(app).split("   ")[0].strip())
            assert "100%" in title(app)
        assert seen == [
            "cluster 1/3  box 220,40 81x23",
            "cluster 2/3  box 40,64 31x4",
            "cluster 3/3  box 260,120 2x1",
            "cluster 1/3  box 220,40 81x23",
        ]
        await press(pilot, "N")
        assert "cluster 3/3" in status(app)
        image = app.screen.query_one(ImageView)
        view = image.view
        # Centred on the 2x1 dot at 1:1 in a 100x54-pixel window (corner on a whole pixel).
        assert (view.x0, view.y0, view.scale) == (261 - 50, round(120.5 - 27), 1.0)


async def test_zoom_pan_and_fit(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        image = app.screen.query_one(ImageView)
        await press(pilot, "z")
        assert image.view.scale == 1.0 and "100%" in title(app)
        x0 = image.view.x0
        await press(pilot, "l")
        assert image.view.x0 == x0 + 25
        await press(pilot, "left", "left")
        assert image.view.x0 == x0 - 25
        await press(pilot, "equals_sign")
        assert image.view.scale == 2.0 and "200%" in title(app)
        await press(pilot, "minus", "minus")
        assert image.view.scale == 2 / 3
        await press(pilot, "0")
        assert "fit 30%" in title(app)


async def test_mix_and_split_steps(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "3", "right_square_bracket", "right_square_bracket")
        assert "onion skin 70% current" in title(app)
        await press(pilot, "4", "left_square_bracket")
        assert "slider split 45%" in title(app)


async def test_inspector_shows_both_colours_and_delta_e(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "N")  # the last cluster: a 2x1 black dot at (260, 120)
        await press(pilot, "i")
        assert "pixel 261,120  baseline #fafafa  current #000000  ΔE2000 " in status(app)
        delta = float(status(app).split("ΔE2000 ")[1].split()[0])
        assert delta > 90
        await press(pilot, "right")
        assert "pixel 262,120  baseline #fafafa  current #fafafa  ΔE2000 0.00" in status(app)
        # The cursor is drawn: the picture differs from the one without the inspector.
        with_cursor = shown(app)
        await press(pilot, "i")
        assert "pixel" not in status(app)
        assert shown(app) != with_cursor


async def test_guides_draw_regions_and_bands(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        before = shown(app)
        await press(pilot, "g")
        assert "regions 1 · bands 1" in status(app)
        assert shown(app) != before
        await press(pilot, "g")
        assert shown(app) == before


async def test_o_prints_the_three_paths(subject, monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = ViewerApp(subject)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "o")
        text = status(app)
        assert f"baseline: {subject.baseline_path}" in text
        assert f"current: {subject.current_path}" in text
        assert f"diff: {subject.diff_path}" in text
        assert "opened with" not in text


async def test_a_broken_image_shows_an_error_and_the_viewer_keeps_working(tmp_path) -> None:
    subject = make_subject(tmp_path)
    subject.current_path.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        image = app.screen.query_one(ImageView)
        assert "cannot show this comparison" in "".join(s.text for s in image.render_line(0))
        await press(pilot, "2", "n", "z", "0")
        assert app.is_running


async def test_escape_closes_the_viewer(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "escape")
        assert not app.screen.query(ImageView)


def test_a_first_look_is_drawn_before_the_masks_then_the_full_picture(subject) -> None:
    from vizzly_tui.picture import Options
    from vizzly_tui.tui.viewer.render import Renderer, Request

    renderer = Renderer()
    request = Request(subject, Options(mode="diff"), None, 100, 54, "truecolor")
    looks = []
    view, strips = renderer.render(request, first_look=lambda v, s: looks.append((v, s)))
    assert len(looks) == 1
    early_view, early = looks[0]
    assert early_view == view
    # Diff only: nothing is marked before the masks exist; the full picture marks the changes.
    assert len({seg.style for strip in early for seg in strip}) < len(
        {seg.style for strip in strips for seg in strip}
    )
    renderer.render(request, first_look=lambda v, s: looks.append((v, s)))
    assert len(looks) == 1  # the pair is decoded once; no second first look


def test_decoded_pairs_stay_within_a_memory_budget(tmp_path, monkeypatch) -> None:
    from vizzly_tui.tui.viewer import render as render_module
    from vizzly_tui.tui.viewer.render import Renderer

    first, second = make_subject(tmp_path / "a", name="a"), make_subject(tmp_path / "b", name="b")
    renderer = Renderer(pairs=4)
    renderer.pair(first)
    renderer.pair(second)
    assert renderer.loaded(first) is not None and renderer.loaded(second) is not None
    # A budget below two pairs keeps only the newest.
    monkeypatch.setattr(render_module, "PAIR_BUDGET", 320 * 180 * 4 * 2 + 1000)
    third = make_subject(tmp_path / "c", name="c")
    renderer.pair(third)
    assert renderer.loaded(third) is not None
    assert renderer.loaded(first) is None and renderer.loaded(second) is None


async def test_preview_switches_subjects_without_showing_the_old_picture(tmp_path) -> None:
    from textual.app import App

    from vizzly_tui.tui.viewer import ImagePreview

    first = make_subject(tmp_path / "a", name="a")
    second = make_subject(tmp_path / "b", name="b", extra_rows=20)

    class PreviewApp(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield ImagePreview(id="preview")

    app = PreviewApp()
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.query_one(ImagePreview)
        assert not preview.busy  # nothing to show
        preview.subject = first
        assert preview.busy
        await settle(pilot)
        assert not preview.busy and "overlay" in preview.mode_text()
        picture_a = [repr(list(preview.render_line(y))) for y in range(preview.size.height)]
        preview.subject = second
        assert preview.busy
        assert all("▀" not in "".join(s.text for s in preview.render_line(y)) for y in range(20))
        await settle(pilot)
        picture_b = [repr(list(preview.render_line(y))) for y in range(preview.size.height)]
        assert picture_b != picture_a
        preview.subject = None
        await settle(pilot)
        assert not preview.busy


async def test_preview_given_its_subject_as_it_is_mounted_draws_it(tmp_path) -> None:
    """The app mounts the preview and sets its subject in one go (before any layout)."""
    from textual.app import App
    from textual.containers import Vertical

    from vizzly_tui.tui.viewer import ImagePreview

    subject = make_subject(tmp_path)

    class LateApp(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield Vertical(id="pane")

        def add_preview(self) -> ImagePreview:
            preview = ImagePreview(id="preview")
            self.query_one("#pane").mount(preview)
            preview.subject = subject
            return preview

    app = LateApp()
    async with app.run_test(size=(60, 20)) as pilot:
        preview = app.add_preview()
        await settle(pilot)
        await settle(pilot)
        assert not preview.busy
        assert any("▀" in "".join(s.text for s in preview.render_line(y)) for y in range(20))


async def test_a_truncated_image_says_so_on_the_screen(tmp_path) -> None:
    # The widget knew the error, but nothing was repainted: the user saw an empty viewer.
    subject = make_subject(tmp_path)
    data = subject.current_path.read_bytes()
    subject.current_path.write_bytes(data[: len(data) // 2])
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        update = app.screen._compositor.render_update(full=True)
        text = "\n".join("".join(s.text for strip in line for s in strip) for line in update.strips)
        assert "cannot show this comparison" in text
        assert "truncated" in text


def cursor_columns(app) -> list[tuple[int, int]]:
    """(row, column) of every cell drawn in the inspector cursor's magenta."""
    image = app.screen.query_one(ImageView)
    found = []
    for y in range(image.size.height):
        column = 0
        for segment in image.render_line(y):
            colour = segment.style.color if segment.style else None
            if colour is not None and colour.triplet == (255, 0, 255):
                found.extend((y, column + i) for i in range(len(segment.text)))
            column += len(segment.text)
    return found


async def test_side_by_side_inspector_points_at_the_same_pixel_in_both_panes(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "1", "N", "i")
        image = app.screen.query_one(ImageView)
        view = image.view
        assert view is not None and view.scale == 1.0
        x, y = image.cursor
        marks = cursor_columns(app)
        # One cell in the baseline pane and one in the current pane, same row, each at the
        # cursor's image column within its pane (the current pane is right-aligned).
        left = int(x - view.x0)
        right = image.size.width - view.out_w + left
        assert marks == [(int(y - view.y0) // 2, left), (int(y - view.y0) // 2, right)]
        await press(pilot, "right")
        assert [c for _, c in cursor_columns(app)] == [left + 1, right + 1]
        await press(pilot, "2")
        assert len(cursor_columns(app)) == 1  # one picture, one cursor


async def test_n_finds_the_next_cluster_already_drawn(subject) -> None:
    app = ViewerApp(subject)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        image = app.screen.query_one(ImageView)
        for expected in ("cluster 1/3", "cluster 2/3", "cluster 3/3", "cluster 1/3"):
            hits = image.from_cache
            await press(pilot, "n")
            assert expected in status(app)
            # The jump was a cache lookup: its picture was drawn ahead by the last worker.
            assert image.from_cache == hits + 1
        await press(pilot, "2", "1")  # another mode: the next cluster is drawn ahead there too
        hits = image.from_cache
        await press(pilot, "n")
        assert "cluster 2/3" in status(app) and "side-by-side" in title(app)
        assert image.from_cache == hits + 1


@pytest.mark.parametrize("system", ["16", "256"])
def test_quantised_pictures_reach_the_console_as_the_chosen_entries(system: str) -> None:
    """Rich maps each RGB style colour back to a palette entry on a 16/256-colour console:
    the entry must be the one the picture's quantisation chose (light grey text on white
    became white on white in 16 colours when the xterm RGB was sent)."""
    import numpy as np
    from rich.color import ColorSystem

    from vizzly_tui.picture.cells import cell_pixels, half_block_rows
    from vizzly_tui.tui.viewer.render import picture_strips

    picture = np.array(
        [
            [[229, 229, 229], [255, 255, 255], [127, 127, 127], [205, 0, 0], [0, 0, 0]],
            [[255, 255, 255], [255, 255, 255], [40, 40, 40], [250, 250, 250], [0, 90, 200]],
        ],
        dtype=np.uint8,
    )
    console = ColorSystem.STANDARD if system == "16" else ColorSystem.EIGHT_BIT
    wanted = cell_pixels(half_block_rows(picture, system), system)[0]
    sent = []
    for segment in picture_strips(picture, system)[0]:
        style = segment.style
        for char in segment.text:
            bg = style.bgcolor.downgrade(console).number
            fg = style.color.downgrade(console).number if char != " " else bg
            sent.append((fg, bg))
    assert sent == wanted
    assert wanted[0][0] != wanted[0][1]  # the light grey stays apart from the white


@pytest.mark.parametrize("system", ["16", "256"])
def test_every_palette_entry_survives_richs_mapping(system: str) -> None:
    from rich.color import Color, ColorSystem, ColorTriplet

    from vizzly_tui.tui.viewer.render import console_rgb

    console = ColorSystem.STANDARD if system == "16" else ColorSystem.EIGHT_BIT
    entries = range(16) if system == "16" else range(16, 256)
    for index in entries:
        triplet = ColorTriplet(*console_rgb(index, system))
        assert Color.from_triplet(triplet).downgrade(console).number == index
