"""Migration 001 imports the real Vizzly CLI 0.29.6 JSON state field by field.

Every expectation is computed from the fixture's own JSON (loaded here), not from copies,
plus a few hard-coded spot checks taken from the fixture README.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import SCENARIOS, unpack_scenario
from tests.store.legacyhelpers import (
    bootstrap,
    connect,
    counts,
    import_log,
    load,
    rows,
    settings,
    skips,
    snapshot,
)
from vizzly_tui import identity
from vizzly_tui.store.bootstrap import packaged_migrations
from vizzly_tui.store.legacy import import_legacy_state, import_log_summary

STATUS_COUNTS = {  # from shared/fixtures/vizzly-0.29.6/README.md
    "scenario-a-first-run": {"new": 8},
    "scenario-b-second-run": {"passed": 4, "failed": 4, "new": 1},
    "scenario-c1-accept-reject": {"passed": 5, "failed": 2, "rejected": 1, "new": 1},
    "scenario-d2-oauth-download-hotspots-regions": {"passed": 3, "failed": 3},
    "scenario-e2-tdd-run-second": {"passed": 4, "failed": 4, "new": 1},
}
# JSON key -> comparison column, for the fields stored as they are.
PLAIN_FIELDS = {
    "name": "name",
    "status": "status",
    "signature": "signature",
    "threshold": "threshold",
    "minClusterSize": "min_cluster_size",
    "diffPercentage": "diff_percentage",
    "diffCount": "diff_count",
    "reason": "reason",
    "totalPixels": "total_pixels",
    "aaPixelsIgnored": "aa_pixels_ignored",
    "aaPercentage": "aa_percentage",
    "error": "error",
    "originalName": "original_name",
    "timestamp": "timestamp",
    "baseline": "baseline",
    "current": "current",
    "diff": "diff",
}
DETAIL_FIELDS = {
    "diffClusters": "diff_clusters",
    "intensityStats": "intensity_stats",
    "boundingBox": "bounding_box",
    "regionAnalysis": "region_analysis",
    "hotspotAnalysis": "hotspot_analysis",
    "confirmedRegions": "confirmed_regions",
}


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _iso_ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.fixture(scope="module", params=SCENARIOS)
def imported(request, tmp_path_factory) -> tuple[str, Path, dict[str, bytes]]:
    # Module scope: unpacking and importing once per scenario keeps the suite fast; the
    # tests only read, except the idempotency test, which must leave everything unchanged.
    project = unpack_scenario(request.param, tmp_path_factory.mktemp(request.param))
    before = snapshot(project)
    report = bootstrap(project)
    assert report.applied == packaged_migrations()
    return request.param, project, before


def test_comparisons_hold_exactly_the_json(imported):
    scenario, project, _ = imported
    report = load(project, "report-data.json")
    build = rows(project, "SELECT * FROM build WHERE uid = 'legacy-import'")
    assert len(build) == 1
    build = build[0]
    assert (build["kind"], build["name"], build["status"]) == (
        "import",
        "Imported from Vizzly CLI JSON",
        "imported",
    )
    assert build["started_at"] == build["finished_at"] == report["timestamp"]

    found = {r["cid"]: r for r in rows(project, "SELECT * FROM comparison")}
    assert sorted(found) == sorted(c["id"] for c in report["comparisons"])
    for entry in report["comparisons"]:
        row = found[entry["id"]]
        assert row["build_id"] == build["id"]
        for key, column in PLAIN_FIELDS.items():
            assert row[column] == entry.get(key), (entry["id"], key)
        assert row["initial_status"] == entry.get("initialStatus", entry["status"])
        assert json.loads(row["properties"]) == entry["properties"]
        assert _json(row["height_diff"]) == entry.get("heightDiff")
        assert row["has_diff_clusters"] == int(entry["hasDiffClusters"])
        assert row["has_confirmed_regions"] == int(entry["hasConfirmedRegions"])
        assert row["file_name"] == identity.file_name(entry["name"], entry["signature"])
        assert row["baseline"] == f"/images/baselines/{row['file_name']}"
        assert row["cid"] == identity.comparison_id(row["signature"])
        # Kept by the bootstrap right after the import (objects/), so the build stays
        # viewable after a newer run replaces current/.
        current = project / ".vizzly" / "current" / row["file_name"]
        expected = hashlib.sha256(current.read_bytes()).hexdigest() if current.exists() else None
        assert row["current_sha256"] == expected
        assert row["extra"] is None  # the 0.29.6 records carry no field outside the columns
        assert isinstance(row["updated_at"], int)
    assert Counter(r["status"] for r in found.values()) == STATUS_COUNTS[scenario]


def test_spot_checks_from_the_fixture_readme(imported):
    scenario, project, _ = imported
    by_name = {
        (r["name"], r["signature"]): r
        for r in rows(project, "SELECT * FROM comparison ORDER BY timestamp")
    }
    if scenario in ("scenario-b-second-run", "scenario-e2-tdd-run-second"):
        taller = by_name[("Profile Card", "Profile Card|1280|chrome")]
        assert json.loads(taller["height_diff"]) == {
            "height1": 720,
            "height2": 900,
            "extraPixels": 230400,
        }
        wider = by_name[("pricing", "pricing|1280|chrome")]
        assert (wider["status"], wider["reason"], wider["diff"]) == (
            "failed",
            "dimension-mismatch",
            None,
        )
        assert "1280x720 vs 1200x720" in wider["error"]
    if scenario == "scenario-c1-accept-reject":
        assert by_name[("dashboard", "dashboard|1280|chrome")]["status"] == "rejected"
        assert by_name[("login", "login|1280|chrome")]["status"] == "passed"
    if scenario.startswith("scenario-d2"):
        reasons = {r["name"]: r["reason"] for r in by_name.values() if r["status"] == "passed"}
        assert reasons["news-feed"] == "hotspot-filtered"
        assert reasons["account"] == "region-filtered"
        assert by_name[("account", "account|1280|chrome")]["has_confirmed_regions"] == 1


def test_details_hold_exactly_the_json(imported):
    _, project, _ = imported
    path = project / ".vizzly" / "comparison-details.json"
    details = json.loads(path.read_text()) if path.exists() else {}
    sql = "SELECT c.cid, d.* FROM comparison_detail d JOIN comparison c ON c.id = d.comparison_id"
    found = {r["cid"]: r for r in rows(project, sql)}
    assert sorted(found) == sorted(details)
    for cid, entry in details.items():
        for key, column in DETAIL_FIELDS.items():
            assert _json(found[cid][column]) == entry[key], (cid, key)


def test_baselines_hold_exactly_the_json_and_the_files(imported):
    _, project, _ = imported
    vizzly = project / ".vizzly"
    metadata = load(project, "baselines/metadata.json")
    header = {k: v for k, v in metadata.items() if k != "screenshots"}
    stored = settings(project)
    assert stored["baseline_metadata"] == header

    cloud = "buildInfo" in metadata
    origin = rows(project, "SELECT * FROM build WHERE uid = ?", f"baseline:{metadata['buildId']}")
    assert len(origin) == 1
    origin = origin[0]
    assert origin["kind"] == ("baseline-cloud" if cloud else "baseline-local")
    assert origin["name"] == metadata["buildName"]
    assert origin["branch"] == metadata["branch"]
    assert origin["environment"] == metadata["environment"]
    assert origin["started_at"] == _iso_ms(metadata["createdAt"])
    assert origin["cloud_build_id"] == (metadata["buildId"] if cloud else None)
    if cloud:
        info = metadata["buildInfo"]
        assert origin["commit_sha"] == info["commitSha"]
        assert origin["commit_message"] == info["commitMessage"]

    found = {r["signature"]: r for r in rows(project, "SELECT * FROM baseline")}
    versions = {r["signature"]: r for r in rows(project, "SELECT * FROM baseline_version")}
    assert len(found) == len(versions) == len(metadata["screenshots"])
    for entry in metadata["screenshots"]:
        if cloud:
            props = {"browser": entry["browser"], "viewport_width": entry["viewport_width"]}
            signature = identity.signature(entry["name"], props, metadata["signatureProperties"])
            file_name = entry["filename"]
            properties = {**props, "viewport": {"width": entry["viewport_width"]}}
            extra = {k: entry[k] for k in ("id", "originalName", "originalUrl", "fileSize")}
            extra["dimensions"] = entry["dimensions"]
        else:
            signature = entry["signature"]
            file_name = identity.file_name(entry["name"], signature)
            properties = entry["properties"]
            extra = None
        row = found[signature]
        data = (vizzly / "baselines" / file_name).read_bytes()
        with Image.open(vizzly / "baselines" / file_name) as image:
            size = image.size
        assert row["name"] == entry["name"]
        assert row["file_name"] == file_name
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert (row["width"], row["height"]) == size
        assert row["size"] == len(data)
        assert json.loads(row["properties"]) == properties
        assert _json(row["extra"]) == extra
        assert row["origin_build_id"] == origin["id"]
        if cloud:
            assert row["sha256"] == entry["sha256"]
            assert row["size"] == entry["fileSize"]
            assert [row["width"], row["height"]] == list(entry["dimensions"].values())
        version = versions[signature]
        assert (version["sha256"], version["size"], version["source"]) == (
            row["sha256"],
            row["size"],
            "import",
        )
        assert version["decision_id"] is None
        assert version["created_at"] == row["updated_at"]


def test_cloud_files_hotspots_regions_and_settings(imported):
    _, project, _ = imported
    stored = settings(project)
    assert stored["report_timestamp"] == load(project, "report-data.json")["timestamp"]
    vizzly = project / ".vizzly"
    if not (vizzly / "hotspots.json").exists():
        assert counts(project)["hotspot"] == counts(project)["region"] == 0
        assert "hotspot_bundle" not in stored and "baseline_build_metadata" not in stored
        return
    build_meta = load(project, "baseline-metadata.json")
    assert stored["baseline_build_metadata"] == build_meta
    origin = rows(project, "SELECT * FROM build WHERE uid = ?", f"baseline:{build_meta['buildId']}")
    assert len(origin) == 1
    cloud_info = json.loads(origin[0]["cloud_info"])
    buildinfo = load(project, "baselines/metadata.json")["buildInfo"]
    assert cloud_info == {
        **buildinfo,
        **{k: build_meta[k] for k in ("approvalStatus", "completedAt", "downloadedAt")},
    }
    assert origin[0]["commit_sha"] == build_meta["commitSha"]

    hotspots = load(project, "hotspots.json")
    assert stored["hotspot_bundle"] == {
        "downloadedAt": hotspots["downloadedAt"],
        "summary": hotspots["summary"],
    }
    found = {r["name"]: r for r in rows(project, "SELECT * FROM hotspot")}
    assert sorted(found) == sorted(hotspots["hotspots"])
    for name, analysis in hotspots["hotspots"].items():
        row = found[name]
        assert row["confidence"] == analysis["confidence"]
        assert row["confidence_score"] == analysis["confidence_score"]
        assert json.loads(row["bands"]) == analysis["regions"]
        assert json.loads(row["data"]) == analysis
        assert row["source"] == "cloud"

    regions = load(project, "regions.json")
    assert stored["region_bundle"] == {
        "downloadedAt": regions["downloadedAt"],
        "summary": regions["summary"],
    }
    expected = {
        (name, kind, r["id"]): r
        for name, groups in regions["regions"].items()
        for kind, key in (("confirmed", "confirmed"), ("candidate", "candidates"))
        for r in groups[key]
    }
    assert any(kind == "candidate" for _, kind, _ in expected)
    found = {
        (r["name"], r["kind"], r["region_id"]): r for r in rows(project, "SELECT * FROM region")
    }
    assert sorted(found) == sorted(expected)
    corners = ("x1", "y1", "x2", "y2")
    for key, region in expected.items():
        row = found[key]
        assert [row[c] for c in corners] == [region[c] for c in corners]
        assert row["label"] == region["label"]
        assert json.loads(row["data"]) == region
        assert row["source"] == "cloud"


def test_import_log_counts_every_file_and_skips_nothing(imported):
    _, project, _ = imported
    vizzly = project / ".vizzly"
    assert skips(project) == []
    with connect(project) as conn:
        summary = import_log_summary(conn)
    expected = {
        "report-data.json": len(load(project, "report-data.json")["comparisons"]),
        "baselines/metadata.json": len(load(project, "baselines/metadata.json")["screenshots"]),
    }
    if (vizzly / "comparison-details.json").exists():
        expected["comparison-details.json"] = len(load(project, "comparison-details.json"))
    if (vizzly / "hotspots.json").exists():
        expected["hotspots.json"] = len(load(project, "hotspots.json")["hotspots"])
        expected["regions.json"] = 3
        expected["baseline-metadata.json"] = 1
    assert summary == {"imported": expected, "skipped": [], "notes": []}


def test_json_and_images_are_untouched(imported):
    _, project, before = imported
    after = snapshot(project)
    assert {k: after[k] for k in before} == before
    created = set(after) - set(before)
    objects = {name for name in created if name.startswith("objects/")}
    assert all(name.startswith("state.db") for name in created - objects), created
    # objects/ holds copies of the imported images, by their sha256 (history keeps them).
    for name in objects:
        assert name == f"objects/{hashlib.sha256(after[name]).hexdigest()}.png"
        assert after[name] in before.values()


def test_second_bootstrap_imports_nothing_more(imported):
    _, project, _ = imported
    first_counts, first_log = counts(project), import_log(project)
    again = bootstrap(project)
    assert again.applied == []
    assert counts(project) == first_counts
    assert import_log(project) == first_log
    history = rows(project, "SELECT name, COUNT(*) AS n FROM migratehistory GROUP BY name")
    assert {(r["name"], r["n"]) for r in history} == {(m, 1) for m in packaged_migrations()}


def test_direct_second_call_is_a_no_op(scenario_project):
    import peewee as pw

    project = scenario_project("scenario-b-second-run")
    bootstrap(project)
    before = counts(project)
    db = pw.SqliteDatabase(str(project / ".vizzly" / "state.db"))
    try:
        summary = import_legacy_state(db)
    finally:
        db.close()
    assert summary.already_imported and summary.comparisons == 0
    assert counts(project) == before
