"""Pictures and pages: `compare` two PNG files, `show` a comparison as text, and the static
HTML `report`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vizzly_tui import formatting
from vizzly_tui.cli.common import emit, project_of
from vizzly_tui.errors import EXIT_USAGE

# `show` draws a canvas as wide as its columns: a width no terminal has would take gigabytes.
MAX_SHOW_COLUMNS = 1000


@click.command()
@click.argument("baseline", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("current", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="CIEDE2000 colour difference that counts as a change (0 = exact).",
)
@click.option(
    "--min-cluster-size",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Changed areas smaller than this many pixels are noise.",
)
@click.option(
    "--diff",
    "diff_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a diff image here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (camelCase).")
def compare(
    baseline: Path,
    current: Path,
    threshold: float,
    min_cluster_size: int,
    diff_path: Path | None,
    as_json: bool,
) -> None:
    """Compare two PNG files. Exit 0 when they match, 1 when they differ, 2 on error."""
    from vizzly_tui.engine import DimensionMismatch, EngineError, compare_files
    from vizzly_tui.engine.report import format_result

    for path in (baseline, current):
        if not path.is_file():
            raise click.UsageError(f"{path}: no such file")
    if diff_path is not None:
        # Only a regular file (or a new one in an existing folder): never a device, a FIFO or
        # a directory, which os.replace would silently swap for our PNG.
        if diff_path.exists() and not diff_path.is_file():
            raise click.UsageError(f"--diff {diff_path}: exists and is not a regular file")
        if not diff_path.parent.is_dir():
            raise click.UsageError(f"--diff {diff_path}: folder {diff_path.parent} does not exist")
    try:
        result = compare_files(
            baseline,
            current,
            threshold=threshold,
            min_cluster_size=min_cluster_size,
            diff_path=diff_path,
        )
    except DimensionMismatch as exc:
        # A different width is a difference (upstream records it as failed), not a usage error.
        message = str(exc)
        data = {"isDifferent": True, "reason": "dimension-mismatch", "error": message}
        emit(data, as_json, lambda: f"different: {message}")
        sys.exit(1)
    except EngineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"error: cannot write diff image {diff_path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    emit(result.to_vizzly_dict(), as_json, lambda: format_result(result))
    sys.exit(1 if result.is_different else 0)


@click.command()
@click.argument("key", metavar="ID|NAME")
@click.option(
    "--mode",
    type=click.Choice(["overlay", "side-by-side", "diff", "baseline", "current"]),
    default="overlay",
    show_default=True,
    help="What to draw.",
)
@click.option(
    "--width",
    type=click.IntRange(min=8, max=MAX_SHOW_COLUMNS),
    help=f"Columns, 8 to {MAX_SHOW_COLUMNS} (default: the terminal's).",
)
@click.option("--cluster", type=click.IntRange(min=1), help="Draw cluster N at 1:1.")
@click.option(
    "--color",
    "color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="auto: colours on a terminal unless NO_COLOR is set.",
)
@click.pass_context
def show(
    ctx: click.Context, key: str, mode: str, width: int | None, cluster: int | None, color: str
) -> None:
    """Print a comparison of the current build as half-block text (for CI logs and scripts).

    Without colour each cell is a shade of its darkness and changed pixels are X.
    """
    import shutil

    from vizzly_tui.engine.errors import EngineError
    from vizzly_tui.show import ShowError, render_show, terminal_colours, use_colour
    from vizzly_tui.store import queries
    from vizzly_tui.store.store import open_store
    from vizzly_tui.tui import data
    from vizzly_tui.tui.viewer.subject import subject_from_detail

    with open_store(project_of(ctx), write=False) as store:
        build = queries.current_build() if store.exists else None
        found = queries.find_comparison(build.id, key) if build else None
        detail = data.load_detail(store, found.id) if found else None
    if detail is None:
        click.echo(f"error: no comparison {key!r} in the current build", err=True)
        sys.exit(EXIT_USAGE)
    is_tty = sys.stdout.isatty()
    colour = use_colour(color, is_tty)
    columns = width or min(shutil.get_terminal_size().columns if is_tty else 100, MAX_SHOW_COLUMNS)
    try:
        picture = render_show(
            subject_from_detail(detail),
            mode=mode,
            width=columns,
            cluster=cluster,
            colour=colour,
            system=terminal_colours(),
        )
    except ShowError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except (EngineError, OSError) as exc:
        # A damaged or missing image file: say which, as `compare` does.
        message = formatting.printable(exc)
        click.echo(f"error: cannot show {formatting.printable(detail.name)}: {message}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(formatting.printable(picture.header))
    click.echo("\n".join(picture.lines), color=colour)


@click.command()
@click.option("--build", "build_uid", metavar="UID", help="Which build (default: the current one).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write to (default: .vizzly/report).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def report(ctx: click.Context, build_uid: str | None, out_dir: Path | None, as_json: bool) -> None:
    """Write a static HTML report (no JavaScript; images copied beside it)."""
    from vizzly_tui.report import write_report

    path = write_report(project_of(ctx), build_uid=build_uid, out_dir=out_dir)
    emit({"reportPath": str(path)}, as_json, lambda: f"report: {path}")


COMMANDS = (compare, show, report)
