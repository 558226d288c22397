"""Commands added onto the `vizzly-tui` group: cloud baselines, the baseline listing, the
static report and the background server (`stop`). Registered by cli.py; nothing heavy is
imported before a command runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vizzly_tui.project import Project


def _project(ctx: click.Context) -> Project:
    from vizzly_tui.cli import _project

    return _project(ctx.find_root())


def _emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    from vizzly_tui.cli import _emit

    _emit(data, as_json, text)


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


def progress_bar(enabled: bool) -> tuple[Any, Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal (stderr), else nothing."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task("downloading baselines", total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


# --- baselines ----------------------------------------------------------------------------


def register(main: click.Group) -> None:
    main.add_command(baselines)
    main.add_command(report)
    main.add_command(stop)


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

    with open_store(_project(ctx), write=False) as store:
        if info is not None:
            data: Any = baseline_info(info) if store.exists else None
            if data is None:
                from vizzly_tui.errors import NotFound

                raise NotFound(f"no baseline named {info!r} (give a name or a signature)")
            _emit(data, as_json, lambda: formatting_baseline_info(data))
            return
        rows = list_baselines(pattern) if store.exists else []
    _emit({"baselines": rows}, as_json, lambda: formatting_baselines(rows))


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
    from vizzly_tui.cli import _project_or_create
    from vizzly_tui.config import load_config
    from vizzly_tui.server.runner import run_async
    from vizzly_tui.store.store import open_store

    project = _project_or_create(ctx.find_root())
    cfg = load_config(project.root)
    request = download_request(build_id, comparison_id, token, environment, branch)
    bar, progress = progress_bar(not as_json)
    with open_store(project) as store:
        from vizzly_tui.cloud.download import download_with_config

        if bar is not None:
            bar.start()
        try:
            data = run_async(download_with_config(store, cfg, request, progress=progress))
        finally:
            if bar is not None:
                bar.stop()
    _emit(data, as_json, lambda: download_text(data))


def download_text(data: dict[str, Any]) -> str:
    lines = [f"warning: {w}" for w in data.get("warnings", [])]
    lines.append(
        f"Baselines from cloud build {data['buildId']} ({data.get('buildName') or 'unnamed'}): "
        f"{data['downloaded']} downloaded, {data['skipped']} already up to date, "
        f"{data['hotspots']} hotspot(s), {data['regions']} region(s). Undo: vizzly-tui undo"
    )
    return "\n".join(lines)


# --- report -------------------------------------------------------------------------------


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

    path = write_report(_project(ctx), build_uid=build_uid, out_dir=out_dir)
    _emit({"reportPath": str(path)}, as_json, lambda: f"report: {path}")


# --- the background server ----------------------------------------------------------------


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def stop(ctx: click.Context, as_json: bool) -> None:
    """Stop this project's background server (started with `serve --daemon`)."""
    from vizzly_tui.server.daemon import stop_daemon

    data = stop_daemon(_project(ctx))
    _emit(data, as_json, lambda: _stop_text(data))


def serve_background(
    project: Project, *, show_status: bool, as_json: bool, args: list[str], token: str | None
) -> None:
    """`serve --status` and `serve --daemon`."""
    from vizzly_tui.server import daemon as bg

    if show_status:
        data = bg.status(project)
        _emit(data, as_json, lambda: bg.status_text(data))
        return
    data = bg.start_daemon(project, args, token=token)
    _emit(data, as_json, lambda: bg.start_text(data))


def _stop_text(data: dict[str, Any]) -> str:
    if data["status"] == "stopped":
        return f"stopped the server on port {data.get('port')} (pid {data['pid']})"
    return "no server is running for this project"


# --- helpers for serve and run ------------------------------------------------------------


def serve_args(
    flags: dict[str, Any],
    set_baseline: bool,
    baseline_build: str | None,
    baseline_comparison: str | None,
) -> list[str]:
    """The `serve` arguments the background child gets (everything but --daemon)."""
    args: list[str] = []
    for key in ("port", "threshold", "min_cluster_size", "max_body_bytes"):
        if flags.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", str(flags[key])]
    if set_baseline:
        args.append("--set-baseline")
    if baseline_build:
        args += ["--baseline-build", baseline_build]
    if baseline_comparison:
        args += ["--baseline-comparison", baseline_comparison]
    return args


def startup_download(
    baseline_build: str | None, baseline_comparison: str | None, token: str | None
) -> Any | None:
    if baseline_build and baseline_comparison:
        raise click.UsageError("give --baseline-build or --baseline-comparison, not both")
    if not baseline_build and not baseline_comparison:
        return None
    return download_request(baseline_build, baseline_comparison, token)


def run_report(project: Project, data: dict[str, Any], report_dir: str | None) -> Path | None:
    if report_dir is None:
        return None
    from vizzly_tui.report import write_report

    build = data.get("build") or {}
    out = Path(report_dir)
    if not out.is_absolute():
        out = (project.root / out) if report_dir == ".vizzly/report" else out.resolve()
    return write_report(project, build_uid=build.get("id"), out_dir=out)


def run_json(
    project: Project, data: dict[str, Any], code: int, report_path: Path | None
) -> dict[str, Any]:
    """Upstream's `tdd run --json`: {status, exitCode, comparisons, summary, reportPath}."""
    vizzly = project.vizzly_dir

    def path(url: str | None) -> str | None:
        # Rows hold /images/<folder>/<file> URLs; scripts want the files.
        if not url or not url.startswith("/images/"):
            return None
        return str(vizzly / url.removeprefix("/images/"))

    comparisons = []
    for c in data["comparisons"]:
        props = c.get("properties") or {}
        viewport = props.get("viewport") if isinstance(props.get("viewport"), dict) else None
        if viewport is None and props.get("viewport_width") is not None:
            viewport = {
                "width": props.get("viewport_width"),
                "height": props.get("viewport_height"),
            }
        comparisons.append(
            {
                "name": c["name"],
                "status": c["status"],
                "signature": c["signature"],
                "diffPercentage": c.get("diffPercentage"),
                "threshold": c.get("threshold"),
                "paths": {
                    "baseline": path(c.get("baseline")),
                    "current": path(c.get("current")),
                    "diff": path(c.get("diff")),
                },
                "viewport": viewport,
                "browser": props.get("browser"),
            }
        )
    s = data["summary"]
    return {
        "status": "passed" if code == 0 else "failed",
        "exitCode": code,
        "comparisons": comparisons,
        "summary": {
            "total": s["total"],
            "passed": s["passed"],
            "failed": s["failed"],
            "new": s["new"],
            "errors": s["errors"],
            "rejected": s["rejected"],
        },
        "reportPath": str(report_path) if report_path is not None else None,
        "build": (data.get("build") or {}).get("id"),
    }
