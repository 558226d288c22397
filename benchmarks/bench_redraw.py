"""Viewer redraw benchmark: `python benchmarks/bench_redraw.py` (about a minute).

Runs the diff viewer in a real pseudo-terminal of 160x44 cells on a generated 1280x720
screenshot pair (a page with real anti-aliased text, a recoloured button, an edited line and
a moved card) and counts the bytes the app writes, which is what travels over ssh:

  overlay repaint   the whole overlay picture drawn again (F5 in the harness), truecolor and
                    256 colours                       goal <= 80 KB truecolor, <= 60 KB 256
  blink flip        space in blink mode: bytes, key-to-last-byte time, and whether any
                    composite was computed            goal <= 80 KB, < 20 ms, none computed
  n jump            next cluster, centred at 1:1     goal < 50 ms
  open 4K           opening a 3840x2160 pair: until the fit view is on screen (drawn as soon as
                    the current image is decoded, titled "finding changes")  goal < 300 ms;
                    and until the picture with the changes marked is (no goal)

Times are from writing the key into the pty to the last byte read back (so they include
Textual's frame pacing and the pty), medians over repetitions. The anchor, measured in the
same run when textual-image is installed (`pip install 'vizzly-tui[graphics]'`): its
half-cell widget showing the same overlay picture at the same size, one repaint.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from tests.tui.viewer_pty import PtyViewer  # noqa: E402
from vizzly_tui.engine import compare_files  # noqa: E402

COLS, ROWS = 160, 44
F5 = b"\x1b[15~"
F6 = b"\x1b[17~"
WORDS = [
    "pricing",
    "plans",
    "for",
    "teams",
    "of",
    "every",
    "size",
    "with",
    "usage",
    "based",
    "billing",
    "and",
    "a",
    "free",
    "tier",
    "that",
    "includes",
    "visual",
    "review",
    "dashboards",
    "baselines",
    "approvals",
    "and",
    "history",
]


def page(width: int, height: int, *, changed: bool) -> Image.Image:
    """A UI-like page: header, paragraphs of anti-aliased text, buttons, cards."""
    scale = width / 1280
    image = Image.new("RGB", (width, height), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, round(15 * scale)))
    title = ImageFont.load_default(size=max(14, round(28 * scale)))
    draw.rectangle([0, 0, width, round(64 * scale)], fill=(24, 38, 74))
    draw.text((round(32 * scale), round(16 * scale)), "Acme Cloud", font=title, fill="white")
    for i, label in enumerate(("Docs", "Pricing", "Blog", "Sign in")):
        x = width - round((420 - i * 100) * scale)
        draw.text((x, round(24 * scale)), label, font=font, fill=(220, 225, 240))
    y = round(100 * scale)
    for paragraph in range(5):
        for line in range(6):
            start = (paragraph * 7 + line * 3) % len(WORDS)
            words = (WORDS[start:] + WORDS[:start])[: 9 + (line * 5 + paragraph) % 6]
            text = " ".join(words)
            if changed and paragraph == 2 and line == 3:
                text = text.replace("billing", "invoices")
            draw.text((round(40 * scale), y), text, font=font, fill=(40, 40, 48))
            y += round(22 * scale)
        y += round(14 * scale)
    colour = (46, 160, 67) if not changed else (215, 58, 73)
    bx, by = round(860 * scale), round(110 * scale)
    draw.rounded_rectangle(
        [bx, by, bx + round(220 * scale), by + round(48 * scale)], radius=8, fill=colour
    )
    draw.text((bx + round(60 * scale), by + round(14 * scale)), "Start trial", font=font)
    shift = round(12 * scale) if changed else 0
    for i in range(3):
        cy = round((220 + i * 150) * scale) + shift
        draw.rounded_rectangle(
            [round(860 * scale), cy, round(1220 * scale), cy + round(120 * scale)],
            radius=6,
            outline=(200, 200, 210),
            fill=(255, 255, 255),
        )
        draw.text(
            (round(880 * scale), cy + round(16 * scale)),
            f"Plan {i + 1}",
            font=title,
            fill=(30, 30, 30),
        )
    return image


def write_pair(folder: Path, width: int, height: int) -> tuple[Path, Path, Path]:
    baseline, current = folder / f"b{width}.png", folder / f"c{width}.png"
    page(width, height, changed=False).save(baseline)
    page(width, height, changed=True).save(current)
    result = compare_files(baseline, current)
    clusters = folder / f"clusters{width}.json"
    clusters.write_text(json.dumps([c.to_vizzly_dict() for c in result.diff_clusters]))
    return baseline, current, clusters


def open_viewer(folder: Path, pair: tuple[Path, Path, Path], colours: str, tag: str):
    baseline, current, clusters = pair
    app = PtyViewer(
        baseline,
        current,
        folder / f"stats-{tag}.jsonl",
        cols=COLS,
        rows=ROWS,
        colours=colours,
        clusters=clusters,
    )
    app.wait_for(b"press v")
    start = time.perf_counter()
    os.write(app.fd, b"v")
    # The first look (images before their masks, titled "finding changes") then the full
    # picture (titled "fit N%"): when each had arrived.
    seen, first_look, done = b"", None, None
    deadline = start + 30
    while time.perf_counter() < deadline:
        data, last = app.read_until_quiet(quiet=0.05)
        seen += data
        if first_look is None and b"finding changes" in seen:
            first_look = last - start
        if b"fit " in seen:
            done = last - start
            break
    if done is None:
        raise TimeoutError("the viewer never drew its fit view")
    return app, (first_look if first_look is not None else done), done


def repaint_bytes(app: PtyViewer, times: int = 5) -> int:
    sizes = [len(app.press(F5)[0]) for _ in range(times)]
    return int(statistics.median(sizes))


def measure(folder: Path, pair, colours: str) -> dict:
    app, _, _ = open_viewer(folder, pair, colours, colours)
    try:
        out: dict = {"overlay_repaint": repaint_bytes(app)}
        if colours != "truecolor":
            return out
        app.press(b"5", quiet=0.6)
        app.read_until_quiet(quiet=0.6)  # the other side is drawn ahead in the worker
        app.press(F6)
        before = app.shown()[-1]
        flips = [app.press(b" ") for _ in range(10)]
        app.press(F6)
        after = app.shown()[-1]
        out["flip_bytes"] = int(statistics.median(len(d) for d, _ in flips))
        out["flip_ms"] = statistics.median(t for _, t in flips) * 1000
        out["flip_composites"] = after["composites"] - before["composites"]
        out["flip_from_cache"] = after["from_cache"] - before["from_cache"]
        app.press(b"2", quiet=0.6)
        jumps = [app.press(b"n", quiet=0.4) for _ in range(6)]
        out["n_ms"] = statistics.median(t for _, t in jumps) * 1000
        out["n_first_ms"] = jumps[0][1] * 1000
        out["clusters"] = len(json.loads(pair[2].read_text()))
        return out
    finally:
        app.close()


def decode_floor(pair) -> tuple[float, float]:
    """Decoding the 4K current image alone (what the overlay's first picture waits for),
    and the pair on two threads (what the picture with the changes waits for)."""
    from vizzly_tui.engine.decode import decode_pair, decode_png

    one, two = [], []
    for _ in range(3):
        start = time.perf_counter()
        decode_png(pair[1].read_bytes())
        one.append(time.perf_counter() - start)
        start = time.perf_counter()
        decode_pair(pair[0].read_bytes(), pair[1].read_bytes())
        two.append(time.perf_counter() - start)
    return statistics.median(one) * 1000, statistics.median(two) * 1000


def open_4k(folder: Path, pair) -> tuple[float, float]:
    firsts, dones = [], []
    for attempt in range(3):
        app, first, done = open_viewer(folder, pair, "truecolor", f"4k{attempt}")
        app.close()
        firsts.append(first)
        dones.append(done)
    return statistics.median(firsts) * 1000, statistics.median(dones) * 1000


ANCHOR_CHILD = r"""
import sys
from PIL import Image
from textual_image.widget import HalfcellImage
from textual.app import App

class Anchor(App):
    BINDINGS = [("f5", "repaint", "Repaint")]
    CSS = "HalfcellImage { width: 100%; height: 100%; }"
    def compose(self):
        yield HalfcellImage(Image.open(sys.argv[1]))
    def action_repaint(self):
        self.query_one(HalfcellImage).refresh()

Anchor().run()
"""


def anchor(folder: Path, pair) -> int | None:
    try:
        import textual_image  # noqa: F401
    except ImportError:
        return None
    from vizzly_tui.picture import Options, fit, load_pair
    from vizzly_tui.picture.compose import compose

    baseline, current, clusters = pair
    loaded = load_pair(baseline, current, clusters=json.loads(clusters.read_text()))
    # The same overlay picture, at full resolution: textual-image scales it itself.
    view = fit(loaded.width, loaded.height, loaded.width, loaded.height)
    overlay = folder / "overlay.png"
    Image.fromarray(compose(loaded, view, Options(mode="overlay"))).save(overlay)
    script = folder / "anchor_child.py"
    script.write_text(ANCHOR_CHILD)
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
        os.execve(sys.executable, [sys.executable, str(script), str(overlay)], env)
    app = PtyViewer.__new__(PtyViewer)
    app.pid, app.fd, app.stats, app.exit_status = pid, fd, folder / "none", None
    try:
        app.read_until_quiet(quiet=1.0, timeout=30)
        return repaint_bytes(app)
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        hd = write_pair(folder, 1280, 720)
        uhd = write_pair(folder, 3840, 2160)
        true = measure(folder, hd, "truecolor")
        eight = measure(folder, hd, "256")
        first_ms, open_ms = open_4k(folder, uhd)
        floor_ms, pair_ms = decode_floor(uhd)
        anchor_bytes = anchor(folder, hd)

    kb = lambda n: f"{n / 1024:.1f} KB"  # noqa: E731
    print(f"viewer in a {COLS}x{ROWS} pty, 1280x720 pair ({true['clusters']} clusters)")
    rows = [
        (
            "overlay repaint, truecolor",
            kb(true["overlay_repaint"]),
            "<= 80 KB",
            true["overlay_repaint"] <= 80 * 1024,
        ),
        (
            "overlay repaint, 256 colours",
            kb(eight["overlay_repaint"]),
            "<= 60 KB",
            eight["overlay_repaint"] <= 60 * 1024,
        ),
        ("blink flip, bytes", kb(true["flip_bytes"]), "<= 80 KB", true["flip_bytes"] <= 80 * 1024),
        (
            "blink flip, key to last byte",
            f"{true['flip_ms']:.1f} ms",
            "< 20 ms",
            true["flip_ms"] < 20,
        ),
        (
            "blink flip, composites computed",
            f"{true['flip_composites']} (of 10 flips; {true['flip_from_cache']} from the cache)",
            "0",
            true["flip_composites"] == 0,
        ),
        (
            "n jump, key to last byte",
            f"{true['n_ms']:.1f} ms (first {true['n_first_ms']:.1f})",
            "< 50 ms",
            true["n_ms"] < 50,
        ),
        ("open 3840x2160, first picture", f"{first_ms:.0f} ms", "< 300 ms", first_ms < 300),
        ("open 3840x2160, with the changes", f"{open_ms:.0f} ms", "-", True),
    ]
    for label, value, goal, ok in rows:
        print(f"  {label:34} {value:34} goal {goal:9} {'ok' if ok else 'MISSED'}")
    print(
        f"  anchor: decoding the 4K current image alone (libspng) {floor_ms:.0f} ms, first "
        f"picture {first_ms / floor_ms:.1f}x that; the pair on two threads {pair_ms:.0f} ms, "
        f"picture with the changes {open_ms / pair_ms:.1f}x that"
    )
    if anchor_bytes is None:
        print("  anchor: textual-image not installed (pip install 'vizzly-tui[graphics]')")
    else:
        ratio = anchor_bytes / true["overlay_repaint"]
        print(
            f"  anchor: textual-image HalfcellImage, same picture and size, one repaint: "
            f"{kb(anchor_bytes)} ({ratio:.1f}x ours)"
        )


if __name__ == "__main__":
    main()
