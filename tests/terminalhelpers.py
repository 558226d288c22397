"""Run `vizzly-tui` with stdout and/or stderr on a pseudo-terminal, the rest piped.

The command line chooses between rich output and plain text by asking its streams whether
they are terminals, so the tests give it real ones rather than patching that question.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tests.conftest import REPO_ROOT

CSI = "\x1b["


@dataclass
class Ran:
    stdout: str
    stderr: str
    code: int


def _terminal(cols: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    return master, slave


def run_cli(
    args: Sequence[str],
    *,
    stdout_tty: bool,
    stderr_tty: bool,
    env: dict[str, str] | None = None,
    cols: int = 160,
    timeout: float = 120.0,
) -> Ran:
    """`python -m vizzly_tui ARGS`; what each stream got, with the terminal's \\r\\n as \\n."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(TERM="xterm-256color", PYTHONPATH=str(REPO_ROOT), COLUMNS=str(cols))
    environ.update(env or {})
    readers: dict[int, str] = {}
    child_ends: list[int] = []
    streams: dict[str, int] = {}
    for name, tty in (("stdout", stdout_tty), ("stderr", stderr_tty)):
        read_end, write_end = _terminal(cols) if tty else os.pipe()
        readers[read_end] = name
        child_ends.append(write_end)
        streams[name] = write_end
    process = subprocess.Popen(
        [sys.executable, "-m", "vizzly_tui", *args],
        stdin=subprocess.DEVNULL,
        stdout=streams["stdout"],
        stderr=streams["stderr"],
        env=environ,
        cwd=REPO_ROOT,
    )
    for fd in child_ends:
        os.close(fd)
    got = {"stdout": bytearray(), "stderr": bytearray()}
    deadline = time.monotonic() + timeout
    try:
        while readers:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"vizzly-tui {' '.join(args)} still running after {timeout}s")
            ready, _, _ = select.select(list(readers), [], [], left)
            for fd in ready:
                try:
                    data = os.read(fd, 1 << 16)
                except OSError:  # EIO: the terminal's other side closed (the child ended)
                    data = b""
                if data:
                    got[readers[fd]].extend(data)
                else:
                    os.close(fd)
                    del readers[fd]
        code = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for fd in readers:
            os.close(fd)

    def text(name: str) -> str:
        return got[name].decode("utf-8", "replace").replace("\r\n", "\n")

    return Ran(text("stdout"), text("stderr"), code)
