"""report-data.json and comparison-details.json -> comparison / comparison_detail row tuples.

Pure functions: they read parsed JSON and return tuples in the column order of the INSERT
statements in store.legacy, logging every skip and every field they had to change. Upstream
dropped the whole report when one details entry was orphaned (contract §2.6); here one bad
entry costs only itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vizzly_tui import identity
from vizzly_tui.store.legacy_values import (
    INT64_MAX,
    INT64_MIN,
    BadValue,
    LogBook,
    describe,
    dumps,
    dumps_or_null,
    epoch_ms,
    integer,
    real,
    text,
)

REPORT = "report-data.json"
DETAILS = "comparison-details.json"
_CID = re.compile(r"[0-9a-f]{16}")

# Columns filled from plain number fields, in the order COMPARISON_COLUMNS lists them.
_NUMBER_FIELDS: tuple[tuple[str, bool], ...] = (  # (JSON key, is integer)
    ("threshold", False),
    ("minClusterSize", True),
    ("diffPercentage", False),
    ("diffCount", True),
    ("totalPixels", True),
    ("aaPixelsIgnored", True),
    ("aaPercentage", False),
)
# Optional text fields: (JSON key) in column order.
_TEXT_FIELDS = ("originalName", "reason", "error")
_IMAGE_FIELDS = (("baseline", "baselines"), ("current", "current"), ("diff", "diffs"))

# Keys that map to a column; every other key of an entry is kept in `extra`.
_KNOWN_KEYS = frozenset(
    {
        "id",
        "name",
        "status",
        "initialStatus",
        "initial_status",
        "signature",
        "properties",
        "heightDiff",
        "timestamp",
        "hasDiffClusters",
        "hasConfirmedRegions",
        *(key for key, _ in _NUMBER_FIELDS),
        *_TEXT_FIELDS,
        *(key for key, _ in _IMAGE_FIELDS),
    }
)

# The INSERT column order of the tuples parse_comparisons returns. Every name is a column of
# migration 001's DDL; current_sha256 is left to its NULL default.
COMPARISON_COLUMNS = (
    "id",
    "build_id",
    "cid",
    "name",
    "signature",
    "file_name",
    "status",
    "initial_status",
    "baseline",
    "current",
    "diff",
    "properties",
    "height_diff",
    "timestamp",
    "updated_at",
    "has_diff_clusters",
    "has_confirmed_regions",
    "extra",
    "threshold",
    "min_cluster_size",
    "diff_percentage",
    "diff_count",
    "total_pixels",
    "aa_pixels_ignored",
    "aa_percentage",
    "original_name",
    "reason",
    "error",
)

DETAIL_KEYS = (
    "diffClusters",
    "intensityStats",
    "boundingBox",
    "regionAnalysis",
    "hotspotAnalysis",
    "confirmedRegions",
)
DETAIL_COLUMNS = (
    "comparison_id",
    "diff_clusters",
    "intensity_stats",
    "bounding_box",
    "region_analysis",
    "hotspot_analysis",
    "confirmed_regions",
)


@dataclass
class ReportResult:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    row_ids: dict[str, int] = field(default_factory=dict)  # comparison id -> comparison row id
    skipped_ids: set[str] = field(default_factory=set)  # ids present in the JSON but not taken


def report_timestamp(report: dict[str, Any], fallback_ms: int, log: LogBook) -> int:
    """The report's `timestamp`; the file's mtime when it is absent or not a time."""
    value = report.get("timestamp")
    try:
        return epoch_ms(value)
    except BadValue as exc:
        reason = "missing" if value is None else f"'timestamp' {exc}"
        log.note(REPORT, None, f"report timestamp {reason}; used the file's modification time")
        return fallback_ms


def parse_comparisons(
    entries: list[Any],
    *,
    build_id: int,
    first_row_id: int,
    report_ts: int,
    now: int,
    signature_properties: Sequence[str],
    log: LogBook,
) -> ReportResult:
    """Turn `comparisons[]` into rows with ids first_row_id, first_row_id + 1, ..."""
    result = ReportResult()
    by_signature: dict[str, str] = {}
    for index, entry in enumerate(entries):
        item = f"comparisons[{index}]"
        if type(entry) is not dict:
            log.skip(REPORT, item, f"entry is {describe(entry)}, not an object")
            continue
        raw_id = entry.get("id")
        if type(raw_id) is str and raw_id.isascii():
            item = raw_id
        try:
            row = _comparison_row(
                entry, build_id, first_row_id + len(result.rows), report_ts, now,
                signature_properties, by_signature, log,
            )  # fmt: skip
        except BadValue as exc:
            log.skip(REPORT, item, str(exc))
            row = None
        except Exception as exc:  # an input we did not foresee must not abort migration 001
            log.skip(REPORT, item, f"unexpected {type(exc).__name__}: {exc}")
            row = None
        if row is None:
            if item == raw_id:
                result.skipped_ids.add(raw_id)
            continue
        result.rows.append(row)
        result.row_ids[row[2]] = row[0]
    return result


def _required(entry: dict[str, Any], key: str) -> str:
    if key not in entry or entry[key] is None:
        raise BadValue(f"missing field '{key}'")
    try:
        value = text(entry[key])
    except BadValue as exc:
        raise BadValue(f"field '{key}' {exc}") from None
    if not value:
        raise BadValue(f"field '{key}' is empty")
    return value


def _comparison_row(
    entry: dict[str, Any],
    build_id: int,
    row_id: int,
    report_ts: int,
    now: int,
    signature_properties: Sequence[str],
    by_signature: dict[str, str],
    log: LogBook,
) -> tuple[Any, ...] | None:
    cid = _required(entry, "id")
    if not _CID.fullmatch(cid):
        raise BadValue(f"invalid id {describe(cid)}: expected 16 lowercase hex digits")
    name = _required(entry, "name")
    try:
        identity.validate_name(name)
    except identity.InvalidName as exc:
        raise BadValue(f"invalid name {describe(name)}: {exc}") from None
    status = _required(entry, "status")

    def note(detail: str) -> None:
        log.note(REPORT, cid, detail)

    properties = entry.get("properties")
    if properties is None:
        properties = {}
    elif type(properties) is not dict:
        note(f"field 'properties' is {describe(properties)}, not an object; stored {{}}")
        properties = {}

    raw_signature = entry.get("signature")
    if raw_signature is None:
        signature = identity.signature(name, properties, signature_properties)
        note(f"no signature; computed {describe(signature)} from name and properties")
    else:
        try:
            signature = text(raw_signature)
        except BadValue as exc:
            raise BadValue(f"field 'signature' {exc}") from None
    expected = identity.comparison_id(signature)
    if cid != expected:
        raise BadValue(
            f"id '{cid}' does not match signature {describe(signature)} "
            f"(its id would be '{expected}')"
        )
    if signature in by_signature:
        raise BadValue(f"duplicate signature {describe(signature)} (id '{cid}' already imported)")
    file_name = identity.file_name(name, signature)

    initial = entry.get("initialStatus")
    if initial is None:
        initial = entry.get("initial_status")
    if initial is not None:
        try:
            initial = text(initial) or None
        except BadValue as exc:
            note(f"field 'initialStatus' {exc}; used status")
            initial = None

    images: list[str | None] = []
    for key, folder in _IMAGE_FIELDS:
        value = entry.get(key)
        if value is None:
            images.append(None)
        elif type(value) is str and value:
            # Re-derived, not copied: the JSON may hold absolute paths of another machine.
            images.append(f"/images/{folder}/{file_name}")
        else:
            note(f"field '{key}' is {describe(value)}; stored NULL")
            images.append(None)

    height_diff = entry.get("heightDiff")
    if height_diff is not None and type(height_diff) is not dict:
        note(f"field 'heightDiff' is {describe(height_diff)}, not an object; stored NULL")
        height_diff = None

    timestamp = report_ts
    if entry.get("timestamp") is not None:
        try:
            timestamp = epoch_ms(entry["timestamp"])
        except BadValue as exc:
            note(f"field 'timestamp' {exc}; used the report timestamp")

    flags = []
    for key in ("hasDiffClusters", "hasConfirmedRegions"):
        value = entry.get(key, False)
        if type(value) is not bool:
            if value is not None:
                note(f"field '{key}' is {describe(value)}, not a boolean; stored false")
            value = False
        flags.append(value)

    # keys() <= set is a cheap test; the comprehension runs only when there are extra keys.
    extra = (
        None
        if entry.keys() <= _KNOWN_KEYS
        else {k: v for k, v in entry.items() if k not in _KNOWN_KEYS}
    )

    row: list[Any] = [
        row_id, build_id, cid, name, signature, file_name, status, initial or status,
        *images, dumps(properties), dumps_or_null(height_diff), timestamp, now,
        flags[0], flags[1], dumps_or_null(extra),
    ]  # fmt: skip
    for key, is_int in _NUMBER_FIELDS:
        value = entry.get(key)
        kind = type(value)
        # Fast path for the common valid values (x - x == 0 only for finite floats); the
        # checking functions handle the rest (integral floats, huge ints, wrong types).
        if (
            value is None
            or (kind is int and INT64_MIN <= value <= INT64_MAX)
            or (kind is float and not is_int and value - value == 0.0)
        ):
            row.append(value)
            continue
        try:
            row.append(integer(value) if is_int else real(value))
        except BadValue as exc:
            # A bad metric loses only that metric: the comparison stays reviewable.
            note(f"field '{key}' {exc}; stored NULL")
            row.append(None)
    for key in _TEXT_FIELDS:
        value = entry.get(key)
        if value is None or (type(value) is str and value.isascii()):
            row.append(value)
            continue
        try:
            row.append(text(value))
        except BadValue as exc:
            note(f"field '{key}' {exc}; stored NULL")
            row.append(None)
    by_signature[signature] = cid
    return tuple(row)


def parse_details(
    details: dict[str, Any], report: ReportResult, log: LogBook
) -> list[tuple[Any, ...]]:
    """comparison-details.json entries -> comparison_detail rows, for imported ids only."""
    rows = []
    for cid, value in details.items():
        item = cid if cid.isascii() else describe(cid)
        row_id = report.row_ids.get(cid)
        if row_id is None:
            if cid in report.skipped_ids:
                log.skip(DETAILS, item, f"details for comparison id '{cid}', which was skipped")
            else:
                log.skip(DETAILS, item, f"details for unknown comparison id {describe(cid)}")
            continue
        if type(value) is not dict:
            log.skip(DETAILS, item, f"details entry is {describe(value)}, not an object")
            continue
        unknown = sorted(k for k in value if k not in DETAIL_KEYS)
        if unknown:
            log.note(DETAILS, item, f"fields not kept: {', '.join(map(describe, unknown))}")
        rows.append((row_id, *(dumps_or_null(value.get(key)) for key in DETAIL_KEYS)))
    return rows
