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

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from vizzly_tui.engine import compare_files, wait_for_diff  # noqa: E402
from vizzly_tui.engine.decode import decode_pair  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_inputs import (  # noqa: E402
    MEMORY_DIR,
    MEMORY_SIDE,
    build_accuracy,
    build_memory_pair,
    build_pairs,
)

CACHE = REPO_ROOT / ".bench-cache"
NODE_MODULES = REPO_ROOT / "node_modules"
#: npm package names as installed by package.json (0.11.1 through an npm alias).
HONEYDIFFS = {"0.11.1": "honeydiff-0.11", "0.10.1": "@vizzly-testing/honeydiff"}
LIGHT_GOAL = 0.9
HEAVY_GOAL = 0.5
BYTE_IDENTICAL_GOAL_MS = 2.0
MEMORY_GOAL = 32.0

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
