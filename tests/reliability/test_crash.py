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
    kill_when,
    record,
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
    for i in range(kills):
        root = tmp_path / f"k{i}"
        names = _seeded(root)
        db = root / ".vizzly" / "state.db"
        target = rng.randrange(0, COMPARISONS)
        proc = start(root, "accept", "--all")
        sql = "SELECT count(*) FROM decision WHERE state = 'done'"
        killed += kill_when(proc, lambda db=db, t=target, sql=sql: count(db, sql) >= t)
        assert_settled_and_sound(root)
        accepted, _ = _each_whole(root, names)
        if accepted:
            # What was accepted can still be undone, byte for byte.
            undone = cli(root, "undo")
            assert undone.returncode == 0, undone.stderr
            assert _each_whole(root, names) == (0, COMPARISONS)
    assert killed >= kills // 2, f"only {killed} of {kills} runs were killed midway"
    record("accept --all (200 comparisons)", kills=killed, runs=kills)


def test_kill_during_undo_of_a_batch_of_200(tmp_path, kills):
    rng = random.Random(SEED + 1)
    killed = 0
    for i in range(kills):
        root = tmp_path / f"k{i}"
        names = _seeded(root)
        assert cli(root, "accept", "--all").returncode == 0
        db = root / ".vizzly" / "state.db"
        target = rng.randrange(0, COMPARISONS)
        proc = start(root, "undo")
        sql = "SELECT count(*) FROM decision WHERE action = 'undo'"
        killed += kill_when(proc, lambda db=db, t=target, sql=sql: count(db, sql) >= t)
        assert_settled_and_sound(root)
        _each_whole(root, names)
    assert killed >= kills // 2, f"only {killed} of {kills} runs were killed midway"
    record("undo of a 200-comparison batch", kills=killed, runs=kills)


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
    for i in range(kills):
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
        assert_settled_and_sound(root)
        status = json.loads(cli(root, "status", "--json").stdout)
        recorded = {r["name"] for r in status["comparisons"]}
        # No acknowledged screenshot is lost: an SDK that got 200 has its comparison.
        assert set(acknowledged) <= recorded, set(acknowledged) - recorded
        sent_total += len(acknowledged)
        recorded_total += len(set(acknowledged) & recorded)
    assert killed >= kills // 2
    record("burst of screenshots to serve", kills=killed, runs=kills, acknowledged=sent_total)
