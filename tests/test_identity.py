"""Identity rules must reproduce the Vizzly CLI's golden values and every fixture file name."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SCENARIOS
from vizzly_tui.identity import (
    InvalidName,
    comparison_id,
    file_name,
    identify,
    sanitize_name,
    signature,
)


def test_golden_values_from_the_contract():
    sig = signature("homepage", {"viewport": {"width": 1920}, "browser": "chrome"})
    assert sig == "homepage|1920|chrome"
    assert comparison_id(sig) == "1796f76bcda35192"
    assert file_name("homepage", sig) == "homepage_1796f76bcda3.png"
    assert file_name("homepage", "homepage|1920|") == "homepage_8910e19f78bf.png"
    assert file_name("VBtn", "VBtn|1920|chromium|dark|desktop") == "VBtn_fd88a64fe01b.png"


def test_signature_rules():
    # Missing values are empty segments; top-level viewport_width wins over viewport.width.
    assert signature("a", {}) == "a||"
    assert signature("a", {"viewport_width": 800, "viewport": {"width": 1024}}) == "a|800|"
    # Browser lower-cased; values trimmed; JavaScript number formatting (1920.0 -> 1920).
    props = {"browser": " Firefox ", "viewport": {"width": 1920.0}}
    assert signature("a", props) == "a|1920|firefox"
    # Custom properties in order: top level, then metadata, then metadata.properties.
    props = {"theme": "dark", "metadata": {"device": "phone", "properties": {"locale": "fr"}}}
    assert signature("a", props, ["theme", "device", "locale", "missing"]) == "a|||dark|phone|fr|"
    assert signature("a", {"flag": True, "n": 1.5}, ["flag", "n"]) == "a|||true|1.5"


def test_file_name_strips_unsafe_characters_and_caps_length():
    long_name = "x" * 80
    assert file_name(long_name, "s").startswith("x" * 50 + "_")
    assert file_name("a b\tc", "s").startswith("a-b-c_")
    assert file_name('a:b*c?"d', "s").startswith("abcd_")


@pytest.mark.parametrize(
    "bad",
    ["", "x" * 256, "../etc", "a/b", "a\\b", "/abs", "nul\x00byte", "tab\tname", 42, None],
)
def test_invalid_names_are_rejected_with_a_reason(bad):
    with pytest.raises(InvalidName) as err:
        sanitize_name(bad)
    assert str(err.value)


def test_sanitising():
    assert sanitize_name("Profile Card!") == "Profile Card_"
    assert sanitize_name(".hidden") == "file_.hidden"
    assert sanitize_name("émoji✓") == "_moji_"
    assert sanitize_name("a😀b") == "a__b"  # two UTF-16 units, as in JavaScript


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_fixture_comparison_has_the_same_identity(scenario, scenario_project):
    project = scenario_project(scenario)
    report = json.loads((project / ".vizzly" / "report-data.json").read_text())
    assert report["comparisons"]
    for row in report["comparisons"]:
        name, sig, fname, cid = identify(row["originalName"], row["properties"])
        assert name == row["name"]
        assert sig == row["signature"]
        assert cid == row["id"]
        assert fname == row["current"].rsplit("/", 1)[-1]
        assert (project / ".vizzly" / "current" / fname).exists()
