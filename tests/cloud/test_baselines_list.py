"""`vizzly-tui baselines [--name GLOB] [--info NAME|SIGNATURE] [--json]`."""

from __future__ import annotations

import json

from tests.cloud.conftest import CLOUD_CART, CLOUD_HOME, LOCAL
from tests.cloud.test_download import cli, sha


def test_listing_shows_origin_size_dimensions_and_versions(project, cloud):
    empty = cli(project, "baselines", "--json")
    assert empty.exit_code == 0
    local = {b["name"]: b for b in json.loads(empty.output)["baselines"]}
    assert local["home"]["origin"] == "local" and local["home"]["versions"] == 1
    assert (local["home"]["width"], local["home"]["height"]) == (320, 200)
    assert local["home"]["size"] == len(LOCAL)

    assert cli(project, "baselines", "download", "build-1").exit_code == 0
    listed = json.loads(cli(project, "baselines", "--json").output)["baselines"]
    assert [(b["name"], b["origin"]) for b in listed] == [
        ("cart", "cloud build build-1"),
        ("home", "cloud build build-1"),
    ]
    home = next(b for b in listed if b["name"] == "home")
    assert home["sha256"] == sha(CLOUD_HOME) and home["versions"] == 2  # local, then cloud

    only = json.loads(cli(project, "baselines", "--name", "c*", "--json").output)
    assert [b["name"] for b in only["baselines"]] == ["cart"]
    text = cli(project, "baselines").output
    assert "2 baseline(s)" in text and "cloud build build-1" in text and "320x200" in text


def test_info_shows_one_baselines_metadata_and_history(project, cloud):
    assert cli(project, "baselines", "download", "build-1").exit_code == 0
    by_name = json.loads(cli(project, "baselines", "--info", "home", "--json").output)
    by_signature = json.loads(
        cli(project, "baselines", "--info", "home|1280|chrome", "--json").output
    )
    assert by_name == by_signature
    assert by_name["originBuild"]["cloudBuildId"] == "build-1"
    assert by_name["originBuild"]["commit"].startswith("1a2b3c4")
    assert [v["source"] for v in by_name["history"]] == ["download", "new"]
    assert by_name["history"][0]["sha256"] == sha(CLOUD_HOME)
    assert by_name["extra"]["originalUrl"].endswith("/files/" + by_name["fileName"])
    text = cli(project, "baselines", "--info", "cart").output
    assert "cart_" in text and "download" in text and sha(CLOUD_CART)[:12] in text
    missing = cli(project, "baselines", "--info", "nope")
    assert missing.exit_code == 2 and "no baseline named 'nope'" in missing.output


def test_baselines_imported_from_the_vizzly_cli_say_where_they_came_from(scenario_project):
    from vizzly_tui.project import Project

    local = Project(scenario_project("scenario-b-second-run"))
    origins = {
        b["origin"] for b in json.loads(cli(local, "baselines", "--json").output)["baselines"]
    }
    assert origins == {"imported"}
    cloud = Project(scenario_project("scenario-d2-oauth-download-hotspots-regions"))
    listed = json.loads(cli(cloud, "baselines", "--json").output)["baselines"]
    assert len(listed) == 6
    assert {b["origin"] for b in listed} == {"cloud build build-hot-1"}
