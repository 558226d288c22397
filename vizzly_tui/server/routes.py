"""The HTTP routes of the TDD server, with upstream's bodies and status codes (contract §5).

Deviations, on purpose: an unknown comparison id is 404 everywhere (upstream: 500 for
accept/reject, §10.15); /images serves only the three image folders of this project's
`.vizzly/` (upstream: anything under the process's cwd, §10.12).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from vizzly_tui import capture as capture_module
from vizzly_tui import review
from vizzly_tui.capture import LOCAL_BASELINE_HEADER, capture
from vizzly_tui.errors import (
    CorruptDatabase,
    DiskFull,
    NotFound,
    ProjectBusy,
    VizzlyError,
    disk_full_message,
    is_disk_full,
)
from vizzly_tui.identity import InvalidName
from vizzly_tui.server import inputs
from vizzly_tui.server.security import json_error, read_json
from vizzly_tui.statuses import ComparisonStatus
from vizzly_tui.store import files, queries
from vizzly_tui.store.models import Baseline, Comparison, Decision

if TYPE_CHECKING:
    from vizzly_tui.server.app import ServerState

STATE: web.AppKey[Any] = web.AppKey("vizzly_state")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE_HEADERS = {
    "Content-Type": "image/png",
    "Cache-Control": "no-store, no-cache, must-revalidate",
}


# --- report data (also the SSE snapshot) --------------------------------------------------


def baseline_metadata(state: ServerState) -> dict[str, Any] | None:
    """The baseline metadata object upstream attaches as `baseline` (contract §1.2 shape)."""
    header = queries.get_setting("baseline_metadata")
    rows = list(Baseline.select().order_by(Baseline.id))
    if header is None and not rows:
        return None
    header = dict(header or LOCAL_BASELINE_HEADER)
    header.setdefault("threshold", state.settings.threshold)
    header.setdefault("signatureProperties", list(state.settings.signature_properties))
    baselines = state.store.project.baselines_dir
    header["screenshots"] = [
        {
            "name": row.name,
            "properties": row.properties,
            "path": str(baselines / row.file_name),
            "signature": row.signature,
        }
        for row in rows
    ]
    return header


def _upstream_summary(counts: dict[str, int]) -> dict[str, int]:
    # upstream's buildSummary: `passed` includes new (contract §2.5, §10.2).
    return {
        "total": counts["total"],
        "passed": counts["passed"] + counts["new"],
        "failed": counts["failed"],
        "rejected": counts["rejected"],
        "errors": counts["errors"],
    }


def _ever_recorded() -> bool:
    return Comparison.select().exists() or Decision.select().exists()


def report_snapshot(state: ServerState) -> dict[str, Any] | None:
    """`/api/report-data` for the current build; None before anything was recorded."""
    build = queries.current_build()
    if build is None:
        return None
    rows = queries.list_comparisons(build.id, sort="time", limit=None)
    rows.sort(key=lambda c: (c.timestamp, c.updated_at, c.id))
    if not rows and not _ever_recorded():
        # Upstream answers null until the first screenshot; after a reset or the deletion
        # of the last comparison it answers an empty list (so SSE clients see the removals).
        return None
    timestamp = max((c.updated_at for c in rows), default=build.started_at)
    return {
        "timestamp": timestamp,
        "comparisons": [queries.comparison_record(c) for c in rows],
        "summary": _upstream_summary(queries.summary(build.id)),
        "baseline": baseline_metadata(state),
    }


# --- our errors as HTTP answers -----------------------------------------------------------


@functools.cache
def _error_statuses() -> tuple[tuple[type[Exception], int], ...]:
    """Each of our error types and the status it is answered with, first match wins (a
    subclass before its base). One table for every route, so the same error gets the same
    answer whichever route met it."""
    # Imported on first use: the server starts without the cloud client.
    from vizzly_tui.cloud.api import CloudAuthError
    from vizzly_tui.cloud.plan import CloudError

    return (
        # 507 Insufficient Storage: not our fault, and the client may retry once space is freed.
        (DiskFull, 507),
        (NotFound, 404),
        (review.StaleComparison, 409),  # the screenshot changed since it was compared
        (CorruptDatabase, 503),  # a damaged state.db: the writer no longer writes to it
        (ProjectBusy, 503),  # another process held the lock too long: retry later
        (CloudAuthError, 401),
        (CloudError, 502),  # the cloud refused or sent something unusable
        (VizzlyError, 500),  # e.g. stopped part-way: the message says what stayed applied
    )


def error_status(exc: Exception) -> int:
    """The HTTP status for `exc`: its row of the table, 503 for damage SQLite reported to a
    reader (the writer turns what it meets into CorruptDatabase), 500 for anything else."""
    from vizzly_tui.store.bootstrap import is_damage

    found = next((status for kind, status in _error_statuses() if isinstance(exc, kind)), None)
    if found is not None:
        return found
    return 503 if is_damage(exc) else 500


def error_response(
    exc: Exception,
    *,
    failed: str | None = None,
    folder: Path | None = None,
    lost: str = "nothing was changed",
    **extra: Any,
) -> web.Response:
    """`{"error": message}` with the status of `error_status`. `failed`: the message of a 500
    on routes where upstream sends a fixed one (`Failed to accept baseline`) or a prefix.
    An error that a full disk under `folder` explains (SQLite says "disk I/O error") is a 507
    that says so, with `lost`: what the request did not do."""
    if not isinstance(exc, DiskFull) and is_disk_full(exc, folder):
        return json_error(507, disk_full_message(folder or ".vizzly/", lost), **extra)
    status = error_status(exc)
    message = failed if status == 500 and failed is not None else str(exc)
    return json_error(status, message, **extra)


# --- SDK routes ---------------------------------------------------------------------------


def _screenshot_body(state: ServerState, result: Any, name: str) -> tuple[int, dict[str, Any]]:
    record, paths = result.record, result.paths
    common = {"name": name, "baseline": str(paths["baseline"]), "current": str(paths["current"])}
    status = result.status
    # The SDK's words: `new`, `match` for passed, `diff` for failed (contract §5.3).
    if status == ComparisonStatus.NEW:
        return 200, {"status": ComparisonStatus.NEW, **common, "tddMode": True}
    if status == ComparisonStatus.PASSED:
        return 200, {"status": "match", **common, "tddMode": True}
    if status == ComparisonStatus.FAILED:
        body = {
            "status": "diff",
            "name": name,
            "message": f"Visual difference detected for '{name}'",
            **{k: v for k, v in common.items() if k != "name"},
            "diff": str(paths["diff"]) if record.get("diff") else None,
        }
        if record.get("diff_percentage") is not None:
            body["diffPercentage"] = record["diff_percentage"]
        body["threshold"] = record["threshold"]
        body["tddMode"] = True
        return 200, body
    return 500, {"error": f"Comparison failed: {record.get('error')}", "tddMode": True}


_OBJECT_REPR = re.compile(r"\s*<[\w.]+ object at 0x[0-9a-fA-F]+>")


def _readable(message: str) -> str:
    """Pillow names the in-memory file it was given (`<_io.BytesIO object at 0x…>`), which
    means nothing to the sender: drop it, keep the reason."""
    return _OBJECT_REPR.sub("", message).replace("image file:", "image:")


def _pixels(png: bytes) -> int:
    # Imported here: the server starts without the engine (it loads after the first listen).
    from vizzly_tui.engine import ImageError, read_png_size

    try:
        width, height = read_png_size(png)
    except ImageError:
        return 0  # capture refuses it with the reason
    return width * height


async def screenshot(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    body = await read_json(request, state.max_body_bytes)
    try:
        # Off the event loop: decoding a large base64 body must not delay /health.
        req = await state.run(
            inputs.parse_screenshot,
            body,
            base_dir=state.store.project.root,
            max_image_bytes=state.max_body_bytes,
        )
    except inputs.RequestError as exc:
        return web.json_response(exc.body, status=exc.status)
    try:
        # A big screenshot waits for its turn here, not on a comparison thread: waiting
        # there, a burst of big ones would take every thread and starve the small ones.
        gate = state.big_gate if _pixels(req.image) > capture_module.BIG_PIXELS else None
        async with gate or contextlib.nullcontext():
            result = await state.run(
                capture,
                state.store,
                state.build_id,
                req.raw_name,
                req.image,
                req.properties,
                state.settings,
            )
    except InvalidName as exc:
        return web.json_response(
            {"error": "Invalid screenshot name", "details": str(exc), "tddMode": True}, status=400
        )
    except Exception as exc:
        # Imported here: capture has loaded the engine by the time it raises.
        from vizzly_tui.engine import ImageError

        if isinstance(exc, ImageError):
            return web.json_response(
                {"error": f"Invalid image: {_readable(str(exc))}", "tddMode": True}, status=400
            )
        return error_response(
            exc,
            failed=f"Failed to process screenshot: {exc}",
            folder=state.store.project.vizzly_dir,
            lost="the screenshot was not recorded",
        )
    status, payload = _screenshot_body(state, result, req.name)
    if state.on_screenshot is not None:
        state.on_screenshot(result.record)
    return web.json_response(payload, status=status)


async def flush(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    counts = await state.read(queries.summary, state.build_id)
    summary = {k: counts[k] for k in ("total", "passed", "failed", "new", "errors")}
    return web.json_response({"success": True, "summary": summary})


def _health_data(state: ServerState) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Counts and the baseline's name only: /health is polled, it must stay cheap."""
    build = queries.current_build()
    counts = queries.summary(build.id) if build is not None else None
    stats = None
    if counts is not None and counts["total"]:
        s = _upstream_summary(counts)
        stats = {
            "total": s["total"],
            "passed": s["passed"],
            "failed": s["failed"],
            "errors": s["errors"],
        }
    header = queries.get_setting("baseline_metadata")
    baseline = None
    if header is not None:
        baseline = {"buildName": header.get("buildName"), "createdAt": header.get("createdAt")}
    return baseline, stats


async def health(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    problem = None
    try:
        # Not refused when state.db moved: `stop` and `serve --status` must still find us.
        baseline, stats = await state.read(_health_data, state, current=False)
    except Exception as exc:
        # The process is alive and answering: /health says so, with what it cannot read (a
        # state.db deleted under it, damage). Scripts and `serve --status` poll this route.
        baseline, stats, problem = None, None, str(exc) or type(exc).__name__
    return web.json_response(
        {
            "status": "ok",
            "port": state.port,
            "uptime": time.monotonic() - state.started,
            "mode": "tdd",
            "baseline": baseline,
            "stats": stats,
            # Not upstream's: lets `stop`/`serve --status` tell this server from a process
            # that took over its pid or port after a kill -9.
            "pid": os.getpid(),
            **({"problem": problem} if problem else {}),
        }
    )


# --- dashboard API ------------------------------------------------------------------------


async def report_data(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    try:
        snapshot = await state.read(report_snapshot, state)
    except VizzlyError as exc:  # a known cause (the database moved) is said, not hidden
        return error_response(exc)
    except Exception:
        return json_error(500, "Failed to read report data")
    return web.json_response(snapshot)


def _comparison(state: ServerState, key: str) -> dict[str, Any] | None:
    build = queries.current_build()
    if build is None:
        return None
    found = queries.find_comparison(build.id, key)
    if found is None:
        return {}
    return {**queries.comparison_record(found), **(queries.comparison_details(found) or {})}


async def comparison(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    key = request.match_info["key"]  # aiohttp has already percent-decoded it (`|` in signatures)
    data = await state.read(_comparison, state, key)
    if data is None:
        return json_error(404, "No report data found")
    if not data:
        return json_error(404, "Comparison not found")
    return web.json_response(data)


def _exists(cid: str) -> bool:
    """An exact comparison id in the current build (these routes never match names)."""
    build = queries.current_build()
    return (
        build is not None
        and Comparison.select()
        .where((Comparison.build == build.id) & (Comparison.cid == cid))
        .exists()
    )


async def _requested_id(
    request: web.Request, state: ServerState, missing: str
) -> str | web.Response:
    """The `{"id": ...}` of a review request, or the error response to send instead."""
    body = await read_json(request, state.max_body_bytes)
    cid = body.get("id") if isinstance(body, dict) else None
    if not isinstance(cid, str) or not cid:
        return json_error(400, missing)
    if not await state.read(_exists, cid):
        return json_error(404, f"Comparison not found with ID: {cid}")
    return cid


async def _review_request(request: web.Request, action: str) -> web.Response:
    state: ServerState = request.app[STATE]
    cid = await _requested_id(request, state, "Comparison ID required")
    if isinstance(cid, web.Response):
        return cid
    store = state.store
    try:
        if action == "accept":
            await state.run(review.accept, store, [cid], actor="http")
            message = f"Baseline accepted for comparison {cid}"
        elif action == "reject":
            await state.run(review.reject, store, [cid], actor="http")
            message = f"Changes rejected for comparison {cid}"
        else:
            await state.run(review.delete, store, [cid], actor="http")
            message = f"Comparison {cid} deleted"
    except VizzlyError as exc:
        return error_response(exc)
    return web.json_response({"success": True, "message": message})


async def accept(request: web.Request) -> web.Response:
    return await _review_request(request, "accept")


async def reject(request: web.Request) -> web.Response:
    return await _review_request(request, "reject")


async def delete(request: web.Request) -> web.Response:
    return await _review_request(request, "delete")


async def accept_all(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    try:
        result = await state.run(review.accept, state.store, all_=True, actor="http")
    except VizzlyError as exc:
        return error_response(exc)
    body: dict[str, Any] = {
        "success": True,
        "message": f"Accepted {result.count} baselines",
        "count": result.count,
    }
    if result.skipped:
        body["message"] += f"; skipped {len(result.skipped)} captured again meanwhile"
        body["skipped"] = result.skipped
    return web.json_response(body)


async def reset(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    try:
        await state.run(review.reset, state.store, actor="http")
    except VizzlyError as exc:
        return error_response(exc)
    # Upstream's wording; here the reset can in fact be reversed with `vizzly-tui undo`.
    return web.json_response({"success": True, "message": "Baselines reset to previous state"})


async def legacy_accept(request: web.Request) -> web.Response:
    """The legacy `POST /accept-baseline {id}` some SDK versions still call."""
    state: ServerState = request.app[STATE]
    cid = await _requested_id(request, state, "comparison ID is required")
    if isinstance(cid, web.Response):
        return cid
    try:
        result = await state.run(review.accept, state.store, [cid], actor="http")
    except VizzlyError as exc:
        return error_response(exc, failed="Failed to accept baseline")
    name = result.items[0]["name"] if result.items else cid
    return web.json_response(
        {
            "success": True,
            "name": name,
            "status": "accepted",
            "message": f"Baseline accepted for '{name}'",
        }
    )


async def image(request: web.Request) -> web.StreamResponse:
    state: ServerState = request.app[STATE]
    folder, file_name = request.match_info["folder"], request.match_info["file"]
    project = state.store.project
    try:
        relative = files.relative_image_path(project, folder, file_name)
        path = files.resolve_in_vizzly(project, relative)
    except ValueError:
        return json_error(404, "Image not found")
    if folder == "diffs" and "vizzly_tui.engine" in sys.modules:
        # A diff image is written just after its comparison answered: wait for it.
        from vizzly_tui.engine import pending_diff

        pending = pending_diff(path)
        if pending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.wrap_future(pending), 30)
        # Only a regular PNG file whose resolved path is inside one of the three image folders: a
    # symlink such as current/x.png -> ../state.db must not hand out the database (issue 7),
    # nor a hard link to it (same inode, no path to check), hence the PNG signature.
    base = project.vizzly_dir.resolve()
    try:
        found = path.parent in {base / name for name in files.IMAGE_FOLDERS} and stat.S_ISREG(
            path.stat().st_mode
        )
        if found:
            with path.open("rb") as fh:
                found = fh.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError:  # missing, or a name longer than the filesystem allows
        found = False
    if not found:
        return json_error(404, "Image not found")
    return web.FileResponse(path, headers=IMAGE_HEADERS)


async def events(request: web.Request) -> web.StreamResponse:
    state: ServerState = request.app[STATE]
    assert state.hub is not None
    return await state.hub.handle(request)


def register(app: web.Application, state: ServerState) -> None:
    app[STATE] = state
    r = app.router
    r.add_get("/health", health)
    r.add_post("/screenshot", screenshot)
    r.add_post("/flush", flush)
    r.add_post("/accept-baseline", legacy_accept)
    r.add_get("/api/report-data", report_data)
    r.add_get("/api/comparison/{key:.+}", comparison)
    r.add_post("/api/baseline/accept", accept)
    r.add_post("/api/baseline/accept-all", accept_all)
    r.add_post("/api/baseline/reject", reject)
    r.add_post("/api/baseline/delete", delete)
    r.add_post("/api/baseline/reset", reset)
    r.add_get("/api/events", events)
    r.add_get("/images/{folder}/{file}", image)
    from vizzly_tui.server import cloud_routes  # POST /api/baselines/download

    cloud_routes.register(app)
