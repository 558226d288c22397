"""The writer thread: one transaction per command, errors and results through Futures."""

from __future__ import annotations

import sqlite3
import threading

import peewee as pw
import pytest

from tests.storehelpers import make_project
from vizzly_tui.store.db import open_database
from vizzly_tui.store.models import Build
from vizzly_tui.store.store import open_store
from vizzly_tui.store.writer import Writer, WriterStopped


@pytest.fixture
def store(tmp_path):
    s = open_store(make_project(tmp_path))
    yield s
    s.close()


def test_result_comes_back_through_the_future(store):
    future = store.submit(lambda: Build.create(kind="run", uid="a", started_at=1).id)
    assert future.result(timeout=5) == 1


def test_a_failing_command_rolls_back_whole(store):
    def two_inserts():
        Build.create(kind="run", uid="dup", started_at=1)
        Build.create(kind="run", uid="dup", started_at=2)  # UNIQUE violation

    with pytest.raises(pw.IntegrityError):
        store.call(two_inserts)
    assert Build.select().count() == 0


def test_readers_cannot_write(store):
    # The main thread's connection is read-only: a write fails even if code tries.
    with pytest.raises((pw.OperationalError, sqlite3.OperationalError)) as err:
        Build.create(kind="run", uid="x", started_at=1)
    assert "readonly" in str(err.value) or "read-only" in str(err.value)


def test_readers_see_commits_through_data_version(store):
    before = store.data_version()
    store.call(lambda: Build.create(kind="run", uid="v", started_at=1))
    assert store.data_version() != before
    assert Build.select().count() == 1


def test_stop_drains_then_refuses(store):
    gate = threading.Event()
    first = store.submit(lambda: gate.wait(5))
    second = store.submit(lambda: Build.create(kind="run", uid="late", started_at=1).id)
    gate.set()
    store.writer.stop(drain=True)
    assert first.result(timeout=5) is True
    assert second.result(timeout=5) == 1
    with pytest.raises(WriterStopped):
        store.writer.submit(lambda: None)


def test_stop_without_drain_fails_pending_commands(tmp_path):
    project = make_project(tmp_path)
    open_store(project).close()
    db = open_database(project.db_path)
    writer = Writer(db).start()
    gate = threading.Event()
    started = threading.Event()

    def blocker():
        started.set()
        return gate.wait(5)

    running = writer.submit(blocker)
    queued = writer.submit(lambda: "never")
    assert started.wait(5)
    stopper = threading.Thread(target=writer.stop, kwargs={"drain": False})
    stopper.start()
    gate.set()
    stopper.join(5)
    assert running.result(timeout=5) is True
    with pytest.raises(WriterStopped):
        queued.result(timeout=5)


def test_a_reader_on_a_project_without_state_creates_nothing(tmp_path):
    project = make_project(tmp_path)
    store = open_store(project, write=False)
    assert not store.exists
    assert not project.db_path.exists()
    assert list(project.vizzly_dir.iterdir()) == []


def test_read_only_uri_survives_a_hash_in_the_path(tmp_path):
    project = make_project(tmp_path / "we#ird ?dir")
    open_store(project).close()
    store = open_store(project, write=False)
    assert store.exists
    assert Build.select().count() == 0
    store.close()
    assert not (tmp_path / "we").exists()
