"""The real Vizzly JavaScript SDK against `vizzly-tui serve` / `vizzly-tui run`, unchanged.

The SDK (`@vizzly-testing/cli/client` 0.29.6, pinned in package.json) sends the fixture PNGs
exactly as the captured runs did (tests/interop/sdk_send.mjs), and what `vizzlyScreenshot` and
`vizzlyFlush` return must equal what they returned with the Vizzly CLI's own server
(shared/fixtures/vizzly-0.29.6/http/sdk-*-result.json), absolute paths aside.

The same tests run against the Vizzly CLI's daemon to check the harness itself:
`INTEROP_SERVERS=ours,upstream python -m pytest tests/interop` (default: ours only).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import (
    CLI_BIN,
    FIXTURES_DIR,
    SERVER_KINDS,
    TddServer,
    captured,
    clean_env,
    free_port,
    get_json,
    node_missing_reason,
    normalise_paths,
    plan_from_capture,
    run_sdk,
    sdk_command,
    unpack_current_images,
)

_missing = node_missing_reason()
if _missing is None and not FIXTURES_DIR.exists():
    _missing = f"fixtures {FIXTURES_DIR} are not present"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(_missing is not None, reason=_missing or ""),
]

KINDS = [k.strip() for k in os.environ.get("INTEROP_SERVERS", "ours").split(",") if k.strip()]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The PNGs the SDK sent in the captured runs: run 1 (scenario a) and run 2 (scenario b)."""
    root = tmp_path_factory.mktemp("fixture-images")
    return {
        "run1": unpack_current_images("scenario-a-first-run", root / "run1"),
        "run2": unpack_current_images("scenario-b-second-run", root / "run2"),
    }


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    if value not in SERVER_KINDS:
        pytest.fail(f"INTEROP_SERVERS names an unknown server {value!r}; known: {SERVER_KINDS}")
    return value


@pytest.fixture
def server(kind: str, tmp_path: Path) -> Iterator[TddServer]:
    """A running server in an empty project; stopped (and checked stopped) at teardown."""
    srv = SERVER_KINDS[kind](tmp_path / "storefront", tmp_path / "vizzly-home")
    with srv:
        yield srv
    assert not _listening(srv.port), f"{kind} server still answers on port {srv.port}"


def _listening(port: int) -> bool:
    try:
        get_json(f"http://127.0.0.1:{port}/health", timeout=0.5)
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return False
    return True


def _label(entry: dict[str, Any]) -> str:
    options = entry["options"]
    props = {**options, **options.get("properties", {})}
    viewport = props.get("viewport") or {}
    return f"{entry['name']} [{props.get('browser')} {viewport.get('width')}, {entry['sent_as']}]"


def compare_with_capture(
    got: dict[str, Any], expected: dict[str, Any], project: Path, exact_diff_percentage: bool
) -> list[str]:
    """Mismatches between an SDK run and the captured one, one line each (empty: equal)."""
    problems: list[str] = []
    if len(got["results"]) != len(expected["results"]):
        return [f"{len(got['results'])} results, expected {len(expected['results'])}"]
    for mine, theirs in zip(got["results"], expected["results"], strict=True):
        label = _label(theirs)
        if mine["returned"] != "object":
            problems.append(
                f"{label}: vizzlyScreenshot returned {mine['returned']} (the SDK swallowed an "
                f"error and disabled itself); stderr: {got['stderr'].strip()!r}"
            )
            continue
        ours = normalise_paths(mine["sdk_return"], project)
        want = dict(theirs["sdk_return"])
        if not exact_diff_percentage and "diffPercentage" in want:
            # Our engine intentionally differs from honeydiff here: honeydiff's anti-aliasing
            # filter discards changes inside flat areas and counts pixels its own way, so the
            # percentages are not comparable. The status, the key being present and a value
            # above 0 for a diff are the contract the SDK and its users rely on.
            value = ours.get("diffPercentage")
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                problems.append(f"{label}: diffPercentage {value!r}, expected a number > 0")
            if "diffPercentage" in ours:
                ours["diffPercentage"] = want["diffPercentage"]
        if ours != want:
            extra = sorted(set(ours) - set(want))
            missing = sorted(set(want) - set(ours))
            changed = {k: (ours[k], want[k]) for k in set(ours) & set(want) if ours[k] != want[k]}
            problems.append(
                f"{label}: extra keys {extra}, missing keys {missing}, "
                f"different (ours, captured) {changed}"
            )
    if got["flush"] != expected["flush"]:
        problems.append(f"vizzlyFlush returned {got['flush']!r}, expected {expected['flush']!r}")
    return problems


def expected_info(url: str | None, build_id: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"enabled": True, "ready": True, "tddMode": False, "disabled": False}
    if url is not None:
        info = {
            "enabled": True,
            "serverUrl": url,
            "ready": True,
            "tddMode": False,
            "disabled": False,
        }
    if build_id is not None:
        info["buildId"] = build_id
    return info


def signature_file(name: str, width: int, browser: str = "") -> str:
    """The Vizzly CLI's file name for a signature `name|width|browser` (reference §3.2)."""
    digest = hashlib.sha256(f"{name}|{width}|{browser}".encode()).hexdigest()[:12]
    return f"{name.replace(' ', '-')}_{digest}.png"


# --- serve: run 1 and run 2 as captured --------------------------------------------------------


def test_run1_then_run2_return_what_the_vizzly_cli_returned(
    kind: str, server: TddServer, images: dict[str, Path], tmp_path: Path
) -> None:
    env = server.env(VIZZLY_SERVER_URL=server.url)
    exact = kind == "upstream"

    # server.json, as the SDK's auto-discovery and the Vizzly CLI's tools read it.
    info = json.loads((server.project / ".vizzly" / "server.json").read_text())
    assert info["port"] == str(server.port), info  # a string, as the Vizzly CLI writes it
    assert isinstance(info["pid"], int)
    assert isinstance(info["startTime"], int | float)

    run1_capture = captured("sdk-run1-result.json")
    run1 = run_sdk(plan_from_capture(run1_capture, images["run1"]), tmp_path, env, tag="run1")
    assert run1["info"] == expected_info(server.url)
    problems = compare_with_capture(run1, run1_capture, server.project, exact)
    assert not problems, "run 1 (all new):\n" + "\n".join(problems)

    run2_capture = captured("sdk-run2-result.json")
    run2 = run_sdk(plan_from_capture(run2_capture, images["run2"]), tmp_path, env, tag="run2")
    problems = compare_with_capture(run2, run2_capture, server.project, exact)
    assert not problems, "run 2 (passed/diff/new):\n" + "\n".join(problems)

    health = get_json(f"{server.url}/health")
    assert health["status"] == "ok"
    assert health["mode"] == "tdd"
    assert run1["stderr"] == run2["stderr"] == ""


def test_server_stops_on_signal_and_removes_server_json(
    kind: str, server: TddServer, images: dict[str, Path], tmp_path: Path
) -> None:
    server_json = server.project / ".vizzly" / "server.json"
    assert server_json.exists()
    server.stop()
    assert not server_json.exists(), "server.json outlived the server"
    assert not _listening(server.port)
    if kind == "ours":
        assert server.returncode == 0, server.log()


def test_baselines_survive_a_restart_and_flush_counts_the_new_session(
    kind: str, server: TddServer, images: dict[str, Path], tmp_path: Path
) -> None:
    run1 = plan_from_capture(captured("sdk-run1-result.json"), images["run1"])
    run_sdk(run1, tmp_path, server.env(VIZZLY_SERVER_URL=server.url), tag="before")
    server.stop()

    again = SERVER_KINDS[kind](server.project, server.home)
    with again:
        run2_capture = captured("sdk-run2-result.json")
        plan = plan_from_capture(run2_capture, images["run2"])
        plan["screenshots"] = plan["screenshots"][3:5]  # login (diff), dashboard (diff)
        got = run_sdk(plan, tmp_path, again.env(VIZZLY_SERVER_URL=again.url), tag="after")
    statuses = [r["sdk_return"]["status"] for r in got["results"]]
    assert statuses == ["diff", "diff"], got["results"]
    # Like the Vizzly CLI's daemon, whose list of results starts empty in each process.
    assert got["flush"] == {
        "success": True,
        "summary": {"total": 2, "passed": 0, "failed": 2, "new": 0, "errors": 0},
    }


# --- discovery -----------------------------------------------------------------------------------


def test_sdk_discovers_the_server_through_server_json_from_a_subfolder(
    server: TddServer, images: dict[str, Path], tmp_path: Path
) -> None:
    """VIZZLY_SERVER_URL unset: the SDK walks up from its cwd to .vizzly/server.json."""
    subfolder = server.project / "tests" / "e2e"
    subfolder.mkdir(parents=True)
    plan = {
        "screenshots": [
            {
                "name": "discovered",
                "image": str(images["run1"] / "login_6ce9d9acbcca.png"),
                "send_as": "buffer",
                "options": {"properties": {"browser": "chrome"}},
            },
            {
                "name": "discovered by path",
                "image": str(images["run1"] / "settings_05b27080e973.png"),
                "send_as": "path",
                "options": {},
            },
        ]
    }
    env = server.env()  # no VIZZLY_SERVER_URL, no VIZZLY_ENABLED
    got = run_sdk(plan, tmp_path, env, cwd=subfolder, tag="discovery")

    # Same shape as the captured sdk-autodiscovery.json, on our port.
    reference = captured("sdk-autodiscovery.json")
    assert got["autoDiscoverTddServer"] == f"http://localhost:{server.port}"
    assert got["isVizzlyReady"] is reference["isVizzlyReady"] is True
    assert got["info"] == reference["info"] == expected_info(None)
    statuses = [r["sdk_return"] and r["sdk_return"].get("status") for r in got["results"]]
    assert statuses == ["new", "new"], got
    assert got["flush"] == {
        "success": True,
        "summary": {"total": 2, "passed": 0, "failed": 0, "new": 2, "errors": 0},
    }


def test_sdk_without_a_server_stays_silent(tmp_path: Path, images: dict[str, Path]) -> None:
    """No server.json anywhere up from cwd and no VIZZLY_SERVER_URL: the SDK does nothing."""
    lonely = tmp_path / "no-project"
    lonely.mkdir()
    plan = {
        "screenshots": [
            {
                "name": "x",
                "image": str(images["run1"] / "login_6ce9d9acbcca.png"),
                "send_as": "buffer",
                "options": {},
            }
        ]
    }
    got = run_sdk(plan, tmp_path, clean_env(tmp_path / "home"), cwd=lonely, tag="lonely")
    assert got["autoDiscoverTddServer"] is None
    assert got["results"][0]["returned"] == "undefined"


# --- properties, identity and errors -----------------------------------------------------------


def test_screenshots_with_and_without_viewport_and_browser(
    server: TddServer, images: dict[str, Path], tmp_path: Path
) -> None:
    """Without a viewport the signature takes the image width; browser is cut at '/', lowered."""
    login = images["run1"] / "login_6ce9d9acbcca.png"  # 1280x720
    mobile = images["run1"] / "homepage_10f38c3ff910.png"  # 375x812
    cases: list[tuple[str, str, Path, dict[str, Any], str]] = [
        ("bare buffer", "buffer", login, {}, signature_file("bare buffer", 1280)),
        ("bare path", "path", mobile, {}, signature_file("bare path", 375)),
        (
            "viewport only",
            "buffer",
            login,
            {"properties": {"viewport": {"width": 1024, "height": 768}}},
            signature_file("viewport only", 1024),
        ),
        (
            "browser only",
            "path",
            login,
            {"browser": "Chrome/139.0"},
            signature_file("browser only", 1280, "chrome"),
        ),
        (
            "top level",
            "buffer",
            mobile,
            {"browser": "webkit", "viewport": {"width": 390, "height": 844}, "fullPage": True},
            signature_file("top level", 390, "webkit"),
        ),
        (
            "custom property",
            "buffer",
            login,
            {"properties": {"theme": "dark", "browser": "firefox"}, "threshold": 5},
            signature_file("custom property", 1280, "firefox"),
        ),
        (
            "file url",
            "path",
            login,
            {},
            signature_file("file url", 1280),
        ),
    ]
    plan = {
        "screenshots": [
            {
                "name": name,
                "image": (f"file://{image}" if name == "file url" else str(image)),
                "send_as": send_as,
                "options": options,
            }
            for name, send_as, image, options, _ in cases
        ]
    }
    env = server.env(VIZZLY_SERVER_URL=server.url)
    first = run_sdk(plan, tmp_path, env, tag="props1")
    again = run_sdk(plan, tmp_path, env, tag="props2")
    vizzly = server.project / ".vizzly"
    for (name, _, _, _, filename), r1, r2 in zip(
        cases, first["results"], again["results"], strict=True
    ):
        assert r1["sdk_return"] == {
            "status": "new",
            "name": name,
            "baseline": str(vizzly / "baselines" / filename),
            "current": str(vizzly / "current" / filename),
            "tddMode": True,
        }, name
        assert r2["sdk_return"] == {**r1["sdk_return"], "status": "match"}, name
        assert (vizzly / "baselines" / filename).is_file(), name
    assert first["stderr"] == again["stderr"] == ""


def test_rejected_screenshots_reach_the_sdk_as_the_vizzly_cli_words_them(
    server: TddServer, images: dict[str, Path], tmp_path: Path
) -> None:
    """A 4xx: the SDK logs `Screenshot failed: <status> - <error>`, returns null, stops sending."""
    env = server.env(VIZZLY_SERVER_URL=server.url)
    login = str(images["run1"] / "login_6ce9d9acbcca.png")
    missing = str(tmp_path / "nowhere" / "x.png")
    cases = [
        (
            {"name": "x", "image": missing, "send_as": "path", "options": {}},
            f"Screenshot failed: 400 - Screenshot file not found: {missing}",
        ),
        (
            {"name": "a/b", "image": login, "send_as": "buffer", "options": {}},
            "Screenshot failed: 400 - Invalid screenshot name",
        ),
    ]
    for index, (shot, message) in enumerate(cases):
        follow_up = {"name": "after", "image": login, "send_as": "buffer", "options": {}}
        got = run_sdk(
            {"screenshots": [shot, follow_up], "flush": False}, tmp_path, env, tag=f"err{index}"
        )
        first, second = got["results"]
        assert first["returned"] == "null", got
        assert f"[vizzly] Screenshot failed for {shot['name']}: {message}" in got["stderr"]
        assert second["returned"] == "undefined"  # the SDK disabled itself, as with upstream


# --- vizzly-tui run -- COMMAND -------------------------------------------------------------------


def _run_command(
    kind: str,
    project: Path,
    home: Path,
    port: int,
    command: list[str],
    options: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`vizzly-tui run [OPTIONS] -- COMMAND` or `vizzly tdd run "COMMAND" [OPTIONS]`."""
    options = options or []
    if kind == "ours":
        argv = [sys.executable, "-m", "vizzly_tui", "--project", str(project), "run"]
        argv += ["--port", str(port), *options, "--", *command]
    else:
        argv = ["node", str(CLI_BIN), "tdd", "run", shlex.join(command), "--port", str(port)]
        argv += ["--no-open", *options]
    return subprocess.run(
        argv,
        cwd=project,
        env=clean_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_wraps_a_test_command(kind: str, images: dict[str, Path], tmp_path: Path) -> None:
    project = tmp_path / "storefront"
    project.mkdir()
    home = tmp_path / "vizzly-home"
    port = free_port()
    exact = kind == "upstream"

    # Run 1: all new -> exit 0.
    run1_capture = captured("sdk-run1-result.json")
    command, out = sdk_command(plan_from_capture(run1_capture, images["run1"]), tmp_path, "run1")
    t0 = time.monotonic()
    done = _run_command(kind, project, home, port, command)
    run1_seconds = time.monotonic() - t0
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    got = json.loads(out.read_text()) | {"stderr": ""}
    assert got["env"]["VIZZLY_SERVER_URL"] in (
        f"http://localhost:{port}",
        f"http://127.0.0.1:{port}",
    )
    assert got["env"]["VIZZLY_ENABLED"] == "true"
    assert got["env"]["VIZZLY_SET_BASELINE"] == "false"
    build_id = got["env"]["VIZZLY_BUILD_ID"]
    assert build_id
    assert got["info"] == expected_info(got["env"]["VIZZLY_SERVER_URL"], build_id)
    problems = compare_with_capture(got, run1_capture, project, exact)
    assert not problems, "run 1 under `run`:\n" + "\n".join(problems)
    # The summary, in words both CLIs use ("🐻 8 screenshots compared ... + 8 new screenshots").
    assert "8 screenshots compared" in output, output
    assert "8 new" in output, output

    # Run 2: diffs -> exit 1, and the summary lists each failed screenshot.
    run2_capture = captured("sdk-run2-result.json")
    command, out = sdk_command(plan_from_capture(run2_capture, images["run2"]), tmp_path, "run2")
    done = _run_command(kind, project, home, port, command)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    got = json.loads(out.read_text()) | {"stderr": ""}
    assert got["env"]["VIZZLY_BUILD_ID"] not in ("", build_id)  # one build per run
    problems = compare_with_capture(got, run2_capture, project, exact)
    assert not problems, "run 2 under `run`:\n" + "\n".join(problems)
    assert "9 screenshots compared" in output, output
    assert "4 passed" in output, output
    for name in ("login", "dashboard", "Profile Card", "pricing", "checkout"):
        assert name in output, f"{name} missing from the summary:\n{output}"

    # The command fails (all screenshots pass): its own exit code wins.
    plan = {
        "screenshots": [
            {
                "name": "homepage",
                "image": str(images["run1"] / "homepage_2b43834b6e98.png"),
                "send_as": "buffer",
                "options": run1_capture["results"][0]["options"],
            }
        ],
        "exit_code": 3,
    }
    command, out = sdk_command(plan, tmp_path, "failing")
    done = _run_command(kind, project, home, port, command)
    got = json.loads(out.read_text())
    assert got["results"][0]["sdk_return"]["status"] == "match"
    # vizzlyFlush counts this run's screenshots only (upstream: the in-process list of `tdd run`).
    assert got["flush"] == {
        "success": True,
        "summary": {"total": 1, "passed": 1, "failed": 0, "new": 0, "errors": 0},
    }
    if kind == "ours":
        assert done.returncode == 3, done.stdout + done.stderr
    else:
        assert done.returncode == 1  # the Vizzly CLI exits 1 whatever the command's code was

    # Nothing is left behind: no server answering, no server.json.
    assert not _listening(port)
    assert not (project / ".vizzly" / "server.json").exists()
    assert run1_seconds < 30


def test_run_set_baseline_overwrites_the_baselines(
    kind: str, images: dict[str, Path], tmp_path: Path
) -> None:
    project = tmp_path / "storefront"
    project.mkdir()
    home = tmp_path / "vizzly-home"
    run1 = plan_from_capture(captured("sdk-run1-result.json"), images["run1"])
    run2 = plan_from_capture(captured("sdk-run2-result.json"), images["run2"])
    outcomes = []
    for tag, plan, extra in (("r1", run1, []), ("r2", run2, ["--set-baseline"]), ("r3", run2, [])):
        command, out = sdk_command(plan, tmp_path, tag)
        done = _run_command(kind, project, home, free_port(), command, extra)
        assert done.returncode == 0, done.stdout + done.stderr
        got = json.loads(out.read_text())
        statuses = {r["sdk_return"]["status"] for r in got["results"]}
        outcomes.append((got["env"]["VIZZLY_SET_BASELINE"], statuses, got["flush"]["summary"]))
    assert outcomes == [
        ("false", {"new"}, {"total": 8, "passed": 0, "failed": 0, "new": 8, "errors": 0}),
        ("true", {"new"}, {"total": 9, "passed": 0, "failed": 0, "new": 9, "errors": 0}),
        ("false", {"match"}, {"total": 9, "passed": 9, "failed": 0, "new": 0, "errors": 0}),
    ]
