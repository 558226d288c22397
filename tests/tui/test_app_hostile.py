"""The review app against hostile data: property values and search text that look like
terminal escape sequences or Textual markup are shown as text, never obeyed."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from vizzly_tui import capture
from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store
from vizzly_tui.tui.screens import ConfirmScreen

from .apphelpers import loaded, make_app, screen_text, settle

# An SDK passes any property value through: these would recolour, retitle the terminal,
# set the clipboard (OSC 52) or, read as markup, end a style that was never opened.
HOSTILE_BROWSERS = ("[/]", "red\x1b[31m", "clip\x1b]52;c;cHduZWQ=\x07", "[b]bold")


def _png(mark: bool) -> bytes:
    image = Image.new("RGB", (64, 36), (240, 240, 240))
    if mark:
        image.paste((220, 40, 40), (4, 4, 20, 16))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def hostile_project(root: Path) -> Path:
    (root / ".vizzly").mkdir(parents=True)
    project = Project(root)
    project.ensure_dirs()
    with open_store(project) as store:
        for run in range(2):
            build = capture.start_build(store, "run")
            for browser in HOSTILE_BROWSERS:
                capture.capture(store, build.id, "page", _png(run == 1), {"browser": browser})
            capture.finish_build(store, build.id)
    return root


def _no_controls(text: str) -> None:
    controls = sorted(
        {hex(ord(c)) for c in text if (ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160}
    )
    assert not controls, f"control characters reached the screen: {controls}"


async def test_escape_sequences_in_properties_never_reach_the_screen(tmp_path):
    project = hostile_project(tmp_path / "p")
    app = make_app(project)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "red" in text and "clip" in text  # the rows are there, shown as text
        _no_controls(text)
        await pilot.press("4")  # the baselines pane, then every baseline of the project
        await pilot.press("B")
        await settle(pilot, lambda: "all" in str(app.query_one("#baselines-pane").border_title))
        _no_controls(screen_text(app))
        await pilot.press("2", "x")  # the delete confirmation names the variant
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        _no_controls(screen_text(app))


async def test_markup_in_properties_and_search_is_shown_as_typed(tmp_path):
    project = hostile_project(tmp_path / "p")
    app = make_app(project)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await loaded(pilot)
        # The browser filter is named in the notices and a toast, as it is spelt.
        await pilot.press("b")
        await settle(pilot, lambda: "browser [/]" in screen_text(app))
        await pilot.press("a")  # the result toast names the variant "[/]"
        await settle(pilot, lambda: "Accepted" in screen_text(app))
        await pilot.press("b")
        await settle(pilot, lambda: "browser [b]bold" in screen_text(app))
        await pilot.press("b", "b", "b", "slash", *"[/")  # search text is markup-free too
        await settle(pilot, lambda: "search “[/”" in screen_text(app))
        await pilot.press("escape")
        await settle(pilot, lambda: "search “[/”" in screen_text(app))
        assert app.return_code is None  # still running
