"""Run `vizzly-tui` in a real pseudo-terminal and read the screen text it writes.

Used by tests/tui/test_app_cli.py (the entry points open the app in a terminal) and by
benchmarks/bench_tui.py (start-up, key-to-repaint and commit-to-screen times, peak RSS).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# CSI, OSC, DCS/APC and two-byte escapes: what is left is the text the terminal shows.
_ESCAPES = re.compile(
    rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[P_^][^\x1b]*\x1b\\|.)"
)


def screen_text(data: bytes) -> str:
    return _ESCAPES.sub(b"", data).decode("utf-8", "replace")


class PtyApp:
    def __init__(
        self,
        args: Sequence[str],
        *,
        cols: int = 120,
        rows: int = 36,
        env: dict[str, str] | None = None,
    ) -> None:
        environ = dict(os.environ)
        environ.update(TERM="xterm-256color", PYTHONPATH=str(REPO_ROOT))
        environ.update(env or {})
        argv = [sys.executable, "-m", "vizzly_tui", *args]
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal before the app asks for it
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(sys.executable, argv, environ)
        self.pid, self.fd = pid, fd
        self.output = bytearray()
        self.exit_status: int | None = None

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            return False
        self.output.extend(data)
        return bool(data)

    def wait_for(self, text: str, *, since: int = 0, timeout: float = 20.0) -> float:
        """Read until `text` shows in what was written after offset `since`; return when."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if text in screen_text(bytes(self.output[since:])):
                return time.perf_counter()
            self._read(0.05)
        raise TimeoutError(
            f"{text!r} not shown within {timeout}s: {screen_text(bytes(self.output))[-2000:]}"
        )

    def first_output_after(self, since: int, timeout: float = 5.0) -> float:
        """When the first byte after offset `since` arrived."""
        deadline = time.perf_counter() + timeout
        while len(self.output) <= since:
            if time.perf_counter() > deadline:
                raise TimeoutError("no output")
            self._read(0.05)
        return time.perf_counter()

    def text(self) -> str:
        return screen_text(bytes(self.output))

    def drain(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and self._read(quiet):
            pass

    def send(self, keys: str) -> int:
        """Type `keys`; returns the output offset at that moment."""
        offset = len(self.output)
        os.write(self.fd, keys.encode())
        return offset

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def quit(self, timeout: float = 10.0) -> int:
        """Press q and wait for the process to end; returns its exit status."""
        with contextlib.suppress(OSError):
            os.write(self.fd, b"q")
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = os.waitstatus_to_exitcode(status)
                break
            self._read(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.exit_status = -9
        with contextlib.suppress(OSError):
            os.close(self.fd)
        return self.exit_status
