"""The path of one screenshot: identity -> current/ file -> compare with the baseline ->
one writer command that records the comparison (architecture.md, "One screenshot").

The server's POST /screenshot, `run` and the demo all come through here, so a screenshot
gets the same result whichever way it arrives.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import Timeout

from vizzly_tui import identity
from vizzly_tui.config import DEFAULTS
from vizzly_tui.errors import ProjectBusy
from vizzly_tui.statuses import BuildStatus, ComparisonStatus, DecisionState
from vizzly_tui.store import decisions, files
from vizzly_tui.store.decisions import FileChange, now_ms
from vizzly_tui.store.models import (
    Baseline,
    BaselineVersion,
    Build,
    Comparison,
    ComparisonDetail,
    Decision,
    Hotspot,
    Region,
    Setting,
)
from vizzly_tui.store.store import Store

# The baseline metadata header upstream writes with its first local baseline (contract §1.2).
LOCAL_BASELINE_HEADER = {
    "buildId": "local-baseline",
    "buildName": "Local TDD Baseline",
    "environment": "test",
    "branch": "local",
}


@dataclass(frozen=True)
class CaptureSettings:
    threshold: float = 2.0
    min_cluster_size: int = 2
    signature_properties: tuple[str, ...] = ()
    # The configured default (the engine's is the same): the engine itself (numpy, scipy,
    # ~0.9 s) is imported at the first screenshot, not when a server starts.
    max_pixels: int = int(DEFAULTS["max_pixels"])
    set_baseline: bool = False


@dataclass
class CaptureResult:
    status: str  # new | passed | failed | error
    record: dict[str, Any]
    details: dict[str, Any] | None = None
    paths: dict[str, Path] = field(default_factory=dict)


def start_build(store: Store, kind: str, name: str | None = None) -> Build:
    """A new local run (kind `run` or `serve`); it becomes the current build."""

    def command() -> Build:
        started = now_ms()
        uid = f"local-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        return Build.create(kind=kind, uid=uid, name=name, started_at=started)

    return store.call(command)


def finish_build(store: Store, build_id: int, status: str = BuildStatus.FINISHED) -> None:
    store.call(
        lambda: (
            Build.update(status=status, finished_at=now_ms()).where(Build.id == build_id).execute()
        )
    )


def _effective(properties: Mapping[str, Any], settings: CaptureSettings) -> tuple[float, int]:
    # A per-screenshot threshold arrives as properties.threshold (contract §3.5, §5.3).
    # Out-of-range values (negative, NaN, infinite, beyond SQLite's integers) fall back to the
    # configured ones, as upstream falls back for values it does not accept.
    threshold = properties.get("threshold")
    if (
        not isinstance(threshold, int | float)
        or isinstance(threshold, bool)
        or not math.isfinite(threshold)
        or threshold < 0
    ):
        threshold = settings.threshold
    min_cluster = properties.get("minClusterSize")
    if (
        not isinstance(min_cluster, int)
        or isinstance(min_cluster, bool)
        or not 1 <= min_cluster <= 2**31
    ):
        min_cluster = settings.min_cluster_size
    return float(threshold), int(min_cluster)


def _regions_and_hotspot(name: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    regions = [
        {"id": r.region_id, "label": r.label, "x1": r.x1, "y1": r.y1, "x2": r.x2, "y2": r.y2}
        for r in Region.select().where((Region.name == name) & (Region.kind == "confirmed"))
    ]
    hotspot = Hotspot.get_or_none(Hotspot.name == name)
    return regions, (hotspot.data if hotspot is not None else None)


class _BaselineChanged(Exception):
    """The baseline changed (an accept, another capture) while this capture compared."""


# Above this many pixels a comparison holds hundreds of MB: run one such at a time, so a burst
# of big screenshots cannot swap out the user's machine (issue 7, defect 9). Smaller ones
# keep running in parallel beside it.
BIG_PIXELS = 10_000_000


class _BigImageLimiter:
    def __init__(self, slots: int = 1) -> None:
        self._slots = threading.Semaphore(slots)
        self._count = threading.Lock()
        self.waiting = 0  # how many big comparisons wait for the slot (tests read it)

    @contextlib.contextmanager
    def slot(self, pixels: int) -> Iterator[None]:
        if pixels <= BIG_PIXELS:
            yield
            return
        with self._count:
            self.waiting += 1
        self._slots.acquire()
        with self._count:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


BIG_COMPARISONS = _BigImageLimiter()

# A capture waits this long for a review command in another process to finish a decision.
CAPTURE_LOCK_TIMEOUT_S = 30

_LOCKS_GUARD = threading.Lock()
_SIGNATURE_LOCKS: dict[str, threading.Lock] = {}
MAX_ATTEMPTS = 3


def _signature_lock(signature: str) -> threading.Lock:
    # Two screenshots of one signature (a re-send while the first is still compared) must
    # not interleave their current/, baselines/ and row writes.
    with _LOCKS_GUARD:
        return _SIGNATURE_LOCKS.setdefault(signature, threading.Lock())


def capture(
    store: Store,
    build_id: int,
    raw_name: object,
    png: bytes,
    properties: Mapping[str, Any] | None = None,
    settings: CaptureSettings | None = None,
) -> CaptureResult:
    """Record one screenshot in `build_id`. Raises InvalidName or ImageError on bad input."""
    from vizzly_tui.engine import read_png_size
    from vizzly_tui.engine.decode import check_pixel_budget

    settings = settings or CaptureSettings()
    props = dict(properties or {})
    width, height = read_png_size(png)  # rejects non-PNG input before anything is written
    check_pixel_budget(width, height, settings.max_pixels, "image")
    # When the SDK sends no viewport, the signature uses the image's size (contract §3.3).
    viewport = props.get("viewport") if isinstance(props.get("viewport"), dict) else {}
    if props.get("viewport_width") is None:
        props["viewport_width"] = viewport.get("width") or width
    if props.get("viewport_height") is None:
        props["viewport_height"] = viewport.get("height") or height
    name, signature, file_name, cid = identity.identify(
        raw_name, props, settings.signature_properties
    )
    original = raw_name if isinstance(raw_name, str) else str(raw_name)
    # Before the engine writes the diff image: a store that will refuse the rows must not
    # leave a diff that no longer matches the current image its row describes.
    store.ensure_writable()
    with _signature_lock(signature), _released_after():
        for attempt in range(MAX_ATTEMPTS):
            try:
                return _capture_once(
                    store,
                    build_id,
                    (name, original, signature, file_name, cid),
                    png,
                    props,
                    settings,
                    (width, height),
                )
            except _BaselineChanged:
                if attempt == MAX_ATTEMPTS - 1:
                    raise RuntimeError(
                        f"the baseline of {signature} kept changing while it was compared"
                    ) from None
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _released_after() -> Iterator[None]:
    try:
        yield
    finally:
        # A comparison allocates tens of megabytes in several threads, and glibc keeps what
        # each thread's arena freed: give it back, so a long-running server's memory does
        # not settle at the sum of every thread's worst comparison. Imported here: ctypes is
        # not needed by the commands that import this module without capturing anything.
        from vizzly_tui import malloc

        malloc.trim()


def _capture_once(
    store: Store,
    build_id: int,
    ident: tuple[str, str, str, str, str],
    png: bytes,
    props: dict[str, Any],
    settings: CaptureSettings,
    size: tuple[int, int],
) -> CaptureResult:
    from vizzly_tui.engine import (
        DimensionMismatch,
        EngineError,
        ImageError,
        classify,
        compare_bytes,
        read_png_size,
    )
    from vizzly_tui.engine.decode import verify_png

    project = store.project
    name, original, signature, file_name, cid = ident
    threshold, min_cluster = _effective(props, settings)
    current = project.current_dir / file_name
    baseline = project.baselines_dir / file_name
    diff = project.diffs_dir / file_name
    current_sha = files.sha256_bytes(png)
    record: dict[str, Any] = {
        "cid": cid,
        "name": name,
        "original_name": original,
        "signature": signature,
        "file_name": file_name,
        "baseline": f"/images/baselines/{file_name}",
        "current": f"/images/current/{file_name}",
        "diff": None,
        "properties": props,
        "threshold": threshold,
        "min_cluster_size": min_cluster,
        "timestamp": now_ms(),
        "current_sha256": current_sha,
    }
    details: dict[str, Any] | None = None
    try:
        baseline_bytes: bytes | None = baseline.read_bytes()
    except FileNotFoundError:
        baseline_bytes = None
    baseline_sha = files.sha256_bytes(baseline_bytes) if baseline_bytes is not None else None
    baseline_change: FileChange | None = None
    if settings.set_baseline or baseline_bytes is None:
        # Decode it whole first: a truncated PNG must be refused, not become a baseline that
        # every later screenshot fails against.
        with BIG_COMPARISONS.slot(size[0] * size[1]):
            verify_png(png, max_pixels=settings.max_pixels, label="image")
        # The new baseline is written through the decision protocol (pending row, file, done),
        # so a crash between the file and the rows is finished by the next start.
        files.store_object(project, png, current_sha)
        if baseline_bytes is not None:
            files.store_object(project, baseline_bytes, baseline_sha)
        baseline_change = FileChange(f"baselines/{file_name}", baseline_sha, current_sha)
        record["status"] = ComparisonStatus.NEW
        record["baseline_sha256"] = current_sha
    else:
        record["baseline_sha256"] = baseline_sha
        # History keeps the pair this comparison was made from (usually already there).
        files.keep_object(project, baseline_bytes, baseline_sha)
        pixels = size[0] * size[1]
        with contextlib.suppress(EngineError):  # a broken baseline is reported by compare
            width, height = read_png_size(baseline_bytes)
            pixels = max(pixels, width * height)
        try:
            with BIG_COMPARISONS.slot(pixels):
                result = compare_bytes(
                    baseline_bytes,
                    png,
                    threshold=threshold,
                    min_cluster_size=min_cluster,
                    diff_path=diff,
                    max_pixels=settings.max_pixels,
                    background_diff=True,  # the SDK's answer does not wait for the diff image
                )
        except DimensionMismatch as exc:
            record.update(
                status=ComparisonStatus.FAILED, reason="dimension-mismatch", error=str(exc)
            )
        except EngineError as exc:
            if str(exc).startswith("current image"):
                # The sender's image is broken: a 400 for them, and nothing written.
                raise ImageError(str(exc).replace("current image", "image", 1)) from exc
            # The stored baseline is broken.
            record.update(status=ComparisonStatus.ERROR, error=str(exc))
        else:
            record.update(_result_fields(result))
            if result.is_different:
                regions, hotspot = _regions_and_hotspot(name)
                verdict = classify(result, regions=regions or None, hotspot=hotspot)
                record.update(status=verdict.status, reason=verdict.reason)
                record["diff"] = f"/images/diffs/{file_name}"
                details = _details(result, verdict)
            else:
                record["status"] = ComparisonStatus.PASSED
    record["has_diff_clusters"] = bool(details and details.get("diff_clusters"))
    record["has_confirmed_regions"] = bool(details and details.get("confirmed_regions"))
    store.call(
        _record,
        store,
        (build_id, record, details, baseline_change),
        (*size, len(png)),
        settings.signature_properties,
        baseline,
        baseline_sha,
        (current, png),
        # From now, not from when the writer gets to it: screenshots queued behind one that
        # waits for a suspended lock holder must not each wait the whole timeout in turn.
        time.monotonic() + CAPTURE_LOCK_TIMEOUT_S,
        transaction=False,
    )
    return CaptureResult(
        record["status"],
        record,
        details,
        {"current": current, "baseline": baseline, "diff": diff},
    )


def _result_fields(result: Any) -> dict[str, Any]:
    data = result.to_vizzly_dict()
    return {
        "diff_percentage": data.get("diffPercentage"),
        "diff_count": data.get("diffPixels"),
        "total_pixels": data.get("totalPixels"),
        "aa_pixels_ignored": data.get("aaPixelsIgnored"),
        "aa_percentage": data.get("aaPercentage"),
        "height_diff": data.get("heightDiff"),
    }


def _details(result: Any, verdict: Any) -> dict[str, Any]:
    data = result.to_vizzly_dict()
    return {
        "diff_clusters": data.get("diffClusters"),
        "intensity_stats": data.get("intensityStats"),
        "bounding_box": data.get("boundingBox"),
        "region_analysis": verdict.region_analysis,
        "hotspot_analysis": verdict.hotspot_analysis,
        "confirmed_regions": verdict.confirmed_regions,
    }


def _record(
    store: Store,
    result: tuple[int, dict[str, Any], dict[str, Any] | None, FileChange | None],
    image: tuple[int, int, int],
    signature_properties: tuple[str, ...],
    baseline_path: Path,
    compared_with: str | None,
    current: tuple[Path, bytes],
    deadline: float,
) -> None:
    """On the writer thread, under the project lock (like every review decision): the rows,
    and for a new baseline its file and `done`. Holding the lock means a review command in
    another process is never between its pending row and its files while we check the
    baseline (issue 7, defect 1), and a command starting elsewhere never mistakes this live
    capture for a crashed one (defect 2). Lock first, then the transaction: the reverse
    order could deadlock against a process holding the lock and waiting for SQLite."""
    project = store.project
    assert store.db is not None
    lock = decisions.project_lock(project, timeout=max(0.0, deadline - time.monotonic()))
    try:
        lock.acquire()
    except Timeout as exc:
        raise ProjectBusy(
            f"another vizzly-tui process held {project.lock_path} for the "
            f"{CAPTURE_LOCK_TIMEOUT_S:g} s this screenshot could wait (a suspended command?); "
            "the screenshot was not recorded"
        ) from exc
    try:
        with store.db.atomic():
            decision_id = _upsert(
                *result, image, signature_properties, baseline_path, compared_with
            )
            # current/ changes with its row, under the lock: a capture that fails (the lock
            # not free in time, a changed baseline, a full disk) leaves the old file with the
            # old row, and a review command never sees a current file its row does not describe.
            # History keeps these bytes too (objects/<sha256>.png, a hard link: no copy).
            files.keep_current(project, current[0], current[1], result[1]["current_sha256"])
        if decision_id is None:
            return
        try:
            decisions.apply_files(project, Decision.get_by_id(decision_id))
        except Exception:
            # A failed write (disk full...) changes nothing: no rows claiming a missing file.
            with store.db.atomic():
                decisions.rollback(project, Decision.get_by_id(decision_id))
            raise
        with store.db.atomic():
            Decision.update(state=DecisionState.DONE).where(Decision.id == decision_id).execute()
    finally:
        lock.release()


def _upsert(
    build_id: int,
    record: dict[str, Any],
    details: dict[str, Any] | None,
    baseline_change: FileChange | None,
    image: tuple[int, int, int],
    signature_properties: tuple[str, ...],
    baseline_path: Path,
    compared_with: str | None,
) -> int | None:
    """One transaction: the comparison (re-sent in the same build: replaced, first status
    kept as initial_status), its details, and for a new baseline its row, its version and
    the pending `capture` decision whose id is returned (the file is written after)."""
    try:
        now_sha: str | None = files.sha256_file(baseline_path)
    except FileNotFoundError:
        now_sha = None
    if now_sha != compared_with:
        # The baseline file changed while we compared (an accept here or in another process):
        # this result describes pixels that are no longer the baseline. Compare again. Inside
        # this transaction no other writer can commit, so an accept that writes the file after
        # this check completes after us and its status wins, as it should.
        raise _BaselineChanged
    existing = Comparison.get_or_none(
        (Comparison.build == build_id) & (Comparison.signature == record["signature"])
    )
    values = {**record, "updated_at": now_ms()}
    for column in (
        "reason",
        "error",
        "diff_percentage",
        "diff_count",
        "total_pixels",
        "aa_pixels_ignored",
        "aa_percentage",
        "height_diff",
    ):
        values.setdefault(column, None)
    if existing is None:
        pk = Comparison.insert(build=build_id, initial_status=record["status"], **values).execute()
    else:
        pk = existing.id
        Comparison.update(**values).where(Comparison.id == pk).execute()
    ComparisonDetail.delete().where(ComparisonDetail.comparison == pk).execute()
    if details:
        ComparisonDetail.insert(comparison=pk, **details).execute()
    decision_id = None
    if baseline_change is not None:
        sha = baseline_change.after
        decision = decisions.begin(
            batch=uuid.uuid4().hex,
            action="capture",
            actor="http",
            build=build_id,
            comparison=pk,
            cid=record["cid"],
            signature=record["signature"],
            name=record["name"],
            status_after=ComparisonStatus.NEW,
            baseline_sha_before=baseline_change.before,
            baseline_sha_after=sha,
            changes=[baseline_change],
        )
        decision_id = decision.id
        width, height, size = image
        row = {
            "name": record["name"],
            "file_name": record["file_name"],
            "sha256": sha,
            "width": width,
            "height": height,
            "size": size,
            "properties": record["properties"],
            "updated_at": now_ms(),
        }
        if not Baseline.update(**row).where(Baseline.signature == record["signature"]).execute():
            Baseline.create(signature=record["signature"], **row)
        BaselineVersion.create(
            signature=record["signature"],
            sha256=sha,
            size=size,
            created_at=now_ms(),
            decision=decision_id,
            source="new",
        )
        if not Setting.select().where(Setting.key == "baseline_metadata").exists():
            created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            header = {
                **LOCAL_BASELINE_HEADER,
                "threshold": record["threshold"],
                "signatureProperties": list(signature_properties),
                "createdAt": created,
            }
            Setting.create(key="baseline_metadata", value=header, updated_at=now_ms())
    return decision_id
