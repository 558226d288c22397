"""hotspots.json and regions.json -> hotspot / region rows and their bundle settings.

Both files come in two forms (contract §2.6): a bundle {downloadedAt, summary, hotspots|regions:
{name: ...}} or a bare map {name: ...}. As upstream's normalize*Bundle, a value whose key
holds an object is a bundle, anything else is a bare map. Both are keyed by screenshot name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vizzly_tui.store.legacy_values import (
    BadValue,
    LogBook,
    describe,
    dumps,
    opt_text,
    real,
    text,
)

HOTSPOTS = "hotspots.json"
REGIONS = "regions.json"
HOTSPOT_COLUMNS = ("name", "confidence", "confidence_score", "bands", "data", "source")
REGION_COLUMNS = (
    "name",
    "kind",
    "source",
    "region_id",
    "label",
    "x1",
    "y1",
    "x2",
    "y2",
    "data",
)


@dataclass
class CloudResult:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    bundle: dict[str, Any] = field(default_factory=dict)  # {downloadedAt, summary}


def split_bundle(value: dict[str, Any], key: str, fallback_time: str) -> tuple[Any, dict]:
    """(the name map, {downloadedAt, summary}) of a bundle or bare-map file."""
    if type(value.get(key)) is dict:
        bundle = {
            # Upstream fills `|| now`; the file's mtime is a closer guess of the download time.
            "downloadedAt": value.get("downloadedAt") or fallback_time,
            "summary": value.get("summary") or {},
        }
        return value[key], bundle
    return value, {"downloadedAt": fallback_time, "summary": {}}


def _name(key: str) -> str:
    name = text(key)
    if not name:
        raise BadValue("empty screenshot name")
    return name


def _entries(
    mapping: dict[str, Any], source: str, what: str, log: LogBook
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(log item, screenshot name, object) of each valid entry; the others skipped and logged."""
    for key, value in mapping.items():
        item = key if key.isascii() else describe(key)
        try:
            name = _name(key)
            if type(value) is not dict:
                raise BadValue(f"{what} is {describe(value)}, not an object")
        except BadValue as exc:
            log.skip(source, item, str(exc))
            continue
        yield item, name, value


def parse_hotspots(value: dict[str, Any], fallback_time: str, log: LogBook) -> CloudResult:
    mapping, bundle = split_bundle(value, "hotspots", fallback_time)
    result = CloudResult(bundle=bundle)
    for item, name, analysis in _entries(mapping, HOTSPOTS, "hotspot analysis", log):
        try:
            confidence = opt_text(analysis.get("confidence"))
        except BadValue as exc:
            log.note(HOTSPOTS, item, f"'confidence' {exc}; stored NULL")
            confidence = None
        try:
            score = real(analysis.get("confidence_score"))
        except BadValue as exc:
            log.note(HOTSPOTS, item, f"'confidence_score' {exc}; stored NULL")
            score = None
        bands = analysis.get("regions")
        if bands is None:
            bands = []
        elif type(bands) is not list:
            log.note(HOTSPOTS, item, f"'regions' is {describe(bands)}, not an array; no bands")
            bands = []
        kept = [b for b in bands if type(b) is dict and _numbers(b.get("y1"), b.get("y2"))]
        if len(kept) != len(bands):
            dropped = len(bands) - len(kept)
            log.note(HOTSPOTS, item, f"{dropped} band(s) without numeric y1/y2 dropped")
        result.rows.append((name, confidence, score, dumps(kept), dumps(analysis), "cloud"))
    return result


def _numbers(*values: Any) -> list[float | int] | None:
    """The values as storable numbers, or None if any is missing or not a number."""
    out = []
    for value in values:
        try:
            number = real(value)
        except BadValue:
            return None
        if number is None:
            return None
        out.append(number)
    return out


def box(region: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """x1, y1, x2, y2 of a {x1,y1,x2,y2} or {x,y,width,height} region, None if neither."""
    corners = _numbers(*(region.get(k) for k in ("x1", "y1", "x2", "y2")))
    if corners is not None:
        return corners[0], corners[1], corners[2], corners[3]
    sized = _numbers(*(region.get(k) for k in ("x", "y", "width", "height")))
    if sized is not None:
        x, y, w, h = (float(v) for v in sized)  # float: x + w of two huge ints would overflow
        return x, y, x + w, y + h
    return None


def parse_regions(value: dict[str, Any], fallback_time: str, log: LogBook) -> CloudResult:
    mapping, bundle = split_bundle(value, "regions", fallback_time)
    result = CloudResult(bundle=bundle)
    for item, name, groups in _entries(mapping, REGIONS, "regions entry", log):
        for kind, group_key in (("confirmed", "confirmed"), ("candidate", "candidates")):
            regions = groups.get(group_key)
            if regions is None:
                continue
            if type(regions) is not list:
                log.skip(REGIONS, item, f"'{group_key}' is {describe(regions)}, not an array")
                continue
            for index, region in enumerate(regions):
                where = f"{group_key}[{index}]"
                if type(region) is not dict:
                    log.skip(REGIONS, item, f"{where} is {describe(region)}, not an object")
                    continue
                corners = box(region)
                if corners is None:
                    log.skip(REGIONS, item, f"{where} has missing or non-numeric coordinates")
                    continue
                region_id = region.get("id")
                if type(region_id) is int:
                    region_id = str(region_id)
                try:
                    region_id = opt_text(region_id)
                    label = opt_text(region.get("label"))
                except BadValue as exc:
                    log.skip(REGIONS, item, f"{where}: 'id' or 'label' {exc}")
                    continue
                row = (name, kind, "cloud", region_id, label, *corners, dumps(region))
                result.rows.append(row)
    return result
