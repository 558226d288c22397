"""Download a cloud build's baselines and install them as one undoable decision.

1. Fetch the API's description (by build, by comparison, or the latest passed build for an
   environment and branch) and check it (cloud.plan).
2. Fetch every file whose sha256 differs from the baseline already there, five at a time
   (as upstream), and verify each one: its sha256, and a full PNG decode.
3. Only then install: one `download` decision (store.cloud_download) writes the files and
   the rows together. Any failure before step 3 leaves the project exactly as it was.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from vizzly_tui.cloud.plan import CloudError, Entry, Plan, now_iso
from vizzly_tui.project import Project
from vizzly_tui.statuses import BuildStatus
from vizzly_tui.store import files

CONCURRENCY = 5
Progress = Callable[[int, int], None]


@dataclass
class DownloadRequest:
    build_id: str | None = None
    comparison_id: str | None = None
    environment: str = "test"
    branch: str | None = None
    token: str | None = None
    api_url: str | None = None
    timeout_s: float = 30.0


@dataclass
class Fetched:
    plan: Plan
    # signature -> (sha256, size, width, height) of verified bytes already in objects/ (only
    # the files that changed): the bytes are kept there, not in memory, as they arrive.
    blobs: dict[str, tuple[str, int, int | None, int | None]]
    skipped: list[str] = field(default_factory=list)  # signatures already up to date


def default_branch(cwd: str) -> str | None:
    """The remote's default branch as git knows it (upstream's getDefaultBranch), or None."""
    try:
        out = subprocess.run(
            ["git", "symbolic-ref", "--short", "refs/remotes/origin/HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    ref = out.stdout.strip()
    return ref.split("/", 1)[1] if out.returncode == 0 and "/" in ref else None


def _on_disk(project: Project, entry: Entry) -> str | None:
    try:
        return files.sha256_file(project.baselines_dir / entry.file_name)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def verify(entry: Entry, data: bytes, max_pixels: int) -> None:
    """The bytes must be what the API promised, and a whole PNG."""
    from vizzly_tui.engine.decode import verify_png
    from vizzly_tui.engine.errors import EngineError

    got = files.sha256_bytes(data)
    if entry.sha256 is not None and got != entry.sha256:
        raise CloudError(
            f"{entry.file_name}: the downloaded bytes have sha256 {got[:12]}…, the API said "
            f"{entry.sha256[:12]}… (damaged or replaced in transit); nothing was installed"
        )
    try:
        verify_png(data, max_pixels=max_pixels, label=entry.file_name)
    except EngineError as exc:
        raise CloudError(
            f"{entry.file_name} is not a usable PNG ({exc}); nothing was installed"
        ) from None


async def fetch(
    project: Project,
    request: DownloadRequest,
    *,
    signature_properties: tuple[str, ...] = (),
    max_pixels: int = 50_000_000,
    progress: Progress | None = None,
) -> Fetched:
    """Steps 1 and 2: the checked plan and the verified bytes. Writes nothing."""
    try:
        return await _fetch(
            project,
            request,
            signature_properties=signature_properties,
            max_pixels=max_pixels,
            progress=progress,
        )
    except CloudError as exc:
        if "nothing was installed" in str(exc):
            raise
        raise type(exc)(f"{exc}; nothing was installed, the baselines are unchanged") from None


async def _fetch(
    project: Project,
    request: DownloadRequest,
    *,
    signature_properties: tuple[str, ...] = (),
    max_pixels: int = 50_000_000,
    progress: Progress | None = None,
) -> Fetched:
    from vizzly_tui.cloud import plan as plans
    from vizzly_tui.cloud.api import CloudClient, api_url, token_from

    token = token_from(request.token)
    base = request.api_url or api_url()
    async with CloudClient(base, token, timeout_s=request.timeout_s) as client:
        if request.build_id:
            path = f"/api/sdk/builds/{quote(request.build_id, safe='')}/tdd-baselines"
            response = await client.get_json(path)
            plan = plans.plan_from_baselines(response, "build", request.environment, request.branch)
        elif request.comparison_id:
            path = f"/api/sdk/comparisons/{quote(request.comparison_id, safe='')}"
            response = await client.get_json(path)
            plan = plans.plan_from_comparison(
                response, request.comparison_id, list(signature_properties)
            )
        else:
            branch = request.branch or default_branch(str(project.root)) or "main"
            params = {
                "environment": request.environment,
                "branch": branch,
                "status": plans.CLOUD_BUILD_PASSED,
                "limit": "1",
            }
            listing = await client.get_json("/api/sdk/builds", params)
            data = listing.get("data") if isinstance(listing, dict) else None
            if not isinstance(data, list) or not data or not isinstance(data[0], dict):
                raise CloudError(
                    f"no passed build for {request.environment}/{branch} in the Vizzly cloud; "
                    "run a build in normal mode first, or name one with --build"
                )
            build_id = str(data[0].get("id") or "")
            if not build_id:
                raise CloudError("the latest passed build has no id")
            path = f"/api/sdk/builds/{quote(build_id, safe='')}/tdd-baselines"
            response = await client.get_json(path)
            plan = plans.plan_from_baselines(response, "latest", request.environment, branch)
        wanted = [e for e in plan.entries if e.sha256 is None or _on_disk(project, e) != e.sha256]
        skipped = [e.signature for e in plan.entries if e not in wanted]
        blobs: dict[str, tuple[str, int, int | None, int | None]] = {}
        limit = asyncio.Semaphore(CONCURRENCY)
        done = 0

        async def one(entry: Entry) -> None:
            nonlocal done
            async with limit:
                data = await client.download(entry.url, entry.file_name)
            # Decoding and fsync'ing are slow: off the event loop (a server keeps serving).
            await asyncio.to_thread(verify, entry, data, max_pixels)
            # Content-addressed, so an object whose download is then refused is harmless;
            # it becomes a baseline only through the decision.
            sha = await asyncio.to_thread(files.store_object, project, data)
            width, height = files.png_size(data) or (None, None)
            blobs[entry.signature] = (sha, len(data), width, height)
            done += 1
            if progress:
                progress(done, len(wanted))

        try:
            async with asyncio.TaskGroup() as group:
                for entry in wanted:
                    group.create_task(one(entry))
        except* CloudError as errors:
            raise errors.exceptions[0] from None
    return Fetched(plan, blobs, skipped)


def install_arguments(project: Project, fetched: Fetched, threshold: float) -> dict[str, Any]:
    """The keyword arguments of store.cloud_download.begin_download for this download."""
    from vizzly_tui.store.cloud_download import NewBaseline

    plan = fetched.plan
    baselines = []
    for entry in plan.entries:
        stored = fetched.blobs.get(entry.signature)
        if stored is not None:
            sha, size, *wh = stored
            dims = (wh[0], wh[1]) if wh[0] is not None else None
        else:  # up to date: the file already holds these bytes (kept in objects/ for undo)
            data = (project.baselines_dir / entry.file_name).read_bytes()
            sha = files.store_object(project, data)
            if sha != entry.sha256:
                raise CloudError(
                    f"baselines/{entry.file_name} changed during the download; nothing was "
                    "installed, run the download again"
                )
            size = len(data)
            dims = files.png_size(data)
        width, height = dims or (None, None)
        baselines.append(
            NewBaseline(
                entry.signature, entry.name, entry.file_name, sha, size, width, height,
                entry.properties, entry.extra,
            )
        )  # fmt: skip
    downloaded_at = now_iso()
    info = plan.build
    cloud_info = {
        k: info.get(k) for k in ("status", "approvalStatus", "completedAt") if info.get(k)
    }
    cloud_info["downloadedAt"] = downloaded_at
    started = files_time_ms()
    build = {
        "kind": "baseline-cloud",
        "uid": f"baseline:{plan.build_id}",
        "name": info.get("name"),
        "status": BuildStatus.IMPORTED,
        "started_at": started,
        "finished_at": started,
        "branch": info.get("branch"),
        "commit_sha": info.get("commitSha"),
        "commit_message": info.get("commitMessage"),
        "environment": info.get("environment"),
        "cloud_build_id": plan.build_id,
        "cloud_info": cloud_info,
    }
    settings: dict[str, Any] = {}
    if plan.replace:
        build_info = {
            "commitSha": info.get("commitSha"),
            "commitMessage": info.get("commitMessage"),
            "approvalStatus": info.get("approvalStatus"),
            "completedAt": info.get("completedAt"),
        }
        settings["baseline_metadata"] = {
            "buildId": plan.build_id,
            "buildName": info.get("name"),
            "environment": info.get("environment"),
            "branch": info.get("branch"),
            "threshold": threshold,
            "signatureProperties": plan.signature_properties,
            "createdAt": downloaded_at,
            "buildInfo": build_info,
        }
        settings["baseline_build_metadata"] = {
            "buildId": plan.build_id,
            "buildName": info.get("name"),
            "branch": info.get("branch"),
            "environment": info.get("environment"),
            **build_info,
            "downloadedAt": downloaded_at,
        }
    if plan.hotspot_bundle is not None:
        settings["hotspot_bundle"] = plan.hotspot_bundle
    if plan.region_bundle is not None:
        settings["region_bundle"] = plan.region_bundle
    return {
        "build": build,
        "baselines": baselines,
        "replace": plan.replace,
        "hotspots": plan.hotspots or None,
        "regions": plan.regions or None,
        "settings": settings,
    }


def files_time_ms() -> int:
    from vizzly_tui.store.decisions import now_ms

    return now_ms()


def result_data(project: Project, fetched: Fetched, threshold: float) -> dict[str, Any]:
    """Upstream's baselineData shape (fixture d2-baselines-download.json), plus our counts."""
    plan = fetched.plan
    info = plan.build
    return {
        "buildId": plan.build_id,
        "buildName": info.get("name"),
        "environment": info.get("environment"),
        "branch": info.get("branch"),
        "threshold": threshold,
        "signatureProperties": plan.signature_properties,
        "createdAt": now_iso(),
        "buildInfo": {
            "commitSha": info.get("commitSha"),
            "commitMessage": info.get("commitMessage"),
            "approvalStatus": info.get("approvalStatus"),
            "completedAt": info.get("completedAt"),
        },
        "screenshots": [
            {
                "name": e.name,
                "originalName": e.extra.get("originalName"),
                "sha256": e.sha256,
                "id": e.extra.get("id"),
                "filename": e.file_name,
                "path": str(project.baselines_dir / e.file_name),
                "browser": e.properties.get("browser"),
                "viewport_width": e.properties.get("viewport_width"),
                "originalUrl": e.url,
                "fileSize": e.extra.get("fileSize"),
                "dimensions": e.extra.get("dimensions"),
            }
            for e in plan.entries
        ],
        "mode": plan.mode,
        "downloaded": len(fetched.blobs),
        "skipped": len(fetched.skipped),
        "hotspots": len(plan.hotspots),
        "regions": len(plan.regions),
        "warnings": plan.warnings,
    }


async def download_into(
    store: Any,
    request: DownloadRequest,
    *,
    threshold: float,
    max_pixels: int,
    signature_properties: tuple[str, ...],
    actor: str = "cli",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fetch, verify, then install as one decision; upstream's baselineData plus counts."""
    from vizzly_tui import review

    fetched = await fetch(
        store.project,
        request,
        signature_properties=signature_properties,
        max_pixels=max_pixels,
        progress=progress,
    )

    def install() -> Any:
        arguments = install_arguments(store.project, fetched, threshold)
        return review.install_download(store, actor=actor, **arguments)

    result = await asyncio.get_running_loop().run_in_executor(None, install)
    data = result_data(store.project, fetched, threshold)
    data["batch"] = result.batch
    return data


async def download_with_config(
    store: Any, config: Any, request: DownloadRequest, **kwargs: Any
) -> dict[str, Any]:
    """download_into with the project's configuration (threshold, limits, signature props)."""
    from vizzly_tui.server.runner import effective_signature_properties

    return await download_into(
        store,
        request,
        threshold=config.threshold,
        max_pixels=config.max_pixels,
        signature_properties=effective_signature_properties(config),
        **kwargs,
    )
