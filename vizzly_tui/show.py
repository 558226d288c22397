"""`vizzly-tui show`: one comparison as half-block text on stdout, for CI logs and scripts."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

from vizzly_tui.picture import (
    Options,
    Pair,
    View,
    centred,
    compose,
    describe_cluster,
    geometry_width,
    guide_boxes,
    load_pair,
)
from vizzly_tui.picture.ansi import ansi_lines, plain_lines
from vizzly_tui.picture.cells import half_block_rows
from vizzly_tui.picture.sample import sample_mask
from vizzly_tui.picture.view import clamp, fit_scale
from vizzly_tui.tui.viewer.subject import ViewerSubject

SHOW_MODES = ("overlay", "side-by-side", "diff", "baseline", "current")
#: Rows of text a --cluster picture may take (it is drawn at 1:1 around the cluster).
CLUSTER_ROWS = 24


class ShowError(ValueError):
    """A request `show` cannot satisfy (cluster number out of range...)."""


def terminal_colours(environ: dict[str, str] | None = None) -> str:
    """truecolor / 256 / 16 from COLORTERM and TERM (a pipe has no terminal to ask)."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "truecolor"
    term = environ.get("TERM", "")
    if "256" in term or term in ("", "dumb"):
        # No TERM (CI logs, files): 256 colours read everywhere that shows colour at all.
        return "256"
    return "16"


def use_colour(choice: str, is_tty: bool, environ: dict[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if choice == "always":
        return True
    if choice == "never":
        return False
    return is_tty and not environ.get("NO_COLOR")


@dataclass(frozen=True)
class ShowPicture:
    header: str
    lines: list[str]


def _options(mode: str, subject: ViewerSubject, cluster: int | None) -> Options:
    regions, bands = guide_boxes(subject.regions, subject.hotspots)
    if mode in ("baseline", "current"):
        return Options(mode="blink", side=mode, regions=regions, hotspots=bands)
    return Options(mode=mode, regions=regions, hotspots=bands, active_cluster=cluster)


def _view(pair: Pair, mode: str, width: int, cluster: int | None) -> View:
    cols = geometry_width("side-by-side" if mode == "side-by-side" else "overlay", width)
    if cluster is not None:
        x, y, w, h = pair.clusters[cluster]
        out_h = min(2 * CLUSTER_ROWS, max(2, pair.height + pair.height % 2))
        view = View(1.0, 0.0, 0.0, cols, out_h)
        return centred(view, x + w / 2, y + h / 2, pair.width, pair.height, 1.0)
    scale = fit_scale(pair.width, pair.height, cols, 10**9)
    out_h = max(2, math.ceil(pair.height * scale))
    out_h += out_h % 2
    return clamp(View(scale, 0.0, 0.0, cols, out_h), pair.width, pair.height)


def render_show(
    subject: ViewerSubject,
    *,
    mode: str = "overlay",
    width: int = 100,
    cluster: int | None = None,
    colour: bool = True,
    system: str = "256",
) -> ShowPicture:
    """The picture of a subject as text lines; `cluster` is 1-based like the viewer's label."""
    if mode not in SHOW_MODES:
        raise ShowError(f"unknown mode {mode!r}; choose one of {', '.join(SHOW_MODES)}")
    pair = load_pair(
        subject.baseline_path,
        subject.current_path,
        threshold=subject.threshold,
        clusters=list(subject.clusters),
    )
    index = None
    if cluster is not None:
        if not 1 <= cluster <= len(pair.clusters):
            raise ShowError(
                f"--cluster {cluster}: this comparison has {len(pair.clusters)} cluster(s)"
            )
        index = cluster - 1
    view = _view(pair, mode, max(8, width), index)
    options = _options(mode, subject, index)
    picture = compose(pair, view, options, out_w=max(8, width))
    header = [subject.name, f"[{subject.status}]", mode, f"{pair.width}x{pair.height}"]
    header.append(f"{len(pair.clusters)} cluster{'s' if len(pair.clusters) != 1 else ''}")
    if index is not None:
        header.append(describe_cluster(pair, index) + " at 1:1")
    else:
        header.append(f"scale {view.scale * 100:.0f}%")
    if pair.has_height_diff:
        header.append(f"height {pair.height1} -> {pair.height2}")
    if colour:
        lines = ansi_lines(half_block_rows(picture, system), system)
    else:
        marked = None
        if mode in ("overlay", "diff"):
            # Shades of the current image (overlay) or nothing (diff), changes as X: a faded
            # picture has no shades left to show.
            if mode == "overlay":
                picture = compose(pair, view, replace(options, mode="blink", side="current"))
            else:
                picture = np.full_like(picture, 255)
            marked = sample_mask(pair.changed, view)
            if pair.has_height_diff:
                extra = np.ones((pair.height - pair.common, pair.width), dtype=bool)
                marked |= sample_mask(extra, view, row_offset=pair.common)
        lines = plain_lines(picture, marked)
    return ShowPicture("  ".join(header), lines)


def ansi_svg(output: str, *, title: str, width: int) -> str:
    """`show`'s coloured output (its header and ANSI lines) as an SVG picture of a terminal,
    for the README: Rich reads the escape codes back and draws each cell."""
    import io

    from rich.console import Console
    from rich.text import Text

    console = Console(
        record=True, file=io.StringIO(), width=width, color_system="truecolor", legacy_windows=False
    )
    for line in output.rstrip("\n").split("\n"):
        console.print(Text.from_ansi(line), no_wrap=True, crop=True)
    return console.export_svg(title=title)
