"""The review app when its state.db is deleted or replaced while it runs: the decision is
refused with the reason on screen, nothing changes on disk, and the app keeps running."""

from __future__ import annotations

import shutil

import pytest

from tests.reliability.helpers import tree

from .apphelpers import loaded, make_app, prepare, row_names, screen_text, settle


def _delete(db) -> None:
    db.unlink()


def _replace(db) -> None:
    other = db.with_name("other.db")
    shutil.copyfile(db, other)
    other.replace(db)


def toasts(app) -> str:
    """The notifications' text as read (they are drawn right of a "▌" edge, over the panes)."""
    lines = screen_text(app).splitlines()
    parts = (line.split("▌", 1)[1].rstrip(" │─╮╯") for line in lines if "▌" in line)
    return " ".join(" ".join(part.split()) for part in parts)


@pytest.mark.parametrize("change", [_delete, _replace], ids=["deleted", "replaced"])
async def test_the_app_refuses_decisions_on_a_database_gone_from_under_it(scenario_project, change):
    project = prepare(scenario_project("scenario-b-second-run"))
    vizzly = project / ".vizzly"
    app = make_app(project)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        queue = row_names(app)
        change(vizzly / "state.db")
        files = {k: v for k, v in tree(vizzly).items() if not k.startswith("state.db")}
        await pilot.press("a")
        await settle(pilot, lambda: "Restart vizzly-tui" in toasts(app))
        assert "state.db was deleted or replaced while vizzly-tui was running" in toasts(app)
        # Every later key is refused up front, with the same reason kept in view.
        await pilot.press("j", "r", "u")
        await settle(pilot, lambda: "Not changed: the database" in toasts(app))
        assert "read-only: the database" in screen_text(app)
        # Its reads fail too (the file is gone): that is not shown as a second error.
        assert "could not read" not in toasts(app)
        assert app.is_running
        assert row_names(app) == queue
    assert {k: v for k, v in tree(vizzly).items() if not k.startswith("state.db")} == files
