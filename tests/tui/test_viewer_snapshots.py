"""Snapshots of every view mode on a 320x180 pair generated in the test, at 100x30 cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from .viewerkit import ViewerApp, make_subject, truecolour_pictures  # noqa: F401

SIZE = (100, 30)


def _keys(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("side_by_side", ("1",)),
        ("overlay", ()),
        ("onion", ("3",)),
        ("slider", ("4",)),
        ("blink_baseline", ("5", "space")),
        ("diff_only", ("6",)),
        ("cluster_2_at_1to1", ("n", "n")),
        ("guides", ("g",)),
        ("inspector", ("N", "i")),
    ],
)
def test_viewer_mode_snapshot(snap_compare, tmp_path: Path, name: str, keys: tuple) -> None:
    app = ViewerApp(make_subject(tmp_path))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys(*keys))


def test_viewer_height_difference_snapshot(snap_compare, tmp_path: Path) -> None:
    app = ViewerApp(make_subject(tmp_path, extra_rows=24))
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("1"))
