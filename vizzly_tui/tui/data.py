"""The app's reads: plain rows (tuples and frozen dataclasses), never model objects.

Every function here runs in a thread worker, never on the event loop. peewee gives each
thread its own connection, read-only on every thread but the writer's (store/db.py), and
`reading()` closes it when the worker is done so no read transaction pins the WAL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from vizzly_tui.formatting import printable
from vizzly_tui.statuses import ComparisonStatus
from vizzly_tui.store import queries_history
from vizzly_tui.store.queries import LOCAL_RUN_KINDS
from vizzly_tui.store.queries_history import FILTERS
from vizzly_tui.store.store import Store

FILTER_LABELS = {name: "needs review" if name == "needs-review" else str(name) for name in FILTERS}


@dataclass(frozen=True)
class Row:
    """One line of the comparisons list."""

    id: int
    cid: str
    name: str
    signature: str
    status: str
    diff: float | None
    browser: str | None
    viewport: int | None
    # Which screenshot the row shows: an accept of it is refused once it is captured again.
    timestamp: int | None = None
    current_sha256: str | None = None

    @property
    def shown(self) -> tuple[int | None, str | None, str]:
        """What the reviewer saw, for review.accept(shown=...)."""
        return (self.timestamp, self.current_sha256, self.status)

    @property
    def variant(self) -> str:
        """The signature's properties as shown (control characters replaced)."""
        parts = [p for p in self.signature.split("|")[1:] if p]
        return printable(" · ".join(parts))


@dataclass(frozen=True)
class Query:
    """What the comparisons list shows: a build and its filters."""

    build_id: int
    filter: str = "needs-review"
    search: str = ""
    browser: str | None = None
    viewport: int | None = None


@dataclass(frozen=True)
class ListData:
    """One state of the list: its row count and a window of rows around the viewport."""

    query: Query
    total: int
    start: int  # the list position of rows[0]
    rows: tuple[Row, ...]
    cursor: int  # where the cursor goes: the kept comparison's new place, else the same place
    counts: dict[str, int]
    browsers: tuple[str, ...]
    viewports: tuple[int, ...]

    @property
    def selected(self) -> Row | None:
        i = self.cursor - self.start
        return self.rows[i] if 0 <= i < len(self.rows) else None


@dataclass(frozen=True)
class BuildRow:
    id: int
    uid: str
    kind: str
    status: str
    started_at: int
    branch: str | None
    commit: str | None
    counts: dict[str, int]
    is_origin: bool = False


@dataclass(frozen=True)
class Detail:
    """The numbers of one comparison, and where its images are."""

    id: int
    cid: str
    name: str
    signature: str
    status: str
    diff_percentage: float | None
    diff_count: int | None
    total_pixels: int | None
    aa_pixels_ignored: int | None
    height_diff: Any
    reason: str | None
    error: str | None
    threshold: float | None
    min_cluster_size: int | None
    clusters: tuple[dict, ...]
    regions: tuple[dict, ...]
    hotspots: tuple[dict, ...]
    hotspot_confidence: str | None
    baseline_path: Path | None
    current_path: Path | None
    diff_path: Path | None
    versions: tuple[dict, ...] = field(default_factory=tuple)


@contextmanager
def reading(store: Store) -> Iterator[Any]:
    """This thread's read-only connection, closed afterwards."""
    db = store.db
    if db is None:
        raise LookupError("this project has no state.db yet: nothing was recorded")
    try:
        yield db
    finally:
        if not db.is_closed():
            db.close()


def _json(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def current_build_id(store: Store) -> int | None:
    with reading(store) as db:
        return _current_build_id(db)


def _current_build_id(db: Any) -> int | None:
    row = db.execute_sql(
        "SELECT id FROM build WHERE kind IN ('run','serve','import') "
        "ORDER BY started_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def _filter(query: Query) -> queries_history.ComparisonFilter:
    return queries_history.ComparisonFilter(
        status=query.filter,
        search=query.search or None,
        browser=query.browser,
        viewport=query.viewport,
    )


def _row(r: queries_history.ComparisonRow) -> Row:
    return Row(
        r.id,
        r.cid,
        r.name,
        r.signature,
        r.status,
        r.diff_percentage,
        r.browser,
        r.viewport_width,
        r.timestamp,
        r.current_sha256,
    )


def load_window(
    store: Store, query: Query, *, keep_id: int | None, fallback: int, top: int, height: int
) -> ListData:
    """The list's row count, where the cursor goes, and the rows around the viewport.

    Pages come from the stored review order of migration 002 (one index walk), so nothing
    here scales with the build: the count, index_of and a window of ~3 screens of rows.
    """
    flt = _filter(query)
    with reading(store):
        total = queries_history.count_comparisons(query.build_id, flt)
        index = None
        if keep_id is not None:
            index = queries_history.index_of(query.build_id, keep_id, flt)
        if index is None:
            index = min(max(fallback, 0), max(total - 1, 0))
        height = max(height, 1)
        # The viewport as it will be once the cursor is scrolled into it.
        top = min(max(top, index - height + 1), index)
        start = max(top - height, 0)
        rows = queries_history.page_comparisons(query.build_id, flt, limit=3 * height, offset=start)
        counts = queries_history.status_counts(query.build_id)
        variants = _variants(store, query.build_id, counts["total"])
    return ListData(
        query,
        total,
        start,
        tuple(_row(r) for r in rows),
        index,
        counts,
        tuple(variants["browsers"]),
        tuple(variants["viewports"]),
    )


# The browsers and viewports of the last build read, with what identifies its rows: reading
# them scans the whole build (~70 ms at 100k rows), and every live refresh needs them.
_variants_seen: dict[Any, tuple[tuple[int, int, int], dict[str, list[Any]]]] = {}


def _variants(store: Store, build_id: int, total: int) -> dict[str, list[Any]]:
    from vizzly_tui.store.models import Comparison

    newest = (
        Comparison.select(pw.fn.MAX(Comparison.id)).where(Comparison.build == build_id).scalar()
    )
    key = (build_id, total, newest or 0)  # a row added or removed changes it
    seen = _variants_seen.get(id(store))
    if seen is not None and seen[0] == key:
        return seen[1]
    variants = queries_history.variant_values(build_id)
    _variants_seen.clear()  # one store, one build: nothing else is worth keeping
    _variants_seen[id(store)] = (key, variants)
    return variants


def load_page(store: Store, query: Query, offset: int, limit: int) -> tuple[Row, ...]:
    """Rows [offset, offset + limit) of the list, in review order."""
    with reading(store):
        rows = queries_history.page_comparisons(
            query.build_id, _filter(query), limit=limit, offset=offset
        )
    return tuple(_row(r) for r in rows)


def acceptable_keys(
    store: Store, query: Query, statuses: tuple[str, ...]
) -> dict[str, tuple[int | None, str | None, str]]:
    """Every comparison in the list whose status is one of `statuses`, by cid, with what
    the screen shows of it (Row.shown) for accept-all: read in SQL, never from the widget,
    which holds only a window. The accept is then of these exact screenshots: one captured
    again while the confirmation is open is skipped, not accepted unseen."""
    flt = _filter(query)
    keys: dict[str, tuple[int | None, str | None, str]] = {}
    with reading(store):
        offset = 0
        while True:
            rows = queries_history.page_comparisons(query.build_id, flt, limit=5000, offset=offset)
            keys.update((r.cid, _row(r).shown) for r in rows if r.status in statuses)
            if len(rows) < 5000:
                return keys
            offset += 5000


def load_builds(store: Store) -> tuple[BuildRow, ...]:
    """Local runs newest first, then the baseline origins (local, imported, cloud)."""
    with reading(store) as db:
        counts: dict[int, dict[str, int]] = {}
        for build_id, status, n in db.execute_sql(
            "SELECT build_id, status, COUNT(*) FROM comparison GROUP BY build_id, status"
        ):
            key = ComparisonStatus.NEW if status == ComparisonStatus.BASELINE_CREATED else status

            bucket = counts.setdefault(build_id, {})
            bucket[key] = bucket.get(key, 0) + n
        rows = db.execute_sql(
            "SELECT id, uid, kind, status, started_at, branch, commit_sha FROM build "
            "ORDER BY kind NOT IN ('run','serve','import'), started_at DESC, id DESC"
        ).fetchall()
    return tuple(
        BuildRow(*r[:7], counts=counts.get(r[0], {}), is_origin=r[2] not in LOCAL_RUN_KINDS)
        for r in rows
    )


def load_detail(store: Store, comparison_id: int) -> Detail | None:
    with reading(store) as db:
        row = db.execute_sql(
            "SELECT c.id, c.cid, c.name, c.signature, c.status, c.diff_percentage, c.diff_count, "
            "c.total_pixels, c.aa_pixels_ignored, c.height_diff, c.reason, c.error, c.threshold, "
            "c.min_cluster_size, c.file_name, c.current_sha256, c.build_id, d.diff_clusters, "
            "d.confirmed_regions FROM comparison c "
            "LEFT JOIN comparison_detail d ON d.comparison_id = c.id WHERE c.id = ?",
            (comparison_id,),
        ).fetchone()
        if row is None:
            return None
        # The newest build shows the working files; an older one the bytes it was made
        # from, kept in objects/ (its diff image was overwritten by later runs).
        images = queries_history.comparison_images(store.project, comparison_id)
        regions = tuple(
            {
                "id": r[0],
                "kind": r[1],
                "source": r[2],
                "label": r[3],
                "x": int(r[4]),
                "y": int(r[5]),
                "width": int(r[6] - r[4]),
                "height": int(r[7] - r[5]),
            }
            for r in db.execute_sql(
                "SELECT id, kind, source, label, x1, y1, x2, y2 FROM region WHERE name = ? "
                "ORDER BY kind, source, y1, x1, id",
                (row[2],),
            )
        )
        hotspot = db.execute_sql(
            "SELECT confidence, confidence_score, bands FROM hotspot WHERE name = ?", (row[2],)
        ).fetchone()
    clusters = tuple(c for c in (_json(row[17]) or ()) if isinstance(c, dict))
    bands = tuple(b for b in (_json(hotspot[2]) if hotspot else None) or () if isinstance(b, dict))
    confidence = None
    if hotspot:
        confidence = hotspot[0] or (f"{hotspot[1]:.0f}" if hotspot[1] is not None else None)
    return Detail(
        id=row[0],
        cid=row[1],
        name=row[2],
        signature=row[3],
        status=row[4],
        diff_percentage=row[5],
        diff_count=row[6],
        total_pixels=row[7],
        aa_pixels_ignored=row[8],
        height_diff=_json(row[9]),
        reason=row[10],
        error=row[11],
        threshold=row[12],
        min_cluster_size=row[13],
        clusters=clusters,
        regions=regions,
        hotspots=bands,
        hotspot_confidence=confidence,
        baseline_path=images.baseline if images else None,
        current_path=images.current if images else None,
        diff_path=images.diff if images else None,
    )


def baseline_versions(store: Store, signature: str) -> tuple[dict, ...]:
    """Every image the signature's baseline has had, newest first."""
    with reading(store) as db:
        current = db.execute_sql(
            "SELECT sha256 FROM baseline WHERE signature = ?", (signature,)
        ).fetchone()
        rows = db.execute_sql(
            "SELECT v.id, v.sha256, v.size, v.created_at, v.source, d.actor, b.uid "
            "FROM baseline_version v LEFT JOIN decision d ON d.id = v.decision_id "
            "LEFT JOIN build b ON b.id = d.build_id WHERE v.signature = ? "
            "ORDER BY v.created_at DESC, v.id DESC",
            (signature,),
        ).fetchall()
    current_sha = current[0] if current else None
    return tuple(
        {
            "id": r[0],
            "sha256": r[1],
            "size": r[2],
            "created_at": r[3],
            "source": r[4],
            "actor": r[5],
            "build": r[6],
            "current": r[1] == current_sha,
        }
        for r in rows
    )


def all_baselines(store: Store) -> tuple[dict, ...]:
    """Every baseline of the project, with whether the newest build compared it."""
    with reading(store) as db:
        build_id = _current_build_id(db)
        rows = db.execute_sql(
            "SELECT b.id, b.signature, b.name, b.size, b.updated_at, "
            "EXISTS(SELECT 1 FROM comparison c WHERE c.build_id = ? AND c.signature = b.signature) "
            "FROM baseline b ORDER BY b.name, b.signature",
            (build_id or -1,),
        ).fetchall()
    return tuple(
        {
            "id": r[0],
            "signature": r[1],
            "name": r[2],
            "size": r[3],
            "updated_at": r[4],
            "in_build": bool(r[5]),
        }
        for r in rows
    )
