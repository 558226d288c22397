"""The one-time import of the Vizzly CLI's JSON state into a fresh state.db (contract §2.6).

Migration 001 calls `import_legacy_state(database)` right after its DDL, inside its
transaction, on a foreign_keys=OFF connection. FROZEN CONTRACT: this code writes only the
tables and columns of migration 001's DDL, with raw SQL, never through the peewee models
(which follow the newest schema). Later migrations run after it and transform its rows, so
they must not change what this module writes; a change here is a change to migration 001.

Rules: import what is valid, skip what is not, and record every skip (plus one "imported N"
row per file) in `import_log`. One bad entry never loses the rest; a file that is not JSON or
has the wrong top-level shape is skipped whole and the other files still import. Bad input
never raises; only database errors propagate. No file is ever written: the JSON files stay as
they are, so the Vizzly CLI can still use the project.

A comparison needs an `id` (16 lowercase hex digits, equal to comparison_id(signature)), a
`name` and a `status`; without them, or with a duplicate signature, it is skipped. A field of
the wrong type (a number that is a string or a bool, properties that are not an object...)
costs only that field: it is stored NULL (or {}) and the change is logged as a note, because
the comparison itself is still worth reviewing.

Speed: rows are built as tuples and written with one `executemany` per table (peewee's
insert_many is ~7x slower); 10,000 comparisons import in well under a second.
"""

from __future__ import annotations

import gc
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from vizzly_tui.statuses import BuildStatus
from vizzly_tui.store import legacy_baselines as lb
from vizzly_tui.store import legacy_cloud as lc
from vizzly_tui.store import legacy_report as lr
from vizzly_tui.store.legacy_values import (
    IMPORTED,
    NOTE_PREFIX,
    SKIPPED,
    LogBook,
    LogEntry,
    dumps,
    load_json,
    mtime_iso,
    type_name,
)

IMPORT_BUILD_UID = "legacy-import"
IMPORT_BUILD_NAME = "Imported from Vizzly CLI JSON"


@dataclass
class ImportSummary:
    """What one import wrote, and what it skipped (also in the import_log table)."""

    builds: int = 0
    comparisons: int = 0
    details: int = 0
    baselines: int = 0
    baseline_versions: int = 0
    hotspots: int = 0
    regions: int = 0
    settings: int = 0
    skipped: list[LogEntry] = field(default_factory=list)
    notes: list[LogEntry] = field(default_factory=list)
    already_imported: bool = False  # the database already held an import: nothing was done


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def _insert_build(cursor: sqlite3.Cursor, build: dict[str, Any]) -> int:
    cursor.execute(_insert_sql("build", lb.BUILD_COLUMNS), [build[c] for c in lb.BUILD_COLUMNS])
    return int(cursor.lastrowid or 0)


def _load(vizzly: Path, rel: str, log: LogBook) -> dict[str, Any] | None:
    """The parsed file (every legacy file holds an object), or None when it is absent or
    unusable (the reason is logged)."""
    path = vizzly / rel
    if not path.is_file():
        return None
    loaded = load_json(path)
    if loaded.error is not None:
        log.skip(rel, None, loaded.error)
        return None
    if type(loaded.value) is not dict:
        log.skip(rel, None, f"wrong shape: the top level is {type_name(loaded.value)}")
        return None
    if loaded.note:
        log.note(rel, None, loaded.note)
    return loaded.value


def _already_imported(cursor: sqlite3.Cursor) -> bool:
    # Migration 001 runs once per database (migratehistory), but a direct second call must
    # not duplicate rows or fail on the unique build uid.
    row = cursor.execute(
        "SELECT EXISTS(SELECT 1 FROM build WHERE uid = ?) OR EXISTS(SELECT 1 FROM import_log)",
        (IMPORT_BUILD_UID,),
    ).fetchone()
    return bool(row[0])


def import_legacy_state(database: pw.SqliteDatabase) -> ImportSummary:
    """Import the JSON files of `.vizzly/` (the database's folder) into migration 001's tables."""
    summary = ImportSummary()
    vizzly = Path(database.database).parent
    # The parsed JSON is a few hundred thousand small dicts and lists that all live until
    # the end: the cyclic GC would rescan them again and again (~100 ms for 10,000
    # comparisons) and can free none of them. Paused for the import only, then restored.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # atomic(): a savepoint inside the migration's transaction, a transaction alone.
        # __exception_wrapper__: the raw cursor's sqlite3 errors surface as peewee's, as they
        # would from any other query on this database.
        with database.atomic(), pw.__exception_wrapper__:
            cursor = database.cursor()
            if _already_imported(cursor):
                summary.already_imported = True
                return summary
            _import(cursor, vizzly, summary)
    finally:
        if gc_was_enabled:
            gc.enable()
    return summary


def _import(cursor: sqlite3.Cursor, vizzly: Path, summary: ImportSummary) -> None:
    now = time.time_ns() // 1_000_000
    log = LogBook()
    settings: list[tuple[str, str, int]] = []

    def setting(key: str, value: Any) -> None:
        settings.append((key, dumps(value), now))

    # baseline-metadata.json first: the origin build of the baselines is enriched from it.
    build_meta = _load(vizzly, lb.BUILD_METADATA, log)
    if build_meta is not None:
        setting("baseline_build_metadata", build_meta)
        log.count(lb.BUILD_METADATA, 1, "build metadata")

    # baselines/metadata.json before the report: its signatureProperties are needed to
    # compute the signature of a comparison that has none.
    sig_props: list[str] = []
    metadata = _load(vizzly, lb.METADATA, log)
    if metadata is not None and type(metadata.get("screenshots")) is not list:
        found = type_name(metadata.get("screenshots"))
        log.skip(lb.METADATA, None, f"wrong shape: 'screenshots' is {found}, not an array")
        metadata = None
    origin_uid = None
    if metadata is not None:
        sig_props = lb.signature_properties(metadata, log)
        setting("baseline_metadata", lb.header_of(metadata))
        build = lb.origin_build(metadata, build_meta, lb.file_time(vizzly / lb.METADATA), log)
        origin_uid = build["uid"]
        build_id = _insert_build(cursor, build)
        summary.builds += 1
        rows, versions = lb.parse_screenshots(
            metadata["screenshots"],
            baselines_dir=vizzly / "baselines",
            build_id=build_id,
            sig_props=sig_props,
            log=log,
        )
        cursor.executemany(_insert_sql("baseline", lb.BASELINE_COLUMNS), rows)
        cursor.executemany(_insert_sql("baseline_version", lb.VERSION_COLUMNS), versions)
        summary.baselines += len(rows)
        summary.baseline_versions += len(versions)
        log.count(lb.METADATA, len(rows), "baselines")
    if build_meta is not None:
        fallback = lb.file_time(vizzly / lb.BUILD_METADATA)
        cloud = lb.build_from_build_metadata(build_meta, fallback, log)
        if cloud is not None and cloud["uid"] != origin_uid:
            # No baselines/metadata.json, or one from another build (a later local reset):
            # the downloaded cloud build is still a fact worth keeping, as its own row.
            _insert_build(cursor, cloud)
            summary.builds += 1

    _import_report(cursor, vizzly, now, sig_props, log, summary, setting)

    hotspots = _load(vizzly, lc.HOTSPOTS, log)
    if hotspots is not None:
        result = lc.parse_hotspots(hotspots, mtime_iso(vizzly / lc.HOTSPOTS), log)
        cursor.executemany(_insert_sql("hotspot", lc.HOTSPOT_COLUMNS), result.rows)
        setting("hotspot_bundle", result.bundle)
        summary.hotspots += len(result.rows)
        log.count(lc.HOTSPOTS, len(result.rows), "hotspots")
    regions = _load(vizzly, lc.REGIONS, log)
    if regions is not None:
        result = lc.parse_regions(regions, mtime_iso(vizzly / lc.REGIONS), log)
        cursor.executemany(_insert_sql("region", lc.REGION_COLUMNS), result.rows)
        setting("region_bundle", result.bundle)
        summary.regions += len(result.rows)
        log.count(lc.REGIONS, len(result.rows), "regions")

    cursor.executemany(_insert_sql("setting", ("key", "value", "updated_at")), settings)
    summary.settings = len(settings)
    cursor.executemany(
        _insert_sql("import_log", ("source", "item", "outcome", "detail", "created_at")),
        [(e.source, e.item, e.outcome, e.detail, now) for e in log.entries],
    )
    summary.skipped = [e for e in log.entries if e.outcome == SKIPPED]
    summary.notes = [e for e in log.entries if e.detail.startswith(NOTE_PREFIX)]


def _import_report(
    cursor: sqlite3.Cursor,
    vizzly: Path,
    now: int,
    sig_props: list[str],
    log: LogBook,
    summary: ImportSummary,
    setting: Callable[[str, Any], None],
) -> None:
    report = _load(vizzly, lr.REPORT, log)
    if report is not None and type(report.get("comparisons")) is not list:
        found = type_name(report.get("comparisons"))
        log.skip(lr.REPORT, None, f"wrong shape: 'comparisons' is {found}, not an array")
        report = None
    details = _load(vizzly, lr.DETAILS, log)
    if report is None:
        if details is not None:
            log.skip(lr.DETAILS, None, f"not imported: {lr.REPORT} was not imported")
        return
    report_ts = lr.report_timestamp(report, lb.file_time(vizzly / lr.REPORT), log)
    setting("report_timestamp", report_ts)
    build_id = _insert_build(
        cursor,
        {
            **dict.fromkeys(lb.BUILD_COLUMNS),
            "kind": "import",
            "uid": IMPORT_BUILD_UID,
            "name": IMPORT_BUILD_NAME,
            "status": BuildStatus.IMPORTED,
            "started_at": report_ts,
            "finished_at": report_ts,
        },
    )
    summary.builds += 1
    first_id = cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM comparison").fetchone()[0]
    result = lr.parse_comparisons(
        report["comparisons"],
        build_id=build_id,
        first_row_id=first_id,
        report_ts=report_ts,
        now=now,
        signature_properties=sig_props,
        log=log,
    )
    cursor.executemany(_insert_sql("comparison", lr.COMPARISON_COLUMNS), result.rows)
    summary.comparisons += len(result.rows)
    log.count(lr.REPORT, len(result.rows), "comparisons")
    if details is not None:
        rows = lr.parse_details(details, result, log)
        cursor.executemany(_insert_sql("comparison_detail", lr.DETAIL_COLUMNS), rows)
        summary.details += len(rows)
        log.count(lr.DETAILS, len(rows), "details")


def import_log_summary(database: pw.Database | sqlite3.Connection) -> dict[str, Any]:
    """For `vizzly-tui db status`: {"imported": {source: n}, "skipped": [...], "notes": [...]}.

    Works on a peewee database (the read-only connection is enough) or a sqlite3 connection.
    """
    sql = "SELECT source, item, outcome, detail FROM import_log ORDER BY id"
    if isinstance(database, sqlite3.Connection):
        rows = database.execute(sql).fetchall()
    else:
        rows = database.execute_sql(sql).fetchall()
    imported: dict[str, int] = {}
    skipped: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for source, item, outcome, detail in rows:
        entry = {"source": source, "item": item, "detail": detail}
        if outcome == SKIPPED:
            skipped.append(entry)
        elif outcome == IMPORTED and detail and detail.startswith(NOTE_PREFIX):
            notes.append({**entry, "detail": detail[len(NOTE_PREFIX) :]})
        elif outcome == IMPORTED and item is None and detail and detail.startswith("imported "):
            count = detail.split(" ", 2)[1]
            imported[source] = imported.get(source, 0) + (int(count) if count.isdigit() else 0)
    return {"imported": imported, "skipped": skipped, "notes": notes}
