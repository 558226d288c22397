"""Diff-engine benchmark: `python benchmarks/bench_engine.py` (a few minutes; --quick: ~1).

Generates UI-like screenshot pairs (text, cards, photo-like patches, so PNG decoding costs
what it costs on real screenshots) at 1280x720, 1920x1080 and 3840x2160:
  identical  same pixels, different bytes (the current one re-encoded at another zlib level)
  few        a handful of changed pixels (two small spots, 7 px) and a faint 6x4 patch
             below the ΔE threshold (candidates that are not changes)
  heavy      the same page in a dark theme (nearly every pixel changes)
plus a byte-identical 1080p pair.

Times, in the same run, medians over several repetitions, every one with a diff image asked for:
  ours           vizzly_tui.engine.compare_files(..., diff_path, background_diff=True): the
                 time until the verdict, which is what `serve` answers the SDK after; the diff
                 image is written next, on the engine's pool, overlapping the next repetition
                 as it overlaps the next screenshot (so its cost is in the figures)
  ours, on disk  the same call with the diff image written before it returns (the CLI)
  decode         both PNGs decoded by our decoder, two threads: the floor of any comparison
  honeydiff      @vizzly-testing/honeydiff 0.11.1 (the newest) and 0.10.1 (the one the Vizzly
                 CLI 0.29.6 pins), both from package-lock.json (`npm ci`), called as the Vizzly
                 CLI calls them (compare(baseline, current, {threshold: 2, antialiasing: true,
                 diffPath, overwrite: true, includeClusters: true, minClusterSize: 2})) in Node

Then the accuracy cases (the verdict of each engine on pairs with a known answer), and the
peak memory of one 7000x7000 comparison where every pixel changed, measured in a fresh
subprocess as the growth of its peak resident set (ru_maxrss) across the comparison, divided
by the pixel count: it counts everything the comparison holds at its peak, the PNG bytes
read from disk included.

Goals, checked and printed at the end:
  1. ours <= 0.9x honeydiff 0.11.1 on identical and few-pixel pairs, <= 0.5x on heavy pairs;
  2. a byte-identical 1080p pair in under 2 ms;
  3. peak memory of the 7000x7000 all-changed comparison <= 32 bytes per pixel.
Needs `npm ci` for the honeydiff columns (skipped, and said so, without node_modules).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from vizzly_tui.engine import compare_files, wait_for_diff  # noqa: E402
from vizzly_tui.engine.decode import decode_pair  # noqa: E402

CACHE = REPO_ROOT / ".bench-cache"
PAIRS_DIR = CACHE / "engine-pairs"
ACCURACY_DIR = CACHE / "engine-accuracy"
MEMORY_DIR = CACHE / "engine-memory"
NODE_MODULES = REPO_ROOT / "node_modules"
PAIRS_VERSION = "2"  # bump when the generator changes, to regenerate the cached PNGs
SIZES = ((1280, 720), (1920, 1080), (3840, 2160))
KINDS = ("identical", "few", "heavy")
#: npm package names as installed by package.json (0.11.1 through an npm alias).
HONEYDIFFS = {"0.11.1": "honeydiff-0.11", "0.10.1": "@vizzly-testing/honeydiff"}
LIGHT_GOAL = 0.9
HEAVY_GOAL = 0.5
BYTE_IDENTICAL_GOAL_MS = 2.0
MEMORY_SIDE = 7000
MEMORY_GOAL = 32.0

WORDS = [
    *("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed"),
    *("do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna"),
    *("aliqua", "checkout", "cart", "order", "shipping", "total", "account", "settings"),
]

NODE_SCRIPT = r"""
// A worker: one JSON request a line on stdin, one JSON answer a line on stdout, so the
// Python side can interleave honeydiff's runs with its own (fair under a changing load).
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
const require = createRequire(process.env.BENCH_NODE_MODULES + '/');
const engines = JSON.parse(process.env.BENCH_ENGINES);
const compares = {};
for (const [version, name] of Object.entries(engines)) {
  compares[version] = (await import(require.resolve(name))).compare;
}
const options = (diffPath) => ({ threshold: 2.0, antialiasing: true, diffPath,
  overwrite: true, includeClusters: true, minClusterSize: 2 });
for await (const line of createInterface({ input: process.stdin })) {
  const job = JSON.parse(line);
  const compare = compares[job.engine];
  const times = [];
  let result = null;
  for (let i = 0; i < job.reps; i++) {
    const t = performance.now();
    result = await compare(job.baseline, job.current, options(job.diff));
    times.push(performance.now() - t);
  }
  console.log(JSON.stringify({ times, isDifferent: result.isDifferent,
    diffPixels: result.diffPixels }));
}
"""


# --------------------------------------------------------------------------- pair generation
def render_page(width: int, height: int, *, dark: bool, seed: int = 7) -> Image.Image:
    """A UI-like page: header, sidebar menu, cards of text, photo-like patches, buttons."""
    rng = np.random.default_rng(seed)
    scale = width / 1280
    bg, panel, fg, border = (
        ((24, 26, 32), (36, 39, 48), (220, 222, 228), (60, 64, 76))
        if dark
        else ((248, 249, 251), (255, 255, 255), (30, 34, 40), (220, 224, 230))
    )
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, round(14 * scale)))
    title = ImageFont.load_default(size=max(14, round(24 * scale)))

    def s(v: float) -> int:
        return round(v * scale)

    draw.rectangle([0, 0, width, s(56)], fill=(40, 70, 160) if not dark else (30, 40, 90))
    draw.text((s(24), s(14)), "Storefront dashboard", font=title, fill=(255, 255, 255))
    draw.rectangle([0, s(56), s(220), height], fill=panel)
    for i in range(max(1, (height - s(80)) // s(36))):
        draw.text((s(20), s(76 + 36 * i)), f"Menu item {i + 1}", font=font, fill=fg)
    # A photo-like hero strip: smooth gradient with sensor noise (costly to compress/decode).
    hero_h = s(140)
    gy, gx = np.mgrid[0:hero_h, 0 : width - s(244)]
    hero = np.stack(
        [120 + 80 * np.sin(gx / (90 * scale)), 110 + 60 * np.cos(gy / (40 * scale)), 150 + 0 * gx],
        axis=-1,
    )
    hero = np.clip(hero + rng.normal(0, 9, hero.shape), 0, 255).astype(np.uint8)
    image.paste(Image.fromarray(hero), (s(232), s(68)))
    y = s(68) + hero_h + s(16)
    while y < height - s(210):
        x = s(244)
        while x < width - s(310):
            draw.rounded_rectangle([x, y, x + s(300), y + s(200)], s(8), fill=panel, outline=border)
            words = rng.choice(WORDS, 3)
            draw.text((x + s(16), y + s(12)), " ".join(words).title(), font=title, fill=fg)
            for line in range(5):
                text = " ".join(rng.choice(WORDS, 5))
                draw.text((x + s(16), y + s(52 + 22 * line)), text, font=font, fill=fg)
            avatar = rng.integers(0, 255, (s(40), s(40), 3), dtype=np.uint8)
            image.paste(Image.fromarray(avatar), (x + s(240), y + s(12)))
            button = [x + s(16), y + s(156), x + s(136), y + s(188)]
            draw.rounded_rectangle(button, s(6), fill=(60, 110, 230))
            draw.text((x + s(30), y + s(162)), "Open", font=font, fill=(255, 255, 255))
            x += s(324)
        y += s(224)
    return image


def _png(image: Image.Image, level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=level)
    return buffer.getvalue()


def few_pixel_change(image: Image.Image) -> Image.Image:
    """Two small spots (7 px) and a faint patch below ΔE 2, far apart."""
    pixels = np.array(image)
    height, width = pixels.shape[:2]
    pixels[height // 3 : height // 3 + 2, width // 2 : width // 2 + 2] = (230, 30, 30)
    pixels[height - 40, 300:303] = (10, 200, 40)
    pixels[height // 2 : height // 2 + 6, width - 400 : width - 396] = (250, 250, 250)
    return Image.fromarray(pixels)


def build_pairs() -> dict[str, tuple[Path, Path]]:
    """Write (or reuse) the PNG pairs; returns name -> (baseline, current)."""
    stamp = PAIRS_DIR / f"version-{PAIRS_VERSION}"
    if not stamp.exists():
        shutil.rmtree(PAIRS_DIR, ignore_errors=True)
        PAIRS_DIR.mkdir(parents=True)
        for width, height in SIZES:
            print(f"  generating {width}x{height} pairs...", flush=True)
            page = render_page(width, height, dark=False)
            base = _png(page, 6)
            tag = f"{width}x{height}"
            (PAIRS_DIR / f"{tag}-baseline.png").write_bytes(base)
            # Same pixels, different bytes: no byte-level shortcut applies.
            (PAIRS_DIR / f"{tag}-identical.png").write_bytes(_png(page, 3))
            (PAIRS_DIR / f"{tag}-few.png").write_bytes(_png(few_pixel_change(page), 6))
            (PAIRS_DIR / f"{tag}-heavy.png").write_bytes(
                _png(render_page(width, height, dark=True), 6)
            )
        shutil.copyfile(PAIRS_DIR / "1920x1080-baseline.png", PAIRS_DIR / "1920x1080-copy.png")
        stamp.write_text("ok\n")
    pairs = {}
    for width, height in SIZES:
        tag = f"{width}x{height}"
        for kind in KINDS:
            pairs[f"{tag} {kind}"] = (
                PAIRS_DIR / f"{tag}-baseline.png",
                PAIRS_DIR / f"{tag}-{kind}.png",
            )
    pairs["1920x1080 byte-identical"] = (
        PAIRS_DIR / "1920x1080-baseline.png",
        PAIRS_DIR / "1920x1080-copy.png",
    )
    return pairs


# --------------------------------------------------------------------------- accuracy pairs
def build_accuracy() -> dict[str, tuple[Path, Path, bool]]:
    """Pairs with a known answer: name -> (baseline, current, should it be different)."""
    from tests.engine.helpers import colour_at_distance, flat, text_image

    sentence = "The quick brown fox jumps over the lazy dog 0123"
    background = (70, 110, 160)
    recoloured, _ = colour_at_distance(background, 8.0, 12.0)
    grey = (120, 130, 140)
    under, _ = colour_at_distance(grey, 1.80, 1.95)
    over, _ = colour_at_distance(grey, 2.05, 2.25)
    block = flat(640, 360)
    block[100:200, 150:350] = (255, 0, 0, 255)
    recolour = flat(400, 300, background)
    recolour[50:150, 100:300, :3] = recoloured
    cases = {
        "200x100 red block on white": (flat(640, 360), block, True),
        "block recoloured, ΔE ~10": (flat(400, 300, background), recolour, True),
        "page recoloured, ΔE 2.05-2.25": (flat(300, 200, grey), flat(300, 200, over), True),
        "page shifted by ΔE 1.80-1.95": (flat(300, 200, grey), flat(300, 200, under), False),
        "text moved 1/4 px right": (
            text_image(sentence),
            text_image(sentence, offset_quarter_px=1),
            False,
        ),
        "changed word (fox -> cat)": (text_image("brown fox"), text_image("brown cat"), True),
    }
    ACCURACY_DIR.mkdir(parents=True, exist_ok=True)
    pairs = {}
    for index, (name, (first, second, expected)) in enumerate(cases.items()):
        base = ACCURACY_DIR / f"{index}-baseline.png"
        cur = ACCURACY_DIR / f"{index}-current.png"
        base.write_bytes(_png(Image.fromarray(first), 6))
        cur.write_bytes(_png(Image.fromarray(second), 6))
        pairs[name] = (base, cur, expected)
    return pairs


# --------------------------------------------------------------------------- memory
MEMORY_CHILD = r"""
import resource, sys
sys.path.insert(0, sys.argv[1])
from vizzly_tui.engine import compare_files

def status(field):
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024

# Warm up on a small pair: libraries loaded and first-call buffers made before measuring.
compare_files(sys.argv[4], sys.argv[5], diff_path=sys.argv[6])
try:
    # Linux: reset the peak (VmHWM) to the current resident set, so the peak after the
    # comparison minus the resident set before it is what the comparison added.
    with open('/proc/self/clear_refs', 'w') as handle:
        handle.write('5')
    before, how = status('VmRSS'), 'VmHWM'
except OSError:
    # Elsewhere ru_maxrss, in kilobytes on Linux (bytes on macOS: the figure is then 1024x).
    before, how = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'ru_maxrss'
result = compare_files(sys.argv[2], sys.argv[3], diff_path=sys.argv[6])
after = status('VmHWM') if how == 'VmHWM' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(before, after, result.total_pixels, result.diff_pixels, how)
"""


def build_memory_pair() -> tuple[Path, Path]:
    """A 7000x7000 gradient with noise, and its negative: every pixel changes."""
    base, cur = MEMORY_DIR / "baseline.png", MEMORY_DIR / "current.png"
    if not (base.exists() and cur.exists()):
        print(f"  generating the {MEMORY_SIDE}x{MEMORY_SIDE} memory pair...", flush=True)
        MEMORY_DIR.mkdir(parents=True, exist_ok=True)
        n = MEMORY_SIDE
        rng = np.random.default_rng(3)
        gy, gx = np.mgrid[0:n, 0:n].astype(np.float32)
        pixels = np.stack([gx * (255 / n), gy * (255 / n), (gx + gy) * (127 / n)], axis=-1)
        del gx, gy
        pixels += rng.normal(0, 6, (n, n, 1)).astype(np.float32)
        image = np.clip(pixels, 0, 255).astype(np.uint8)
        del pixels
        Image.fromarray(image).save(base.with_suffix(".tmp"), "PNG", compress_level=1)
        Image.fromarray(255 - image).save(cur.with_suffix(".tmp"), "PNG", compress_level=1)
        base.with_suffix(".tmp").rename(base)
        cur.with_suffix(".tmp").rename(cur)
    return base, cur


def measure_memory(small: tuple[Path, Path]) -> dict[str, Any] | None:
    base, cur = build_memory_pair()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY_CHILD,
            str(REPO_ROOT),
            str(base),
            str(cur),
            str(small[0]),
            str(small[1]),
            str(MEMORY_DIR / "diff.png"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        print(f"  memory measurement failed:\n{proc.stderr.strip()[-2000:]}")
        return None
    *numbers, how = proc.stdout.split()
    before, after, total, changed = (int(v) for v in numbers)
    return {
        "how": how,
        "bytes_per_pixel": (after - before) / total,
        "peak_mb": after / 2**20,
        "total": total,
        "changed": changed,
        "png_bytes_per_pixel": (base.stat().st_size + cur.stat().st_size) / total,
    }


# --------------------------------------------------------------------------- timing helpers
def decode_floor(baseline: Path, current: Path) -> None:
    decode_pair(baseline.read_bytes(), current.read_bytes())


def node_ready() -> bool:
    missing = [n for n in HONEYDIFFS.values() if not (NODE_MODULES / n / "package.json").exists()]
    if not shutil.which("node"):
        print("  node not found: honeydiff columns skipped")
        return False
    if missing:
        print(f"  {', '.join(missing)} not installed (run `npm ci`): honeydiff columns skipped")
        return False
    return True


class Honeydiff:
    """honeydiff 0.11.1 and 0.10.1 in one Node process, driven one request at a time."""

    def __init__(self) -> None:
        out_dir = CACHE / "engine-out"
        out_dir.mkdir(parents=True, exist_ok=True)
        script = out_dir / "bench.mjs"
        script.write_text(NODE_SCRIPT)
        env = {
            **os.environ,
            "BENCH_NODE_MODULES": str(NODE_MODULES),
            "BENCH_ENGINES": json.dumps(HONEYDIFFS),
        }
        self.diff = out_dir / "honeydiff-diff.png"
        self.proc = subprocess.Popen(
            ["node", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, version: str, baseline: Path, current: Path, reps: int) -> dict[str, Any]:
        """Times (ms) of `reps` compare() calls, and the last call's verdict."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job = {"engine": version, "baseline": str(baseline), "current": str(current)}
        job.update(diff=str(self.diff), reps=reps)
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the Node worker stopped (see its error output above)")
        return json.loads(line)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def timed_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure_pair(
    base: Path,
    cur: Path,
    diff: Path,
    node: Honeydiff | None,
    rounds: int,
    old_reps: int,
    budget_s: float,
) -> dict[str, float | None]:
    """Rounds of: 3 of ours (answer first, diff after), then 3 of honeydiff 0.11.1, then one
    of ours with the diff on disk and one decode floor. Interleaving keeps the ratios fair
    while other work on the machine comes and goes."""
    ours: list[float] = []
    new: list[float] = []
    on_disk: list[float] = []
    floor: list[float] = []
    compare_files(base, cur, diff_path=diff)  # warm-up
    if node is not None:
        node.run("0.11.1", base, cur, 1)
    started = time.perf_counter()
    for _ in range(rounds):
        for _ in range(3):
            # Back to back: each call's diff image is written while the next one decodes,
            # as when an SDK sends screenshots one after another.
            ours.append(
                timed_ms(lambda: compare_files(base, cur, diff_path=diff, background_diff=True))
            )
        wait_for_diff(diff)  # not timed: nothing of ours runs during honeydiff's turn
        if node is not None:
            new.extend(node.run("0.11.1", base, cur, 3)["times"])
        on_disk.append(timed_ms(lambda: compare_files(base, cur, diff_path=diff)))
        floor.append(timed_ms(lambda: decode_floor(base, cur)))
        if time.perf_counter() - started > budget_s:
            break
    old = statistics.median(node.run("0.10.1", base, cur, old_reps)["times"]) if node else None
    return {
        "ours": statistics.median(ours),
        "on_disk": statistics.median(on_disk),
        "decode": statistics.median(floor),
        "0.11.1": statistics.median(new) if new else None,
        "0.10.1": old,
        "samples": float(len(ours)),
    }


# --------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 720p/1080p")
    parser.add_argument("--no-js", action="store_true", help="skip honeydiff")
    parser.add_argument("--no-memory", action="store_true", help="skip the 7000x7000 pair")
    args = parser.parse_args()
    rounds, old_reps, budget = (2, 1, 10.0) if args.quick else (5, 3, 30.0)

    print("Diff engine benchmark")
    pairs = build_pairs()
    if args.quick:
        pairs = {k: v for k, v in pairs.items() if not k.startswith("3840")}
    accuracy = build_accuracy()
    out_dir = CACHE / "engine-out"
    out_dir.mkdir(parents=True, exist_ok=True)

    node = Honeydiff() if not args.no_js and node_ready() else None
    rows: dict[str, dict[str, float | None]] = {}
    for name, (base, cur) in pairs.items():
        diff = out_dir / f"ours-{name.replace(' ', '-')}.png"
        result = compare_files(base, cur, diff_path=diff)
        row = measure_pair(base, cur, diff, node, rounds, old_reps, budget)
        row["diff_px"] = float(result.diff_pixels)
        rows[name] = row
        print(
            f"  {name:26s} ours {row['ours']:8.1f} ms   diff on disk {row['on_disk']:8.1f} ms"
            f"   decode {row['decode']:8.1f} ms   honeydiff 0.11.1 {_fmt(row['0.11.1']):>8s} ms"
            f"   0.10.1 {_fmt(row['0.10.1']):>8s} ms",
            flush=True,
        )

    ours_accuracy = {
        name: compare_files(base, cur, diff_path=out_dir / "ours-accuracy.png")
        for name, (base, cur, _) in accuracy.items()
    }
    theirs_accuracy: dict[str, dict[str, Any]] = {}
    if node is not None:
        for name, (base, cur, _) in accuracy.items():
            theirs_accuracy[name] = {v: node.run(v, base, cur, 1) for v in HONEYDIFFS}
        node.close()

    memory = None
    if not args.no_memory:
        print("  measuring peak memory in a subprocess...", flush=True)
        small = pairs["1280x720 heavy"]
        memory = measure_memory(small)

    print()
    print(_machine(js_ran=node is not None))
    goals: list[tuple[str, bool]] = []
    _timing_table(rows, goals)
    print()
    _accuracy_table(accuracy, ours_accuracy, theirs_accuracy)
    if memory is not None:
        bpp = memory["bytes_per_pixel"]
        print()
        print(
            f"Peak memory, {MEMORY_SIDE}x{MEMORY_SIDE} pair with every pixel changed "
            f"({int(memory['changed']):,} changed px, diff image written): "
            f"{bpp:.1f} bytes per pixel above the process's resident set before the "
            f"comparison (peak {memory['peak_mb']:.0f} MB, by {memory['how']}; the two PNG "
            f"files alone are {memory['png_bytes_per_pixel']:.1f} bytes per pixel)"
        )
        goals.append((f"peak memory <= {MEMORY_GOAL:g} bytes per pixel", bpp <= MEMORY_GOAL))
    print()
    print("Goals:")
    for label, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {label}")
    if node is None:
        print("  (honeydiff goals not checked: the JavaScript side did not run)")
    return 0 if all(met for _, met in goals) else 1


def _timing_table(rows: dict[str, dict[str, float | None]], goals: list[tuple[str, bool]]) -> None:
    print(
        "| pair | changed px | ours ms | ours, diff on disk ms | decode ms "
        "| honeydiff 0.11.1 ms | honeydiff 0.10.1 ms | ours/0.11.1 | ours/0.10.1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        ours = row["ours"]
        assert ours is not None
        new, old = row["0.11.1"], row["0.10.1"]
        print(
            f"| {name} | {int(row['diff_px'] or 0):,} | {ours:.1f} | {row['on_disk']:.1f} "
            f"| {row['decode']:.1f} | {_fmt(new)} | {_fmt(old)} "
            f"| {_ratio(ours, new)} | {_ratio(ours, old)} |"
        )
        if "byte-identical" in name:
            goals.append(
                (f"{name}: under {BYTE_IDENTICAL_GOAL_MS:g} ms", ours < BYTE_IDENTICAL_GOAL_MS)
            )
        elif new:
            goal = HEAVY_GOAL if name.endswith("heavy") else LIGHT_GOAL
            ratio = ours / new
            goals.append(
                (f"{name}: {ratio:.2f}x honeydiff 0.11.1 (goal <= {goal:g}x)", ratio <= goal)
            )


def _accuracy_table(
    accuracy: dict[str, tuple[Path, Path, bool]],
    ours: dict[str, Any],
    theirs_by_name: dict[str, dict[str, Any]],
) -> None:
    print("Accuracy (threshold 2, anti-aliasing on; different? and changed pixels):")
    print("| pair | expected | vizzly-tui | honeydiff 0.11.1 | honeydiff 0.10.1 |")
    print("|---|---|---|---|---|")
    for name, (_, _, expected) in accuracy.items():
        mine = ours[name]
        theirs = theirs_by_name.get(name, {})
        cells = [_verdict(mine.is_different, mine.diff_pixels, expected)]
        for version in ("0.11.1", "0.10.1"):
            answer = theirs.get(version)
            cells.append(
                _verdict(answer["isDifferent"], answer["diffPixels"], expected) if answer else "n/a"
            )
        print(f"| {name} | {'different' if expected else 'same'} | {' | '.join(cells)} |")


def _verdict(different: bool, pixels: int, expected: bool) -> str:
    word = "different" if different else "same"
    mark = "" if different == expected else " (wrong)"
    return f"{word}, {pixels:,} px{mark}"


def _machine(*, js_ran: bool) -> str:
    import platform

    import PIL
    import pyspng
    import scipy

    parts = [
        f"{os.cpu_count()} CPUs",
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"scipy {scipy.__version__}",
        f"Pillow {PIL.__version__}",
        f"pyspng {getattr(pyspng, '__version__', '0.1.x')}",
    ]
    if js_ran:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
        parts.append(f"Node {node.strip()}")
    return "Machine: " + ", ".join(parts) + "; medians; changed px = our diff pixels"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _ratio(ours: float, theirs: float | None) -> str:
    return "n/a" if not theirs else f"{ours / theirs:.3f}x"


if __name__ == "__main__":
    sys.exit(main())
