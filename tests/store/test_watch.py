"""The data_version watcher sees commits by other connections and other processes."""

from __future__ import annotations

import subprocess
import sys
import threading

from tests.conftest import REPO_ROOT
from tests.storehelpers import make_project, seed
from vizzly_tui.store.models import Comparison
from vizzly_tui.store.store import open_store
from vizzly_tui.store.watch import DataVersionWatcher


def test_a_missing_database_reads_as_version_zero(tmp_path):
    with DataVersionWatcher(tmp_path / "state.db") as watcher:
        assert watcher.version() == 0
        assert watcher.changed() is False
        assert watcher.wait(timeout=0.05) is False


def test_changed_reports_a_commit_by_our_writer_once(tmp_path):
    with open_store(make_project(tmp_path)) as store:
        watcher = DataVersionWatcher(store.project.db_path, interval=0.01)
        assert watcher.changed() is False  # the starting point
        seed(store, 2)
        assert watcher.changed() is True
        assert watcher.changed() is False  # one change, reported once
        watcher.close()


def test_wait_wakes_for_a_commit_from_another_process(tmp_path):
    project = make_project(tmp_path)
    with open_store(project) as store:
        seed(store, 1)
    script = (
        "import sys; from vizzly_tui.project import Project;"
        "from vizzly_tui.store.store import open_store;"
        "from vizzly_tui.store.models import Comparison\n"
        "from pathlib import Path\nwith open_store(Project(Path(sys.argv[1]))) as s:\n"
        "    s.call(lambda: Comparison.update(status='passed').execute())\n"
    )
    with open_store(project, write=False), DataVersionWatcher(project.db_path) as watcher:
        watcher.changed()
        result: list[bool] = []
        waiter = threading.Thread(target=lambda: result.append(watcher.wait(timeout=30)))
        waiter.start()
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)], check=True, cwd=REPO_ROOT, timeout=60
        )
        waiter.join(40)
        assert result == [True]
        assert Comparison.get().status == "passed"


def test_wait_returns_false_when_stopped(tmp_path):
    with open_store(make_project(tmp_path)) as store:
        seed(store, 1)
        watcher = DataVersionWatcher(store.project.db_path, interval=0.01)
        stop = threading.Event()
        stop.set()
        assert watcher.wait(timeout=10, stop=stop) is False
        watcher.close()
