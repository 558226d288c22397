"""kill -9 at seeded random moments during long writes (issue 10, crash consistency).

After every kill the next start settles what was interrupted, and then: each comparison is
fully applied or untouched, every baseline's bytes match their recorded sha256, no file an
SDK or the app reads is half-written, and integrity_check and foreign_key_check pass
(helpers.assert_settled_and_sound). Short: 10 kills per scenario; `--long`: 200.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

from tests.racehelpers import png
from tests.reliability.helpers import (
    assert_settled_and_sound,
    cli,
    count,
    kept_on_failure,
    kill_when,
    record,
    rounds,
    start,
)
from tests.storehelpers import open_seeded

COMPARISONS = 200
SEED = 20261201


def _seeded(root: Path) -> list[str]:
    store, names = open_seeded(root, COMPARISONS)
    store.close()
    return names


def _each_whole(root: Path, names: list[str]) -> tuple[int, int]:
    """Every comparison accepted (baseline == current, passed) or untouched (failed, old
    baseline). Returns (accepted, untouched)."""
    status = cli(root, "status", "--json")
    assert status.returncode in (0, 1), status.stderr
    rows = {r["name"]: r for r in json.loads(status.stdout)["comparisons"]}
    vizzly = root / ".vizzly"
    accepted = untouched = 0
    for name in names:
        baseline = (vizzly / "baselines" / f"{name}.png").read_bytes()
        if rows[name]["status"] == "passed":
            assert baseline == (vizzly / "current" / f"{name}.png").read_bytes(), name
            accepted += 1
        else:
            assert rows[name]["status"] == "failed", (name, rows[name]["status"])
            assert baseline == b"baseline-" + name.encode(), name
            untouched += 1
    return accepted, untouched


def test_kill_during_accept_all_of_200(tmp_path, kills):
    rng = random.Random(SEED)
    killed = 0
    for i in rounds(kills):
        root = tmp_path / f"k{i}"
        names = _seeded(root)
        db = root / ".vizzly" / "state.db"
        target = rng.randrange(0, COMPARISONS)
        proc = start(root, "accept", "--all")
        sql = "SELECT count(*) FROM decision WHERE state = 'done'"
        killed += kill_when(proc, lambda db=db, t=target, sql=sql: count(db, sql) >= t)
        with kept_on_failure(root, f"seed {SEED}, kill {i} (after {target} accepted)"):
            assert_settled_and_sound(root)
            accepted, _ = _each_whole(root, names)
            if accepted:
                # What was accepted can still be undone, byte for byte.
                undone = cli(root, "undo")
                assert undone.returncode == 0, undone.stderr
                assert _each_whole(root, names) == (0, COMPARISONS)
    ran = i + 1  # rounds() may stop early (--kill-minutes)
    assert killed >= ran // 2, f"only {killed} of {ran} runs were killed midway"
    record("accept --all (200 comparisons)", kills=killed, runs=ran)


def test_kill_during_undo_of_a_batch_of_200(tmp_path, kills):
    rng = random.Random(SEED + 1)
    killed = 0
    for i in rounds(kills):
        root = tmp_path / f"k{i}"
        names = _seeded(root)
        assert cli(root, "accept", "--all").returncode == 0
        db = root / ".vizzly" / "state.db"
        target = rng.randrange(0, COMPARISONS)
        proc = start(root, "undo")
        sql = "SELECT count(*) FROM decision WHERE action = 'undo'"
        killed += kill_when(proc, lambda db=db, t=target, sql=sql: count(db, sql) >= t)
        with kept_on_failure(root, f"seed {SEED + 1}, kill {i} (after {target} undone)"):
            assert_settled_and_sound(root)
            _each_whole(root, names)
    ran = i + 1  # rounds() may stop early (--kill-minutes)
    assert killed >= ran // 2, f"only {killed} of {ran} runs were killed midway"
    record("undo of a 200-comparison batch", kills=killed, runs=ran)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(root: Path, timeout: float = 30) -> int:
    import time

    path = root / ".vizzly" / "server.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return int(json.loads(path.read_text())["port"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.02)
    raise AssertionError("server.json never appeared")


def _post(port: int, name: str, data: bytes) -> bool:
    body = json.dumps({"name": name, "image": base64.b64encode(data).decode(), "type": "base64"})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/screenshot",
        body.encode(),
        {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def test_kill_during_a_burst_of_screenshots_to_serve(tmp_path, kills):
    rng = random.Random(SEED + 2)
    killed = sent_total = recorded_total = 0
    for i in rounds(kills):
        root = tmp_path / f"k{i}"
        (root / ".vizzly").mkdir(parents=True)
        proc = start(root, "serve", "--port", str(_free_port()))
        port = _wait_for_port(root)
        acknowledged: list[str] = []
        stop = threading.Event()

        def burst(port: int = port, acknowledged: list[str] = acknowledged, stop=stop) -> None:
            n = 0
            while not stop.is_set():
                # Names repeat, so later shots compare against baselines made by earlier ones.
                name = f"shot-{n % 25:02d}"
                if _post(port, name, png(((n * 37) % 256, 90, 200))):
                    acknowledged.append(name)
                n += 1

        sender = threading.Thread(target=burst)
        sender.start()
        target = rng.randrange(1, 80)
        killed += kill_when(proc, lambda a=acknowledged, t=target: len(a) >= t)
        stop.set()
        sender.join(60)
        with kept_on_failure(root, f"seed {SEED + 2}, kill {i} (after {target} screenshots)"):
            assert_settled_and_sound(root)
            status = json.loads(cli(root, "status", "--json").stdout)
            recorded = {r["name"] for r in status["comparisons"]}
            # No acknowledged screenshot is lost: an SDK that got 200 has its comparison.
            assert set(acknowledged) <= recorded, set(acknowledged) - recorded
        sent_total += len(acknowledged)
        recorded_total += len(set(acknowledged) & recorded)
    ran = i + 1  # rounds() may stop early (--kill-minutes)
    assert killed >= ran // 2
    record("burst of screenshots to serve", kills=killed, runs=ran, acknowledged=sent_total)


RESTORE_SCRIPT = """
import sys
from pathlib import Path
from vizzly_tui.project import Project
from vizzly_tui.review_history import restore_baseline_version
from vizzly_tui.store.store import open_store
from vizzly_tui.store.models import BaselineVersion

with open_store(Project(Path(sys.argv[1]))) as store:
    first = {}
    for v in BaselineVersion.select().order_by(BaselineVersion.id):
        first.setdefault(v.signature, v.sha256)
    for signature, sha in sorted(first.items()):
        restore_baseline_version(store, signature, sha)
"""
RESTORED = 40


def _two_versions(root: Path) -> dict[str, tuple[bytes, bytes]]:
    """RESTORED baselines, each with two versions (first capture, then an accepted change)."""
    from vizzly_tui.capture import capture, start_build
    from vizzly_tui.project import Project
    from vizzly_tui.store.store import open_store

    (root / ".vizzly").mkdir(parents=True)
    images = {f"page-{i:02d}": (png((i, 10, 10)), png((i, 200, 10))) for i in range(RESTORED)}
    with open_store(Project(root)) as store:
        for step in (0, 1):
            build = start_build(store, "serve")
            for name, pair in images.items():
                capture(store, build.id, name, pair[step])
    assert cli(root, "accept", "--all").returncode == 0
    return images


def test_kill_during_baseline_version_restores(tmp_path, kills):
    import shutil
    import subprocess
    import sys

    rng = random.Random(SEED + 3)
    template = tmp_path / "template"
    images = _two_versions(template)
    allowed = {data for pair in images.values() for data in pair}
    killed = 0
    for i in rounds(kills):
        root = tmp_path / f"k{i}"
        shutil.copytree(template, root)
        db = root / ".vizzly" / "state.db"
        target = rng.randrange(0, RESTORED)
        proc = subprocess.Popen(
            [sys.executable, "-c", RESTORE_SCRIPT, str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sql = "SELECT count(*) FROM decision WHERE action = 'restore'"
        killed += kill_when(proc, lambda db=db, t=target, sql=sql: count(db, sql) >= t)
        with kept_on_failure(root, f"seed {SEED + 3}, kill {i} (after {target} restores)"):
            # The doctor check includes: each baseline's bytes are the sha256 its row records.
            assert_settled_and_sound(root)
            for path in (root / ".vizzly" / "baselines").glob("page-*.png"):
                assert path.read_bytes() in allowed, path
            restored = count(
                db, "SELECT count(*) FROM decision WHERE action = 'restore' AND state = 'done'"
            )
            # The restores that happened can be undone, one by one, back to the accepted bytes.
            if restored:
                assert cli(root, "undo").returncode == 0
                assert_settled_and_sound(root)
    ran = i + 1  # rounds() may stop early (--kill-minutes)
    assert killed >= ran // 2, f"only {killed} of {ran} runs were killed midway"
    record("baseline-version restore (40 baselines)", kills=killed, runs=ran)
