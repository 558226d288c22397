"""Shared test fixtures: where ../shared lives and how to unpack a Vizzly CLI fixture project."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FIXTURES_DIR = SHARED_DIR / "fixtures" / "vizzly-0.29.6"
HTTP_DIR = FIXTURES_DIR / "http"

SCENARIOS = (
    "scenario-a-first-run",
    "scenario-b-second-run",
    "scenario-c1-accept-reject",
    "scenario-d2-oauth-download-hotspots-regions",
    "scenario-e2-tdd-run-second",
)


def unpack_scenario(scenario: str, dest: Path) -> Path:
    """Unpack one fixture tarball into `dest`; return the project folder (holding `.vizzly/`).

    The tarballs are read-only in CI (shared/ has no write bits), so we copy out, and make
    the unpacked files writable as a user's own project would be.
    """
    archive = FIXTURES_DIR / f"{scenario}.tar.gz"
    if not archive.exists():
        pytest.skip(f"fixture {archive} is not present")
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest / "project"


def http_fixture(name: str) -> object:
    """A captured upstream response body from ../shared; skips where shared/ is absent."""
    import json

    path = HTTP_DIR / name
    if not path.exists():
        pytest.skip(f"fixture {path} is not present")
    return json.loads(path.read_text())


@pytest.fixture
def scenario_project(tmp_path: Path):
    """Factory: scenario_project("scenario-b-second-run") -> Path of an unpacked project."""

    def make(scenario: str) -> Path:
        target = tmp_path / scenario
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        return unpack_scenario(scenario, target)

    return make


@pytest.fixture(autouse=True)
def _isolated_vizzly_home(tmp_path_factory, monkeypatch):
    """No test may touch the user's real ~/.vizzly (the global server registry lives there)."""
    monkeypatch.setenv("VIZZLY_HOME", str(tmp_path_factory.mktemp("vizzly-home")))


@pytest.fixture(autouse=True)
def _no_paused_children_left():
    """A race test that fails leaves its paused child waiting for ever: end it."""
    yield
    from tests.racehelpers import kill_leftover_children

    kill_leftover_children()


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/reliability/conftest.py: pytest reads options only from the root
    # conftest at start-up.
    parser.addoption(
        "--long",
        action="store_true",
        help="reliability suite: the long version (more kills per crash scenario, "
        "10,000 hypothesis cases per target) instead of the CI one",
    )
    parser.addoption(
        "--kills",
        type=int,
        default=None,
        help="reliability suite: kills per crash scenario (default 10, or 200 with --long)",
    )
    parser.addoption(
        "--kill-minutes",
        type=float,
        default=None,
        help="reliability suite: each crash scenario starts no new kill after this many "
        "minutes, and records how many it ran (for a long run with a time limit)",
    )
    parser.addoption(
        "--fuzz-cases",
        type=int,
        default=None,
        help="reliability suite: hypothesis cases per target (default 300, 10000 with --long)",
    )
