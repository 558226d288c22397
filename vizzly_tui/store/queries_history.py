"""Read queries for the review app: builds with their counts, pages of comparisons in review
order, baseline versions, every baseline, regions and hotspots, and the image files of any
build's comparison (history keeps its images in `objects/`).

Everything returns plain frozen dataclasses or dicts, materialised before returning: rows
cross threads (a worker reads, the UI shows), and a half-read cursor would pin the WAL
(sqlite-peewee-migrate.md §3.4). Run these on any thread but the writer's: they use that
thread's read-only connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from vizzly_tui.project import Project
from vizzly_tui.statuses import NEW_STATUSES, ComparisonStatus
from vizzly_tui.store.models import (
    Baseline,
    BaselineVersion,
    Build,
    Comparison,
    ComparisonDetail,
    Decision,
    Hotspot,
    Region,
)
from vizzly_tui.store.queries import LOCAL_RUN_KINDS, current_build, review_order

# The app's status filters, in the order `f` cycles them: a status name (`new` standing for
# both NEW_STATUSES), `needs-review` (failed or new) or `all`.
FILTERS = (
    "needs-review",
    ComparisonStatus.FAILED,
    ComparisonStatus.NEW,
    ComparisonStatus.REJECTED,
    "all",
)
FILTER_STATUSES: dict[str, tuple[str, ...] | None] = {
    "needs-review": (ComparisonStatus.FAILED, *NEW_STATUSES),
    ComparisonStatus.FAILED: (ComparisonStatus.FAILED,),
    ComparisonStatus.NEW: NEW_STATUSES,
    ComparisonStatus.REJECTED: (ComparisonStatus.REJECTED,),
    ComparisonStatus.PASSED: (ComparisonStatus.PASSED,),
    ComparisonStatus.ERROR: (ComparisonStatus.ERROR,),
    "all": None,
}
# The statuses counted, in the order the app lists them; `new` counts both NEW_STATUSES.
STATUS_KEYS = (
    ComparisonStatus.FAILED,
    ComparisonStatus.NEW,
    ComparisonStatus.REJECTED,
    ComparisonStatus.ERROR,
    ComparisonStatus.PASSED,
)


_NOT_PASSED = tuple(s for s in ComparisonStatus if s is not ComparisonStatus.PASSED)


def _status_key(status: str) -> str:

    return ComparisonStatus.NEW if status in NEW_STATUSES else status


# --- builds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildRow:
    id: int
    uid: str
    kind: str  # run | serve | import
    name: str | None
    status: str  # running | finished | interrupted | imported
    started_at: int  # epoch ms
    finished_at: int | None
    branch: str | None
    commit: str | None
    counts: dict[str, int]  # failed/new/rejected/error/passed/total
    is_current: bool  # the newest local run: the only one decisions apply to


def list_builds(limit: int = 200) -> list[BuildRow]:
    """Local runs, newest first, each with its comparison counts by status."""
    builds = list(
        Build.select()
        .where(Build.kind.in_(LOCAL_RUN_KINDS))
        .order_by(Build.started_at.desc(), Build.id.desc())
        .limit(limit)
    )
    counts: dict[int, dict[str, int]] = {b.id: _empty_counts() for b in builds}
    if builds:
        rows = (
            Comparison.select(Comparison.build, Comparison.status, pw.fn.COUNT(Comparison.id))
            .where(Comparison.build.in_(list(counts)))
            .group_by(Comparison.build, Comparison.status)
            .tuples()
        )
        for build_id, status, count in rows:
            _add_count(counts[build_id], status, count)
    return [
        BuildRow(
            id=b.id,
            uid=b.uid,
            kind=b.kind,
            name=b.name,
            status=b.status,
            started_at=b.started_at,
            finished_at=b.finished_at,
            branch=b.branch,
            commit=b.commit_sha,
            counts=counts[b.id],
            is_current=index == 0,
        )
        for index, b in enumerate(builds)
    ]


def _empty_counts() -> dict[str, int]:
    return {key: 0 for key in (*STATUS_KEYS, "total")}


def _add_count(counts: dict[str, int], status: str, count: int) -> None:
    key = _status_key(status)
    counts[key] = counts.get(key, 0) + count
    counts["total"] += count


def baseline_origins() -> list[dict[str, Any]]:
    """How many baselines came from where: `local` (made here), `imported` (the Vizzly
    CLI's local baselines), `cloud` (downloaded); each with its newest update time."""
    rows = (
        Baseline.select(Build.kind, pw.fn.COUNT(Baseline.id), pw.fn.MAX(Baseline.updated_at))
        .join(Build, pw.JOIN.LEFT_OUTER, on=(Baseline.origin_build == Build.id))
        .group_by(Build.kind)
        .tuples()
    )
    merged: dict[str, dict[str, Any]] = {}
    for kind, count, newest in rows:
        origin = {"baseline-cloud": "cloud", "baseline-local": "imported"}.get(kind, "local")
        entry = merged.setdefault(origin, {"origin": origin, "count": 0, "updatedAt": None})
        entry["count"] += count
        entry["updatedAt"] = max(filter(None, (entry["updatedAt"], newest)), default=None)
    return sorted(merged.values(), key=lambda e: ("local", "imported", "cloud").index(e["origin"]))


# --- comparisons --------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    id: int  # the row's primary key: keep the cursor by it across refreshes
    cid: str  # the contract's comparison id (what `accept`/`reject` take)
    build_id: int
    name: str
    signature: str
    variant: str  # "chrome 1280x720", the signature's other properties
    browser: str | None
    viewport_width: int | None
    status: str
    initial_status: str | None
    diff_percentage: float | None
    reason: str | None
    error: str | None
    file_name: str
    timestamp: int
    # The screenshot's content hash: with timestamp and status, what a reviewer was shown
    # (review.accept(shown=...) skips a comparison captured again since).
    current_sha256: str | None = None


@dataclass(frozen=True)
class ComparisonFilter:
    """What the comparisons pane shows. `status` is one of FILTERS (or passed/error)."""

    status: str = "all"
    search: str | None = None
    browser: str | None = None
    viewport: int | None = None  # viewport width


_ROW_COLUMNS = (
    Comparison.id,
    Comparison.cid,
    Comparison.build,
    Comparison.name,
    Comparison.signature,
    Comparison.properties,
    Comparison.status,
    Comparison.initial_status,
    Comparison.diff_percentage,
    Comparison.reason,
    Comparison.error,
    Comparison.file_name,
    Comparison.timestamp,
    Comparison.current_sha256,
)


def _browser_expr() -> pw.Node:
    return pw.fn.json_extract(Comparison.properties, "$.browser")


def _viewport_expr() -> pw.Node:
    return pw.fn.json_extract(Comparison.properties, "$.viewport_width")


def _filtered(build_id: int, flt: ComparisonFilter) -> pw.ModelSelect:
    if flt.status not in FILTER_STATUSES:
        raise ValueError(
            f"unknown status filter {flt.status!r}; choose one of {', '.join(FILTER_STATUSES)}"
        )
    query = Comparison.select(*_ROW_COLUMNS).where(Comparison.build == build_id)
    statuses = FILTER_STATUSES[flt.status]
    if statuses is not None:
        query = query.where(Comparison.status.in_(statuses))
    if flt.search:
        # LIKE wildcards in what the user typed are literal characters, not patterns.
        escaped = flt.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        # The name only (as shown): it is in the review-order index, so SQLite filters on
        # index entries without reading rows; adding original_name made it 4x slower.
        query = query.where(_like(Comparison.name, pattern))
    if flt.browser is not None:
        query = query.where(_browser_expr() == flt.browser)
    if flt.viewport is not None:
        query = query.where(_viewport_expr() == int(flt.viewport))
    return query


def _like(column: pw.Field, pattern: str) -> pw.Node:
    return pw.NodeList((column, pw.SQL("LIKE"), pattern, pw.SQL("ESCAPE '\\'")))


def page_comparisons(
    build_id: int,
    flt: ComparisonFilter | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[ComparisonRow]:
    """One page of a build's comparisons in review order."""
    flt = flt or ComparisonFilter()
    query = _filtered(build_id, flt).order_by(*review_order()).limit(limit).offset(offset)
    return [_row(values) for values in query.tuples()]


def count_comparisons(build_id: int, flt: ComparisonFilter | None = None) -> int:
    return _filtered(build_id, flt or ComparisonFilter()).count()


def index_of(build_id: int, comparison_id: int, flt: ComparisonFilter | None = None) -> int | None:
    """Where a comparison sits in the filtered review order (None when filtered out): lets
    the app keep its cursor on the same row after a live refresh reorders the list."""
    flt = flt or ComparisonFilter()
    target = (
        Comparison.select(*_order_columns())
        .where((Comparison.id == comparison_id) & (Comparison.build == build_id))
        .tuples()
        .first()
    )
    if target is None:
        return None
    ids = _filtered(build_id, flt).where(Comparison.id == comparison_id)
    if not ids.exists():
        return None
    gp, gd, name, prio, diff, pk = target
    d = -1e300 if diff is None else diff
    diff_col = pw.fn.COALESCE(Comparison.diff_percentage, -1e300)
    before = (
        (Comparison.group_priority < gp)
        | ((Comparison.group_priority == gp) & (Comparison.group_diff > gd))
        | (
            (Comparison.group_priority == gp)
            & (Comparison.group_diff == gd)
            & (
                (Comparison.name < name)
                | (
                    (Comparison.name == name)
                    & (
                        (Comparison.priority < prio)
                        | ((Comparison.priority == prio) & (diff_col > d))
                        | ((Comparison.priority == prio) & (diff_col == d) & (Comparison.id < pk))
                    )
                )
            )
        )
    )
    return _filtered(build_id, flt).where(before).count()


def _order_columns() -> tuple[pw.Field, ...]:
    return (
        Comparison.group_priority,
        Comparison.group_diff,
        Comparison.name,
        Comparison.priority,
        Comparison.diff_percentage,
        Comparison.id,
    )


def status_counts(build_id: int | None) -> dict[str, int]:
    """failed/new/rejected/error/passed/total plus `needs-review` (failed + new)."""
    counts = _empty_counts()
    if build_id is not None:
        # Grouping every row by its status string costs ~18 ms at 100k rows; counting the
        # few non-passed rows by index range and the total on the narrow build index costs
        # a third of that. `passed` is the rest: statuses are one of the known ones.
        total = Comparison.select().where(Comparison.build == build_id).count()
        rows = (
            Comparison.select(Comparison.status, pw.fn.COUNT(Comparison.id))
            .where((Comparison.build == build_id) & Comparison.status.in_(_NOT_PASSED))
            .group_by(Comparison.status)
            .tuples()
        )
        for status, count in rows:
            _add_count(counts, status, count)
        counts["passed"] = total - counts["total"]
        counts["total"] = total
    counts["needs-review"] = counts["failed"] + counts["new"]
    return counts


def variant_values(build_id: int) -> dict[str, list[Any]]:
    """The browsers and viewport widths present in a build, for the `b` and `v` filters."""
    browsers = (
        Comparison.select(_browser_expr().alias("v"))
        .where(Comparison.build == build_id)
        .distinct()
        .tuples()
    )
    viewports = (
        Comparison.select(_viewport_expr().alias("v"))
        .where(Comparison.build == build_id)
        .distinct()
        .tuples()
    )
    return {
        "browsers": sorted({b for (b,) in browsers if isinstance(b, str)}),
        "viewports": sorted({v for (v,) in viewports if isinstance(v, int)}),
    }


def _variant(properties: dict[str, Any]) -> str:
    parts = []
    browser = properties.get("browser")
    if browser:
        parts.append(str(browser))
    width, height = properties.get("viewport_width"), properties.get("viewport_height")
    if width:
        parts.append(f"{width}x{height}" if height else str(width))
    for key, value in sorted(properties.items()):
        if key in ("browser", "viewport_width", "viewport_height", "viewport", "threshold"):
            continue
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            parts.append(f"{key}={value}")
    return " ".join(parts)


def _row(values: tuple[Any, ...]) -> ComparisonRow:
    (pk, cid, build_id, name, signature, props, status, initial, diff, reason, error, fname, ts) = (
        values[:13]
    )
    props = props if isinstance(props, dict) else {}
    width = props.get("viewport_width")
    return ComparisonRow(
        id=pk,
        cid=cid,
        build_id=build_id,
        name=name,
        signature=signature,
        variant=_variant(props),
        browser=props.get("browser") if isinstance(props.get("browser"), str) else None,
        viewport_width=width if isinstance(width, int) else None,
        status=status,
        initial_status=initial,
        diff_percentage=diff,
        reason=reason,
        error=error,
        file_name=fname,
        timestamp=ts,
        current_sha256=values[13],
    )


@dataclass(frozen=True)
class ComparisonImages:
    """The files to show for one comparison. `historical`: an older build's comparison,
    whose images come from objects/ (its current/ file has been replaced since)."""

    baseline: Path | None
    current: Path | None
    diff: Path | None
    historical: bool


def comparison_detail(comparison_id: int) -> dict[str, Any] | None:
    """Everything the detail pane shows: the row's numbers plus clusters and analyses."""
    c = Comparison.get_or_none(Comparison.id == comparison_id)
    if c is None:
        return None
    detail = ComparisonDetail.get_or_none(ComparisonDetail.comparison == c.id)
    return {
        "id": c.id,
        "cid": c.cid,
        "buildId": c.build_id,
        "name": c.name,
        "signature": c.signature,
        "status": c.status,
        "initialStatus": c.initial_status,
        "properties": c.properties or {},
        "diffPercentage": c.diff_percentage,
        "diffCount": c.diff_count,
        "totalPixels": c.total_pixels,
        "aaPixelsIgnored": c.aa_pixels_ignored,
        "aaPercentage": c.aa_percentage,
        "heightDiff": c.height_diff,
        "reason": c.reason,
        "error": c.error,
        "threshold": c.threshold,
        "minClusterSize": c.min_cluster_size,
        "currentSha256": c.current_sha256,
        "baselineSha256": c.baseline_sha256,
        "clusters": (detail.diff_clusters if detail else None) or [],
        "confirmedRegions": (detail.confirmed_regions if detail else None) or [],
        "regionAnalysis": detail.region_analysis if detail else None,
        "hotspotAnalysis": detail.hotspot_analysis if detail else None,
    }


def comparison_images(project: Project, comparison_id: int) -> ComparisonImages | None:
    """Paths of a comparison's baseline/current/diff images, for any build.

    The current build shows the working files (baselines/, current/, diffs/). An older
    build shows the bytes it was made from, kept by sha256 in objects/; its diff image was
    overwritten by later runs, so `diff` is None and the viewer derives one from the pair.
    """
    c = Comparison.get_or_none(Comparison.id == comparison_id)
    if c is None:
        return None
    newest = current_build()
    if newest is not None and newest.id == c.build_id:
        return ComparisonImages(
            baseline=_existing(project.baselines_dir / c.file_name),
            current=_existing(project.current_dir / c.file_name),
            diff=_existing(project.diffs_dir / c.file_name) if c.diff else None,
            historical=False,
        )
    return ComparisonImages(
        baseline=_object(project, c.baseline_sha256),
        current=_object(project, c.current_sha256),
        diff=None,
        historical=True,
    )


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _object(project: Project, sha: str | None) -> Path | None:
    return _existing(project.object_path(sha)) if sha else None


# --- baselines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineVersionRow:
    id: int
    signature: str
    sha256: str
    size: int | None
    created_at: int
    source: str  # import | new | accept | undo | download | restore
    actor: str | None  # who made the decision that set it (cli | http | tui)
    build_uid: str | None  # the build of that decision
    is_current: bool  # the baseline holds these bytes now
    available: bool  # objects/<sha256>.png exists: it can be restored


def baseline_versions(project: Project, signature: str) -> list[BaselineVersionRow]:
    """Every image the signature's baseline has had, newest first."""
    baseline = Baseline.get_or_none(Baseline.signature == signature)
    now = baseline.sha256 if baseline else None
    rows = (
        BaselineVersion.select(BaselineVersion, Decision.actor, Build.uid)
        .join(Decision, pw.JOIN.LEFT_OUTER, on=(BaselineVersion.decision == Decision.id))
        .join(Build, pw.JOIN.LEFT_OUTER, on=(Decision.build == Build.id))
        .where(BaselineVersion.signature == signature)
        .order_by(BaselineVersion.created_at.desc(), BaselineVersion.id.desc())
        .tuples()
    )
    columns = [f.name for f in BaselineVersion._meta.sorted_fields]
    result = []
    seen_current = False
    for values in rows:
        data = dict(zip(columns, values[: len(columns)], strict=True))
        actor, build_uid = values[len(columns) :]
        # Only the newest version with the baseline's bytes is "current": an older version
        # with the same bytes (accepted, then restored) is history.
        current = data["sha256"] == now and not seen_current
        seen_current = seen_current or current
        result.append(
            BaselineVersionRow(
                id=data["id"],
                signature=data["signature"],
                sha256=data["sha256"],
                size=data["size"],
                created_at=data["created_at"],
                source=data["source"],
                actor=actor,
                build_uid=build_uid,
                is_current=current,
                available=project.object_path(data["sha256"]).is_file(),
            )
        )
    return result


@dataclass(frozen=True)
class BaselineRow:
    id: int
    signature: str
    name: str
    file_name: str
    sha256: str | None
    width: int | None
    height: int | None
    size: int | None
    properties: dict[str, Any] = field(hash=False)
    origin: str  # local | imported | cloud
    updated_at: int
    in_current_build: bool  # a comparison of the current build uses it
    versions: int


def list_baselines(pattern: str | None = None) -> list[BaselineRow]:
    """Every baseline of the project (glob `pattern` on the name, e.g. `home*`), by name,
    including those with no comparison in the current build."""
    query = (
        Baseline.select(Baseline, Build.kind)
        .join(Build, pw.JOIN.LEFT_OUTER, on=(Baseline.origin_build == Build.id))
        .order_by(Baseline.name, Baseline.signature)
    )
    if pattern:
        query = query.where(pw.Expression(Baseline.name, "GLOB", pattern))
    newest = current_build()
    used: set[str] = set()
    if newest is not None:
        used = {
            s
            for (s,) in Comparison.select(Comparison.signature)
            .where(Comparison.build == newest.id)
            .tuples()
        }
    counts = dict(
        BaselineVersion.select(BaselineVersion.signature, pw.fn.COUNT(BaselineVersion.id))
        .group_by(BaselineVersion.signature)
        .tuples()
    )
    result = []
    for b in query:
        kind = b.origin_build.kind if b.origin_build_id is not None else None
        result.append(
            BaselineRow(
                id=b.id,
                signature=b.signature,
                name=b.name,
                file_name=b.file_name,
                sha256=b.sha256,
                width=b.width,
                height=b.height,
                size=b.size,
                properties=b.properties or {},
                origin={"baseline-cloud": "cloud", "baseline-local": "imported"}.get(kind, "local"),
                updated_at=b.updated_at,
                in_current_build=b.signature in used,
                versions=counts.get(b.signature, 0),
            )
        )
    return result


# --- regions and hotspots -----------------------------------------------------------------


def regions_for(name: str) -> list[dict[str, Any]]:
    """The regions of a screenshot name: confirmed first, then candidates; cloud and local.

    Each: id (row id, what delete_region takes), kind, source, label, x1/y1/x2/y2, and for
    local regions createdAt and actor."""
    rows = (
        Region.select()
        .where(Region.name == name)
        .order_by(Region.kind != "confirmed", Region.source, Region.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "source": r.source,
            "regionId": r.region_id,
            "label": r.label,
            "x1": r.x1,
            "y1": r.y1,
            "x2": r.x2,
            "y2": r.y2,
            "createdAt": r.created_at,
            "actor": r.actor,
        }
        for r in rows
    ]


def hotspots_for(name: str) -> dict[str, Any] | None:
    """The hotspot bands of a screenshot name with their confidence, or None."""
    h = Hotspot.get_or_none(Hotspot.name == name)
    if h is None:
        return None
    return {
        "name": h.name,
        "confidence": h.confidence,
        "confidenceScore": h.confidence_score,
        "bands": h.bands or [],
        "source": h.source,
    }
