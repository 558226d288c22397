"""`vizzly-tui run --json`: upstream shape {status, exitCode, comparisons, summary, reportPath}."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_json(tmp_path, *args: str) -> tuple[int, dict]:
    project = tmp_path / "proj"
    (project / ".vizzly").mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(project), "run", "--json", *args],
        env={**os.environ, "VIZZLY_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, timeout=60, cwd=project,
    )  # fmt: skip
    return out.returncode, json.loads(out.stdout)


@pytest.mark.slow
def test_run_json_of_a_passing_and_a_failing_command(tmp_path):
    code, data = run_json(tmp_path, "--", sys.executable, "-c", "pass")
    assert code == 0
    assert data["status"] == "passed" and data["exitCode"] == 0
    assert data["comparisons"] == [] and data["reportPath"] is None
    assert data["summary"] == {
        "total": 0, "passed": 0, "failed": 0, "new": 0, "errors": 0, "rejected": 0,
    }  # fmt: skip
    code, data = run_json(tmp_path, "--report", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert code == 3
    assert (data["status"], data["exitCode"]) == ("failed", 3)
    assert data["reportPath"].endswith(os.path.join(".vizzly", "report", "index.html"))
    assert os.path.isfile(data["reportPath"])
