"""The review app (`review`, also the group with no command) and the built-in `demo`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vizzly_tui import formatting
from vizzly_tui.cli import output
from vizzly_tui.cli.common import echo_line, emit, project_of
from vizzly_tui.project import find_project


@click.command("review")
@click.option(
    "--build", "build_uid", metavar="UID", help="Open this build (older builds are read-only)."
)
@click.option(
    "--filter",
    "filter_name",
    type=click.Choice(["needs-review", "failed", "new", "rejected", "all"]),
    help="Status filter to start with (default: config file, else needs-review).",
)
@click.option("--no-mouse", is_flag=True, help="Do not capture the mouse (less traffic over ssh).")
@click.option(
    "--colors",
    type=click.Choice(["auto", "16", "256", "truecolor"]),
    default="auto",
    show_default=True,
    help="Colour mode; truecolor over ssh, where COLORTERM is not forwarded.",
)
@click.option("--read-only", is_flag=True, help="Look only: every decision is refused.")
@click.option(
    "--graphics",
    type=click.Choice(["auto", "kitty", "sixel", "halfblock"]),
    default="halfblock",
    show_default=True,
    help="Viewer pictures: half-blocks work everywhere; kitty/sixel need vizzly-tui[graphics].",
)
@click.pass_context
def review_command(
    ctx: click.Context,
    build_uid: str | None = None,
    filter_name: str | None = None,
    no_mouse: bool = False,
    colors: str = "auto",
    read_only: bool = False,
    graphics: str = "halfblock",
) -> None:
    """Open the review app: builds, comparisons, baselines and regions, with keyboard
    decisions (a accept, r reject, u undo, ? help). Without a terminal, print the status."""
    from vizzly_tui.tui import launch

    project = project_of(ctx)
    if not launch.is_terminal():
        from vizzly_tui.store import queries
        from vizzly_tui.store.store import open_store

        with open_store(project, write=False) as store:
            data = queries.status_data(queries.current_build() if store.exists else None)
        text = launch.not_a_terminal_text(project, formatting.status_text(data))
        click.echo(formatting.printable(text, lines=True))
        return
    code = launch.open_app(
        project,
        build_uid=build_uid,
        filter_name=filter_name,
        mouse=not no_mouse,
        colors=colors,
        read_only=read_only,
        graphics=graphics,
    )
    if code:
        ctx.exit(code)


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("vizzly-demo"),
    show_default=True,
    help="Where to create the demo project (recreated if it is an earlier demo).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--no-open", is_flag=True, help="Print the summary only; do not open the app.")
def demo(directory: Path, as_json: bool, no_open: bool) -> None:
    """Create a demo project, record two runs of screenshots, and open the review app on it
    (in a terminal; otherwise, or with --no-open, print the summary).

    The second run has real changes (a recoloured button, edited text, a taller page and a
    new screen), so there is something to review with status, accept, reject and undo.
    """
    from vizzly_tui.demo import run_demo
    from vizzly_tui.store import queries
    from vizzly_tui.store.store import open_store

    echo = (lambda _line: None) if as_json else echo_line
    run_demo(directory, echo)
    project = find_project(directory)
    with open_store(project, write=False):
        data = {"project": str(project.root), **queries.status_data(queries.current_build())}
    hint = (
        f"\nTry: vizzly-tui --project {directory} accept login   then   "
        f"vizzly-tui --project {directory} undo"
    )
    emit(
        data,
        as_json,
        lambda: formatting.status_text(data) + hint,
        lambda: output.status_view(data, hint),
    )
    from vizzly_tui.tui import launch

    if not (as_json or no_open) and launch.is_terminal():
        code = launch.open_app(project)
        if code:
            sys.exit(code)


COMMANDS = (review_command, demo)
