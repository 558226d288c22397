"""Damaged legacy JSON: what is valid is imported, what is not is skipped with its reason.

Each test starts from a real fixture project and breaks one thing, so the rest of the
import is checked to survive it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.store.legacyhelpers import (
    bootstrap,
    counts,
    load,
    notes,
    rows,
    save,
    settings,
    skips,
    snapshot,
    tiny_png,
)
from vizzly_tui import identity
from vizzly_tui.project import LEGACY_STATE_FILES

B = "scenario-b-second-run"
D2 = "scenario-d2-oauth-download-hotspots-regions"
REPORT = "report-data.json"
DETAILS = "comparison-details.json"
META = "baselines/metadata.json"


def _cids(project: Path) -> set[str]:
    return {r["cid"] for r in rows(project, "SELECT cid FROM comparison")}


def test_details_for_an_unknown_id_is_skipped_and_the_rest_kept(scenario_project):
    project = scenario_project(B)
    details = load(project, DETAILS)
    details["ffffffffffffffff"] = next(iter(details.values()))
    save(project, DETAILS, details)
    bootstrap(project)
    assert counts(project)["comparison"] == 9  # upstream lost the whole report here
    assert counts(project)["comparison_detail"] == 3
    assert skips(project) == [
        (DETAILS, "ffffffffffffffff", "details for unknown comparison id 'ffffffffffffffff'")
    ]


def test_comparison_missing_status_is_skipped_with_its_details(scenario_project):
    project = scenario_project(B)
    report = load(project, REPORT)
    victim = next(c for c in report["comparisons"] if c["name"] == "login")
    del victim["status"]
    save(project, REPORT, report)
    bootstrap(project)
    assert victim["id"] not in _cids(project)
    assert len(_cids(project)) == 8
    assert skips(project) == [
        (REPORT, victim["id"], "missing field 'status'"),
        (DETAILS, victim["id"], f"details for comparison id '{victim['id']}', which was skipped"),
    ]
    assert counts(project)["comparison_detail"] == 2


def test_bad_ids_are_skipped(scenario_project):
    project = scenario_project(B)
    report = load(project, REPORT)
    report["comparisons"][0]["id"] = "ZZZ"
    report["comparisons"][1]["id"] = "0123456789abcdef"  # well formed, not sha256(signature)
    report["comparisons"][2]["id"] = 42
    save(project, REPORT, report)
    bootstrap(project)
    found = skips(project)
    assert len(_cids(project)) == 6
    assert found[0] == (REPORT, "ZZZ", "invalid id 'ZZZ': expected 16 lowercase hex digits")
    assert found[1][:2] == (REPORT, "0123456789abcdef")
    assert "does not match signature" in found[1][2] and "2b43834b6e985c6b" not in found[1][2]
    assert found[2] == (REPORT, "comparisons[2]", "field 'id' is not a string (42)")


def test_duplicate_signature_keeps_the_first(scenario_project):
    project = scenario_project(B)
    report = load(project, REPORT)
    first = report["comparisons"][0]
    report["comparisons"].append({**first, "status": "failed"})
    save(project, REPORT, report)
    bootstrap(project)
    assert rows(project, "SELECT status FROM comparison WHERE cid = ?", first["id"])[0][0] == (
        "passed"
    )
    assert skips(project)[0][:2] == (REPORT, first["id"])
    assert skips(project)[0][2].startswith("duplicate signature")


def test_report_not_json_skips_the_file_but_imports_the_others(scenario_project):
    project = scenario_project(B)
    (project / ".vizzly" / REPORT).write_text("", encoding="utf-8")
    bootstrap(project)
    found = skips(project)
    assert found[0][:2] == (REPORT, None)
    assert found[0][2].startswith("not valid JSON: Expecting value: line 1 column 1")
    assert found[1] == (DETAILS, None, "not imported: report-data.json was not imported")
    assert counts(project)["comparison"] == 0
    assert counts(project)["baseline"] == 9
    assert [tuple(r) for r in rows(project, "SELECT uid FROM build")] == [
        ("baseline:local-baseline",)
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[]", "wrong shape: the top level is an array"),
        ('{"comparisons": {}}', "wrong shape: 'comparisons' is an object, not an array"),
        ('{"timestamp": 1}', "wrong shape: 'comparisons' is null, not an array"),
        (b"\xff\xfe{", "not valid UTF-8: invalid start byte at byte 0"),
    ],
)
def test_report_of_the_wrong_shape_is_skipped_whole(scenario_project, content, reason):
    project = scenario_project(B)
    path = project / ".vizzly" / REPORT
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    bootstrap(project)
    assert skips(project)[0] == (REPORT, None, reason)
    assert counts(project)["baseline"] == 9


def test_bad_field_types_become_null_with_a_note(scenario_project):
    project = scenario_project(B)
    report = load(project, REPORT)
    entry = next(c for c in report["comparisons"] if c["name"] == "dashboard")
    entry.update(
        threshold="2",
        diffCount=True,  # bool is not a number
        totalPixels=2**70,  # would overflow SQLite's 64-bit integer
        properties=["not", "an", "object"],
        heightDiff=7,
        userAction="accepted",
        warnings=["slow"],
        reason="\ud800",  # a lone surrogate cannot be stored as UTF-8
    )
    save(project, REPORT, report)
    bootstrap(project)
    row = rows(project, "SELECT * FROM comparison WHERE cid = ?", entry["id"])[0]
    assert row["threshold"] is None and row["diff_count"] is None and row["total_pixels"] is None
    assert row["reason"] is None and row["height_diff"] is None
    assert json.loads(row["properties"]) == {}
    assert json.loads(row["extra"]) == {"userAction": "accepted", "warnings": ["slow"]}
    assert row["diff_percentage"] == entry["diffPercentage"]  # the rest of the entry is kept
    details = [d for s, i, d in notes(project) if i == entry["id"]]
    assert len(details) == 6
    assert "note: field 'threshold' is not a number ('2'); stored NULL" in details
    assert "note: field 'diffCount' is not an integer (true); stored NULL" in details
    assert skips(project) == []


def test_missing_signature_is_computed_with_signature_properties(scenario_project):
    project = scenario_project(B)
    meta = load(project, META)
    meta["signatureProperties"] = ["theme"]
    save(project, META, meta)
    report = load(project, REPORT)
    login = next(c for c in report["comparisons"] if c["name"] == "login")
    del login["signature"]
    expected = identity.signature("login", login["properties"], ["theme"])
    assert expected == "login|1280|chrome|light"
    login["id"] = identity.comparison_id(expected)
    save(project, REPORT, report)
    bootstrap(project)
    row = rows(project, "SELECT * FROM comparison WHERE cid = ?", login["id"])[0]
    assert (row["signature"], row["file_name"]) == (expected, identity.file_name("login", expected))


def test_missing_report_timestamp_falls_back_to_the_file_time(scenario_project):
    project = scenario_project(B)
    report = load(project, REPORT)
    del report["timestamp"]
    save(project, REPORT, report)
    mtime_ms = (project / ".vizzly" / REPORT).stat().st_mtime_ns // 1_000_000
    bootstrap(project)
    assert settings(project)["report_timestamp"] == mtime_ms
    assert rows(project, "SELECT started_at FROM build WHERE kind = 'import'")[0][0] == mtime_ms


def test_nan_is_read_as_null_with_a_note(scenario_project):
    project = scenario_project(B)
    path = project / ".vizzly" / REPORT
    path.write_text(path.read_text().replace('"threshold":2,', '"threshold":NaN,', 1))
    bootstrap(project)
    assert (REPORT, None, "note: non-JSON constant(s) NaN read as null") in notes(project)
    assert counts(project)["comparison"] == 9


def test_regions_in_xywh_shape_are_normalised(scenario_project):
    project = scenario_project(D2)
    regions = load(project, "regions.json")
    regions["regions"]["landing"]["confirmed"] = [
        {"id": "r1", "label": "ad", "x": 900, "y": 600, "width": 300, "height": 80},
        {"id": "r2", "label": "broken", "x": 1, "y": "2", "width": 3, "height": 4},
    ]
    save(project, "regions.json", regions)
    bootstrap(project)
    found = rows(project, "SELECT x1, y1, x2, y2 FROM region WHERE region_id = 'r1'")
    assert [tuple(r) for r in found] == [(900, 600, 1200, 680)]
    assert rows(project, "SELECT COUNT(*) FROM region WHERE region_id = 'r2'")[0][0] == 0
    assert skips(project) == [
        ("regions.json", "landing", "confirmed[1] has missing or non-numeric coordinates")
    ]
    assert counts(project)["region"] == 3  # account's, landing's r1 and its candidate


def test_hotspots_as_a_bare_map(scenario_project):
    project = scenario_project(D2)
    bundle = load(project, "hotspots.json")
    bare = bundle["hotspots"]
    bare["blog"]["regions"].append({"y1": "x", "y2": 3})
    save(project, "hotspots.json", bare)
    bootstrap(project)
    found = {r["name"]: r for r in rows(project, "SELECT * FROM hotspot")}
    assert sorted(found) == sorted(bare)
    assert json.loads(found["news-feed"]["bands"]) == bare["news-feed"]["regions"]
    assert json.loads(found["blog"]["bands"]) == bare["blog"]["regions"][:1]
    assert settings(project)["hotspot_bundle"]["summary"] == {}
    assert ("hotspots.json", "blog", "note: 1 band(s) without numeric y1/y2 dropped") in notes(
        project
    )


def test_cloud_baseline_whose_file_is_missing(scenario_project):
    project = scenario_project(D2)
    (project / ".vizzly" / "baselines" / "news-feed_095cec63724f.png").unlink()
    bootstrap(project)
    assert counts(project)["baseline"] == counts(project)["baseline_version"] == 5
    assert skips(project) == [
        (META, "news-feed", "baseline file baselines/news-feed_095cec63724f.png is missing")
    ]


def test_baseline_file_name_escaping_the_folder_is_rejected(scenario_project):
    project = scenario_project(D2)
    vizzly = project / ".vizzly"
    (vizzly / "escape.png").write_bytes(tiny_png())  # it exists: only the name stops it
    meta = load(project, META)
    meta["screenshots"][0]["filename"] = "../escape.png"
    meta["screenshots"][1]["filename"] = "/etc/passwd.png"
    save(project, META, meta)
    bootstrap(project)
    assert counts(project)["baseline"] == 4
    assert [(i, d.split(" (")[0]) for _, i, d in skips(project)] == [
        ("news-feed", "unsafe baseline file name '../escape.png'"),
        ("timeline", "unsafe baseline file name '/etc/passwd.png'"),
    ]


def test_cloud_sha256_mismatch_stores_the_real_hash(scenario_project):
    project = scenario_project(D2)
    meta = load(project, META)
    meta["screenshots"][0]["sha256"] = "0" * 64
    save(project, META, meta)
    bootstrap(project)
    data = (project / ".vizzly" / "baselines" / meta["screenshots"][0]["filename"]).read_bytes()
    row = rows(project, "SELECT sha256, extra FROM baseline WHERE name = 'news-feed'")[0]
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert json.loads(row["extra"])["sha256"] == "0" * 64
    assert any("does not match" in d for _, _, d in notes(project))


def test_build_metadata_alone_gives_a_cloud_build(scenario_project):
    project = scenario_project(D2)
    (project / ".vizzly" / META).unlink()
    bootstrap(project)
    build = rows(project, "SELECT * FROM build WHERE kind = 'baseline-cloud'")
    assert len(build) == 1
    meta = load(project, "baseline-metadata.json")
    assert (build[0]["uid"], build[0]["commit_sha"]) == (
        f"baseline:{meta['buildId']}",
        meta["commitSha"],
    )
    assert counts(project)["baseline"] == 0 and counts(project)["comparison"] == 6


@pytest.mark.parametrize(
    "garbage",
    ["null", "1", '"x"', "[1, {}]", "{}", '{"a": [1]}', '{"a": {"b": null}}', "{", "[[[[" * 5000],
)
def test_any_garbage_in_every_file_never_raises(scenario_project, garbage):
    # The same garbage in all six files at once: each file is parsed independently, so one
    # bootstrap checks every file's handling of it.
    project = scenario_project(D2)
    for rel in LEGACY_STATE_FILES:
        (project / ".vizzly" / rel).write_text(garbage)
    before = snapshot(project)
    report = bootstrap(project)
    assert report.applied == ["001_initial", "002_priority_regions"]
    after = snapshot(project)
    assert {k: after[k] for k in before} == before
    assert counts(project)["comparison"] == counts(project)["baseline"] == 0


def test_details_entry_that_is_not_an_object_is_skipped(scenario_project):
    project = scenario_project(B)
    details = load(project, DETAILS)
    victim = next(iter(details))
    details[victim] = [1, 2]
    save(project, DETAILS, details)
    bootstrap(project)
    assert counts(project)["comparison_detail"] == 2
    assert skips(project) == [(DETAILS, victim, "details entry is [1, 2], not an object")]


def test_metadata_without_a_screenshots_array_is_skipped_whole(scenario_project):
    project = scenario_project(B)
    meta = load(project, META)
    meta["screenshots"] = {"homepage": {}}
    save(project, META, meta)
    bootstrap(project)
    assert skips(project) == [(META, None, "wrong shape: 'screenshots' is an object, not an array")]
    assert counts(project)["baseline"] == 0 and counts(project)["comparison"] == 9
    assert "baseline_metadata" not in settings(project)


def test_lone_surrogates_never_reach_sqlite(scenario_project):
    project = scenario_project(D2)
    meta = load(project, META)
    meta["screenshots"][0]["name"] = "news\ud800feed"
    save(project, META, meta)
    hotspots = load(project, "hotspots.json")
    hotspots["hotspots"]["bad\udfff"] = {"regions": []}
    save(project, "hotspots.json", hotspots)
    report = load(project, REPORT)
    report["comparisons"][0]["name"] = "x\ud800"
    save(project, REPORT, report)
    bootstrap(project)
    found = skips(project)
    assert [(s, i) for s, i, _ in found] == [
        (META, "news\\ud800feed"),
        (REPORT, report["comparisons"][0]["id"]),
        (DETAILS, report["comparisons"][0]["id"]),  # its details go with it
        ("hotspots.json", "'bad\\udfff'"),
    ]
    assert counts(project)["baseline"] == 5 and counts(project)["hotspot"] == 3


def test_hostile_numbers_and_surrogates_are_skipped_not_fatal(tmp_path):
    import json as _json
    import subprocess
    import sys

    vizzly = tmp_path / ".vizzly"
    (vizzly / "baselines").mkdir(parents=True)
    (vizzly / "report-data.json").write_text('{"comparisons":[],"timestamp":' + "9" * 5000 + "}")
    (vizzly / "baselines" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (vizzly / "baselines" / "metadata.json").write_text(
        '{"screenshots":[{"name":"a","filename":"a.png","viewport_width":"\\udc00"}]}'
    )
    cli = [sys.executable, "-m", "vizzly_tui", "--project", str(tmp_path)]
    status = subprocess.run([*cli, "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    info = subprocess.run([*cli, "db", "status", "--json"], capture_output=True, text=True)
    skipped = _json.loads(info.stdout)["legacyImport"]["skipped"]
    reasons = " ".join(item["detail"] for item in skipped)
    assert "not valid JSON" in reasons
    assert "lone surrogate" in reasons
