"""The `vizzly-tui` group: `--project`, `--debug`, and errors turned into exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from vizzly_tui import __version__, formatting
from vizzly_tui.errors import (
    EXIT_DATABASE,
    EXIT_USAGE,
    VizzlyError,
    disk_full_message,
    is_disk_full,
)
from vizzly_tui.project import ProjectNotFound

EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it (128 + SIGINT)
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away, as shells report it (128 + SIGPIPE)


class VizzlyGroup(click.Group):
    """Turns our errors into one-line messages and stable exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            # The store closed on the way here, letting the writer finish the change under
            # way (a decision is never left half-done): say so rather than click's "Aborted!"
            # with exit 1, which scripts read as "differences found".
            click.echo(
                "interrupted: a change already under way was completed or rolled back as a "
                "whole; `vizzly-tui log` shows what was applied and `vizzly-tui undo` "
                "reverses it.",
                err=True,
            )
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # `vizzly-tui log | head -1`: the reader has what it wanted. No message (stderr
            # may be that pipe too), and stdout pointed at /dev/null so the flush at exit
            # does not fail a second time with "Exception ignored".
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:
            debug = bool(ctx.obj and ctx.obj.get("debug"))
            if debug:
                raise
            code, message = describe(exc)
            click.echo(f"error: {formatting.printable(message, lines=True)}", err=True)
            ctx.exit(code)


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (embedded): nothing to flush into a pipe
        pass
    finally:
        os.close(devnull)


def describe(exc: Exception) -> tuple[int, str]:
    """The exit code and one-line message for an error a command let through."""
    import sqlite3

    import peewee

    from vizzly_tui.config import ConfigError

    if isinstance(exc, VizzlyError):
        return exc.exit_code, str(exc)
    if is_disk_full(exc):
        # SQLite's "database or disk is full", or ENOSPC, met past the store's own checks.
        return EXIT_DATABASE, disk_full_message()
    if isinstance(exc, ProjectNotFound | ConfigError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, sqlite3.DatabaseError | peewee.DatabaseError):
        from vizzly_tui.store.bootstrap import damaged_message, is_damage

        if is_damage(exc):
            # Damage a statement met (a file past quick_check's size): say what to do, too.
            return EXIT_DATABASE, damaged_message(Path(".vizzly/state.db"), str(exc))
        return EXIT_DATABASE, f"database problem: {exc}"
    if isinstance(exc, UnicodeDecodeError) and b"database" in exc.object:
        return EXIT_DATABASE, "database problem: state.db is damaged (unreadable schema text)"
    return 1, f"internal error: {exc!r} (run with --debug for the traceback)"


@click.group(
    cls=VizzlyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", "-V", prog_name="vizzly-tui")
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder (the one holding .vizzly/). Default: the first folder holding "
    ".vizzly/ from here upwards, as the Vizzly SDKs look for it.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, project: Path | None, debug: bool) -> None:
    """Visual-regression review in the terminal, compatible with the Vizzly SDKs.

    A project's state lives in .vizzly/ (the Vizzly CLI's layout). The first command run in a
    project that has the Vizzly CLI's JSON state imports it into .vizzly/state.db.

    Exit codes: 0 ok, 1 differences found, 2 usage error or no project, 3 database problem,
    4 server problem, 5 done in part (comparisons captured again meanwhile were skipped).
    """
    ctx.ensure_object(dict)
    ctx.obj["project"] = project
    ctx.obj["debug"] = debug
    if ctx.invoked_subcommand is None:
        # No sub-command: the review app, as `vizzly-tui review` with its defaults.
        ctx.invoke(main.get_command(ctx, "review"))
