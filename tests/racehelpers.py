"""Deterministic races between processes: a CLI command paused at a chosen step.

`paused_cli(flags, root, action, *args)` runs `vizzly-tui ARGS` in a child process whose
decisions.apply_files, for the first decision of `action`, first touches `flags/paused` and
then waits for `flags/go`: the parent can act exactly between a decision's pending row and
its files (`action:after`: between its files and `done`), or kill it there.
The child also touches `flags/locking` before it takes any file lock.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

CHILD = r"""
import sys, time, pathlib
import filelock
from vizzly_tui.store import decisions
from vizzly_tui import cli

flags = pathlib.Path(sys.argv[1])
action = sys.argv[2]
original = decisions.apply_files
acquire = filelock.BaseFileLock.acquire

def announced_acquire(self, *args, **kwargs):
    # Lets the parent see that this process is at (or blocked in) a lock.
    (flags / "locking").touch()
    return acquire(self, *args, **kwargs)

filelock.BaseFileLock.acquire = announced_acquire

action, _, when = action.partition(":")

def pause():
    (flags / "paused").touch()
    while not (flags / "go").exists():
        time.sleep(0.005)

def paused(project, decision, *, forward=True):
    chosen = forward and decision.action == action and not (flags / "paused").exists()
    if chosen and when != "after":
        pause()
    original(project, decision, forward=forward)
    if chosen and when == "after":
        pause()

decisions.apply_files = paused
cli.main(args=sys.argv[3:], prog_name="vizzly-tui")
"""


def png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


# Children still paused when their test fails would wait for ever: tests/conftest.py kills
# whatever is left here after each test.
CHILDREN: list[subprocess.Popen[str]] = []


def paused_cli(flags: Path, root: Path, action: str, *args: str) -> subprocess.Popen[str]:
    flags.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(flags), action, "--project", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    CHILDREN.append(child)
    return child


def kill_leftover_children() -> None:
    while CHILDREN:
        child = CHILDREN.pop()
        if child.poll() is None:
            child.kill()
            child.wait(10)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    """Run fn in a thread; the dict gets `result` or `error`, and `done` when it returns."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test to assert on
            box["error"] = exc
        finally:
            box["done"] = True

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box
