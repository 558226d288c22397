"""Looking after .vizzly/: `gc`, `db status|migrate`, `doctor [--repair]` and `config`."""

from __future__ import annotations

import sys
from typing import Any

import click

from vizzly_tui import formatting
from vizzly_tui.cli import output
from vizzly_tui.cli.common import emit, optional_project_root, project_of
from vizzly_tui.errors import EXIT_PARTIAL
from vizzly_tui.project import Project


@click.command()
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

    with (
        open_store(project_of(ctx)) as store,
        output.progress_bar("checking kept images", enabled=not as_json) as progress,
    ):
        result = collect_garbage(store, keep_builds=keep_builds, progress=progress)
    text = gc_text(result)
    emit(result.to_json(), as_json, lambda: text, lambda: output.gc_view(text))


@click.group()
def db() -> None:
    """Inspect or migrate .vizzly/state.db."""


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def db_status(ctx: click.Context, as_json: bool) -> None:
    """Schema version, applied and pending migrations, and what the legacy import did."""
    from vizzly_tui.store import dbinfo

    data = dbinfo.describe(project_of(ctx))
    emit(data, as_json, lambda: formatting.db_status_text(data))


@db.command("migrate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def db_migrate(ctx: click.Context, as_json: bool) -> None:
    """Apply pending migrations (every command also does this when needed)."""
    from vizzly_tui.store.bootstrap import ensure_schema

    project = project_of(ctx)
    with output.bootstrap_progress(project) as progress:
        report = ensure_schema(project, progress)
    data = {"applied": report.applied, "recovered": report.recovered}
    emit(data, as_json, lambda: formatting.migrate_text(data))


@click.command()
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

    project = project_of(ctx)
    if not repair:
        report = doc.diagnose(project)
        emit(
            report.to_json(),
            as_json,
            lambda: doc.doctor_text(report),
            lambda: output.doctor_view(report),
        )
        sys.exit(report.exit_code)
    result, after = doctor_repair.run_repair(project)
    data = {"repair": result.to_json(), "after": after.to_json()}
    repaired = doctor_repair.repair_text(result)
    emit(
        data,
        as_json,
        lambda: repaired + "\n\n" + doc.doctor_text(after),
        lambda: output.repair_view(repaired, after),
    )
    sys.exit(EXIT_PARTIAL if result.not_recovered or after.exit_code == 3 else 0)


@click.command()
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

    root = optional_project_root(ctx)
    project = Project(root)
    if project.vizzly_dir.is_dir() and not project.db_path.exists() and project.legacy_files():
        # Like every command in a legacy project: import the Vizzly CLI's JSON once.
        from vizzly_tui.store.bootstrap import ensure_schema

        ensure_schema(project)
    cfg = load_config(root, flags=flags)
    emit(cfg.to_dict(), as_json, lambda: format_config(cfg))


COMMANDS = (gc, db, doctor, config)
