"""The baselines: their listing (`baselines`, `--info`) and the Vizzly cloud download
(`baselines download`, and the --baseline-build/--baseline-comparison options of serve and
run). Nothing heavy is imported before a command runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from vizzly_tui.cli import output
from vizzly_tui.cli.common import emit, project_of, project_or_create


def cloud_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--baseline-build / --baseline-comparison / --token for serve and run."""
    options = [
        click.option(
            "--baseline-build",
            metavar="ID",
            help="First download the baselines of this Vizzly cloud build (needs a token).",
        ),
        click.option(
            "--baseline-comparison",
            metavar="ID",
            help="First download the baseline of this Vizzly cloud comparison.",
        ),
        click.option("--token", help="Vizzly API token (default: $VIZZLY_TOKEN)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def download_request(
    build_id: str | None,
    comparison_id: str | None,
    token: str | None,
    environment: str = "test",
    branch: str | None = None,
) -> Any:
    from vizzly_tui.cloud.download import DownloadRequest

    return DownloadRequest(
        build_id=build_id,
        comparison_id=comparison_id,
        environment=environment,
        branch=branch,
        token=token,
    )


def startup_download(
    baseline_build: str | None, baseline_comparison: str | None, token: str | None
) -> Any | None:
    if baseline_build and baseline_comparison:
        raise click.UsageError("give --baseline-build or --baseline-comparison, not both")
    if not baseline_build and not baseline_comparison:
        return None
    return download_request(baseline_build, baseline_comparison, token)


@click.group(invoke_without_command=True)
@click.option("--name", "pattern", metavar="GLOB", help="Only names matching this glob.")
@click.option(
    "--info", "info", metavar="NAME|SIGNATURE", help="One baseline's details and history."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def baselines(ctx: click.Context, pattern: str | None, info: str | None, as_json: bool) -> None:
    """List the baselines: origin (local, imported, cloud build), size, dimensions, versions.

    `vizzly-tui baselines download` fetches a cloud build's baselines.
    """
    if ctx.invoked_subcommand is not None:
        return
    from vizzly_tui.baselines_view import baseline_info, list_baselines
    from vizzly_tui.store.store import open_store

    with open_store(project_of(ctx), write=False) as store:
        if info is not None:
            data: Any = baseline_info(info) if store.exists else None
            if data is None:
                from vizzly_tui.errors import NotFound

                raise NotFound(f"no baseline named {info!r} (give a name or a signature)")
            emit(data, as_json, lambda: formatting_baseline_info(data))
            return
        rows = list_baselines(pattern) if store.exists else []
    emit(
        {"baselines": rows},
        as_json,
        lambda: formatting_baselines(rows),
        lambda: output.baselines_view(rows),
    )


def formatting_baselines(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no baselines"
    lines = [f"{len(rows)} baseline(s)"]
    for r in rows:
        size = f"{r['width']}x{r['height']}" if r["width"] else "?"
        kb = f"{(r['size'] or 0) / 1024:.0f} KiB"
        lines.append(f"  {r['signature']:<40} {size:>10} {kb:>9}  v{r['versions']}  {r['origin']}")
    return "\n".join(lines)


def formatting_baseline_info(data: dict[str, Any]) -> str:
    lines = [
        f"{data['name']}  ({data['signature']})",
        f"  file      .vizzly/baselines/{data['fileName']}",
        f"  size      {data['width']}x{data['height']}, {data['size']} bytes",
        f"  sha256    {data['sha256']}",
        f"  origin    {data['origin']}",
        f"  updated   {data['updatedAt']}",
        "  history (newest first):",
    ]
    for v in data["history"]:
        lines.append(
            f"    {v['createdAt']}  {v['source']:<8} {v['sha256'][:12]}  {v['size']} bytes"
        )
    return "\n".join(lines)


@baselines.command("download")
@click.argument("build_id", required=False)
@click.option(
    "--comparison",
    "comparison_id",
    metavar="ID",
    help="Only the baseline of this cloud comparison.",
)
@click.option(
    "--environment", default="test", show_default=True, help="For the latest passed build."
)
@click.option(
    "--branch", help="For the latest passed build (default: git's default branch, else main)."
)
@click.option("--token", help="Vizzly API token (default: $VIZZLY_TOKEN).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def download(
    ctx: click.Context,
    build_id: str | None,
    comparison_id: str | None,
    environment: str,
    branch: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Make a Vizzly cloud build's screenshots the baselines (one undoable decision).

    With BUILD_ID that build; with --comparison one comparison's baseline; with neither the
    latest passed build of ENVIRONMENT/BRANCH. Hotspots and confirmed regions come along and
    take part in comparisons at once. API: $VIZZLY_API_URL (default https://app.vizzly.dev).
    """
    if build_id and comparison_id:
        raise click.UsageError("give a BUILD_ID or --comparison, not both")
    from vizzly_tui.config import load_config
    from vizzly_tui.server.runner import run_async
    from vizzly_tui.store.store import open_store

    project = project_or_create(ctx)
    cfg = load_config(project.root)
    request = download_request(build_id, comparison_id, token, environment, branch)
    from vizzly_tui.cloud.download import download_with_config

    with (
        open_store(project) as store,
        # From the start: the listing request, too, can take a while.
        output.progress_bar("downloading baselines", enabled=not as_json, min_total=0) as bar,
    ):
        data = run_async(download_with_config(store, cfg, request, progress=bar))
    emit(data, as_json, lambda: download_text(data))


def download_text(data: dict[str, Any]) -> str:
    lines = [f"warning: {w}" for w in data.get("warnings", [])]
    lines.append(
        f"Baselines from cloud build {data['buildId']} ({data.get('buildName') or 'unnamed'}): "
        f"{data['downloaded']} downloaded, {data['skipped']} already up to date, "
        f"{data['hotspots']} hotspot(s), {data['regions']} region(s). Undo: vizzly-tui undo"
    )
    return "\n".join(lines)


COMMANDS = (baselines,)
