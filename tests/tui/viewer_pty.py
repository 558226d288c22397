"""Run the viewer in a real pseudo-terminal and watch the bytes it writes.

Used by tests/tui/test_viewer_pty.py and benchmarks/bench_redraw.py. The child is this
module run as a script: a tiny app whose `v` key opens the viewer on two PNG files (so
opening can be timed), which appends a line to a stats file each time a picture is shown.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class PtyViewer:
    """The harness app in a pty of `cols` x `rows` cells."""

    def __init__(
        self,
        baseline: Path,
        current: Path,
        stats: Path,
        *,
        cols: int = 160,
        rows: int = 44,
        colours: str = "truecolor",
        clusters: Path | None = None,
    ) -> None:
        self.stats = stats
        env = dict(os.environ)
        env.update(TERM="xterm-256color", TEXTUAL_COLOR_SYSTEM=colours, PYTHONPATH=str(REPO_ROOT))
        env.pop("NO_COLOR", None)
        if colours == "truecolor":
            env["COLORTERM"] = "truecolor"
        else:
            env.pop("COLORTERM", None)
        argv = [
            sys.executable,
            "-m",
            "tests.tui.viewer_pty",
            str(baseline),
            str(current),
            str(stats),
        ]
        if clusters is not None:
            argv.append(str(clusters))
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal before the app asks for it
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.chdir(REPO_ROOT)
            os.execve(sys.executable, argv, env)
        self.pid, self.fd = pid, fd
        self.exit_status: int | None = None

    def read_until_quiet(self, quiet: float = 0.4, timeout: float = 20.0) -> tuple[bytes, float]:
        """Everything written until `quiet` seconds pass without output; and when it last wrote."""
        chunks, last = [], time.perf_counter()
        deadline = last + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.fd], [], [], quiet)
            if not ready:
                break
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
            last = time.perf_counter()
        return b"".join(chunks), last

    def wait_for(self, needle: bytes, timeout: float = 20.0, seen: bytes = b"") -> bytes:
        """Read until `needle` was written (then until quiet); `seen`: what was read already."""
        deadline = time.perf_counter() + timeout
        while needle not in seen and time.perf_counter() < deadline:
            data, _ = self.read_until_quiet(quiet=0.2, timeout=timeout)
            seen += data
        if needle not in seen:
            raise TimeoutError(f"{needle!r} never appeared; got {seen[-400:]!r}")
        return seen

    def press(self, key: bytes, quiet: float = 0.4) -> tuple[bytes, float]:
        """Send a key; return the bytes it caused and the seconds until the last of them."""
        start = time.perf_counter()
        os.write(self.fd, key)
        data, last = self.read_until_quiet(quiet)
        return data, (last - start) if data else 0.0

    def shown(self) -> list[dict]:
        if not self.stats.exists():
            return []
        return [json.loads(line) for line in self.stats.read_text().splitlines() if line]

    def close(self) -> bytes:
        """Quit with ctrl+q; the bytes written while leaving."""
        data = b""
        with contextlib.suppress(OSError):
            os.write(self.fd, b"\x11")
            data, _ = self.read_until_quiet(quiet=0.5, timeout=10)
        for _ in range(100):
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                self.exit_status = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
        return data


def _child(baseline: str, current: str, stats: str, clusters: str | None) -> None:
    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Static

    from vizzly_tui.tui.viewer import ImageView, ViewerScreen, ViewerSubject

    subject = ViewerSubject(
        comparison_id="pty",
        name="pty",
        status="failed",
        baseline_path=Path(baseline),
        current_path=Path(current),
        diff_path=None,
        clusters=tuple(json.loads(Path(clusters).read_text())) if clusters else (),
    )
    real_show = ImageView._show

    def show(self, key, strips):  # type: ignore[no-untyped-def]
        real_show(self, key, strips)
        if key is not None:
            record = {
                "t": time.perf_counter(),
                "composites": self.renderer.composites,
                "computed": self.computed,
                "from_cache": self.from_cache,
                "mode": self.options.mode,
                "side": self.options.side,
                "cluster": self.cluster,
            }
            with open(stats, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    ImageView._show = show  # type: ignore[method-assign]

    class Harness(App[None]):
        BINDINGS = (
            Binding("v", "view", "View", id="harness-view"),
            Binding("f5", "repaint", "Repaint", id="harness-repaint"),
            Binding("f6", "stats", "Stats", id="harness-stats"),
        )

        def compose(self):  # type: ignore[no-untyped-def]
            yield Static("press v to open the viewer")

        def action_view(self) -> None:
            self.push_screen(ViewerScreen(subject))

        def action_stats(self) -> None:
            for view in self.screen.query(ImageView):
                record = {"t": time.perf_counter(), "composites": view.renderer.composites}
                record.update(computed=view.computed, from_cache=view.from_cache)
                with open(stats, "a") as handle:
                    handle.write(json.dumps(record) + "\n")

        def action_repaint(self) -> None:
            # The same picture again: what a full repaint of the image costs on the wire.
            for view in self.screen.query(ImageView):
                view.refresh()

    Harness().run()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
