"""The review app's tests never read the user's config, always show UTC times, and draw
pictures in truecolor whatever TERM/COLORTERM the test runner has (snapshots stay stable)."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def _app_environment(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    from vizzly_tui.tui.viewer import widget as viewer_widget

    monkeypatch.setattr(viewer_widget, "FORCED_COLOURS", "truecolor")
    yield
    time.tzset()
