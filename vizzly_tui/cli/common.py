"""What every command module shares: finding the project, printing results and notes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vizzly_tui import formatting
from vizzly_tui.cli import output
from vizzly_tui.project import Project, ProjectNotFound, find_project

if TYPE_CHECKING:
    from rich.console import RenderableType


def project_of(ctx: click.Context) -> Project:
    """The project named by `--project` (on the root group), else found from here upwards."""
    return find_project(ctx.find_root().obj.get("project"))


def project_or_create(ctx: click.Context) -> Project:
    """serve and run start a project: the current folder gets a .vizzly/ when none is found."""
    try:
        return project_of(ctx)
    except ProjectNotFound:
        root = Path(ctx.find_root().obj.get("project") or Path.cwd()).resolve()
        if not root.is_dir():
            raise
        (root / ".vizzly").mkdir(exist_ok=True)
        return Project(root)


def optional_project_root(ctx: click.Context) -> Path:
    """The project's folder, else the current folder (only when --project was not given)."""
    try:
        return project_of(ctx).root
    except ProjectNotFound:
        if ctx.find_root().obj.get("project") is not None:
            raise
        return Path.cwd()


def echo_line(line: str, err: bool = False) -> None:
    """A progress or log line: it may quote what an SDK sent, so no control characters."""
    click.echo(formatting.printable(line, lines=True), err=err)


def note(message: str) -> None:
    click.echo(f"note: {message}", err=True)


def emit(
    data: Any,
    as_json: bool,
    text: Callable[[], str],
    view: Callable[[], RenderableType] | None = None,
) -> None:
    """`data` as JSON with --json; else `view()` (rich) on a styled terminal, `text()` when
    piped or with NO_COLOR (the stable text scripts parse)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif view is not None and output.print_view(view):
        return
    else:
        # Names and property values come from SDKs: their escape sequences must not drive
        # the terminal (click strips colour codes in pipes, not OSC titles or clipboards).
        click.echo(formatting.printable(text(), lines=True))
