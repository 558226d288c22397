"""Region and hotspot coverage, and the automatic-pass rules of the Vizzly CLI (contract §3.6).

A failed comparison passes automatically when its changes fall where changes are expected:
1. regions first: user-confirmed 2-D boxes; at least 80 % of the clusters must overlap one;
2. then hotspots: historical 1-D noise bands of rows; with a high-confidence analysis, at
   least 80 % of the changed rows must lie inside a band.

Differences from upstream, on purpose: a region may be given as {x1, y1, x2, y2} or as
{x, y, width, height} (upstream read only x1..y2, so the second shape intersected every
cluster), and malformed entries are skipped instead of raising.

Clusters may be our `Cluster` objects or the camelCase dicts of the legacy JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vizzly_tui.statuses import ComparisonStatus

from .result import Cluster, DiffResult

#: Share of clusters (regions) or changed rows (hotspots) that triggers an automatic pass.
AUTO_PASS_COVERAGE = 0.8
#: A hotspot analysis with confidence_score at or above this counts as high confidence.
HIGH_CONFIDENCE_SCORE = 70

_Box = tuple[float, float, float, float]  # x1, y1, x2, y2, inclusive


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _cluster_box(cluster: Cluster | Mapping[str, Any]) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of a cluster's bounding box, or None when it has none."""
    if isinstance(cluster, Cluster):
        box = cluster.bounding_box
        return box.x, box.y, box.width, box.height
    if not isinstance(cluster, Mapping):
        return None
    box = cluster.get("boundingBox", cluster.get("bounding_box"))
    if not isinstance(box, Mapping):
        return None
    values = [_number(box.get(key)) for key in ("x", "y", "width", "height")]
    if any(v is None for v in values):
        return None
    x, y, width, height = (int(v) for v in values if v is not None)
    return x, y, width, height


def region_box(region: Mapping[str, Any]) -> _Box | None:
    """A region as inclusive (x1, y1, x2, y2), from either accepted shape; None if malformed."""
    if not isinstance(region, Mapping):
        return None
    corners = [_number(region.get(key)) for key in ("x1", "y1", "x2", "y2")]
    if all(v is not None for v in corners):
        x1, y1, x2, y2 = (v for v in corners if v is not None)
        return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
    sized = [_number(region.get(key)) for key in ("x", "y", "width", "height")]
    if all(v is not None for v in sized):
        x, y, width, height = (v for v in sized if v is not None)
        # Same edge convention as upstream's x1..x2 boxes: the far edge is x + width.
        return x, y, x + width, y + height
    return None


def cluster_intersects_region(
    cluster: Cluster | Mapping[str, Any], region: Mapping[str, Any]
) -> bool:
    """Whether the cluster's box (x..x+width, y..y+height) overlaps the region, edges included."""
    box = _cluster_box(cluster)
    bounds = region_box(region)
    if box is None or bounds is None:
        return False
    x, y, width, height = box
    rx1, ry1, rx2, ry2 = bounds
    return not (x + width < rx1 or x > rx2 or y + height < ry1 or y > ry2)


def region_coverage(
    clusters: Sequence[Cluster | Mapping[str, Any]] | None,
    regions: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """The regionAnalysis shape: {coverage, clustersInRegions, totalClusters, matchedRegions,
    confirmedCount, isFiltered}. matchedRegions holds ids, or labels for regions without id."""
    clusters = list(clusters or [])
    regions = [r for r in (regions or []) if isinstance(r, Mapping)]
    in_regions = 0
    matched: dict[Any, None] = {}  # insertion-ordered set
    for cluster in clusters:
        hit = False
        for region in regions:
            if cluster_intersects_region(cluster, region):
                hit = True
                name = region.get("id") or region.get("label")
                if name:
                    matched[name] = None
        in_regions += hit
    coverage = in_regions / len(clusters) if clusters else 0
    return {
        "coverage": coverage,
        "clustersInRegions": in_regions,
        "totalClusters": len(clusters),
        "matchedRegions": list(matched),
        "confirmedCount": len(regions),
        "isFiltered": bool(regions) and bool(clusters) and coverage >= AUTO_PASS_COVERAGE,
    }


def _changed_lines(clusters: Iterable[Cluster | Mapping[str, Any]]) -> set[int]:
    lines: set[int] = set()
    for cluster in clusters:
        box = _cluster_box(cluster)
        if box is not None:
            _, y, _, height = box
            lines.update(range(y, y + height))
    return lines


def is_high_confidence(hotspot: Mapping[str, Any]) -> bool:
    """confidence == 'high' or confidence_score >= 70 (the production rule, 0-100 scale)."""
    score = _number(hotspot.get("confidence_score"))
    return hotspot.get("confidence") == "high" or (
        score is not None and score >= HIGH_CONFIDENCE_SCORE
    )


def hotspot_coverage(
    clusters: Sequence[Cluster | Mapping[str, Any]] | None,
    hotspot: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The hotspotAnalysis shape: {coverage, linesInHotspots, totalLines, confidence,
    confidenceScore, regionCount, isFiltered}.

    Changed lines are every row y .. y+height-1 of each cluster's bounding box, counted once;
    a line is covered when some band has y1 <= line <= y2.
    """
    hotspot = hotspot if isinstance(hotspot, Mapping) else {}
    bands = []
    for band in hotspot.get("regions") or []:
        if isinstance(band, Mapping):
            y1, y2 = _number(band.get("y1")), _number(band.get("y2"))
            if y1 is not None and y2 is not None:
                bands.append((y1, y2))
    lines = _changed_lines(clusters or []) if bands else set()
    covered = sum(1 for line in lines if any(y1 <= line <= y2 for y1, y2 in bands))
    coverage = covered / len(lines) if lines else 0
    filtered = bool(lines) and is_high_confidence(hotspot) and coverage >= AUTO_PASS_COVERAGE
    return {
        "coverage": coverage,
        "linesInHotspots": covered,
        "totalLines": len(lines),
        "confidence": hotspot.get("confidence"),
        "confidenceScore": hotspot.get("confidence_score"),
        "regionCount": len(hotspot.get("regions") or []),
        "isFiltered": filtered,
    }


@dataclass(frozen=True, slots=True)
class Classification:
    """Status of a comparison after the auto-pass rules, plus what the UI shows about them."""

    status: ComparisonStatus  # PASSED or FAILED
    reason: str | None  # 'pixel-diff' | 'region-filtered' | 'hotspot-filtered'; None if equal
    region_analysis: dict[str, Any] | None
    hotspot_analysis: dict[str, Any] | None
    confirmed_regions: list[dict[str, Any]] | None


def classify(
    result: DiffResult,
    *,
    regions: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    hotspot: Mapping[str, Any] | None = None,
) -> Classification:
    """Apply contract §3.6 to a comparison result.

    regions: the confirmed region list of this screenshot name, or its whole region entry
        ({"confirmed": [...], "candidates": [...]}; only confirmed regions count).
    hotspot: the hotspot entry of this name ({"regions": [{y1, y2}], "confidence", ...}).
    A result that is not different passes with reason None and no analyses.
    """
    if not result.is_different:
        return Classification(ComparisonStatus.PASSED, None, None, None, None)
    if isinstance(regions, Mapping):
        regions = regions.get("confirmed")
    confirmed = [dict(r) for r in (regions or []) if isinstance(r, Mapping)]
    clusters = result.diff_clusters

    region_analysis = None
    if confirmed and clusters:
        region_analysis = region_coverage(clusters, confirmed)
        if region_analysis["isFiltered"]:
            return Classification(
                ComparisonStatus.PASSED, "region-filtered", region_analysis, None, confirmed
            )

    hotspot_analysis = None
    if isinstance(hotspot, Mapping) and clusters:
        hotspot_analysis = hotspot_coverage(clusters, hotspot)
        if hotspot_analysis["isFiltered"]:
            return Classification(
                ComparisonStatus.PASSED,
                "hotspot-filtered",
                region_analysis,
                hotspot_analysis,
                confirmed or None,
            )
    return Classification(
        ComparisonStatus.FAILED, "pixel-diff", region_analysis, hotspot_analysis, confirmed or None
    )
