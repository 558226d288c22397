"""Helpers for the review app's Pilot and snapshot tests: one way to build the app (the
same factory as the CLI), waiting on conditions instead of sleeping, and reading the screen
as text the way a user would."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from textual.worker import WorkerCancelled

from vizzly_tui.project import Project
from vizzly_tui.tui.app import AppOptions, ReviewApp, create_app
from vizzly_tui.tui.settings import Settings

# Fixed times for stored values the fixtures stamp with "now" (import time), so snapshots
# are the same on every run: 2026-11-26 08:00 UTC.
FIXED_MS = 1795680000000


def make_app(project: Path, *, settings: Settings | None = None, **options: Any) -> ReviewApp:
    return create_app(
        Project(project), options=AppOptions(**options), settings=settings or Settings()
    )


def prepare(project: Path) -> Path:
    """Import the fixture's Vizzly JSON into state.db, as the app's first start would."""
    from vizzly_tui.store.bootstrap import ensure_schema

    ensure_schema(Project(project))
    pin_times(project)
    return project


def pin_times(project: Path) -> None:
    """Test setup only: give rows stamped at import time a fixed time."""
    # Closed at once: a connection left open in this process hides later commits of other
    # processes from the app's data_version watcher (same-process SQLite file sharing).
    with closing(sqlite3.connect(project / ".vizzly" / "state.db")) as db, db:
        db.execute("UPDATE baseline_version SET created_at = ?", (FIXED_MS,))
        db.execute("UPDATE baseline SET updated_at = ?", (FIXED_MS,))


async def settle(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app work until `condition()` holds (workers finished, messages handled)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        # An exclusive worker replaced by a newer one (a live refresh, a picture) ends
        # cancelled, which wait_for_complete raises: that is the app working, not a failure.
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {screen_text(app)}")
        await pilot.pause(0.02)


async def loaded(pilot: Any) -> None:
    """The first screen is complete: list, detail numbers and the detail picture."""
    await settle(pilot, pilot.app.screen_ready)


def screen_text(app: ReviewApp) -> str:
    """What the terminal shows, as plain text (the top screen, modals included)."""
    update = app.screen._compositor.render_update(full=True)
    return "\n".join("".join(seg.text for strip in line for seg in strip) for line in update.strips)


def row_names(app: ReviewApp) -> list[str]:
    from vizzly_tui.tui.widgets.comparisons import ComparisonList

    return [r.name for r in app.query_one(ComparisonList).rows]


def db_rows(project: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the project's database the way another process would."""
    uri = (project / ".vizzly" / "state.db").resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()


def status_of(project: Path, name: str) -> str:
    rows = db_rows(
        project,
        "SELECT c.status FROM comparison c JOIN build b ON b.id = c.build_id "
        "WHERE c.name = ? ORDER BY b.started_at DESC, b.id DESC LIMIT 1",
        (name,),
    )
    return rows[0][0]
