"""Read queries. Each returns materialised rows (lists, dicts): a half-read cursor would pin
the WAL and hold a read transaction open (sqlite-peewee-migrate.md §3.4)."""

from __future__ import annotations

from typing import Any

import peewee as pw

from vizzly_tui.statuses import NEW_STATUSES, ComparisonStatus
from vizzly_tui.store.models import Baseline, Build, Comparison, ComparisonDetail, Setting

LOCAL_RUN_KINDS = ("run", "serve", "import")
SORTS = ("priority", "name", "time", "diff")
# `--status` filters: a status name, `new` standing for both NEW_STATUSES.
STATUS_FILTERS = (
    ComparisonStatus.FAILED,
    ComparisonStatus.NEW,
    ComparisonStatus.PASSED,
    ComparisonStatus.REJECTED,
    ComparisonStatus.ERROR,
)


def current_build() -> Build | None:
    """The newest local run: what `status`, `/api/report-data` and the app open on."""
    return (
        Build.select()
        .where(Build.kind.in_(LOCAL_RUN_KINDS))
        .order_by(Build.started_at.desc(), Build.id.desc())
        .first()
    )


def get_build(uid: str) -> Build | None:
    return Build.get_or_none(Build.uid == uid)


def review_order() -> tuple[pw.Node, ...]:
    """Priority (failed, new, rejected, error, passed), then diff size, the variants of a
    name kept together: the stored columns of migration 002, in the order of its
    `comparison_review_order` index, so a page is an index walk, not a sort of the build."""
    return (
        Comparison.group_priority,
        Comparison.group_diff.desc(),
        Comparison.name,
        Comparison.priority,
        Comparison.diff_percentage.desc(),
        Comparison.id,
    )


def list_comparisons(
    build_id: int,
    *,
    status: str | None = None,
    search: str | None = None,
    sort: str = "priority",
    limit: int | None = 100,
    offset: int = 0,
) -> list[Comparison]:
    """One page of a build's comparisons, filtered and sorted in SQL (indexed)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    query = Comparison.select().where(Comparison.build == build_id)
    if status is not None:
        if status not in STATUS_FILTERS:
            raise ValueError(
                f"unknown status {status!r}; choose one of {', '.join(STATUS_FILTERS)}"
            )
        statuses = NEW_STATUSES if status == ComparisonStatus.NEW else (status,)
        query = query.where(Comparison.status.in_(statuses))
    if search:
        pattern = f"%{search}%"
        query = query.where(
            Comparison.name.ilike(pattern) | Comparison.original_name.ilike(pattern)
        )
    if sort == "name":
        order = (Comparison.name, Comparison.signature)
    elif sort == "time":
        order = (Comparison.timestamp.desc(), Comparison.id)
    elif sort == "diff" or (
        sort == "priority" and status is not None and status != ComparisonStatus.NEW
    ):
        # Within one status, priority is the diff size: this order uses the
        # (build, status, diff_percentage) index instead of sorting.
        order = (Comparison.diff_percentage.desc(nulls="LAST"), Comparison.id)
    else:
        order = review_order()
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(query)


def summary(build_id: int | None) -> dict[str, int]:
    """Counts for the `status` command: `passed` counts only `passed` (contract §10.2)."""
    counts = {"total": 0, "passed": 0, "failed": 0, "new": 0, "rejected": 0, "errors": 0}
    if build_id is None:
        return counts
    rows = (
        Comparison.select(Comparison.status, pw.fn.COUNT(Comparison.id))
        .where(Comparison.build == build_id)
        .group_by(Comparison.status)
        .tuples()
    )
    for status, count in rows:
        counts["total"] += count
        # Counted under the summary's keys: both new statuses as `new`, errors as `errors`.
        key = {ComparisonStatus.BASELINE_CREATED: "new", ComparisonStatus.ERROR: "errors"}.get(
            status, status
        )

        if key in counts:
            counts[key] += count
    return counts


def find_comparison(build_id: int, key: str) -> Comparison | None:
    """By id, then signature, then name (as upstream's /api/comparison/:id)."""
    for field in (Comparison.cid, Comparison.signature, Comparison.name):
        found = (
            Comparison.select()
            .where((Comparison.build == build_id) & (field == key))
            .order_by(Comparison.id)
            .first()
        )
        if found is not None:
            return found
    return None


def find_comparisons(build_id: int, key: str) -> list[Comparison]:
    """Every comparison a user's word names: an id or signature (one), or a name (all variants)."""
    for field in (Comparison.cid, Comparison.signature):
        found = list(Comparison.select().where((Comparison.build == build_id) & (field == key)))
        if found:
            return found
    return list(
        Comparison.select()
        .where((Comparison.build == build_id) & (Comparison.name == key))
        .order_by(Comparison.signature)
    )


def comparison_record(c: Comparison) -> dict[str, Any]:
    """The lightweight camelCase record of the wire format (contract §2.4, §3.4)."""
    return {
        "id": c.cid,
        "name": c.name,
        "status": c.status,
        "initialStatus": c.initial_status,
        "signature": c.signature,
        "baseline": c.baseline,
        "current": c.current,
        "diff": c.diff,
        "properties": c.properties or {},
        "threshold": c.threshold,
        "minClusterSize": c.min_cluster_size,
        "diffPercentage": c.diff_percentage,
        "diffCount": c.diff_count,
        "reason": c.reason,
        "totalPixels": c.total_pixels,
        "aaPixelsIgnored": c.aa_pixels_ignored,
        "aaPercentage": c.aa_percentage,
        "heightDiff": c.height_diff,
        "error": c.error,
        "originalName": c.original_name,
        "timestamp": c.timestamp,
        "hasDiffClusters": bool(c.has_diff_clusters),
        "hasConfirmedRegions": bool(c.has_confirmed_regions),
    }


def comparison_details(c: Comparison) -> dict[str, Any] | None:
    detail = ComparisonDetail.get_or_none(ComparisonDetail.comparison == c.id)
    if detail is None:
        return None
    return {
        "diffClusters": detail.diff_clusters,
        "intensityStats": detail.intensity_stats,
        "boundingBox": detail.bounding_box,
        "regionAnalysis": detail.region_analysis,
        "hotspotAnalysis": detail.hotspot_analysis,
        "confirmedRegions": detail.confirmed_regions,
    }


def build_record(build: Build) -> dict[str, Any]:
    return {
        "id": build.uid,
        "kind": build.kind,
        "name": build.name,
        "status": build.status,
        "startedAt": build.started_at,
        "finishedAt": build.finished_at,
        "branch": build.branch,
        "commit": build.commit_sha,
        "environment": build.environment,
    }


def get_setting(key: str, default: Any = None) -> Any:
    row = Setting.get_or_none(Setting.key == key)
    return default if row is None else row.value


def baseline_for(signature: str) -> Baseline | None:
    return Baseline.get_or_none(Baseline.signature == signature)


def status_data(build: Build | None) -> dict[str, Any]:
    """What `status --json` prints: the build, its summary and every comparison."""
    rows = list_comparisons(build.id, limit=None) if build else []
    return {
        "build": build_record(build) if build else None,
        "summary": summary(build.id if build else None),
        "comparisons": [comparison_record(c) for c in rows],
    }
