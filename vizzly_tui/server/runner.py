"""Start and stop a TDD server for `serve` and `run`: port, discovery files, registry, signals.

A server binds 127.0.0.1 only. It tries the configured port (default 47392) and, when that is
taken, the next free one, and says which (upstream never picks another, §10.10). While it
runs, `.vizzly/server.json` tells the SDKs where it is (`port` as a string, as they expect)
and the global registry (`$VIZZLY_HOME/servers.db`) lists it; both are removed on exit,
SIGTERM included.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from filelock import FileLock, Timeout

from vizzly_tui.capture import CaptureSettings, finish_build, start_build
from vizzly_tui.config import Config
from vizzly_tui.errors import ServerError
from vizzly_tui.project import Project
from vizzly_tui.server.app import ServerState, make_app
from vizzly_tui.statuses import BuildStatus, ComparisonStatus
from vizzly_tui.store import files, queries
from vizzly_tui.store.store import Store, open_store

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
PORT_ATTEMPTS = 100
Echo = Callable[[str], None]


@dataclass
class Server:
    state: ServerState
    runner: web.AppRunner
    port: int
    registry: Any | None
    claim: FileLock | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def effective_signature_properties(config: Config) -> tuple[str, ...]:
    """Configured signature properties; when none are configured, those the baselines were
    made with (a cloud download carries them). Otherwise the signatures of new screenshots
    would not match the baselines' file names. The baselines' threshold is NOT taken over
    configuration (upstream does, §10.3)."""
    if config.sources.get("signature_properties", "default") != "default":
        return tuple(config.signature_properties)
    header = queries.get_setting("baseline_metadata") or {}
    from_baselines = header.get("signatureProperties") if isinstance(header, dict) else None
    if isinstance(from_baselines, list) and all(isinstance(p, str) for p in from_baselines):
        return tuple(from_baselines)
    return tuple(config.signature_properties)


def prepare_registry(echo: Echo) -> None:
    """Migrate the registry before the state store starts its writer thread: peewee-migrate
    patches SQL execution process-wide while it replays (sqlite-peewee-migrate.md §2.8)."""
    try:
        from vizzly_tui.server.registry import ensure_registry_schema, vizzly_home

        ensure_registry_schema(vizzly_home())
    except Exception as exc:
        echo(f"warning: server registry unavailable ({exc}); continuing without it")


def _registry(echo: Echo) -> Any | None:
    """The global registry, or None with a warning: the server works without it."""
    try:
        from vizzly_tui.server.registry import Registry

        return Registry.open()
    except Exception as exc:
        echo(f"warning: server registry unavailable ({exc}); continuing without it")
        return None


async def _bind(runner: web.AppRunner, first: int, skip: set[int]) -> int:
    for port in range(first, min(first + PORT_ATTEMPTS, 65536)):
        if port in skip:
            continue
        site = web.TCPSite(runner, HOST, port, reuse_address=False)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise ServerError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from exc
        return port
    raise ServerError(
        f"no free port between {first} and {first + PORT_ATTEMPTS - 1}; choose one with --port"
    )


def warm_engine() -> threading.Thread:
    """Import the diff engine (numpy, scipy: ~0.9 s) in the background once the server
    listens: /health answers at once, and the first screenshot rarely waits for the import
    (if it comes sooner, Python's import lock makes it wait for this one to finish)."""

    def load() -> None:
        # Before any comparison, off the start-up path (ctypes costs a few ms to load): the
        # comparisons' big temporaries go back to the OS when freed (see malloc.py), so a
        # server running for hours stays near what one comparison needs.
        from vizzly_tui import malloc

        malloc.fix_mmap_threshold()
        try:
            import vizzly_tui.engine  # noqa: F401
        except Exception:  # the first screenshot imports it again and reports the error
            log.exception("warming the diff engine failed")

    thread = threading.Thread(target=load, name="vizzly-warm-engine", daemon=True)
    thread.start()
    return thread


def write_server_json(project: Project, port: int, build_uid: str) -> None:
    data = {
        "port": str(port),
        "pid": os.getpid(),
        "startTime": int(time.time() * 1000),
        "buildId": build_uid,
        "failOnDiff": False,
    }
    files.atomic_write(project.vizzly_dir / "server.json", json.dumps(data, indent=2).encode())


def remove_server_json(project: Project) -> None:
    """Remove server.json only if it is ours (another server may have replaced it)."""
    path = project.vizzly_dir / "server.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def claim_project(project: Project) -> FileLock:
    """Held while a server serves the project (released by the OS if it is killed): a second
    server would split the screenshots into two builds, replace the first's server.json and
    write the same current/ files from another process."""
    # A short wait: a command checking for a stale server.json holds it for a moment.
    claim = FileLock(str(project.vizzly_dir / "server.lock"), timeout=2, thread_local=False)
    try:
        claim.acquire()
    except Timeout:
        try:
            info = json.loads((project.vizzly_dir / "server.json").read_text())
            where = f" (pid {info['pid']}, port {info['port']})"
        except (OSError, ValueError, TypeError, KeyError):
            where = ""
        raise ServerError(
            f"another vizzly-tui server is already serving {project.root}{where}. Send your "
            "tests to it (the SDKs find it through .vizzly/server.json), or stop it first."
        ) from None
    return claim


async def start_server(
    store: Store,
    config: Config,
    *,
    kind: str,
    set_baseline: bool = False,
    echo: Echo = print,
    on_screenshot: Callable[[dict[str, Any]], None] | None = None,
) -> Server:
    project = store.project
    if store.writer is None:  # read-only: start_build says why, before any lock file is made
        start_build(store, kind)
    claim = claim_project(project)
    try:
        return await _start_claimed(
            store,
            config,
            kind=kind,
            set_baseline=set_baseline,
            echo=echo,
            on_screenshot=on_screenshot,
            claim=claim,
        )
    except BaseException:
        claim.release()
        raise


async def _start_claimed(
    store: Store,
    config: Config,
    *,
    kind: str,
    set_baseline: bool,
    echo: Echo,
    on_screenshot: Callable[[dict[str, Any]], None] | None,
    claim: FileLock,
) -> Server:
    project = store.project
    for notice in store.notices:  # e.g. an empty state.db was recreated
        echo(f"note: {notice}")
    build = start_build(store, kind)
    settings = CaptureSettings(
        threshold=config.threshold,
        min_cluster_size=config.min_cluster_size,
        signature_properties=effective_signature_properties(config),
        max_pixels=config.max_pixels,
        set_baseline=set_baseline,
    )
    state = ServerState(
        store,
        build.id,
        build.uid,
        settings=settings,
        max_body_bytes=config.max_body_bytes,
        on_screenshot=on_screenshot,
    )
    runner = web.AppRunner(make_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    registry = _registry(echo)
    skip = set()
    if registry is not None:
        with contextlib.suppress(Exception):
            registry.cleanup_stale()  # a crashed server's entry must not block its port
            skip = registry.used_ports()
    try:
        port = await _bind(runner, config.port, skip)
    except BaseException:
        await runner.cleanup()
        if registry is not None:
            registry.close()
        finish_build(store, build.id, BuildStatus.FAILED)
        raise
    state.port = port
    warm_engine()
    if port != config.port:
        echo(f"port {config.port} is in use; using {port}")
    write_server_json(project, port, build.uid)
    if registry is not None:
        try:
            registry.register(
                port=port, pid=os.getpid(), directory=project.root, name=project.root.name
            )
        except Exception as exc:
            echo(f"warning: could not register in the server registry: {exc}")
    return Server(state, runner, port, registry, claim)


async def stop_server(server: Server, *, status: str = BuildStatus.FINISHED) -> None:
    project = server.state.store.project
    remove_server_json(project)
    if server.registry is not None:
        with contextlib.suppress(Exception):
            server.registry.unregister(port=server.port, directory=project.root)
        with contextlib.suppress(Exception):
            server.registry.close()
    try:
        await server.runner.cleanup()
        finish_build(server.state.store, server.state.build_id, status)
    finally:
        if server.claim is not None:
            server.claim.release()


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def screenshot_line(record: dict[str, Any]) -> str:
    marks = {
        ComparisonStatus.NEW: "+",
        ComparisonStatus.PASSED: "✓",
        ComparisonStatus.FAILED: "◐",
        ComparisonStatus.ERROR: "!",
    }
    status = record.get("status", "?")
    extra = ""
    if status == ComparisonStatus.FAILED:
        pct = record.get("diff_percentage")
        extra = f"  {pct:.2f}%" if pct is not None else f"  {record.get('reason')}"
    elif status == ComparisonStatus.ERROR:
        extra = f"  {record.get('error')}"
    return f"  {marks.get(status, '?')} {status:<6} {record['signature']}{extra}"


async def _download_first(store: Store, config: Config, download: Any, echo: Echo) -> None:
    """--baseline-build / --baseline-comparison: install the cloud baselines before serving."""
    if download is None:
        return
    from vizzly_tui.cloud.download import download_with_config

    data = await download_with_config(store, config, download)
    for warning in data["warnings"]:
        echo(f"warning: {warning}")
    echo(
        f"baselines from cloud build {data['buildId']}: {data['downloaded']} downloaded, "
        f"{data['skipped']} up to date, {data['hotspots']} hotspot(s), {data['regions']} region(s)"
    )


async def serve(
    project: Project,
    config: Config,
    *,
    set_baseline: bool,
    echo: Echo,
    download: Any = None,
    token: str | None = None,
) -> int:
    """`vizzly-tui serve`: run until SIGINT/SIGTERM."""
    prepare_registry(echo)
    with open_store(project) as store:
        await _download_first(store, config, download, echo)
        server = await start_server(
            store,
            config,
            kind="serve",
            set_baseline=set_baseline,
            echo=echo,
            on_screenshot=lambda record: echo(screenshot_line(record)),
        )
        server.state.cloud_token = token
        echo(f"vizzly-tui serving {project.root} on {server.url} (build {server.state.build_uid})")
        echo("SDKs find it through .vizzly/server.json or VIZZLY_SERVER_URL. Ctrl-C stops it.")
        try:
            await _stop_event().wait()
        finally:
            await stop_server(server)
        echo("stopped")
    return 0


async def run_command(
    project: Project,
    config: Config,
    command: Sequence[str],
    *,
    set_baseline: bool,
    fail_on_diff: bool,
    echo: Echo,
    download: Any = None,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """`vizzly-tui run -- COMMAND`: serve while COMMAND runs; return (exit code, status data)."""
    prepare_registry(echo)
    with open_store(project) as store:
        await _download_first(store, config, download, echo)
        server = await start_server(store, config, kind="run", set_baseline=set_baseline, echo=echo)
        server.state.cloud_token = token
        env = {
            **os.environ,
            "VIZZLY_SERVER_URL": server.url,
            "VIZZLY_BUILD_ID": server.state.build_uid,
            "VIZZLY_ENABLED": "true",
            "VIZZLY_SET_BASELINE": "true" if set_baseline else "false",
        }
        echo(f"vizzly-tui: server on {server.url}; running {' '.join(command)}")
        stop = _stop_event()
        code = 1
        interrupted = False
        try:
            try:
                proc = await asyncio.create_subprocess_exec(*command, env=env, cwd=os.getcwd())
            except OSError as exc:
                echo(f"error: cannot run {command[0]}: {exc.strerror}")
                code = 127
            else:
                waiter = asyncio.create_task(proc.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():
                    interrupted = True
                    proc.terminate()
                    await proc.wait()
                stopper.cancel()
                code = proc.returncode if proc.returncode is not None else 1
        finally:
            await stop_server(
                server, status=BuildStatus.INTERRUPTED if interrupted else BuildStatus.FINISHED
            )

        data = queries.status_data(queries.get_build(server.state.build_uid))
    if code != 0:
        return (code if code > 0 else 128 - code), data
    if fail_on_diff and data["summary"]["failed"] > 0:
        return 1, data
    return 0, data


def run_async(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        sys.exit(130)
