"""Review actions the app added: restore an older baseline version, add or delete a local
ignore region (re-exported from vizzly_tui.review; same rules as accept/reject there).

Each runs on the store's writer thread, blocks until done, goes through the crash-safe
decision protocol (pending -> files -> done), is logged, and is undone by `review.undo`.

A local region is a confirmed region with source `local`: capture's auto-pass rule reads
every confirmed region of the screenshot name, so it applies to every later comparison of
that name. With `recompare`, a comparison of the current build is compared again at once
with the regions as they will be, and its status and numbers change in the same decision.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vizzly_tui.errors import NotFound, UsageError
from vizzly_tui.review import (
    ActionResult,
    StaleComparison,
    _check_actor,
    _keep,
    _removal_step,
    _run_batch,
)
from vizzly_tui.statuses import ComparisonStatus
from vizzly_tui.store import decisions, files, queries
from vizzly_tui.store.decisions import FileChange, now_ms
from vizzly_tui.store.models import (
    Baseline,
    BaselineVersion,
    Comparison,
    ComparisonDetail,
    Decision,
    Hotspot,
    Region,
)
from vizzly_tui.store.store import Store

# How far a region made from a diff cluster reaches past the cluster, in pixels: clusters of
# the next run rarely land on exactly the same pixels (anti-aliased edges move by one or two).
REGION_PADDING = 4
_DETAIL_FIELDS = (
    "diff_clusters",
    "intensity_stats",
    "bounding_box",
    "region_analysis",
    "hotspot_analysis",
    "confirmed_regions",
)
_RESULT_FIELDS = (
    "status",
    "reason",
    "error",
    "diff",
    "diff_percentage",
    "diff_count",
    "total_pixels",
    "aa_pixels_ignored",
    "aa_percentage",
    "height_diff",
    "has_diff_clusters",
    "has_confirmed_regions",
    "baseline_sha256",
)


# --- boxes --------------------------------------------------------------------------------


def region_corners(box: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) from a region box, a box {x, y, width, height} or an engine diff
    cluster ({"boundingBox": {...}}); a clear error naming what is wrong otherwise."""
    if isinstance(box, Mapping) and isinstance(box.get("boundingBox"), Mapping):
        box = box["boundingBox"]  # an engine diff cluster
    if not isinstance(box, Mapping):
        raise UsageError(f"a region box must be a mapping, not {type(box).__name__}")
    if all(k in box for k in ("x1", "y1", "x2", "y2")):
        x1, y1, x2, y2 = (_coordinate(box, k) for k in ("x1", "y1", "x2", "y2"))
    elif all(k in box for k in ("x", "y", "width", "height")):
        x, y, w, h = (_coordinate(box, k) for k in ("x", "y", "width", "height"))
        x1, y1, x2, y2 = x, y, x + w, y + h
    else:
        raise UsageError("a region box needs x1, y1, x2, y2 (or x, y, width, height)")
    if x2 < x1 or y2 < y1:
        raise UsageError(f"region box ({x1}, {y1}, {x2}, {y2}) has its corners reversed")
    return x1, y1, x2, y2


def _coordinate(box: Mapping[str, Any], key: str) -> int:
    value = box[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"region box {key} must be a number, not {value!r}")
    if value < 0 or value > 1_000_000:
        raise UsageError(f"region box {key} = {value} is outside 0..1000000")
    return int(value)


def padded_box(
    box: Mapping[str, Any],
    *,
    pad: int = REGION_PADDING,
    width: int | None = None,
    height: int | None = None,
) -> dict[str, int]:
    """The region the app proposes for a diff cluster: its box grown by `pad` pixels on
    every side, kept inside the image when its size is given. Show it, then save it with
    `add_region` unchanged, so what the user saw is what is stored."""
    x1, y1, x2, y2 = region_corners(box)
    x1, y1, x2, y2 = max(0, x1 - pad), max(0, y1 - pad), x2 + pad, y2 + pad
    if width is not None:
        x2 = min(x2, max(0, width - 1))
    if height is not None:
        y2 = min(y2, max(0, height - 1))
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2}


# --- restore a baseline version -----------------------------------------------------------


def restore_baseline_version(
    store: Store, signature: str, sha256: str, *, actor: str = "cli"
) -> ActionResult:
    """Make an older version (by its sha256, from `baseline_versions`) the signature's
    baseline again. Undo puts back the bytes it replaced."""
    _check_actor(actor)
    project = store.project

    def command() -> ActionResult:
        baseline = Baseline.get_or_none(Baseline.signature == signature)
        if baseline is None:
            raise NotFound(f"no baseline for {signature}")
        known = (
            BaselineVersion.select()
            .where((BaselineVersion.signature == signature) & (BaselineVersion.sha256 == sha256))
            .exists()
        )
        if not known:
            raise NotFound(f"{baseline.name} ({signature}) never had a baseline {sha256[:12]}")
        if not files.object_is_valid(project, sha256):
            raise NotFound(
                f"the bytes of version {sha256[:12]} (.vizzly/objects/{sha256}.png) are missing "
                "or damaged: it cannot be restored"
            )
        relative, before = _keep(project, "baselines", baseline.file_name)
        if before == sha256:
            raise UsageError(f"{baseline.name}: version {sha256[:12]} is already the baseline")
        changes = [FileChange(relative, before, sha256)]
        target, state = _recompare_with_baseline(store, signature, sha256, changes)

        def step(batch: str) -> Decision:
            return decisions.begin(
                batch=batch,
                action="restore",
                actor=actor,
                build=target.build_id if target else None,
                comparison=target.id if target else None,
                cid=target.cid if target else None,
                signature=signature,
                name=baseline.name,
                status_before=state["before"]["row"]["status"] if state else None,
                status_after=state["after"]["row"]["status"] if state else None,
                baseline_sha_before=before,
                baseline_sha_after=sha256,
                changes=changes,
                snapshot={
                    "file_name": baseline.file_name,
                    "properties": baseline.properties,
                    "recompare": state,
                },
            )

        return _run_batch(store, "restore", [step], None, actor=actor)

    return store.call(command, transaction=False)


def _recompare_with_baseline(
    store: Store, signature: str, sha256: str, changes: list[FileChange]
) -> tuple[Comparison | None, dict[str, Any] | None]:
    """The current build's comparison of `signature`, compared again with the restored
    bytes (its status would otherwise describe a baseline that is gone). Its new diff image
    joins the decision's files (so undo puts the old one back). Nothing to recompare (no
    such comparison, its screenshot replaced or missing): (None, None), the baseline alone
    is restored."""
    project = store.project
    build = queries.current_build()
    if build is None:
        return None, None
    target = Comparison.get_or_none(
        (Comparison.build == build.id) & (Comparison.signature == signature)
    )
    restored = files.read_object(project, sha256)
    if target is None or restored is None:
        return None, None
    temp = project.diffs_dir / f"{files.TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{target.file_name}"
    try:
        state = _recompare_state(store, target, baseline=restored, diff_to=temp)
        diff_bytes = temp.read_bytes() if temp.exists() else None
    except (NotFound, StaleComparison):
        return None, None
    finally:
        temp.unlink(missing_ok=True)
    if diff_bytes is not None and state["after"]["row"]["diff"]:
        diff_rel, diff_before = _keep(project, "diffs", target.file_name)
        changes.append(FileChange(diff_rel, diff_before, files.store_object(project, diff_bytes)))
    return target, state


def delete_baseline(store: Store, signature: str, *, actor: str = "cli") -> ActionResult:
    """Delete one baseline, also one no comparison of the current build uses (the app's
    all-baselines view). With a comparison in the current build, that comparison goes too,
    as with `delete`. The same crash-safe, undoable removal `reset` uses."""
    _check_actor(actor)

    def command() -> ActionResult:
        if Baseline.get_or_none(Baseline.signature == signature) is None:
            raise NotFound(f"no baseline for {signature}")
        build = queries.current_build()
        comparison = (
            Comparison.get_or_none(
                (Comparison.build == build.id) & (Comparison.signature == signature)
            )
            if build is not None
            else None
        )
        step = _removal_step(
            store, "delete", actor, comparison.id if comparison else None, signature
        )
        return _run_batch(store, "delete", [step], None, actor=actor)

    return store.call(command, transaction=False)


# --- local regions ------------------------------------------------------------------------


def add_region(
    store: Store,
    name: str,
    box: Mapping[str, Any],
    *,
    actor: str = "cli",
    recompare: int | str | None = None,
    label: str | None = None,
) -> ActionResult:
    """Save a local confirmed region for screenshot `name` (box as given: pad it first with
    `padded_box`). `recompare`: a comparison of the current build (row id, cid or
    signature) compared again at once with the regions now known. The result's item has
    `regionId`, and the comparison's status before and after."""
    _check_actor(actor)
    if not isinstance(name, str) or not name:
        raise UsageError("a region needs the screenshot name it belongs to")
    x1, y1, x2, y2 = region_corners(box)
    row = {
        "name": name,
        "kind": "confirmed",
        "source": "local",
        "label": label,
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "data": {"x1": x1, "y1": y1, "x2": x2, "y2": y2},
        "created_at": now_ms(),
        "actor": actor,
    }

    def command() -> ActionResult:
        target = _recompare_target(recompare, name)
        state = None
        if target is not None:
            state = _recompare_state(store, target, extra=row)
        step = _region_step("region-add", actor, name, {"region": row}, target, state)
        result = _run_batch(store, "region-add", [step], None, actor=actor)
        region_id = Decision.get(Decision.batch == result.batch).snapshot.get("region_id")
        for item in result.items:
            item["regionId"] = region_id
        return result

    return store.call(command, transaction=False)


def delete_region(
    store: Store, region_id: int, *, actor: str = "cli", recompare: int | str | None = None
) -> ActionResult:
    """Delete a local region (cloud regions are the cloud's to change). `recompare` as in
    add_region."""
    _check_actor(actor)

    def command() -> ActionResult:
        region = Region.get_or_none(Region.id == region_id)
        if region is None:
            raise NotFound(f"no region {region_id}")
        if region.source != "local":
            raise UsageError(
                f"region {region_id} of {region.name} comes from the {region.source}; "
                "only local regions can be deleted here"
            )
        target = _recompare_target(recompare, region.name)
        state = None
        if target is not None:
            state = _recompare_state(store, target, without=region.id)
        saved = {"region": dict(region.__data__)}
        step = _region_step("region-delete", actor, region.name, saved, target, state)
        return _run_batch(store, "region-delete", [step], None, actor=actor)

    return store.call(command, transaction=False)


def _region_step(
    action: str,
    actor: str,
    name: str,
    snapshot: dict[str, Any],
    target: Comparison | None,
    state: dict[str, Any] | None,
):
    def step(batch: str) -> Decision:
        return decisions.begin(
            batch=batch,
            action=action,
            actor=actor,
            build=target.build_id if target else None,
            comparison=target.id if target else None,
            cid=target.cid if target else None,
            signature=target.signature if target else None,
            name=name,
            status_before=state["before"]["row"]["status"] if state else None,
            status_after=state["after"]["row"]["status"] if state else None,
            snapshot={**snapshot, "recompare": state},
        )

    return step


def _recompare_target(key: int | str | None, name: str) -> Comparison | None:
    if key is None:
        return None
    build = queries.current_build()
    if build is None:
        raise NotFound("no build yet: nothing to recompare")
    if isinstance(key, int) and not isinstance(key, bool):
        found = Comparison.get_or_none(Comparison.id == key)
        if found is not None and found.build_id != build.id:
            raise UsageError(
                f"comparison {key} belongs to an older build; decisions apply to the newest only"
            )
    else:
        found = queries.find_comparison(build.id, str(key))
    if found is None:
        raise NotFound(f"Comparison not found: {key}")
    if found.name != name:
        raise UsageError(f"comparison {found.name} is not a screenshot of {name}")
    return found


def _recompare_state(
    store: Store,
    c: Comparison,
    *,
    extra: dict[str, Any] | None = None,
    without: int | None = None,
    baseline: bytes | None = None,
    diff_to: Path | None = None,
) -> dict[str, Any]:
    """The comparison's result fields now, and after comparing again with the regions as
    they will be (`extra` added, region `without` left out), against `baseline` bytes when
    given (else the baseline file). Writes nothing, but the diff image to `diff_to`."""
    # Imported here: the engine (numpy, scipy) is only needed when a region is saved.
    from vizzly_tui.capture import _details, _result_fields
    from vizzly_tui.engine import DimensionMismatch, EngineError, classify, compare_bytes

    project = store.project
    before_detail = ComparisonDetail.get_or_none(ComparisonDetail.comparison == c.id)
    before = {
        "row": {k: getattr(c, k) for k in _RESULT_FIELDS},
        "detail": {k: getattr(before_detail, k) for k in _DETAIL_FIELDS} if before_detail else None,
    }
    try:
        if baseline is None:
            baseline = (project.baselines_dir / c.file_name).read_bytes()
        current = (project.current_dir / c.file_name).read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"cannot recompare {c.name}: {exc.filename} is missing") from exc
    if c.current_sha256 and files.sha256_bytes(current) != c.current_sha256:
        raise StaleComparison(
            f"{c.name} ({c.signature}): .vizzly/current/{c.file_name} changed since it was "
            "compared; wait for the screenshot to be recorded, then try again"
        )
    regions = [
        {"id": r.region_id, "label": r.label, "x1": r.x1, "y1": r.y1, "x2": r.x2, "y2": r.y2}
        for r in Region.select().where(
            (Region.name == c.name) & (Region.kind == "confirmed") & (Region.id != (without or -1))
        )
    ]
    if extra is not None:
        regions.append({k: extra[k] for k in ("label", "x1", "y1", "x2", "y2")})
    hotspot_row = Hotspot.get_or_none(Hotspot.name == c.name)
    hotspot = hotspot_row.data if hotspot_row is not None else None
    try:
        result = compare_bytes(
            baseline,
            current,
            threshold=c.threshold if c.threshold is not None else 2.0,
            min_cluster_size=c.min_cluster_size or 2,
            diff_path=diff_to,
        )
    except DimensionMismatch:
        return {"comparison": c.id, "timestamp": c.timestamp, "before": before, "after": before}
    except EngineError as exc:
        raise UsageError(f"cannot recompare {c.name}: {exc}") from exc
    row: dict[str, Any] = {
        **_result_fields(result),
        "error": None,
        "baseline_sha256": files.sha256_bytes(baseline),
    }
    detail = None
    if result.is_different:
        verdict = classify(result, regions=regions or None, hotspot=hotspot)
        detail = _details(result, verdict)
        row.update(
            status=verdict.status, reason=verdict.reason, diff=f"/images/diffs/{c.file_name}"
        )
    else:
        row.update(status=ComparisonStatus.PASSED, reason=None, diff=None)

    row["has_diff_clusters"] = bool(detail and detail.get("diff_clusters"))
    row["has_confirmed_regions"] = bool(detail and detail.get("confirmed_regions"))
    # JSON round trip: the snapshot lives in a JSON column and must compare equal after it.
    after = json.loads(json.dumps({"row": row, "detail": detail}))
    return {"comparison": c.id, "timestamp": c.timestamp, "before": before, "after": after}
