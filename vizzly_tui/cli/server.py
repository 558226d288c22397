"""The SDK server from the command line: `serve` (also in the background), `run -- CMD`
and `stop`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vizzly_tui import formatting
from vizzly_tui.cli import baselines as cloud
from vizzly_tui.cli import output
from vizzly_tui.cli.common import echo_line, emit, note, project_of, project_or_create
from vizzly_tui.project import Project


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

    project = project_or_create(ctx)
    # Before anything can fail: a dead server's server.json must not outlive this attempt.
    stale = discard_stale_server_json(project)
    if stale:
        note(stale)
    keys = ("port", "threshold", "min_cluster_size", "max_body_bytes")
    return project, load_config(project.root, flags={k: flags.get(k) for k in keys})


@click.command()
@_server_options
@cloud.cloud_options
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
        serve_background(
            project_or_create(ctx),
            show_status=show_status,
            as_json=as_json,
            args=serve_args(flags, set_baseline, baseline_build, baseline_comparison),
            token=token,
        )
        return
    from vizzly_tui.server.runner import run_async
    from vizzly_tui.server.runner import serve as serve_forever

    project, cfg = _server_config(ctx, flags)
    echo = echo_line
    download = cloud.startup_download(baseline_build, baseline_comparison, token)
    sys.exit(
        run_async(
            serve_forever(
                project, cfg, set_baseline=set_baseline, echo=echo, download=download, token=token
            )
        )
    )


@click.command(context_settings={"ignore_unknown_options": True})
@_server_options
@cloud.cloud_options
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
    echo = (lambda _line: None) if as_json else (lambda line: echo_line(line, err=True))
    code, data = run_async(
        run_command(
            project,
            cfg,
            command,
            set_baseline=set_baseline,
            fail_on_diff=not no_fail_on_diff,
            echo=echo,
            download=cloud.startup_download(baseline_build, baseline_comparison, token),
            token=token,
        )
    )
    report_path = run_report(project, data, report_dir)
    if as_json:
        emit(run_json(project, data, code, report_path), True, str)
    else:
        report_line = f"\nreport: {report_path}" if report_path is not None else ""
        emit(
            data,
            False,
            lambda: formatting.run_summary_text(data) + report_line,
            lambda: output.run_summary_view(data, report_path),
        )
    sys.exit(code)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def stop(ctx: click.Context, as_json: bool) -> None:
    """Stop this project's background server (started with `serve --daemon`)."""
    from vizzly_tui.server.daemon import stop_daemon

    data = stop_daemon(project_of(ctx))
    emit(data, as_json, lambda: _stop_text(data))


def serve_background(
    project: Project, *, show_status: bool, as_json: bool, args: list[str], token: str | None
) -> None:
    """`serve --status` and `serve --daemon`."""
    from vizzly_tui.server import daemon as bg

    if show_status:
        data = bg.status(project)
        emit(data, as_json, lambda: bg.status_text(data))
        return
    data = bg.start_daemon(project, args, token=token)
    emit(data, as_json, lambda: bg.start_text(data))


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


COMMANDS = (serve, run, stop)
