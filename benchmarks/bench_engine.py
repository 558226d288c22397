"""Diff-engine benchmark: `python benchmarks/bench_engine.py` (a few minutes; --quick: ~1).

Generates UI-like screenshot pairs (text, cards, photo-like patches, so PNG decoding costs
what it costs on real screenshots) at 1280x720, 1920x1080 and 3840x2160:
  identical  same pixels, different bytes (the current one re-encoded at another zlib level)
  few        a handful of changed pixels (two small spots, 7 px) and a faint 6x4 patch
             below the ΔE threshold (candidates that are not changes)
  heavy      the same page in a dark theme (nearly every pixel changes)
plus a byte-identical 1080p pair.

Times, in the same run, medians over several repetitions:
  ours       vizzly_tui.engine.compare_files with a diff image, clusters on
  honeydiff  @vizzly-testing/honeydiff 0.10.1, called exactly as the Vizzly CLI calls it
             (compare(baseline, current, {threshold, antialiasing: true, diffPath,
             overwrite: true, includeClusters: true, minClusterSize})), in-process in Node
  pixelmatch pixelmatch + pngjs decode of both files (no diff image)
  pillow     Pillow decoding both PNGs (Image.open().convert("RGBA")), the floor

Node packages are installed with npm into .bench-cache/node (gitignored) when missing; without
npm or network the JavaScript columns are skipped. Goals, checked and printed at the end:
  1. ours at least 10x faster than honeydiff on every pair;
  2. ours within 1.5x of the Pillow decode floor on identical and few-pixel pairs;
  3. a byte-identical 1080p pair in under 2 ms.
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

from vizzly_tui.engine import compare_files  # noqa: E402

CACHE = REPO_ROOT / ".bench-cache"
PAIRS_DIR = CACHE / "engine-pairs"
NODE_DIR = CACHE / "node"
PAIRS_VERSION = "2"  # bump when the generator changes, to regenerate the cached PNGs
SIZES = ((1280, 720), (1920, 1080), (3840, 2160))
KINDS = ("identical", "few", "heavy")
HONEYDIFF = "@vizzly-testing/honeydiff@0.10.1"
NPM_PACKAGES = (HONEYDIFF, "pixelmatch@8", "pngjs@7")
SPEEDUP_GOAL = 10.0
FLOOR_GOAL = 1.5
BYTE_IDENTICAL_GOAL_MS = 2.0

WORDS = [
    *("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed"),
    *("do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna"),
    *("aliqua", "checkout", "cart", "order", "shipping", "total", "account", "settings"),
]

NODE_SCRIPT = r"""
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.env.BENCH_NODE_DIR + '/package.json');
const { compare } = await import(require.resolve('@vizzly-testing/honeydiff'));
const pixelmatch = (await import(require.resolve('pixelmatch'))).default;
const { PNG } = require('pngjs');
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
async function timed(fn, reps, budgetMs) {
  const times = [];
  const start = performance.now();
  while (times.length < reps && (times.length === 0 || performance.now() - start < budgetMs)) {
    const t = performance.now(); await fn(); times.push(performance.now() - t);
  }
  return { median: median(times), runs: times.length };
}
// Warm up both libraries (module loading, first-call costs) on the smallest pair.
const w = job.pairs[0];
await compare(w.baseline, w.current, { threshold: 2, antialiasing: true, diffPath: w.hdDiff,
  overwrite: true, includeClusters: true, minClusterSize: 2 });
const out = {};
for (const p of job.pairs) {
  const hd = await timed(() => compare(p.baseline, p.current, { threshold: 2.0,
    antialiasing: true, diffPath: p.hdDiff, overwrite: true, includeClusters: true,
    minClusterSize: 2 }), job.reps, job.budgetMs);
  const pm = await timed(() => {
    const a = PNG.sync.read(readFileSync(p.baseline));
    const b = PNG.sync.read(readFileSync(p.current));
    return pixelmatch(a.data, b.data, null, a.width, a.height, { threshold: 0.1 });
  }, job.reps, job.budgetMs);
  out[p.name] = { honeydiff: hd, pixelmatch: pm };
}
console.log(JSON.stringify(out));
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


# --------------------------------------------------------------------------- timing helpers
def median_ms(fn: Callable[[], Any], reps: int, budget_s: float) -> float:
    fn()  # warm-up: first-call costs (page faults of fresh buffers, lazy imports)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < reps and (not times or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def pillow_floor(baseline: Path, current: Path) -> None:
    for path in (baseline, current):
        with Image.open(path) as image:
            image.convert("RGBA")


def ensure_node_packages() -> bool:
    """Install honeydiff, pixelmatch and pngjs into .bench-cache/node unless present."""
    wanted = ["@vizzly-testing/honeydiff", "pixelmatch", "pngjs"]
    if all((NODE_DIR / "node_modules" / name / "package.json").exists() for name in wanted):
        return True
    if not shutil.which("npm") or not shutil.which("node"):
        print("  npm/node not found: honeydiff and pixelmatch columns skipped")
        return False
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    package_json = NODE_DIR / "package.json"
    if not package_json.exists():
        package_json.write_text(json.dumps({"name": "bench-engine", "private": True}) + "\n")
    print(f"  npm install {' '.join(NPM_PACKAGES)} (once, into {NODE_DIR})...", flush=True)
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *NPM_PACKAGES],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        print(f"  npm install failed, JS columns skipped:\n{proc.stderr.strip()[-2000:]}")
        return False
    return True


def run_node(pairs: dict[str, tuple[Path, Path]], reps: int, budget_s: float) -> dict[str, Any]:
    script = NODE_DIR / "bench.mjs"
    script.write_text(NODE_SCRIPT)
    out_dir = CACHE / "engine-out"
    out_dir.mkdir(parents=True, exist_ok=True)
    job = {
        "reps": reps,
        "budgetMs": budget_s * 1000,
        "pairs": [
            {
                "name": name,
                "baseline": str(base),
                "current": str(cur),
                "hdDiff": str(out_dir / f"honeydiff-{name.replace(' ', '-')}.png"),
            }
            for name, (base, cur) in pairs.items()
        ],
    }
    job_path = out_dir / "job.json"
    job_path.write_text(json.dumps(job))
    env = {**os.environ, "BENCH_NODE_DIR": str(NODE_DIR)}
    proc = subprocess.run(
        ["node", str(script), str(job_path)], capture_output=True, text=True, env=env, timeout=1800
    )
    if proc.returncode != 0:
        print(f"  node benchmark failed, JS columns skipped:\n{proc.stderr.strip()[-2000:]}")
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 720p/1080p")
    parser.add_argument("--no-js", action="store_true", help="skip honeydiff and pixelmatch")
    args = parser.parse_args()
    reps, js_reps, budget = (5, 2, 4.0) if args.quick else (15, 5, 10.0)

    print("Diff engine benchmark")
    pairs = build_pairs()
    if args.quick:
        pairs = {k: v for k, v in pairs.items() if not k.startswith("3840")}
    out_dir = CACHE / "engine-out"
    out_dir.mkdir(parents=True, exist_ok=True)

    rows: dict[str, dict[str, float | None]] = {}
    for name, (base, cur) in pairs.items():
        diff = out_dir / f"ours-{name.replace(' ', '-')}.png"
        result = compare_files(base, cur, diff_path=diff)
        row: dict[str, float | None] = {
            "ours": median_ms(
                lambda b=base, c=cur, d=diff: compare_files(b, c, diff_path=d), reps, budget
            ),
            "pillow": median_ms(lambda b=base, c=cur: pillow_floor(b, c), reps, budget),
            "diff_px": float(result.diff_pixels),
        }
        rows[name] = row
        print(
            f"  {name:26s} ours {row['ours']:8.1f} ms   pillow {row['pillow']:8.1f} ms", flush=True
        )

    js: dict[str, Any] = {}
    if not args.no_js and ensure_node_packages():
        print("  timing honeydiff and pixelmatch in Node (honeydiff is slow at 4K)...", flush=True)
        js = run_node(pairs, js_reps, budget)
    for name, row in rows.items():
        row["honeydiff"] = js.get(name, {}).get("honeydiff", {}).get("median")
        row["pixelmatch"] = js.get(name, {}).get("pixelmatch", {}).get("median")

    print()
    print(_machine(js_ran=bool(js)))
    header = (
        f"| {'pair':26s} | {'changed px':>10s} | {'ours ms':>8s} | {'honeydiff ms':>12s} "
        f"| {'pixelmatch ms':>13s} | {'pillow ms':>9s} | {'honeydiff/ours':>14s} "
        f"| {'ours/pillow':>11s} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    goals: list[tuple[str, bool]] = []
    for name, row in rows.items():
        ours, pillow, hd, pm = row["ours"], row["pillow"], row["honeydiff"], row["pixelmatch"]
        assert ours is not None and pillow is not None
        speedup = hd / ours if hd else None
        floor_ratio = ours / pillow
        print(
            f"| {name:26s} | {int(row['diff_px'] or 0):10,d} | {ours:8.1f} | {_fmt(hd, 12)} "
            f"| {_fmt(pm, 13)} | {pillow:9.1f} | {_fmt(speedup, 13, 'x')} | {floor_ratio:10.2f}x |"
        )
        if speedup is not None:
            goals.append(
                (f"{name}: >= {SPEEDUP_GOAL:g}x faster than honeydiff", speedup >= SPEEDUP_GOAL)
            )
        if name.endswith(("identical", "few")) and "byte" not in name:
            goals.append(
                (f"{name}: within {FLOOR_GOAL}x of the Pillow floor", floor_ratio <= FLOOR_GOAL)
            )
        if "byte-identical" in name:
            goals.append(
                (f"{name}: under {BYTE_IDENTICAL_GOAL_MS:g} ms", ours < BYTE_IDENTICAL_GOAL_MS)
            )
    print()
    print("Goals:")
    for label, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {label}")
    if not js:
        print("  (honeydiff goals not checked: the JavaScript side did not run)")
    return 0 if all(met for _, met in goals) else 1


def _machine(*, js_ran: bool) -> str:
    import platform

    import PIL
    import scipy

    parts = [
        f"{os.cpu_count()} CPUs",
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"scipy {scipy.__version__}",
        f"Pillow {PIL.__version__}",
    ]
    if js_ran:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
        parts += [f"Node {node.strip()}", HONEYDIFF.rsplit("/", 1)[-1]]
    return "Machine: " + ", ".join(parts) + "; medians; changed px = our diff pixels"


def _fmt(value: float | None, width: int, suffix: str = "") -> str:
    if value is None:
        return f"{'n/a':>{width}s}" if not suffix else f"{'n/a':>{width + 1}s}"
    return f"{value:{width}.1f}{suffix}"


if __name__ == "__main__":
    sys.exit(main())
