"""A review command suspended (Ctrl-Z, SIGSTOP) while it holds the project lock: the server
keeps answering, and each screenshot waits at most the capture timeout from its arrival, not
behind every screenshot queued before it (a follow-up probe of issue 7)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.server.conftest import b64, png
from vizzly_tui import capture as capture_module
from vizzly_tui.capture import capture, start_build
from vizzly_tui.errors import StoreError
from vizzly_tui.project import Project
from vizzly_tui.store.models import Build
from vizzly_tui.store.store import Store, open_store

HOLDER = """
import filelock, os, signal, sys
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


@pytest.fixture
def suspended(tmp_path) -> Iterator[tuple[Store, Build, subprocess.Popen[str]]]:
    """A store open as `serve` has it, then another process holds the lock, suspended."""
    (tmp_path / ".vizzly").mkdir()
    store = open_store(Project(tmp_path))
    build = start_build(store, "serve")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.project.lock_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield store, build, holder
    finally:
        holder.kill()
        holder.wait()
        store.close()


def test_queued_captures_do_not_wait_one_timeout_each(suspended, monkeypatch):
    monkeypatch.setattr(capture_module, "CAPTURE_LOCK_TIMEOUT_S", 1.0)
    store, build, _holder = suspended
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            capture(store, build.id, f"shot-{i}", png(block=(i * 40, 0, 0)))
        except StoreError as exc:
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started
    assert len(errors) == 4
    assert all("suspended" in str(e) and "not recorded" in str(e) for e in errors)
    # One timeout each in turn would be 4 s or more.
    assert elapsed < 3.0, f"{elapsed:.1f} s for 4 captures with a 1 s lock timeout"


def waiting_for_lock(store: Store) -> bool:
    """The writer thread is inside capture's `_record` (waiting for the project lock)."""
    assert store.writer is not None
    frame = sys._current_frames().get(store.writer._thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "_record":
            return True
        frame = frame.f_back
    return False


async def test_health_answers_while_captures_wait_for_a_suspended_lock_holder(
    suspended, aiohttp_client, monkeypatch, tmp_path
):
    from vizzly_tui.capture import CaptureSettings
    from vizzly_tui.server.app import ServerState, make_app

    monkeypatch.setenv("VIZZLY_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(capture_module, "CAPTURE_LOCK_TIMEOUT_S", 60.0)
    store, build, holder = suspended
    state = ServerState(store, build.id, build.uid, settings=CaptureSettings())
    client = await aiohttp_client(make_app(state))
    shots = [
        asyncio.create_task(
            client.post("/screenshot", json={"name": f"s{i}", "image": b64(png(block=(i, 0, 0)))})
        )
        for i in range(4)
    ]
    # Wait until the writer waits for the lock with another capture queued behind it: then
    # the comparison threads are all taken by captures waiting on the writer.
    deadline = time.monotonic() + 30
    while not (waiting_for_lock(store) and store.writer._queue.qsize() >= 1):
        assert time.monotonic() < deadline, "the captures never reached the lock"
        await asyncio.sleep(0.01)
    health = await asyncio.wait_for(client.get("/health"), 30)
    assert health.status == 200
    # /health answered while every screenshot was still waiting for the lock.
    assert not any(shot.done() for shot in shots)
    # The holder goes away (killed): the waiting screenshots are recorded.
    holder.kill()
    holder.wait()
    for shot in shots:
        response = await asyncio.wait_for(shot, 60)
        assert response.status == 200, await response.text()
        assert (await response.json())["status"] == "new"
    await client.close()


def test_a_screenshot_not_recorded_leaves_the_current_file_its_row_describes(tmp_path, monkeypatch):
    (tmp_path / ".vizzly").mkdir()
    store = open_store(Project(tmp_path))
    build = start_build(store, "serve")
    capture(store, build.id, "home", png())
    capture(store, build.id, "home", png(block=(200, 0, 0)))  # failed, current = red block
    [current] = store.project.current_dir.glob("home_*.png")
    assert current.read_bytes() == png(block=(200, 0, 0))
    monkeypatch.setattr(capture_module, "CAPTURE_LOCK_TIMEOUT_S", 0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.project.lock_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(StoreError, match="not recorded"):
            capture(store, build.id, "home", png(block=(0, 0, 200)))
    finally:
        holder.kill()
        holder.wait()
    # The screenshot was not recorded: current/ still holds the one its row was compared with
    # (it used to hold the unrecorded one, so `accept home` refused and the diff lied).
    assert current.read_bytes() == png(block=(200, 0, 0))
    store.close()
