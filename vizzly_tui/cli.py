"""The `vizzly-tui` command: wires the layers, holds no logic of its own.

Exit codes (architecture.md): 0 ok, 1 differences found (compare/run), 2 usage or project
not found, 3 database problem, 4 server problem, 5 done in part (what was skipped is
listed). Tracebacks only with --debug.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vizzly_tui import __version__, cli_cloud, formatting
from vizzly_tui.errors import (
    EXIT_DATABASE,
    EXIT_PARTIAL,
    EXIT_USAGE,
    VizzlyError,
    disk_full_message,
    is_disk_full,
)
from vizzly_tui.project import Project, ProjectNotFound, find_project

# `show` draws a canvas as wide as its columns: a width no terminal has would take gigabytes.
MAX_SHOW_COLUMNS = 1000


class VizzlyGroup(click.Group):
    """Turns our errors into one-line messages and stable exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            debug = bool(ctx.obj and ctx.obj.get("debug"))
            if debug:
                raise
            code, message = _describe(exc)
            click.echo(f"error: {formatting.printable(message, lines=True)}", err=True)
            ctx.exit(code)


def _describe(exc: Exception) -> tuple[int, str]:
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


def _project(ctx: click.Context) -> Project:
    return find_project(ctx.obj.get("project"))


def _bootstrap_progress(project: Project) -> Callable[[int, int], None] | None:
    """A counter on stderr (a terminal only) while the first start in a large Vizzly CLI
    project keeps its images; nothing in other projects."""
    if not project.legacy_files():
        return None
    show = formatting.progress_printer()
    if show is None:
        return None
    said: list[bool] = []

    def report(done: int, total: int) -> None:
        if not said and total >= 20:
            said.append(True)
            click.echo("importing the Vizzly CLI's files: keeping their images", err=True)
        show(done, total)

    return report


def _echo_line(line: str, err: bool = False) -> None:
    """A progress or log line: it may quote what an SDK sent, so no control characters."""
    click.echo(formatting.printable(line, lines=True), err=err)


def _emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        # Names and property values come from SDKs: their escape sequences must not drive
        # the terminal (click strips colour codes in pipes, not OSC titles or clipboards).
        click.echo(formatting.printable(text(), lines=True))


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
        ctx.invoke(review_command)


# --- the review app -----------------------------------------------------------------------


@main.command("review")
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

    project = _project(ctx)
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


# --- review state -------------------------------------------------------------------------


@main.command()
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

    project = _project(ctx)
    stale = discard_stale_server_json(project)
    if stale:
        click.echo(f"note: {stale}", err=True)
    with open_store(project, write=False, progress=_bootstrap_progress(project)) as store:
        for notice in store.notices:
            click.echo(f"note: {notice}", err=True)
        data = queries.status_data(queries.current_build() if store.exists else None)
    _emit(data, as_json, lambda: formatting.status_text(data))


def _review_command(
    ctx: click.Context, as_json: bool, action: Callable[..., Any], *args: Any, **kwargs: Any
) -> None:
    from vizzly_tui.store.store import open_store

    project = _project(ctx)
    with open_store(project, write=True, progress=_bootstrap_progress(project)) as store:
        for notice in store.notices:
            click.echo(f"note: {notice}", err=True)
        result = action(store, *args, **kwargs)
    _emit(result.to_json(), as_json, lambda: formatting.action_text(result))
    if result.skipped:
        # Scripts must tell "all done" from "done except what changed meanwhile".
        ctx.exit(EXIT_PARTIAL)


@main.command()
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
    progress = formatting.progress_printer() if all_ and not as_json else None
    _review_command(ctx, as_json, review.accept, keys, all_=all_, progress=progress)


@main.command()
@click.argument("keys", nargs=-1, required=True, metavar="ID|NAME|SIGNATURE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def reject(ctx: click.Context, keys: tuple[str, ...], as_json: bool) -> None:
    """Keep the baselines: mark the comparisons rejected. No image changes."""
    from vizzly_tui import review

    _review_command(ctx, as_json, review.reject, keys)


@main.command()
@click.argument("keys", nargs=-1, required=True, metavar="ID|NAME|SIGNATURE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def delete(ctx: click.Context, keys: tuple[str, ...], as_json: bool) -> None:
    """Remove comparisons with their images and baselines (undo brings them back)."""
    from vizzly_tui import review

    _review_command(ctx, as_json, review.delete, keys)


@main.command()
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
    progress = None if as_json else formatting.progress_printer()
    _review_command(ctx, as_json, review.reset, progress=progress)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def undo(ctx: click.Context, as_json: bool) -> None:
    """Reverse the last accept, reject, delete or reset (restoring the baseline images)."""
    from vizzly_tui import review

    _review_command(ctx, as_json, review.undo)


@main.command("log")
@click.option("-n", "--limit", default=20, show_default=True, help="How many decisions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def log_command(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show the newest review decisions: who did what, when."""
    from vizzly_tui import review
    from vizzly_tui.store.store import open_store

    with open_store(_project(ctx), write=False) as store:
        rows = review.history(limit) if store.exists else []
    _emit(rows, as_json, lambda: formatting.history_text(rows))


@main.command()
@click.option(
    "--keep-builds",
    type=click.IntRange(min=1),
    help="Also remove local runs older than the newest N (their history goes with them).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def gc(ctx: click.Context, keep_builds: int | None, as_json: bool) -> None:
    """Remove kept images nothing refers to (no kept build, baseline version or pending or
    undoable decision) and say how much space that freed."""
    from vizzly_tui.store.gc import collect_garbage, gc_text
    from vizzly_tui.store.store import open_store

    with open_store(_project(ctx)) as store:
        result = collect_garbage(store, keep_builds=keep_builds)
    _emit(result.to_json(), as_json, lambda: gc_text(result))


# --- database -----------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Inspect or migrate .vizzly/state.db."""


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def db_status(ctx: click.Context, as_json: bool) -> None:
    """Schema version, applied and pending migrations, and what the legacy import did."""
    from vizzly_tui.store import dbinfo

    data = dbinfo.describe(_project(ctx.find_root()))
    _emit(data, as_json, lambda: formatting.db_status_text(data))


@db.command("migrate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def db_migrate(ctx: click.Context, as_json: bool) -> None:
    """Apply pending migrations (every command also does this when needed)."""
    from vizzly_tui.store.bootstrap import ensure_schema

    project = _project(ctx.find_root())
    report = ensure_schema(project, _bootstrap_progress(project))
    data = {"applied": report.applied, "recovered": report.recovered}
    _emit(data, as_json, lambda: formatting.migrate_text(data))


@main.command()
@click.option(
    "--repair",
    is_flag=True,
    help="Rebuild state.db from what is still readable, baselines/ and objects/, keeping the "
    "old file beside it as state.db.damaged-<time>.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def doctor(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check .vizzly/: the database, baselines against their sha256, comparison images,
    interrupted decisions, unreferenced images, stale server files; say what to do.

    Exit codes: 0 healthy, 1 warnings only, 3 problems (errors). With --repair: 0 when
    everything was recovered and the result is healthy, 5 when something was not recovered.
    """
    from vizzly_tui import doctor as doc
    from vizzly_tui import doctor_repair

    project = _project(ctx)
    if not repair:
        report = doc.diagnose(project)
        _emit(report.to_json(), as_json, lambda: doc.doctor_text(report))
        sys.exit(report.exit_code)
    result, after = doctor_repair.run_repair(project)
    data = {"repair": result.to_json(), "after": after.to_json()}
    _emit(
        data, as_json, lambda: doctor_repair.repair_text(result) + "\n\n" + doc.doctor_text(after)
    )
    sys.exit(EXIT_PARTIAL if result.not_recovered or after.exit_code == 3 else 0)


@main.command()
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

    echo = (lambda _line: None) if as_json else _echo_line
    run_demo(directory, echo)
    project = find_project(directory)
    with open_store(project, write=False):
        data = {"project": str(project.root), **queries.status_data(queries.current_build())}
    hint = (
        f"\nTry: vizzly-tui --project {directory} accept login   then   "
        f"vizzly-tui --project {directory} undo"
    )
    _emit(data, as_json, lambda: formatting.status_text(data) + hint)
    from vizzly_tui.tui import launch

    if not (as_json or no_open) and launch.is_terminal():
        code = launch.open_app(project)
        if code:
            sys.exit(code)


# --- the SDK server -----------------------------------------------------------------------


def _server_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--port",
            type=click.IntRange(1, 65535),
            help="Port to listen on (127.0.0.1 only). Default: configuration, else "
            "47392; the next free port when it is taken.",
        ),
        click.option(
            "--threshold",
            type=click.FloatRange(min=0),
            help="CIEDE2000 threshold (0 = exact). Default: configuration, else 2.",
        ),
        click.option(
            "--min-cluster-size",
            type=click.IntRange(min=1),
            help="Smallest changed area that counts. Default: configuration, else 2.",
        ),
        click.option(
            "--max-body-bytes",
            type=click.IntRange(min=1),
            help="Largest request body accepted (default 64 MiB).",
        ),
        click.option(
            "--set-baseline",
            is_flag=True,
            help="Store every screenshot as the new baseline instead of comparing.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _server_config(ctx: click.Context, flags: dict[str, Any]) -> tuple[Project, Any]:
    from vizzly_tui.config import load_config
    from vizzly_tui.server.discovery import discard_stale_server_json

    project = _project_or_create(ctx)
    # Before anything can fail: a dead server's server.json must not outlive this attempt.
    stale = discard_stale_server_json(project)
    if stale:
        click.echo(f"note: {stale}", err=True)
    keys = ("port", "threshold", "min_cluster_size", "max_body_bytes")
    return project, load_config(project.root, flags={k: flags.get(k) for k in keys})


def _project_or_create(ctx: click.Context) -> Project:
    """serve and run start a project: the current folder gets a .vizzly/ when none is found."""
    try:
        return _project(ctx)
    except ProjectNotFound:
        root = Path(ctx.obj.get("project") or Path.cwd()).resolve()
        if not root.is_dir():
            raise
        (root / ".vizzly").mkdir(exist_ok=True)
        return Project(root)


@main.command()
@_server_options
@cli_cloud.cloud_options
@click.option("--daemon", is_flag=True, help="Start in the background (log: .vizzly/server.log).")
@click.option("--status", "show_status", is_flag=True, help="Report the background server.")
@click.option("--json", "as_json", is_flag=True, help="JSON for --daemon and --status.")
@click.pass_context
def serve(
    ctx: click.Context,
    set_baseline: bool,
    daemon: bool,
    show_status: bool,
    as_json: bool,
    baseline_build: str | None,
    baseline_comparison: str | None,
    token: str | None,
    **flags: Any,
) -> None:
    """Run the TDD server for the Vizzly SDKs until Ctrl-C or SIGTERM.

    It speaks the Vizzly CLI's wire format (POST /screenshot and friends), so existing SDKs
    send it screenshots unchanged. It listens on 127.0.0.1 only, refuses requests from web
    pages of other origins, and records this session as one build. --daemon starts it in
    the background (`vizzly-tui stop` stops it); --status reports it.
    """
    if show_status or daemon:
        cli_cloud.serve_background(
            _project_or_create(ctx),
            show_status=show_status,
            as_json=as_json,
            args=cli_cloud.serve_args(flags, set_baseline, baseline_build, baseline_comparison),
            token=token,
        )
        return
    from vizzly_tui.server.runner import run_async
    from vizzly_tui.server.runner import serve as serve_forever

    project, cfg = _server_config(ctx, flags)
    echo = _echo_line
    download = cli_cloud.startup_download(baseline_build, baseline_comparison, token)
    sys.exit(
        run_async(
            serve_forever(
                project, cfg, set_baseline=set_baseline, echo=echo, download=download, token=token
            )
        )
    )


@main.command(context_settings={"ignore_unknown_options": True})
@_server_options
@cli_cloud.cloud_options
@click.option("--no-fail-on-diff", is_flag=True, help="Exit 0 even when comparisons failed.")
@click.option(
    "--report",
    "report_dir",
    is_flag=False,
    flag_value=".vizzly/report",
    default=None,
    metavar="[DIR]",
    help="Write the static HTML report at the end (default folder: .vizzly/report).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON (upstream's shape)."
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    command: tuple[str, ...],
    set_baseline: bool,
    no_fail_on_diff: bool,
    report_dir: str | None,
    as_json: bool,
    baseline_build: str | None,
    baseline_comparison: str | None,
    token: str | None,
    **flags: Any,
) -> None:
    """Start the server, run COMMAND (your tests) against it, then print a summary.

    COMMAND gets VIZZLY_SERVER_URL, VIZZLY_BUILD_ID, VIZZLY_ENABLED=true and
    VIZZLY_SET_BASELINE. Exit code: COMMAND's when it failed; else 1 when a comparison
    failed (unless --no-fail-on-diff); else 0. Example: vizzly-tui run -- npx playwright test
    """
    from vizzly_tui.server.runner import run_async, run_command

    project, cfg = _server_config(ctx, flags)
    echo = (lambda _line: None) if as_json else (lambda line: _echo_line(line, err=True))
    code, data = run_async(
        run_command(
            project,
            cfg,
            command,
            set_baseline=set_baseline,
            fail_on_diff=not no_fail_on_diff,
            echo=echo,
            download=cli_cloud.startup_download(baseline_build, baseline_comparison, token),
            token=token,
        )
    )
    report_path = cli_cloud.run_report(project, data, report_dir)
    if as_json:
        _emit(cli_cloud.run_json(project, data, code, report_path), True, str)
    else:
        click.echo(formatting.printable(formatting.run_summary_text(data), lines=True))
        if report_path is not None:
            click.echo(f"report: {report_path}")
    sys.exit(code)


# --- configuration and one-off comparison -------------------------------------------------


@main.command()
@click.option("--threshold", type=float, help="CIEDE2000 threshold to try (0 = exact).")
@click.option("--min-cluster-size", type=int, help="Smallest cluster that counts.")
@click.option("--port", type=int, help="Server port.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def config(ctx: click.Context, as_json: bool, **flags: Any) -> None:
    """Show each setting, its value and where it came from.

    Precedence: flags, VIZZLY_* environment variables, vizzly.toml, [tool.vizzly] in
    pyproject.toml, the Vizzly CLI's vizzly.config.js (read with Node.js when it is on PATH),
    defaults.
    """
    from vizzly_tui.config import format_config, load_config

    root = _optional_project_root(ctx)
    project = Project(root)
    if project.vizzly_dir.is_dir() and not project.db_path.exists() and project.legacy_files():
        # Like every command in a legacy project: import the Vizzly CLI's JSON once.
        from vizzly_tui.store.bootstrap import ensure_schema

        ensure_schema(project)
    cfg = load_config(root, flags=flags)
    _emit(cfg.to_dict(), as_json, lambda: format_config(cfg))


def _optional_project_root(ctx: click.Context) -> Path | None:
    try:
        return _project(ctx).root
    except ProjectNotFound:
        if ctx.obj.get("project") is not None:
            raise
        return Path.cwd()


@main.command()
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
        _emit(data, as_json, lambda: f"different: {message}")
        sys.exit(1)
    except EngineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"error: cannot write diff image {diff_path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    _emit(result.to_vizzly_dict(), as_json, lambda: format_result(result))
    sys.exit(1 if result.is_different else 0)


@main.command()
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

    with open_store(_project(ctx), write=False) as store:
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


cli_cloud.register(main)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
