"""The viewer in a real pseudo-terminal: what it writes is what a terminal (or ssh) gets."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from .viewer_pty import PtyViewer
from .viewerkit import make_subject

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def test_viewer_in_a_pty_draws_half_blocks_and_flips_from_the_cache(tmp_path: Path) -> None:
    subject = make_subject(tmp_path / "pair")
    clusters = tmp_path / "clusters.json"
    clusters.write_text(json.dumps(list(subject.clusters)))
    app = PtyViewer(
        subject.baseline_path,
        subject.current_path,
        tmp_path / "stats.jsonl",
        cols=100,
        rows=30,
        clusters=clusters,
    )
    try:
        app.wait_for(b"press v")
        opened = app.wait_for(b"fit 30%", seen=app.press(b"v", quiet=0.6)[0])
        # Half-blocks with 24-bit colours, and the change tint of the overlay.
        assert "▀".encode() in opened
        codes = SGR.findall(opened)
        assert any(b"255;32;65" in code for code in codes)
        # Run merging: far fewer colour changes than the 100x27 cells of the picture.
        assert len(codes) < 100 * 27 / 2
        assert len(opened) < 80_000

        assert b"blink: CURRENT" in app.wait_for(b"blink: CURRENT", seen=app.press(b"5")[0])
        before = app.shown()[-1]
        flip, _ = app.press(b" ")
        assert b"blink: BASELINE" in flip
        assert "▀".encode() in flip
        after = app.shown()[-1]
        # Shown straight from the strip cache: no worker drew it.
        assert after["side"] == "baseline"
        assert after["computed"] == before["computed"]
        assert after["from_cache"] == before["from_cache"] + 1
        back, _ = app.press(b" ")
        assert b"blink: CURRENT" in back
        assert app.shown()[-1]["composites"] == after["composites"]

        jump, _ = app.press(b"n")
        assert b"cluster 1/3" in jump
    finally:
        leaving = app.close()
    assert app.exit_status == 0
    assert b"\x1b[?1049l" in leaving  # the alternate screen is left: the terminal is restored
