"""Review state from the command line: status, accept, reject, delete, reset, undo, log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from vizzly_tui import formatting
from vizzly_tui.cli import output
from vizzly_tui.cli.common import emit, note, project_of
from vizzly_tui.errors import EXIT_PARTIAL


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the current build: summary counts and one line per comparison.

    The current build is the newest local run (serve session, run command, or the import of
    the Vizzly CLI's JSON files). Comparisons are listed failed first, largest change first.
    """
    from vizzly_tui.server.discovery import discard_stale_server_json
    from vizzly_tui.store import queries
    from vizzly_tui.store.store import open_store

    project = project_of(ctx)
    stale = discard_stale_server_json(project)
    if stale:
        note(stale)
    with output.bootstrap_progress(project) as started:
        store = open_store(project, write=False, progress=started)
    with store:
        for notice in store.notices:
            note(notice)
        data = queries.status_data(queries.current_build() if store.exists else None)
    emit(data, as_json, lambda: formatting.status_text(data), lambda: output.status_view(data))


def _review_command(
    ctx: click.Context,
    as_json: bool,
    action: Callable[..., Any],
    *args: Any,
    progress: str | None = None,
    **kwargs: Any,
) -> None:
    """Run a review action; with `progress` (its label) a bar on a terminal follows it."""
    from vizzly_tui.store.store import open_store

    project = project_of(ctx)
    with output.bootstrap_progress(project) as started:
        store = open_store(project, write=True, progress=started)
    with store:
        for notice in store.notices:
            note(notice)
        with output.progress_bar(progress or "", enabled=bool(progress) and not as_json) as bar:
            if progress:
                kwargs["progress"] = bar
            result = action(store, *args, **kwargs)
    emit(
        result.to_json(),
        as_json,
        lambda: formatting.action_text(result),
        lambda: output.action_view(result),
    )
    if result.skipped:
        # Scripts must tell "all done" from "done except what changed meanwhile".
        ctx.exit(EXIT_PARTIAL)


@click.command()
@click.argument("keys", nargs=-1, metavar="[ID|NAME|SIGNATURE]...")
@click.option("--all", "all_", is_flag=True, help="Accept every failed and new comparison.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def accept(ctx: click.Context, keys: tuple[str, ...], all_: bool, as_json: bool) -> None:
    """Make the current screenshots the new baselines.

    Name comparisons by id, signature or name (a name accepts all its variants), or use --all
    for every failed and new one. The previous baseline is kept: `vizzly-tui undo` restores it.
    """
    from vizzly_tui import review

    if all_ and keys:
        raise click.UsageError("give comparisons or --all, not both")
    label = "accepting" if all_ else None
    _review_command(ctx, as_json, review.accept, keys, all_=all_, progress=label)


@click.command()
@click.argument("keys", nargs=-1, required=True, metavar="ID|NAME|SIGNATURE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def reject(ctx: click.Context, keys: tuple[str, ...], as_json: bool) -> None:
    """Keep the baselines: mark the comparisons rejected. No image changes."""
    from vizzly_tui import review

    _review_command(ctx, as_json, review.reject, keys)


@click.command()
@click.argument("keys", nargs=-1, required=True, metavar="ID|NAME|SIGNATURE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def delete(ctx: click.Context, keys: tuple[str, ...], as_json: bool) -> None:
    """Remove comparisons with their images and baselines (undo brings them back)."""
    from vizzly_tui import review

    _review_command(ctx, as_json, review.delete, keys)


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def reset(ctx: click.Context, yes: bool, as_json: bool) -> None:
    """Delete every baseline and the current build's comparisons.

    The images are kept in .vizzly/objects/, so `vizzly-tui undo` can restore everything.
    Without a terminal to ask in, --yes is required.
    """
    from vizzly_tui import review

    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("reset deletes every baseline; pass --yes to confirm")
        click.confirm("Delete all baselines and the current comparisons?", abort=True)
    _review_command(ctx, as_json, review.reset, progress="resetting")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def undo(ctx: click.Context, as_json: bool) -> None:
    """Reverse the last accept, reject, delete or reset (restoring the baseline images)."""
    from vizzly_tui import review

    _review_command(ctx, as_json, review.undo)


@click.command("log")
@click.option("-n", "--limit", default=20, show_default=True, help="How many decisions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def log_command(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show the newest review decisions: who did what, when."""
    from vizzly_tui import review
    from vizzly_tui.store.store import open_store

    with open_store(project_of(ctx), write=False) as store:
        rows = review.history(limit) if store.exists else []
    emit(rows, as_json, lambda: formatting.history_text(rows), lambda: output.history_view(rows))


COMMANDS = (status, accept, reject, delete, reset, undo, log_command)
