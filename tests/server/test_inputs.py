"""POST /screenshot parsing: detection (§5.4), properties (§3.2/§3.3), bodies and errors (§5.3).

The captured traffic of the real Vizzly CLI 0.29.6 is the oracle: every request it answered
must parse to the properties it recorded, and every refusal must give its exact body.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HTTP_DIR, http_fixture
from vizzly_tui.identity import identify
from vizzly_tui.server import inputs
from vizzly_tui.server.inputs import (
    RequestError,
    detect_image_input_type,
    normalise_properties,
    parse_screenshot,
)

# Not checked as a PNG here (the engine does that), so any bytes will do.
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
B64 = base64.b64encode(IMAGE).decode()
TRAFFIC = ("traffic-main.jsonl", "traffic-tdd-run.jsonl", "traffic-d2.jsonl")


def refused(body: object, **kwargs: Any) -> RequestError:
    with pytest.raises(RequestError) as info:
        parse_screenshot(body, **kwargs)
    return info.value


# --- §5.4 detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", "base64"),
        ("data:anything at all", "base64"),  # the prefix alone decides
        ("file:///tmp/shot", "file-path"),
        ("C:\\shots\\home", "file-path"),
        ("c:/shots/home", "file-path"),
        ("./shot", "file-path"),
        ("../shots/home", "file-path"),
        (".\\shot", "file-path"),
        ("shot.png", "file-path"),
        ("/abs/dir/shot.JPEG", "file-path"),
        ("dir/shot.tif", "file-path"),
        ("A" * 1000 + "!", "base64"),  # over 1000 characters and not a path
        ("/" + "x" * 1000 + ".png", "base64"),  # too long to be a path, even with .png
        ("😀" * 499 + ".png", "base64"),  # 1002 UTF-16 units, as JavaScript counts
        ("iVBORw0KGgo=", "base64"),
        ("ZmFrZS1wbmctZGF0YQ==", "base64"),
        ("/9j/4AAQSkZJRg==", "base64"),  # JPEG base64 starts with "/": not a path
        ("invalid!!!", "unknown"),
        ("/tmp/shot", "unknown"),  # no image extension and not base64
        ("abc", "unknown"),  # not a multiple of 4
        ("A===", "unknown"),  # three padding characters
        ("", "unknown"),
        (None, "unknown"),
        (5, "unknown"),
        ({"a": 1}, "unknown"),
        (["a"], "unknown"),
    ],
)
def test_detect_image_input_type(value, expected):
    assert detect_image_input_type(value) == expected


# --- §3.3 properties ----------------------------------------------------------------------


def test_nested_properties_are_unwrapped_and_win():
    props = normalise_properties(
        {"browser": "chrome", "theme": "light", "properties": {"browser": "firefox", "x": 1}}
    )
    assert props["browser"] == "firefox"
    assert props["theme"] == "light" and props["x"] == 1
    assert "properties" not in props and "properties" not in props["metadata"]


def test_browser_is_cut_at_slash_and_keeps_case():
    assert normalise_properties({"browser": "Chrome/139.0.7258.138"})["browser"] == "Chrome"
    assert normalise_properties({"browser": "Mobile Safari/17"})["browser"] == "Mobile Safari"
    assert normalise_properties({"browser": "my(browser)"})["browser"] == "my_browser_"
    # Names the sanitiser refuses, empty names, long names and non-strings are dropped,
    # and a dropped browser is not kept as an ordinary property either.
    for bad in ("../evil", "/leading", "", "x" * 51, 5, None, {"name": "chrome"}):
        props = normalise_properties({"browser": bad})
        assert props["browser"] is None and "browser" not in props["metadata"], bad
    assert normalise_properties({"browser": "x" * 50})["browser"] == "x" * 50


def test_viewport_keeps_in_range_numbers_only():
    def viewport(width: object, height: object = 720) -> dict[str, Any]:
        return normalise_properties({"viewport": {"width": width, "height": height}})

    assert viewport(1280)["viewport"] == {"width": 1280, "height": 720}
    assert viewport(10000)["viewport_width"] == 10000
    assert viewport(1280.9)["viewport"] == {"width": 1280, "height": 720}  # floored
    for bad in (0, -1, 10001, "1280", True, None, float("nan"), float("inf")):
        props = viewport(bad)
        assert props["viewport"] == {"height": 720} and props["viewport_width"] is None, bad
    props = viewport(0, 0)
    assert "viewport" not in props and props["viewport_height"] is None
    assert "viewport" not in normalise_properties({"viewport": [1280, 720]})


def test_viewport_width_comes_from_viewport_then_top_level():
    both = {"viewport": {"width": 1920, "height": 1080}, "viewport_width": 1280}
    assert normalise_properties(both)["viewport_width"] == 1920
    assert normalise_properties(both)["viewport_height"] == 1080
    top = normalise_properties({"viewport_width": 1280, "viewport_height": 720})
    assert (top["viewport_width"], top["viewport_height"]) == (1280, 720)
    none = normalise_properties({})
    assert none == {
        "viewport_width": None,
        "viewport_height": None,
        "browser": None,
        "metadata": {},
    }
    # Upstream fills a falsy size from the image: we leave it None for the pipeline to fill.
    assert normalise_properties({"viewport_width": 0})["viewport_width"] is None


def test_other_keys_and_values():
    props = normalise_properties(
        {
            "theme": "dark",
            "snake_case-1": 1.5,
            "a" * 50: True,
            "a" * 51: "too long a key",
            "has space": "x",
            "with.dot": "x",
            "émoji": "x",
            "": "x",
            "html": '<b>"it\'s" & more</b>',
            "exact": "y" * 200,
            "long": "y" * 201,
            "wide": "😀" * 101,  # 202 UTF-16 units
            "nan": float("nan"),
            "inf": float("inf"),
            "huge": 10**400,  # Infinity once JavaScript parses it
            "none": None,
            "list": [1, 2],
            "object": {"a": 1},
            "metadata": {"sent": "by the SDK"},
            "__proto__": "x",
        }
    )
    assert props["metadata"] == {
        "theme": "dark",
        "snake_case-1": 1.5,
        "a" * 50: True,
        "html": "bits  more/b",
        "exact": "y" * 200,
    }


def test_metadata_is_the_validated_properties_and_a_copy():
    props = normalise_properties({"browser": "safari", "viewport": {"width": 800}, "x": "y"})
    assert props == {
        "browser": "safari",
        "viewport": {"width": 800},
        "x": "y",
        "viewport_width": 800,
        "viewport_height": None,
        "metadata": {"browser": "safari", "viewport": {"width": 800}, "x": "y"},
    }
    props["viewport"]["width"] = 1
    assert props["metadata"]["viewport"]["width"] == 800


@pytest.mark.parametrize("raw", [None, "chrome", 5, True, [], [{"browser": "chrome"}]])
def test_properties_that_are_not_objects_become_empty(raw):
    assert normalise_properties(raw)["metadata"] == {}


# --- request bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "kind"), [([], "an array"), (None, "null"), ("x", "a string")])
def test_body_must_be_an_object(body, kind):
    error = refused(body)
    assert error.status == 400
    assert "JSON object" in error.body["error"] and kind in error.body["error"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "x"}, {"image": B64}, {"name": "", "image": B64}, {"name": "x", "image": ""}],
)
def test_missing_name_or_image(body):
    error = refused(body)
    assert (error.status, error.body) == (400, {"error": "name and image are required"})
    assert error.body == http_fixture("err-screenshot-missing-image.json")


@pytest.mark.parametrize(
    ("name", "details"),
    [
        (5, "Screenshot name must be a non-empty string"),
        (["a"], "Screenshot name must be a non-empty string"),  # truthy in JavaScript
        ("a/b", "Screenshot name contains invalid path characters"),
        ("a\x00b", "Screenshot name cannot contain control characters (such as NUL)"),
        ("x" * 256, "Screenshot name exceeds maximum length of 255 characters"),
    ],
)
def test_invalid_name(name, details):
    error = refused({"name": name, "image": B64})
    assert error.status == 400
    assert error.body == {"error": "Invalid screenshot name", "details": details, "tddMode": True}


def test_slash_name_matches_the_capture():
    error = refused({"name": "a/b", "image": "iVBORw0KGgo=", "type": "base64"})
    assert error.body == http_fixture("err-screenshot-slash-name.json")


@pytest.mark.parametrize(
    ("image", "js_type"),
    [("invalid!!!", "string"), (5, "number"), (True, "boolean"), ({}, "object"), ([1], "object")],
)
def test_unknown_image_input(image, js_type):
    for declared in (None, "base64", "file-path"):
        if isinstance(image, str) and declared:
            continue  # an explicit type is trusted for strings
        error = refused({"name": "x", "image": image, "type": declared})
        assert error.status == 400
        assert error.body == {
            "error": "Invalid image input: must be a file path or base64 encoded image data",
            "receivedType": js_type,
            "tddMode": True,
        }


def test_request_fields():
    req = parse_screenshot(
        {"name": "a:b", "image": B64, "buildId": "build-1", "properties": {"browser": "x"}}
    )
    assert (req.raw_name, req.name, req.image, req.source) == ("a:b", "a_b", IMAGE, "base64")
    assert req.build_id == "build-1" and req.properties["browser"] == "x"
    for build_id in (5, "", None, {"id": "x"}):
        assert parse_screenshot({"name": "a", "image": B64, "buildId": build_id}).build_id is None


# --- base64 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        B64,
        "data:image/png;base64," + B64,
        "\n".join(B64[i : i + 76] for i in range(0, len(B64), 76)),  # MIME line breaks
        B64.rstrip("="),  # Node accepts unpadded base64
        base64.urlsafe_b64encode(IMAGE).decode(),
    ],
)
def test_base64_forms(image):
    assert parse_screenshot({"name": "x", "image": image, "type": "base64"}).image == IMAGE


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("shot.png", "not valid base64 (unexpected character '.' at offset 4"),
        ("QU=JD", "'=' padding before the end"),
        ("QUJDR", "stray final character"),
        ("data:image/png;base64,", "is empty"),
        ("====", "is empty"),
        ("data:image/png", "no ','"),
        ("data:image/png,abc", "not marked base64"),
    ],
)
def test_bad_base64_is_a_clear_400(image, problem):
    error = refused({"name": "x", "image": image, "type": "base64"})
    assert error.status == 400 and error.body["tddMode"] is True
    assert error.body["error"].startswith('Invalid image input: "image" ')
    assert problem in error.body["error"]


def test_base64_size_limit():
    assert parse_screenshot({"name": "x", "image": B64}, max_image_bytes=len(IMAGE)).image
    error = refused({"name": "x", "image": B64}, max_image_bytes=len(IMAGE) - 1)
    assert error.status == 413 and "too large" in error.body["error"]
    assert f"{len(IMAGE)} bytes" in error.body["error"]


def test_explicit_type_wins_and_an_invalid_one_falls_back(tmp_path):
    # "iVBORw0KGgo=" detects as base64, but the SDK said it is a path.
    error = refused({"name": "x", "image": "iVBORw0KGgo=", "type": "file-path"}, base_dir=tmp_path)
    assert error.body["error"] == f"Screenshot file not found: {tmp_path / 'iVBORw0KGgo='}"
    req = parse_screenshot({"name": "x", "image": B64, "type": "jpeg"})
    assert req.source == "base64"


# --- file paths ----------------------------------------------------------------------------


def test_file_paths_resolve_against_base_dir(tmp_path):
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "my shot.png").write_bytes(IMAGE)
    for image in (
        "shots/my shot.png",
        "./shots/my shot.png",
        str(tmp_path / "shots" / "my shot.png"),
        "file://" + str(tmp_path / "shots" / "my%20shot.png"),
    ):
        req = parse_screenshot({"name": "x", "image": image}, base_dir=tmp_path)
        assert (req.image, req.source) == (IMAGE, "file-path"), image


def test_missing_file_matches_the_capture(tmp_path):
    body = {"name": "x", "image": "/nonexistent/x.png", "type": "file-path"}
    error = refused(body, base_dir=tmp_path)
    expected = http_fixture("err-screenshot-missing-file.json")
    assert (error.status, error.body) == (400, expected)
    # A relative path is reported resolved, with the original alongside.
    error = refused({"name": "x", "image": "../gone.png"}, base_dir=tmp_path / "proj")
    assert error.body == {
        "error": f"Screenshot file not found: {tmp_path / 'gone.png'}",
        "originalPath": "../gone.png",
        "tddMode": True,
    }


def test_unreadable_files_are_500(tmp_path):
    (tmp_path / "dir.png").mkdir()
    error = refused({"name": "x", "image": "dir.png"}, base_dir=tmp_path)
    assert error.status == 500
    assert error.body["error"].startswith("Failed to read screenshot file: EISDIR")
    assert error.body["filePath"] == str(tmp_path / "dir.png") and error.body["tddMode"]
    os.mkfifo(tmp_path / "pipe.png")  # would block a naive read forever
    error = refused({"name": "x", "image": "pipe.png"}, base_dir=tmp_path)
    assert error.status == 500 and "not a regular file" in error.body["error"]


def test_permission_denied_is_500(tmp_path, monkeypatch):
    (tmp_path / "locked.png").write_bytes(IMAGE)

    def denied(path: object, mode: str = "r") -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    # Patched rather than chmod-ed: the suite may run as root, who reads anything.
    monkeypatch.setattr(inputs, "open", denied, raising=False)
    error = refused({"name": "x", "image": "locked.png"}, base_dir=tmp_path)
    assert error.status == 500
    assert error.body["error"] == "Failed to read screenshot file: EACCES: Permission denied"


def test_file_size_limit_and_empty_file(tmp_path):
    (tmp_path / "big.png").write_bytes(IMAGE)
    error = refused({"name": "x", "image": "big.png"}, base_dir=tmp_path, max_image_bytes=10)
    assert error.status == 413 and str(tmp_path / "big.png") in error.body["error"]
    (tmp_path / "empty.png").write_bytes(b"")
    error = refused({"name": "x", "image": "empty.png"}, base_dir=tmp_path)
    assert error.status == 400 and "empty" in error.body["error"]


# --- the captured traffic ------------------------------------------------------------------


def _exchanges() -> list[Any]:
    found = []
    for file in TRAFFIC:
        path = HTTP_DIR / file
        lines = path.read_text().splitlines() if path.exists() else []
        for line in lines:
            exchange = json.loads(line)
            request = exchange["request"]
            if request["method"] == "POST" and request["path"] == "/screenshot":
                found.append(pytest.param(exchange, id=f"{file}#{exchange['seq']}"))
    return found


def _recorded() -> dict[str, dict[str, Any]]:
    """Every comparison the CLI recorded in the captured report data, by id."""
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(HTTP_DIR.glob("report-data-*.json")):
        for row in json.loads(path.read_text()).get("comparisons") or []:
            rows[row["id"]] = row
    return rows


@pytest.mark.parametrize("exchange", _exchanges())
def test_every_captured_screenshot_request(exchange, tmp_path: Path):
    body = exchange["request"]["body"]
    response = exchange["response"]
    if response["status"] != 200:  # the refusals: our body must be upstream's, exactly
        error = refused(body, base_dir=tmp_path)
        assert (error.status, error.body) == (response["status"], response["body"])
        return

    props = normalise_properties(body.get("properties"))
    name, sig, file_name, cid = identify(body["name"], props)
    recorded = _recorded()[cid]
    # Where the SDK sent no size upstream used the image's; take it from the record.
    for key in ("viewport_width", "viewport_height"):
        if props[key] is None:
            props[key] = recorded["properties"][key]
    assert props == recorded["properties"]
    assert (name, sig) == (recorded["name"], recorded["signature"])
    assert response["body"]["baseline"].endswith("/" + file_name)

    # The whole body parses too, once the truncated image is replaced by a real one.
    image = B64
    if body["type"] == "file-path":
        image = str(tmp_path / "shot.png")
        Path(image).write_bytes(IMAGE)
    req = parse_screenshot({**body, "image": image}, base_dir=tmp_path)
    assert (req.raw_name, req.name, req.source) == (body["name"], name, body["type"])
    assert (req.image, req.build_id) == (IMAGE, body.get("buildId"))
    assert req.properties == normalise_properties(body.get("properties"))
