"""Fixture scenario d2 end to end: `run --baseline-build` downloads the cloud baselines with
their hotspots and regions, then the same screenshots the Vizzly CLI saw arrive, and the same
two changes auto-pass (hotspot-filtered, region-filtered) while the others fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.cloud.standin import TOKEN, CloudBuild, CloudStandIn, Shot
from tests.conftest import unpack_scenario

SENDER = textwrap.dedent(
    """
    import base64, json, os, pathlib, sys, urllib.request
    url = os.environ["VIZZLY_SERVER_URL"]
    for path in sorted(pathlib.Path(sys.argv[1]).glob("*.png")):
        name = path.name.rsplit("_", 1)[0]
        body = {"name": name, "image": base64.b64encode(path.read_bytes()).decode(),
                "type": "base64",
                "properties": {"browser": "chrome", "viewport": {"width": 1280, "height": 720}}}
        request = urllib.request.Request(url + "/screenshot", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        urllib.request.urlopen(request).read()
    """
)


@pytest.fixture
def d2(tmp_path):
    fixture = unpack_scenario("scenario-d2-oauth-download-hotspots-regions", tmp_path / "d2")
    vizzly = fixture / ".vizzly"
    hotspots = json.loads((vizzly / "hotspots.json").read_text())["hotspots"]
    regions = json.loads((vizzly / "regions.json").read_text())["regions"]
    shots = [
        Shot(p.name.rsplit("_", 1)[0], p.read_bytes(), filename=p.name)
        for p in sorted((vizzly / "baselines").glob("*.png"))
    ]
    cloud = CloudStandIn().start()
    cloud.add_build(CloudBuild("build-hot-1", shots, hotspots=hotspots, regions=regions))
    yield cloud, vizzly / "current"
    cloud.stop()


@pytest.mark.slow
def test_run_with_a_cloud_baseline_build_auto_passes_hotspot_and_region_changes(tmp_path, d2):
    cloud, current = d2
    project = tmp_path / "proj"
    (project / ".vizzly").mkdir(parents=True)
    sender = tmp_path / "send.py"
    sender.write_text(SENDER)
    env = {
        **os.environ,
        "VIZZLY_API_URL": cloud.url,
        "VIZZLY_TOKEN": TOKEN,
        "VIZZLY_HOME": str(tmp_path / "home"),
    }
    out = subprocess.run(
        [
            sys.executable, "-m", "vizzly_tui", "--project", str(project), "run",
            "--baseline-build", "build-hot-1",
            "--report", "--json", "--", sys.executable, str(sender), str(current),
        ],
        env=env, capture_output=True, text=True, timeout=120, cwd=project,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr  # three real changes fail the run
    data = json.loads(out.stdout)
    assert set(data) >= {"status", "exitCode", "comparisons", "summary", "reportPath"}
    assert (data["status"], data["exitCode"]) == ("failed", 1)
    got = {c["name"]: c["status"] for c in data["comparisons"]}
    assert got == {
        "news-feed": "passed",
        "account": "passed",
        "about": "passed",
        "timeline": "failed",
        "landing": "failed",
        "blog": "failed",
    }
    assert data["summary"] == {
        "total": 6, "passed": 3, "failed": 3, "new": 0, "errors": 0, "rejected": 0,
    }  # fmt: skip
    first = data["comparisons"][0]
    assert set(first) == {
        "name", "status", "signature", "diffPercentage", "threshold", "paths", "viewport",
        "browser",
    }  # fmt: skip
    assert first["browser"] == "chrome" and first["viewport"]["width"] == 1280
    assert os.path.isfile(first["paths"]["current"])
    assert os.path.isfile(data["reportPath"])
    status = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), "status", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    reasons = {c["name"]: c["reason"] for c in json.loads(status.stdout)["comparisons"]}
    assert reasons["news-feed"] == "hotspot-filtered"
    assert reasons["account"] == "region-filtered"
    assert reasons["blog"] == "pixel-diff"  # a change outside the hotspot band still fails
    assert reasons["timeline"] == "pixel-diff"  # low-confidence hotspot: no auto-pass
