"""A hostile or buggy cloud API, and a busy project around a download."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import CLOUD_HOME, CloudBuild, Shot, png
from tests.cloud.test_download import baseline_files, cli, refused, rows, sha
from vizzly_tui.store.models import Build
from vizzly_tui.store.store import open_store


@pytest.mark.parametrize(
    ("key", "value"), [("width", float("nan")), ("viewport_width", float("inf"))]
)
def test_nan_or_infinity_in_the_response_is_refused_as_not_json(project, cloud, key, value):
    # Python's json module would accept these non-standard literals; the database then
    # refused them as "malformed JSON", blaming the project's database.
    original = cloud.shot_json

    def shot_json(shot, build_id):
        return {**original(shot, build_id), key: value}

    cloud.shot_json = shot_json
    refused(project, cloud, "did not answer JSON")


def test_a_number_too_large_for_a_float_is_refused_as_not_json(project, cloud):
    # 1e999 parses as infinity; stored, it made the database answer "malformed JSON".
    cloud.edit_json = lambda text: text.replace('"width": 320', '"width": 1e999', 1)
    refused(project, cloud, "did not answer JSON")


def test_a_file_url_redirecting_off_http_is_refused_and_named(project, cloud):
    cloud.redirect[cloud.builds["build-1"].shots[0].filename] = "file:///etc/passwd"
    refused(project, cloud, "redirected to an address that is not http(s): file:///etc/passwd")


def test_a_file_url_redirecting_to_another_http_address_is_followed(project, cloud):
    # Pre-signed storage URLs redirect; the bytes are verified whatever their origin.
    shots = cloud.builds["build-1"].shots
    cloud.redirect[shots[0].filename] = f"{cloud.url}/files/{shots[0].filename}-moved"
    cloud.files[f"{shots[0].filename}-moved"] = shots[0].data
    assert cli(project, "baselines", "download", "build-1").exit_code == 0


def test_undo_of_a_download_never_overwrites_a_baseline_captured_after_it(project, cloud):
    from vizzly_tui.capture import CaptureSettings, capture, start_build
    from vizzly_tui.store.store import open_store

    assert cli(project, "baselines", "download", "build-1").exit_code == 0  # removes old-page
    newer = png((10, 200, 10), text="old-page, captured after the download")
    with open_store(project) as store:
        build = start_build(store, "serve")
        props = {"browser": "chrome", "viewport": {"width": 1280, "height": 200}}
        record = capture(store, build.id, "old-page", newer, props, CaptureSettings())
    assert record.status == "new"
    kept = baseline_files(project)
    result = cli(project, "undo")
    assert result.exit_code == 2, result.output
    assert "old-page" in result.output and "after the download" in result.output
    assert baseline_files(project) == kept  # nothing moved
    assert rows(project)["old-page|1280|chrome"] == sha(newer)


def test_terminal_escapes_from_the_api_never_reach_the_terminal(project, cloud):
    evil = "main\x1b]0;owned\x07\x1b[2J\x9b31m"
    original = cloud.baselines_json

    def baselines_json(build):
        body = original(build)
        body["build"].update(name=evil, branch=evil, commit_message="fix\n\x1b[31mred")
        return body

    cloud.baselines_json = baselines_json
    result = cli(project, "baselines", "download", "build-1")
    assert result.exit_code == 0, result.output
    assert (
        "\x1b" not in result.output and "\x9b" not in result.output and "\x07" not in result.output
    )
    assert "main" in result.output
    info = cli(project, "baselines", "--info", "home")
    assert "\x1b" not in info.output and "cloud build build-1" in info.output
    with open_store(project, write=False):
        build = Build.get(Build.kind == "baseline-cloud")
        assert build.commit_message == "fix\n\ufffd[31mred"  # it keeps its lines
        assert "\x1b" not in build.name and "\x9b" not in build.branch


def test_a_build_id_with_control_characters_is_refused(project, cloud):
    original = cloud.baselines_json

    def baselines_json(build):
        body = original(build)
        body["build"]["id"] = "b\x1b[2J"
        return body

    cloud.baselines_json = baselines_json
    refused(project, cloud, "control character")


def test_an_error_body_from_the_api_is_shown_without_its_control_characters(project, cloud):
    cloud.error = (500, "\x1b]0;owned\x07\x1b[2Jinternal error")
    refused(project, cloud, "answered 500")
    result = cli(project, "baselines", "download", "build-1")
    assert "internal error" in result.output and "\x1b" not in result.output


def test_hostile_hotspot_and_region_names_do_not_reach_the_terminal(project, cloud):
    cloud.add_build(
        CloudBuild(
            "build-x",
            [Shot("home", CLOUD_HOME)],
            hotspots={"\x1b[2Jevil": {"regions": "bad"}},
            regions={"\x1b]0;t\x07": 7},
        )
    )
    result = cli(project, "baselines", "download", "build-x")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "evil" in result.output
    assert not {"\x1b", "\x07"} & set(result.output)
