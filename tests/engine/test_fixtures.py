"""Agreement with what the Vizzly CLI 0.29.6 (honeydiff 0.10.1) recorded in the fixtures.

For every comparison that was actually made against the baseline still on disk, our status
(after the region/hotspot rules) and reason must match the recorded ones, and where it
failed, our changed area must overlap the one honeydiff reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCENARIOS
from vizzly_tui.engine import DimensionMismatch, classify, compare_files

# Scenario a is a first run: every comparison is "new", there is nothing to compare.
COMPARED_SCENARIOS = tuple(s for s in SCENARIOS if s != "scenario-a-first-run")


def load_state(project: Path) -> tuple[list[dict[str, Any]], dict, dict, dict]:
    vizzly = project / ".vizzly"
    report = json.loads((vizzly / "report-data.json").read_text())
    details_path = vizzly / "comparison-details.json"
    details = json.loads(details_path.read_text()) if details_path.exists() else {}
    regions_path = vizzly / "regions.json"
    regions = json.loads(regions_path.read_text())["regions"] if regions_path.exists() else {}
    hotspots_path = vizzly / "hotspots.json"
    hotspots = json.loads(hotspots_path.read_text())["hotspots"] if hotspots_path.exists() else {}
    return report["comparisons"], details, regions, hotspots


def image_path(project: Path, url: str) -> Path:
    # "/images/baselines/x.png" -> <project>/.vizzly/baselines/x.png
    return project / ".vizzly" / url.removeprefix("/images/")


def was_accepted(row: dict[str, Any]) -> bool:
    # Accept copies current over baseline and sets status 'passed' but keeps the old reason
    # and diff count; comparing the files now would compare current with itself.
    return row["status"] == "passed" and (
        row.get("initialStatus") == "failed" or row.get("reason") == "pixel-diff"
    )


def overlaps(a: dict[str, int], b: dict[str, int]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("scenario", COMPARED_SCENARIOS)
def test_statuses_and_changed_areas_agree_with_the_cli(scenario_project, scenario: str) -> None:
    project = scenario_project(scenario)
    rows, details, regions, hotspots = load_state(project)
    checked = 0
    for row in rows:
        if row["status"] == "new" or was_accepted(row):
            continue
        # A rejected comparison keeps its baseline and was recorded as failed.
        expected_status = "failed" if row["status"] == "rejected" else row["status"]
        base = image_path(project, row["baseline"])
        cur = image_path(project, row["current"])
        label = f"{scenario}/{row['name']} {row['signature']}"
        if row.get("reason") == "dimension-mismatch":
            with pytest.raises(DimensionMismatch) as caught:
                compare_files(base, cur)
            assert row["error"].endswith(str(caught.value)), label
            checked += 1
            continue
        result = compare_files(
            base, cur, threshold=row["threshold"], min_cluster_size=row["minClusterSize"]
        )
        verdict = classify(
            result, regions=regions.get(row["name"]), hotspot=hotspots.get(row["name"])
        )
        assert verdict.status == expected_status, label
        if expected_status == "failed" or row.get("reason") in (
            "region-filtered",
            "hotspot-filtered",
        ):
            assert verdict.reason == row["reason"], label
        recorded = details.get(row["id"], {})
        if result.is_different and recorded.get("boundingBox"):
            assert result.bounding_box is not None, label
            assert overlaps(result.bounding_box.to_vizzly_dict(), recorded["boundingBox"]), label
        if row.get("heightDiff"):
            assert result.to_vizzly_dict()["heightDiff"] == row["heightDiff"], label
        assert result.total_pixels == row.get("totalPixels", result.total_pixels), label
        checked += 1
    assert checked >= 5, f"{scenario}: only {checked} comparisons checked"


def test_accepted_comparison_is_recognised(scenario_project) -> None:
    rows, *_ = load_state(scenario_project("scenario-c1-accept-reject"))
    assert [row["name"] for row in rows if was_accepted(row)] == ["login"]


def test_login_two_pixel_change_is_different(scenario_project) -> None:
    # honeydiff kept 2 of the 12 changed pixels (10 went to "anti-aliasing"); a red 4x3 patch
    # drawn into glyph noise is a real change and we keep all of it.
    project = scenario_project("scenario-b-second-run")
    vizzly = project / ".vizzly"
    result = compare_files(
        vizzly / "baselines" / "login_6ce9d9acbcca.png",
        vizzly / "current" / "login_6ce9d9acbcca.png",
        min_cluster_size=2,
    )
    assert result.is_different
    assert result.diff_pixels == 12 and result.aa_pixels_ignored == 0
    assert result.to_vizzly_dict()["boundingBox"] == {"x": 70, "y": 108, "width": 4, "height": 3}


def test_region_and_hotspot_analyses_match_recorded_shapes(scenario_project) -> None:
    project = scenario_project("scenario-d2-oauth-download-hotspots-regions")
    rows, details, regions, hotspots = load_state(project)
    by_name = {row["name"]: row for row in rows}
    for name in ("account", "landing", "news-feed", "timeline", "blog"):
        row = by_name[name]
        result = compare_files(
            image_path(project, row["baseline"]), image_path(project, row["current"])
        )
        verdict = classify(result, regions=regions.get(name), hotspot=hotspots.get(name))
        recorded = details[row["id"]]
        for ours, theirs in (
            (verdict.region_analysis, recorded["regionAnalysis"]),
            (verdict.hotspot_analysis, recorded["hotspotAnalysis"]),
        ):
            assert (ours is None) == (theirs is None), name
            if ours is not None:
                assert set(ours) == set(theirs), name
                assert ours["isFiltered"] == theirs["isFiltered"], name
                stable = (
                    "confirmedCount",
                    "matchedRegions",
                    "confidence",
                    "confidenceScore",
                    "regionCount",
                )
                for key in stable:
                    if key in theirs:
                        assert ours[key] == theirs[key], (name, key)
        assert verdict.confirmed_regions == recorded["confirmedRegions"], name
