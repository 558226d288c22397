"""`vizzly-tui show`: a comparison of the current build printed as half-blocks."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from vizzly_tui.capture import capture, finish_build, start_build
from vizzly_tui.cli import main
from vizzly_tui.project import Project
from vizzly_tui.show import terminal_colours, use_colour
from vizzly_tui.store.store import open_store

from .viewerkit import draw_page

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _png(changed: bool, extra_rows: int = 0) -> bytes:
    buffer = io.BytesIO()
    draw_page(320, 180, changed=changed, extra_rows=extra_rows).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".vizzly").mkdir()
    with open_store(Project(tmp_path)) as store:
        for changed in (False, True):
            build = start_build(store, "run")
            capture(store, build.id, "page", _png(changed), {"browser": "chrome"})
            finish_build(store, build.id)
    return tmp_path


def run(project: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["--project", str(project), "show", *args], env=env or {})


def test_show_prints_the_overlay_without_colour_when_piped(project: Path) -> None:
    result = run(project, "page", "--width", "80")
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header == "page  [failed]  overlay  320x180  3 clusters  scale 25%"
    assert not ANSI.search(result.output)
    assert len(lines) == 23  # 180 px * 0.25 = 45 px -> 46 -> 23 rows of half-blocks
    assert any("X" in line for line in lines)  # the changed button and word
    assert any("█" in line or "▓" in line for line in lines)  # the dark header bar


def test_show_with_colour_writes_half_blocks_and_each_run_once(project: Path) -> None:
    env = {"COLORTERM": "truecolor", "NO_COLOR": ""}
    result = run(project, "page", "--width", "80", "--color", "always", env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:]
    assert all(line.endswith("\x1b[0m") for line in lines)
    assert "▀" in result.output
    assert "48;2;255;32;65" in result.output or "38;2;255;32;65" in result.output  # change tint
    # Run merging: far fewer colour changes than cells.
    assert len(ANSI.findall(result.output)) < 80 * len(lines) / 3
    plain = [ANSI.sub("", line) for line in lines]
    assert {len(line) for line in plain} == {80}


def test_show_256_colours_use_palette_codes(project: Path) -> None:
    env = {"TERM": "xterm-256color", "COLORTERM": ""}
    result = run(project, "page", "--width", "60", "--color", "always", "--mode", "diff", env=env)
    assert result.exit_code == 0
    assert "38;2;" not in result.output and "48;2;" not in result.output
    assert "48;5;197" in result.output or "38;5;197" in result.output  # the change tint


def test_show_cluster_draws_it_at_one_to_one(project: Path) -> None:
    result = run(project, "page", "--cluster", "3", "--width", "40")
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert "cluster 3/3  box 260,120 2x1 at 1:1" in header
    assert len(lines) == 24
    assert sum(line.count("X") for line in lines) == 2  # the 2x1 dot, one cell per pixel
    bad = run(project, "page", "--cluster", "9")
    assert bad.exit_code == 2
    assert "has 3 cluster(s)" in bad.output


@pytest.mark.parametrize("mode", ["side-by-side", "baseline", "current", "diff"])
def test_show_modes(project: Path, mode: str) -> None:
    result = run(project, "page", "--mode", mode, "--width", "81")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith(f"page  [failed]  {mode}  320x180")


def test_show_unknown_id_exits_2(project: Path) -> None:
    result = run(project, "no-such-thing")
    assert result.exit_code == 2
    assert "no comparison 'no-such-thing'" in result.output


def test_colour_choice_follows_no_color_and_the_terminal() -> None:
    assert use_colour("auto", True, {}) is True
    assert use_colour("auto", True, {"NO_COLOR": "1"}) is False
    assert use_colour("auto", False, {}) is False
    assert use_colour("always", False, {"NO_COLOR": "1"}) is True
    assert use_colour("never", True, {}) is False
    assert terminal_colours({"COLORTERM": "truecolor", "TERM": "xterm"}) == "truecolor"
    assert terminal_colours({"TERM": "xterm-256color"}) == "256"
    assert terminal_colours({"TERM": "screen"}) == "16"


def test_show_refuses_a_width_no_terminal_has(project: Path) -> None:
    # 100,000 columns drew a 100,000-pixel-wide canvas: the process was killed for memory.
    result = run(project, "page", "--width", "100000")
    assert result.exit_code == 2
    assert "1000" in result.output
    assert run(project, "page", "--width", "1000").exit_code == 0


def test_show_of_a_damaged_image_is_a_clear_error(project: Path) -> None:
    current = next((project / ".vizzly" / "current").glob("page*.png"))
    current.write_bytes(current.read_bytes()[:200])
    result = run(project, "page", "--width", "40")
    assert result.exit_code == 2, result.output
    assert "truncated" in result.output and "internal error" not in result.output


def test_the_readme_picture_draws_shows_cells_in_their_colours(project: Path) -> None:
    """ansi_svg (the screenshots script's `show` picture) keeps the text and the colours."""
    from vizzly_tui.show import ansi_svg

    env = {"COLORTERM": "truecolor", "NO_COLOR": ""}
    result = run(project, "page", "--width", "80", "--color", "always", env=env)
    svg = ansi_svg(result.output, title="$ vizzly-tui show page", width=80)
    text = html.unescape(svg).replace("\xa0", " ")
    assert svg.startswith("<svg") and "$ vizzly-tui show page" in text
    assert "page  [failed]  overlay  320x180" in text  # the header line
    assert "#ff2041" in svg  # the change tint (255, 32, 65) as a cell colour
    assert "\x1b" not in svg and "[0m" not in text  # every escape code read, none printed
