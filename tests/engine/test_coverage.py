"""Region and hotspot coverage and the auto-pass rules (contract §3.6 and §8.3)."""

from __future__ import annotations

import pytest

from vizzly_tui.engine import (
    BoundingBox,
    Cluster,
    DiffResult,
    classify,
    cluster_intersects_region,
    hotspot_coverage,
    region_coverage,
)


def cluster(x: int, y: int, width: int, height: int) -> dict:
    """A cluster as the legacy JSON stores it."""
    return {
        "pixelCount": width * height,
        "centerOfMass": [x + width / 2, y + height / 2],
        "avgIntensity": 255,
        "boundingBox": {"x": x, "y": y, "width": width, "height": height},
    }


def dataclass_cluster(x: int, y: int, width: int, height: int) -> Cluster:
    return Cluster(
        width * height, (x + width / 2, y + height / 2), 255.0, BoundingBox(x, y, width, height)
    )


def hotspot(*bands: tuple[int, int], confidence: str = "high", score: int | None = 92) -> dict:
    data: dict = {"regions": [{"y1": y1, "y2": y2} for y1, y2 in bands], "confidence": confidence}
    if score is not None:
        data["confidence_score"] = score
    return data


def result_with(*clusters: Cluster) -> DiffResult:
    pixels = sum(c.pixel_count for c in clusters)
    return DiffResult(
        is_different=bool(clusters),
        diff_percentage=pixels / 100,
        total_pixels=10_000,
        diff_pixels=pixels,
        aa_pixels_ignored=0,
        aa_percentage=0.0,
        bounding_box=clusters[0].bounding_box if clusters else None,
        height_diff=None,
        diff_clusters=list(clusters),
    )


# ---------------------------------------------------------------- hotspot coverage (§8.3)
@pytest.mark.parametrize(
    ("clusters", "data"),
    [
        (None, hotspot((0, 100))),
        ([], hotspot((0, 100))),
        ([cluster(0, 50, 10, 10)], None),
        ([cluster(0, 50, 10, 10)], {"confidence": "high"}),
        ([cluster(0, 50, 10, 10)], {"regions": [], "confidence": "high"}),
        ([{"pixelCount": 3}], hotspot((0, 100))),
    ],
    ids=["null-clusters", "no-clusters", "null-analysis", "no-regions", "empty-regions", "no-box"],
)
def test_hotspot_coverage_is_zero_without_data(clusters, data) -> None:
    analysis = hotspot_coverage(clusters, data)
    assert (analysis["coverage"], analysis["linesInHotspots"], analysis["totalLines"]) == (0, 0, 0)
    assert analysis["isFiltered"] is False


def test_cluster_fully_inside_a_band() -> None:
    analysis = hotspot_coverage([cluster(0, 50, 10, 10)], hotspot((0, 100)))
    assert analysis["coverage"] == 1.0
    assert (analysis["linesInHotspots"], analysis["totalLines"]) == (10, 10)


def test_cluster_outside_every_band() -> None:
    assert hotspot_coverage([cluster(0, 200, 10, 10)], hotspot((0, 100)))["coverage"] == 0


def test_cluster_partly_inside() -> None:
    analysis = hotspot_coverage([cluster(0, 95, 10, 10)], hotspot((0, 100)))
    assert analysis["coverage"] == pytest.approx(0.6)
    assert (analysis["linesInHotspots"], analysis["totalLines"]) == (6, 10)


def test_multiple_clusters_and_multiple_bands() -> None:
    clusters = [cluster(0, 10, 5, 10), cluster(40, 300, 5, 10), cluster(0, 500, 5, 10)]
    analysis = hotspot_coverage(clusters, hotspot((0, 50), (295, 305)))
    # lines 10-19 in, 300-305 in (6 of 300-309), 500-509 out
    assert (analysis["linesInHotspots"], analysis["totalLines"]) == (16, 30)
    assert analysis["regionCount"] == 2


def test_overlapping_cluster_lines_are_counted_once() -> None:
    analysis = hotspot_coverage([cluster(0, 10, 5, 10), cluster(50, 15, 5, 10)], hotspot((0, 100)))
    assert analysis["totalLines"] == 15  # rows 10..24


def test_band_edges_are_inclusive() -> None:
    analysis = hotspot_coverage([cluster(0, 100, 5, 1)], hotspot((0, 100)))
    assert analysis["coverage"] == 1.0  # line 100 is inside [0, 100]
    assert hotspot_coverage([cluster(0, 101, 5, 1)], hotspot((0, 100)))["coverage"] == 0


@pytest.mark.parametrize(
    ("confidence", "score", "filtered"),
    [
        ("high", 92, True),
        ("low", 35, False),
        ("medium", 75, True),
        ("low", 69, False),
        ("high", None, True),
        ("medium", None, False),
    ],
)
def test_hotspot_filtering_needs_high_confidence(confidence, score, filtered) -> None:
    data = hotspot((0, 100), confidence=confidence, score=score)
    analysis = hotspot_coverage([cluster(0, 50, 10, 10)], data)
    assert analysis["isFiltered"] is filtered
    assert analysis["confidence"] == confidence and analysis["confidenceScore"] == score


def test_hotspot_filtering_needs_eighty_percent() -> None:
    # 8 of 10 lines inside: exactly 0.8 filters; 7 of 10 does not.
    assert hotspot_coverage([cluster(0, 93, 5, 10)], hotspot((0, 100)))["isFiltered"] is True
    assert hotspot_coverage([cluster(0, 94, 5, 10)], hotspot((0, 100)))["isFiltered"] is False


# ---------------------------------------------------------------- region coverage (§8.3)
REGION = {"id": "r1", "label": "Clock", "x1": 100, "y1": 100, "x2": 200, "y2": 200}


@pytest.mark.parametrize(
    ("box", "hit"),
    [
        ((120, 120, 10, 10), True),  # inside
        ((90, 90, 10, 10), True),  # touching the top-left corner: edges inclusive
        ((200, 150, 10, 10), True),  # starting on the right edge
        ((150, 200, 10, 10), True),  # starting on the bottom edge
        ((50, 150, 10, 10), False),  # left
        ((250, 150, 10, 10), False),  # right
        ((150, 50, 10, 10), False),  # above
        ((150, 250, 10, 10), False),  # below
        ((50, 50, 10, 10), False),  # diagonal corner, outside
        ((80, 80, 200, 200), True),  # containing the region
    ],
    ids=[
        "inside",
        "corner-touch",
        "right-edge",
        "bottom-edge",
        "left",
        "right",
        "above",
        "below",
        "corner-out",
        "contains",
    ],
)
def test_box_intersection(box: tuple[int, int, int, int], hit: bool) -> None:
    assert cluster_intersects_region(cluster(*box), REGION) is hit
    assert cluster_intersects_region(dataclass_cluster(*box), REGION) is hit
    # The {x, y, width, height} shape describes the same box.
    sized = {"id": "r1", "x": 100, "y": 100, "width": 100, "height": 100}
    assert cluster_intersects_region(cluster(*box), sized) is hit


def test_region_coverage_full_none_and_half() -> None:
    inside, outside = cluster(120, 120, 5, 5), cluster(500, 500, 5, 5)
    full = region_coverage([inside, inside], [REGION])
    assert (full["coverage"], full["clustersInRegions"], full["totalClusters"]) == (1, 2, 2)
    assert full["matchedRegions"] == ["r1"] and full["confirmedCount"] == 1
    assert full["isFiltered"] is True
    none = region_coverage([outside], [REGION])
    assert none["coverage"] == 0 and none["matchedRegions"] == [] and not none["isFiltered"]
    half = region_coverage([inside, outside], [REGION])
    assert half["coverage"] == 0.5 and not half["isFiltered"]


def test_matched_regions_use_ids_then_labels() -> None:
    regions = [
        {"id": "rgn_a", "label": "A", "x1": 0, "y1": 0, "x2": 10, "y2": 10},
        {"label": "Banner", "x1": 100, "y1": 0, "x2": 110, "y2": 10},
        {"x1": 200, "y1": 0, "x2": 210, "y2": 10},
    ]
    clusters = [cluster(2, 2, 2, 2), cluster(102, 2, 2, 2), cluster(202, 2, 2, 2)]
    analysis = region_coverage(clusters, regions)
    assert analysis["matchedRegions"] == ["rgn_a", "Banner"]
    assert analysis["coverage"] == 1


def test_exactly_eighty_percent_counts() -> None:
    inside, outside = cluster(120, 120, 5, 5), cluster(500, 500, 5, 5)
    assert region_coverage([inside] * 4 + [outside], [REGION])["isFiltered"] is True
    assert region_coverage([inside] * 3 + [outside], [REGION])["isFiltered"] is False


def test_sized_region_shape_does_not_match_everything() -> None:
    # Upstream read x1..y2 only, so {x, y, width, height} regions overlapped every cluster.
    sized = {"id": "s", "x": 0, "y": 0, "width": 50, "height": 50}
    analysis = region_coverage([cluster(500, 500, 5, 5)], [sized])
    assert analysis["coverage"] == 0


def test_malformed_regions_and_clusters_are_skipped() -> None:
    analysis = region_coverage(
        [cluster(1, 1, 2, 2), {"boundingBox": None}], [{"label": "?"}, REGION]
    )
    assert analysis["clustersInRegions"] == 0 and analysis["totalClusters"] == 2


# ---------------------------------------------------------------- classify
def test_not_different_passes_without_analysis() -> None:
    verdict = classify(result_with(), regions=[REGION], hotspot=hotspot((0, 100)))
    assert (verdict.status, verdict.reason) == ("passed", None)
    assert verdict.region_analysis is None and verdict.hotspot_analysis is None


def test_regions_come_first() -> None:
    result = result_with(dataclass_cluster(120, 120, 5, 5))
    verdict = classify(result, regions=[REGION], hotspot=hotspot((0, 1000)))
    assert (verdict.status, verdict.reason) == ("passed", "region-filtered")
    assert verdict.region_analysis is not None and verdict.region_analysis["isFiltered"]
    assert verdict.hotspot_analysis is None
    assert verdict.confirmed_regions == [REGION]


def test_hotspots_apply_when_regions_do_not_cover() -> None:
    result = result_with(dataclass_cluster(500, 50, 5, 5))
    verdict = classify(
        result, regions={"confirmed": [REGION], "candidates": []}, hotspot=hotspot((0, 100))
    )
    assert (verdict.status, verdict.reason) == ("passed", "hotspot-filtered")
    assert verdict.region_analysis is not None and verdict.region_analysis["coverage"] == 0
    assert verdict.hotspot_analysis is not None and verdict.hotspot_analysis["isFiltered"]


def test_low_confidence_hotspot_fails() -> None:
    result = result_with(dataclass_cluster(0, 50, 5, 5))
    verdict = classify(result, regions=None, hotspot=hotspot((0, 100), confidence="low", score=35))
    assert (verdict.status, verdict.reason) == ("failed", "pixel-diff")
    assert verdict.hotspot_analysis is not None and not verdict.hotspot_analysis["isFiltered"]
    assert verdict.confirmed_regions is None and verdict.region_analysis is None


def test_candidate_regions_do_not_count() -> None:
    result = result_with(dataclass_cluster(120, 120, 5, 5))
    verdict = classify(result, regions={"confirmed": [], "candidates": [REGION]}, hotspot=None)
    assert (verdict.status, verdict.reason) == ("failed", "pixel-diff")
    assert verdict.region_analysis is None
