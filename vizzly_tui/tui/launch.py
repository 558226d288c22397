"""Opening the review app from the command line: terminal checks and ssh-friendly settings.

Everything here runs before Textual is imported, because Rich and Textual read the colour
settings from the environment when they start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from vizzly_tui.project import Project

COLOR_CHOICES = ("auto", "16", "256", "truecolor")


def is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def apply_colors(colors: str, environ: dict[str, str] | None = None) -> None:
    """--colors: OpenSSH does not forward COLORTERM, so Textual falls back to 256 colours
    unless told; `truecolor` sets COLORTERM, 256/16 pin Textual's colour system."""
    env = os.environ if environ is None else environ
    if colors == "truecolor":
        env["COLORTERM"] = "truecolor"
    elif colors == "256":
        env["TEXTUAL_COLOR_SYSTEM"] = "256"
    elif colors == "16":
        env["TEXTUAL_COLOR_SYSTEM"] = "standard"


def not_a_terminal_text(project: Project, status_text: str) -> str:
    return (
        f"{status_text}\n\n"
        "The review app needs a terminal: run `vizzly-tui review` (or just `vizzly-tui`) "
        f"in a terminal in {project.root}, or use `vizzly-tui status`, `accept`, `reject` "
        "and `undo` from scripts."
    )


def open_app(
    project: Project,
    *,
    build_uid: str | None = None,
    filter_name: str | None = None,
    mouse: bool = True,
    colors: str = "auto",
    read_only: bool = False,
    before_run: Callable[[], None] | None = None,
    graphics: str = "halfblock",
) -> int:
    """Build the app with the one factory and run it until the user quits; its exit status."""
    apply_colors(colors)
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    if graphics != "halfblock":
        # The terminal answers graphics queries only before Textual reads stdin.
        from vizzly_tui.tui.viewer import graphics as viewer_graphics

        chosen = viewer_graphics.probe(graphics)
        viewer_graphics.activate(chosen)
        if chosen.notice:
            print(f"note: {chosen.notice}", file=sys.stderr)
    from vizzly_tui.tui.app import AppOptions, create_app, run_app

    options = AppOptions(build_uid=build_uid, filter=filter_name, read_only=read_only)
    app = create_app(project, options=options)
    if before_run is not None:
        before_run()
    return run_app(app, mouse=mouse)
