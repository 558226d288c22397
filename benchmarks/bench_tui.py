"""The review app at 10,000 comparisons: `python benchmarks/bench_tui.py` (about a minute).

A project whose current build holds 10,000 comparisons (statuses mixed as in a real run,
1-3 browser variants per name, a small baseline/current PNG pair behind each) is opened
with `vizzly-tui review --filter all` in a real pseudo-terminal (120x36), and measured:

  first screen    process start to the list (its title, "all (10000)") and the detail of
                  the first row on screen; anchor: `python -c "import textual.app"`, the
                  import alone, in the same run;
  j -> repaint    p50/p95 of 60 presses: the key written to the terminal to the first byte
                  of the frame that moves the cursor (the app is idle before each press);
  commit -> seen  another process (this one) accepts a failed comparison; the time from
                  `accept` returning (committed) to the new count on screen; median of 5;
  burst           100 decisions committed one by one as fast as the writer goes; the time
                  from the last commit to the final count on screen, and how many times the
                  list was repainted meanwhile (coalesced, not 100);
  peak RSS        VmHWM of the app process at the end;
  serve ready     `vizzly-tui serve` launch to /health, next to `vizzly tdd start` (the
                  Vizzly CLI 0.29.6 from node_modules, after `npm ci`) from the same run.

Goals: first screen < 1.0 s, p95 j < 30 ms, commit -> seen < 500 ms, peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from PIL import Image  # noqa: E402

from tests.tui.app_pty import PtyApp, screen_text  # noqa: E402
from vizzly_tui.project import Project  # noqa: E402
from vizzly_tui.store.store import open_store  # noqa: E402

ROWS = 10_000
STATUSES = ["passed"] * 80 + ["failed"] * 10 + ["new"] * 6 + ["rejected"] * 2 + ["error"] * 2
BROWSERS = ("chrome", "firefox", "safari")
GOALS = {"first": 1000.0, "j95": 30.0, "seen": 500.0, "rss": 150.0}


def _png(colour: tuple[int, int, int], mark: bool) -> bytes:
    image = Image.new("RGB", (320, 180), colour)
    if mark:
        image.paste((220, 40, 40), (100, 60, 160, 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_project(root: Path, rows: int) -> tuple[Project, list[str]]:
    """The project, and the cids of its failed comparisons."""
    project = Project(root)
    (root / ".vizzly").mkdir(parents=True)
    project.ensure_dirs()
    base, changed = root / "_baseline.png", root / "_current.png"
    base.write_bytes(_png((245, 245, 245), False))
    changed.write_bytes(_png((245, 245, 245), True))
    rng = random.Random(8)
    records = []
    now = int(time.time() * 1000)
    index = 0
    while len(records) < rows:
        name = f"page-{index:05d}"
        index += 1
        for browser in BROWSERS[: rng.randint(1, 3)]:
            if len(records) == rows:
                break
            status = rng.choice(STATUSES)
            signature = f"{name}|1280|{browser}"
            file_name = f"{name}_{browser}.png"
            diff = round(rng.uniform(0.01, 30), 4) if status == "failed" else None
            records.append((name, signature, file_name, status, browser, diff))
            if len(records) % 20_000 == 1:
                # A file takes at most ~65,000 hard links (ext4): a fresh source per 20,000.
                k = len(records) // 20_000
                base, changed = root / f"_baseline{k}.png", root / f"_current{k}.png"
                base.write_bytes(_png((245, 245, 245), False))
                changed.write_bytes(_png((245, 245, 245), True))
            os.link(base, project.baselines_dir / file_name)
            os.link(changed if status != "passed" else base, project.current_dir / file_name)
    with open_store(project) as store:
        from vizzly_tui.store.models import Build, Comparison

        def command() -> list[str]:
            build = Build.create(kind="run", uid="bench-run", started_at=now, status="finished")
            failed = []
            batch = []
            for i, (name, signature, file_name, status, browser, diff) in enumerate(records):
                cid = f"{i:016x}"
                if status == "failed":
                    failed.append(cid)
                batch.append(
                    {
                        "build": build.id,
                        "cid": cid,
                        "name": name,
                        "signature": signature,
                        "file_name": file_name,
                        "status": status,
                        "initial_status": status,
                        "properties": json.dumps({"browser": browser, "viewport_width": 1280}),
                        "diff_percentage": diff,
                        "diff_count": int(diff * 576) if diff else None,
                        "total_pixels": 57600,
                        "timestamp": now,
                        "updated_at": now,
                    }
                )
            for start in range(0, len(batch), 500):
                Comparison.insert_many(batch[start : start + 500]).execute()
            return failed

        failed = store.call(command)
    return project, failed


def _ms(seconds: float) -> float:
    return seconds * 1000


def bench_app(project: Project, failed: list[str], presses: int) -> dict[str, float]:
    from vizzly_tui import review

    env = {"XDG_CONFIG_HOME": str(project.root / "_xdg"), "COLORTERM": "truecolor"}
    app = PtyApp(["--project", str(project.root), "review", "--filter", "all"], env=env)
    out: dict[str, float] = {}
    try:
        app.wait_for(f"all ({ROWS})")
        shown = app.wait_for("pixels")  # the detail of the first row
        out["first"] = _ms(shown - app.started)
        app.drain(quiet=0.5)

        times = []
        for _ in range(presses):
            pressed = time.perf_counter()
            offset = app.send("j")
            times.append(_ms(app.first_output_after(offset) - pressed))
            app.drain(quiet=0.15)
        out["j50"], out["j95"] = _percentiles(times)

        failed_count = len(failed)
        seen = []
        with open_store(project) as store:
            for cid in failed[:5]:
                offset = len(app.output)
                review.accept(store, [cid], actor="cli")
                committed = time.perf_counter()
                failed_count -= 1
                shown = app.wait_for(f"{failed_count} failed", since=offset)
                seen.append(_ms(shown - committed))
                app.drain(quiet=0.3)
            out["seen"] = statistics.median(seen)
            out["seen_max"] = max(seen)

            offset = len(app.output)
            for cid in failed[5:105]:
                review.reject(store, [cid], actor="cli")
            committed = time.perf_counter()
            shown = app.wait_for(f"{failed_count - 100} failed", since=offset, timeout=30)
            out["burst_seen"] = _ms(shown - committed)
            app.drain(quiet=0.5)
            # Each repaint of the list writes its counts line: how many the burst cost.
            counts = re.findall(r"\d+ failed \d+ new", screen_text(bytes(app.output[offset:])))
            out["burst_frames"] = float(len(counts))
        out["rss"] = app.peak_rss_mb()
    finally:
        app.quit()
    return out


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def import_anchor_ms(runs: int = 3) -> float:
    import subprocess

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        times.append(time.perf_counter() - t0)
    return _ms(statistics.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--no-serve", action="store_true", help="skip the serve/tdd anchor")
    args = parser.parse_args()
    globals()["ROWS"] = args.rows

    root = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    project, failed = make_project(root / "project", args.rows)
    anchor = import_anchor_ms()
    r = bench_app(project, failed, args.presses)

    print(f"review app, {args.rows} comparisons in the current build, 120x36 pty")
    print(f"  import textual.app (anchor)    {anchor:7.0f} ms")
    print(
        f"  start -> first full screen     {r['first']:7.0f} ms  ({r['first'] / anchor:.1f}x anchor)"
    )
    print(
        f"  j -> repaint p50 / p95         {r['j50']:7.1f} / {r['j95']:.1f} ms  ({args.presses} presses)"
    )
    print(
        f"  commit -> on screen            {r['seen']:7.0f} ms median, {r['seen_max']:.0f} ms max (5 accepts)"
    )
    print(
        f"  100 commits -> final count     {r['burst_seen']:7.0f} ms after the last, {r['burst_frames']:.0f} count updates seen on screen"
    )
    print(f"  peak RSS                       {r['rss']:7.1f} MB")
    ok = True
    for key, label, value in (
        ("first", "first screen < 1000 ms", r["first"]),
        ("j95", "p95 j < 30 ms", r["j95"]),
        ("seen", "commit -> screen < 500 ms", r["seen_max"]),
        ("rss", "peak RSS < 150 MB", r["rss"]),
    ):
        met = value < GOALS[key]
        ok &= met
        print(f"  goal: {label:<28} {'MET' if met else 'NOT MET'}")

    if not args.no_serve:
        from bench_startup import serve_ready_ms, upstream_ready_ms

        from tests.interop.harness import clean_env

        serve_project = root / "serve" / "project"
        (serve_project / ".vizzly").mkdir(parents=True)
        env = clean_env(root / "serve" / "home")
        env["PYTHONPATH"] = str(REPO_ROOT)
        ready = statistics.median(serve_ready_ms(serve_project, env, 5))
        upstream = upstream_ready_ms(root)
        print(f"  serve launch -> /health        {ready:7.0f} ms (median of 5)")
        if upstream is None:
            print("  vizzly tdd start -> /health    not measured (run `npm ci` first)")
        else:
            print(
                f"  vizzly tdd start -> /health    {upstream:7.0f} ms  (ours {ready / upstream:.2f}x)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
