"""The review app's tests never read the user's config and always show UTC times."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def _app_environment(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()
