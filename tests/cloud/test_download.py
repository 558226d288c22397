"""`vizzly-tui baselines download` against a loopback stand-in of the cloud API."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from tests.cloud.conftest import CLOUD_CART, CLOUD_HOME, CloudBuild, Shot, png
from vizzly_tui.cli import main
from vizzly_tui.store.models import Baseline, BaselineVersion, Build, Decision, Hotspot, Region
from vizzly_tui.store.store import open_store


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cli(project, *args: str):
    return CliRunner().invoke(main, ["--project", str(project.root), *args])


def baseline_files(project) -> dict[str, str]:
    folder = project.vizzly_dir / "baselines"
    return {p.name: sha(p.read_bytes()) for p in sorted(folder.glob("*.png"))}


def rows(project) -> dict[str, str | None]:
    with open_store(project, write=False):
        return {b.signature: b.sha256 for b in Baseline.select()}


def test_download_by_build_installs_the_set_and_undo_restores_the_previous(project, cloud):
    before_files, before_rows = baseline_files(project), rows(project)
    result = cli(project, "baselines", "download", "build-1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["buildId"] == "build-1" and data["downloaded"] == 2 and data["skipped"] == 0
    assert {s["filename"] for s in data["screenshots"]} == set(baseline_files(project))
    # The new set replaced the old one: old-page is gone, home holds the cloud bytes.
    assert sorted(rows(project)) == ["cart|1280|chrome", "home|1280|chrome"]
    assert set(baseline_files(project).values()) == {sha(CLOUD_HOME), sha(CLOUD_CART)}
    with open_store(project, write=False):
        origin = Baseline.get(Baseline.signature == "home|1280|chrome").origin_build
        assert (origin.kind, origin.cloud_build_id) == ("baseline-cloud", "build-1")
        assert origin.commit_sha.startswith("1a2b3c4")
        assert origin.cloud_info["approvalStatus"] == "approved"
        assert Decision.select().where(Decision.action == "download").count() == 1
    # The token went to the API, never to the file URLs.
    auths = {path.split("?")[0]: auth for _, path, auth in cloud.requests}
    assert auths["/api/sdk/builds/build-1/tdd-baselines"] == "Bearer test-token-123"
    assert all(auth is None for path, auth in auths.items() if path.startswith("/files/"))

    undone = cli(project, "undo", "--json")
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.output)["items"][0]["undid"] == "download"
    assert baseline_files(project) == before_files
    assert rows(project) == before_rows
    with open_store(project, write=False):
        assert not Build.select().where(Build.kind == "baseline-cloud").exists()


def test_a_second_download_skips_files_whose_sha256_matches(project, cloud):
    assert cli(project, "baselines", "download", "build-1").exit_code == 0
    fetched = [p for _, p, _ in cloud.requests if p.startswith("/files/")]
    assert len(fetched) == 2
    result = cli(project, "baselines", "download", "build-1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["downloaded"], data["skipped"]) == (0, 2)
    assert len([p for _, p, _ in cloud.requests if p.startswith("/files/")]) == 2
    with open_store(project, write=False):
        # No new version for unchanged bytes.
        assert BaselineVersion.select().where(BaselineVersion.source == "download").count() == 2


def test_download_of_the_latest_passed_build_for_environment_and_branch(project, cloud):
    # With hotspots: upstream throws a ReferenceError on this path (contract §3.7, §10.14).
    hotspots = {"home": {"regions": [{"y1": 1, "y2": 9}], "confidence": "high"}}
    cloud.add_build(CloudBuild("build-7", [Shot("home", png((0, 150, 0)))], hotspots=hotspots))
    cloud.latest[("staging", "release")] = "build-7"
    result = cli(
        project, "baselines", "download", "--environment", "staging", "--branch", "release",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["buildId"] == "build-7"
    listing = next(p for _, p, _ in cloud.requests if p.startswith("/api/sdk/builds?"))
    for part in ("environment=staging", "branch=release", "status=passed", "limit=1"):
        assert part in listing
    assert sorted(rows(project)) == ["home|1280|chrome"]
    with open_store(project, write=False):
        assert [h.name for h in Hotspot.select()] == ["home"]
    missing = cli(project, "baselines", "download", "--branch", "nowhere")
    assert missing.exit_code != 0
    assert "no passed build for test/nowhere" in missing.output


def test_download_by_comparison_replaces_only_that_baseline(project, cloud):
    new_home = png((250, 200, 0))
    cloud.files["home-from-comparison.png"] = new_home
    cloud.comparisons["cmp-1"] = {
        "id": "cmp-1",
        "baseline_name": "home",
        "current_browser": "chrome",
        "current_viewport_width": 1280,
        "current_viewport_height": 200,
        "baseline_screenshot": {
            "id": "scr-9",
            "build_id": "build-1",
            "sha256": sha(new_home),
            "original_url": f"{cloud.url}/files/home-from-comparison.png",
        },
    }
    before = rows(project)
    result = cli(project, "baselines", "download", "--comparison", "cmp-1", "--json")
    assert result.exit_code == 0, result.output
    after = rows(project)
    assert after["home|1280|chrome"] == sha(new_home)
    assert after["old-page|1280|chrome"] == before["old-page|1280|chrome"]  # kept
    assert cli(project, "undo").exit_code == 0
    assert rows(project) == before


def refused(project, cloud, expected: str, *args: str) -> None:
    """The download fails with `expected` in its message and nothing changes."""
    before_files, before_rows = baseline_files(project), rows(project)
    result = cli(project, "baselines", "download", *(args or ("build-1",)))
    assert result.exit_code != 0
    assert expected in result.output, result.output
    assert "nothing was installed" in result.output
    assert baseline_files(project) == before_files
    assert rows(project) == before_rows
    with open_store(project, write=False):
        assert not Decision.select().where(Decision.action == "download").exists()
        assert not Build.select().where(Build.kind == "baseline-cloud").exists()


@pytest.mark.parametrize("hostile", ["../../evil.png", "sub/dir.png", "..\\x.png", ".hidden.png"])
def test_a_hostile_file_name_refuses_the_download(project, cloud, hostile):
    cloud.hostile_name["home"] = hostile
    refused(project, cloud, "unsafe file name")
    assert not (project.root / "evil.png").exists()


def test_a_corrupt_file_refuses_the_download(project, cloud):
    bad = CLOUD_HOME[: len(CLOUD_HOME) * 2 // 3]  # a truncated PNG
    shot = cloud.builds["build-1"].shots[0]
    cloud.corrupt[shot.filename] = bad
    # The listed sha256 matches the corrupt bytes: only decoding can catch it.
    shot.data = bad
    refused(project, cloud, "is not a usable PNG")


def test_a_wrong_sha256_refuses_the_download(project, cloud):
    cloud.wrong_sha.add(cloud.builds["build-1"].shots[1].filename)
    refused(project, cloud, "damaged or replaced in transit")


def test_a_401_says_how_to_set_a_token(project, cloud, monkeypatch):
    monkeypatch.setenv("VIZZLY_TOKEN", "wrong")
    refused(project, cloud, "refused the token (401")
    result = cli(project, "baselines", "download", "build-1")
    assert "VIZZLY_TOKEN" in result.output and "--token" in result.output


def test_no_token_at_all_is_a_clear_usage_error(project, cloud, monkeypatch):
    monkeypatch.delenv("VIZZLY_TOKEN")
    result = cli(project, "baselines", "download", "build-1")
    assert result.exit_code == 2
    assert "needs an API token" in result.output
    assert not cloud.requests  # nothing was sent without a token


def test_a_connection_dropped_half_way_installs_nothing(project, cloud):
    cloud.drop_half.add(cloud.builds["build-1"].shots[1].filename)
    refused(project, cloud, "connection closed before the whole body arrived")


def test_an_unreachable_api_says_what_failed(project, cloud, monkeypatch):
    monkeypatch.setenv("VIZZLY_API_URL", "http://127.0.0.1:9")  # discard port: refused
    refused(project, cloud, "cannot reach the Vizzly API at http://127.0.0.1:9")


def test_an_unknown_build_and_a_failed_build_are_refused(project, cloud):
    refused(project, cloud, "answered 404", "nope")
    cloud.add_build(CloudBuild("bad", [Shot("home", CLOUD_HOME)], status="failed"))
    refused(project, cloud, "marked failed", "bad")


def test_hotspots_regions_and_signature_properties_arrive_with_the_set(project, cloud):
    cloud.add_build(
        CloudBuild(
            "build-h",
            [Shot("home", CLOUD_HOME)],
            hotspots={"home": {"regions": [{"y1": 10, "y2": 40}], "confidence": "high",
                               "confidence_score": 90}},
            regions={"home": {"confirmed": [{"id": "r1", "x1": 1, "y1": 2, "x2": 3, "y2": 4}],
                              "candidates": []}},
        )
    )  # fmt: skip
    assert cli(project, "baselines", "download", "build-h").exit_code == 0
    with open_store(project, write=False):
        assert [h.name for h in Hotspot.select()] == ["home"]
        assert [(r.region_id, r.kind) for r in Region.select()] == [("r1", "confirmed")]
    assert cli(project, "undo").exit_code == 0
    with open_store(project, write=False):
        assert Hotspot.select().count() == 0 and Region.select().count() == 0


def test_a_screenshot_name_no_sdk_could_send_is_skipped_with_a_warning(project, cloud):
    cloud.add_build(CloudBuild("b-odd", [Shot("home", CLOUD_HOME), Shot("../etc", CLOUD_CART)]))
    result = cli(project, "baselines", "download", "b-odd")
    assert result.exit_code == 0, result.output
    assert "warning: skipped screenshot 2: invalid name '../etc'" in result.output
    assert sorted(rows(project)) == ["home|1280|chrome"]
