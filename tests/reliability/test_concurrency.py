"""Concurrency (issue 10): `serve` taking 4 parallel SDK streams while two other processes
accept, reject and undo, and the review app is open and deciding through its own writer (the
real app from `create_app`, driven with Pilot: its keys pressed during the burst). No lost
write, no `database is locked` reaching a user or an SDK, every decision settled in the log,
every decision of the app logged as the app's, the app's screen agreeing with the database
when the burst ends, and the project sound.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import sqlite3
import threading
import time
from contextlib import closing
from typing import Any

from tests.racehelpers import png
from tests.reliability.helpers import ServeProcess, assert_settled_and_sound, cli, count, record
from tests.tui.apphelpers import screen_text, settle
from vizzly_tui.project import Project
from vizzly_tui.statuses import NEW_STATUSES
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.queries_history import FILTER_STATUSES
from vizzly_tui.tui.app import AppOptions, create_app
from vizzly_tui.tui.messages import DecisionDone, DecisionFailed
from vizzly_tui.tui.settings import Settings
from vizzly_tui.tui.widgets.comparisons import ComparisonList

STREAMS = 4
# What a reviewer does in the app meanwhile: decide, move on, change their mind.
APP_KEYS = ("a", "j", "r", "j", "a", "k", "u", "j", "a", "r", "k", "k")


def _database_view(db) -> dict[str, Any]:
    """What the app's list must show, read as another process would (read-only)."""
    with closing(sqlite3.connect(readonly_uri(db), uri=True, timeout=10)) as conn:
        build = conn.execute(
            "SELECT id FROM build WHERE kind IN ('run','serve','import') "
            "ORDER BY started_at DESC, id DESC LIMIT 1"
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT cid, status FROM comparison WHERE build_id = ?", (build,)
        ).fetchall()
    review = FILTER_STATUSES["needs-review"] or ()
    counts: dict[str, int] = {}
    for _, status in rows:
        shown = "new" if status in NEW_STATUSES else status  # the app counts both as new
        counts[shown] = counts.get(shown, 0) + 1
    return {
        "rows": sorted((cid, status) for cid, status in rows if status in review),
        "counts": counts,
    }


def _app_view(app) -> dict[str, Any]:
    listing = app.list_data
    widget = app.main.query_one(ComparisonList)
    counts = {
        s: n
        for s, n in (listing.counts if listing else {}).items()
        if s not in ("total", "needs-review") and n
    }
    return {"rows": sorted((r.cid, r.status) for r in widget.rows), "counts": counts}


def _header_text(view: dict[str, Any]) -> tuple[str, str]:
    """The comparisons pane's title and subtitle as the app draws them for `view`."""
    c = view["counts"]
    statuses = ("failed", "new", "rejected", "error", "passed")
    subtitle = " ".join(f"{c.get(s, 0)} {s}" for s in statuses)
    return f"needs review ({len(view['rows'])})", subtitle


def _drawn(text: str, wanted: str) -> bool:
    """`wanted` is on screen, whole or cut short with "…" (a border title too long)."""
    return wanted in text or any(
        wanted[:cut] + "…" in text for cut in range(len(wanted) - 1, len(wanted) // 2, -1)
    )


async def test_four_sdk_streams_two_deciding_processes_and_the_review_app(tmp_path, kills):
    shots = 15 if kills <= 10 else 60  # per stream, at least
    min_presses = 40 if kills <= 10 else 400  # keys pressed in the app, at least
    server = ServeProcess(tmp_path / "proj", tmp_path / "home")
    root = server.root
    db = root / ".vizzly" / "state.db"
    answers: list[tuple[int, bytes]] = []
    acknowledged: list[str] = []
    lock = threading.Lock()

    def stream(k: int) -> None:
        # At least `shots` each, and on for as long as the app is deciding: its keys land
        # in the middle of the burst, not after it.
        for n in itertools.count():
            if n >= shots and reviewed.is_set():
                break
            name = f"s{k}-{n % 5}"
            body = {
                "name": name,
                "image": base64.b64encode(png((n * 40 % 256, k * 50, 9))).decode(),
            }
            status, answer = server.post_json("/screenshot", body)
            with lock:
                answers.append((status, answer))
                if status == 200:
                    acknowledged.append(name)

    reviewed = threading.Event()
    outputs: list[str] = []
    codes: list[tuple[int, str]] = []
    stop = threading.Event()

    def decider(commands: list[tuple[str, ...]]) -> None:
        i = 0
        while not stop.is_set():
            result = cli(root, *commands[i % len(commands)])
            with lock:
                outputs.append(result.stderr)
                codes.append((result.returncode, result.stderr))
            i += 1

    # The app's decisions as it reports them, and every notice it puts on screen.
    done: list[DecisionDone] = []
    landed: list[float] = []
    burst_end = 0.0
    failed: list[DecisionFailed] = []
    notices: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, DecisionDone):
            done.append(message)
            landed.append(time.monotonic())
        elif isinstance(message, DecisionFailed):
            failed.append(message)

    # The first screenshot makes the build the app opens on.
    assert server.post_json("/screenshot", {"name": "s0-0", "image": _b64((0, 0, 9))})[0] == 200
    acknowledged.append("s0-0")
    app = create_app(Project(root), options=AppOptions(), settings=Settings())
    shown_notify = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        notices.append(f"{kwargs.get('title', '')}: {message}")
        shown_notify(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    senders = [threading.Thread(target=stream, args=(k,)) for k in range(STREAMS)]
    deciders = [
        threading.Thread(target=decider, args=([("accept", "--all"), ("undo",)],)),
        threading.Thread(
            target=decider, args=([("reject", "s1-1"), ("accept", "s2-2"), ("undo",)],)
        ),
    ]
    presses = 0
    try:
        async with app.run_test(size=(120, 40), notifications=True, message_hook=hook) as pilot:
            await settle(pilot, app.screen_ready, timeout=60)
            for t in senders + deciders:
                t.start()
            keys = itertools.cycle(APP_KEYS)
            while presses < min_presses or any(t.is_alive() for t in senders):
                # Keys arrive as a terminal sends them, whatever the app is busy with:
                # pilot.press would wait after each for the whole screen to be idle, which
                # a burst of live refreshes puts off for seconds.
                app.simulate_key(next(keys))
                presses += 1
                await asyncio.sleep(0.1)  # a fast reviewer's pace, not a wait for anything
                # The burst goes on until the app has pressed its keys and one of its
                # decisions has landed (unless every one was refused: then it is over too).
                if presses >= min_presses and (done or presses >= 5 * min_presses):
                    reviewed.set()
            for t in senders:
                await asyncio.to_thread(t.join, 300)
            burst_end = time.monotonic()
            stop.set()
            for t in deciders:
                await asyncio.to_thread(t.join, 300)
            await pilot.pause()  # every key pressed is handled
            # Settled: the app's decisions are back, and its live updates (the data_version
            # watcher) have brought the last commits of the other processes on screen.
            await settle(
                pilot,
                lambda: (
                    not app._deciding
                    and app.screen_ready()
                    and _app_view(app) == _database_view(db)
                ),
                timeout=60,
            )
            view = _database_view(db)
            title, subtitle = _header_text(view)
            text = screen_text(app)
            assert _drawn(text, title) and _drawn(text, subtitle), (title, subtitle, text)
            assert app.is_running
    finally:
        app.store.close()
        stop.set()
        for t in senders + deciders:
            t.join(300)
        err = server.stop()
    sent = len(answers) + 1
    assert sent > STREAMS * shots
    # 2: nothing to undo or no such comparison yet; 5: skipped what was captured meanwhile.
    assert [c for c in codes if c[0] not in (0, 1, 2, 5)] == []
    assert len(codes) >= 4
    assert [s for s, _ in answers if s != 200] == [], answers[:3]
    assert len(acknowledged) == sent
    everything = err + "".join(outputs) + "".join(a.decode(errors="replace") for _, a in answers)
    everything += "\n".join(notices)
    assert "locked" not in everything and "internal error" not in everything.lower()
    # The app decided during the burst, through its writer, and each decision it reported
    # is in the log as the app's (the batch it answered with, one row per item).
    app_decisions = sum(len(m.result.items) for m in done)
    during = sum(len(m.result.items) for m, at in zip(done, landed, strict=True) if at < burst_end)
    assert during > 0, (presses, app_decisions, notices[-5:])
    for message in done:
        batch = message.result.batch
        logged = count(db, f"SELECT count(*) FROM decision WHERE batch = '{batch}'")
        by_app = count(
            db, f"SELECT count(*) FROM decision WHERE batch = '{batch}' AND actor = 'tui'"
        )
        assert logged == by_app == len(message.result.items), message.result
    reported = {m.result.batch for m in done}
    with closing(sqlite3.connect(readonly_uri(db), uri=True)) as conn:
        kept = conn.execute(
            "SELECT DISTINCT batch FROM decision WHERE actor = 'tui' AND state != 'rolled-back'"
        ).fetchall()
    assert {b for (b,) in kept} <= reported  # nothing the app did went unreported
    assert_settled_and_sound(root)
    status = json.loads(cli(root, "status", "--json").stdout)
    recorded = {r["name"] for r in status["comparisons"]}
    assert set(acknowledged) <= recorded
    decisions = count(db, "SELECT count(*) FROM decision WHERE action != 'capture'")
    # Settled: done, rolled back, or set aside by an undo (its screenshot captured again).
    unsettled = (
        "SELECT count(*) FROM decision WHERE state NOT IN ('done', 'rolled-back', 'superseded')"
    )
    assert count(db, unsettled) == 0
    record(
        "concurrency: 4 SDK streams + 2 deciding processes + the review app",
        streams=STREAMS,
        screenshots_sent=sent,
        screenshots_recorded=len(acknowledged),
        decisions=decisions,
        app_keys=presses,
        app_decisions=app_decisions,
        app_decisions_during_burst=during,
        app_refused=len(failed),
        lost=0,
    )


def _b64(colour: tuple[int, int, int]) -> str:
    return base64.b64encode(png(colour)).decode()
