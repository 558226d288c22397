"""`serve --daemon --baseline-build`: the background server downloads before it answers."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from tests.cloud.conftest import CLOUD_HOME
from tests.cloud.test_download import rows, sha
from vizzly_tui.server import daemon


@pytest.mark.slow
def test_a_slow_download_is_waited_for_not_killed(project, cloud, tmp_path, monkeypatch):
    # The 30 s start limit is for the server; a big build over a slow network takes longer
    # to download, and killing the child then throws the download away.
    monkeypatch.setenv("VIZZLY_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(daemon, "START_TIMEOUT_S", 1.0)
    cloud.file_delay = 2.0
    started = None
    try:
        started = daemon.start_daemon(project, ["--baseline-build", "build-1"])
        assert started["status"] == "started"
        assert rows(project)["home|1280|chrome"] == sha(CLOUD_HOME)
    finally:
        pid = started["pid"] if started else None
        pid_file = project.vizzly_dir / "server.pid"
        if pid is None and pid_file.exists():
            pid = int(pid_file.read_text())
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
