"""State-store benchmarks: `python benchmarks/bench_store.py` (about 20-40 s).

1. Legacy import: a synthetic Vizzly CLI project with 10,000 comparisons (a quarter failed,
   with details) and 10,000 local baselines is bootstrapped by `ensure_schema` (migration 001
   + import). Goal: < 1 s. Anchor measured in the same run (the floor no importer can beat):
   json.load of the legacy files + one sqlite3 executemany of as many rows into a bare table.
2. Page query: a filtered, sorted page of 100 of 100,000 comparisons through
   `store.queries.list_comparisons`. Goal: < 5 ms. Anchor: the same SQL on raw sqlite3.

Every figure is a median; the import runs on a fresh copy of the project each time.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import sqlite3
import statistics
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from vizzly_tui import identity  # noqa: E402
from vizzly_tui.project import Project  # noqa: E402
from vizzly_tui.store.bootstrap import ensure_schema  # noqa: E402

IMPORT_COMPARISONS = 10_000
IMPORT_GOAL_S = 1.0
IMPORT_RUNS = 3
PAGE_COMPARISONS = 100_000
PAGE_GOAL_MS = 5.0
PAGE_RUNS = 50
TS = 1_795_682_600_000


LAST_MIN: list[float] = [0.0]  # the fastest run of the last median_time() call


def median_time(fn: Callable[..., Any], runs: int, setup: Callable[[], Any] | None = None) -> float:
    """Median wall time of fn() in seconds; setup() (untimed) runs before each call and its
    result is passed to fn."""
    times = []
    for _ in range(runs):
        arg = setup() if setup else None
        start = time.perf_counter()
        fn(arg) if setup else fn()
        times.append(time.perf_counter() - start)
    LAST_MIN[0] = min(times)
    return statistics.median(times)


def tiny_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG (IHDR, IDAT, IEND), so width/height/sha256 are really read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    body = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _properties(width: int, browser: str) -> dict[str, Any]:
    base = {"browser": browser, "viewport": {"width": width, "height": 720}}
    return {**base, "viewport_width": width, "viewport_height": 720, "metadata": dict(base)}


def make_legacy_project(root: Path, count: int) -> dict[str, int]:
    """Write report-data.json, comparison-details.json, baselines/metadata.json and PNGs."""
    vizzly = root / ".vizzly"
    (vizzly / "baselines").mkdir(parents=True)
    png = tiny_png(4, 4)
    comparisons, details, screenshots = [], {}, []
    for i in range(count):
        name = f"page-{i:05d}"
        props = _properties(1280 if i % 2 else 375, "chrome")
        sig = identity.signature(name, props)
        cid, file_name = identity.comparison_id(sig), identity.file_name(name, sig)
        status = ("failed", "passed", "passed", "new")[i % 4]
        entry: dict[str, Any] = {
            "id": cid,
            "name": name,
            "status": status,
            "signature": sig,
            "baseline": f"/images/baselines/{file_name}",
            "current": f"/images/current/{file_name}",
            "diff": f"/images/diffs/{file_name}" if status == "failed" else None,
            "properties": props,
            "originalName": name,
            "timestamp": TS + i,
            "hasDiffClusters": status == "failed",
            "hasConfirmedRegions": False,
            "initialStatus": status,
        }
        if status != "new":
            entry.update(threshold=2, minClusterSize=2, totalPixels=921600, aaPixelsIgnored=3)
            entry["aaPercentage"] = 0.0003
        if status == "failed":
            entry.update(diffPercentage=(i % 997) / 10, diffCount=i, reason="pixel-diff")
            entry["heightDiff"] = None
            box = {"x": i % 50, "y": 20, "width": 10, "height": 5}
            cluster = {"pixelCount": 5, "centerOfMass": [1.5, 2.5], "avgIntensity": 255}
            details[cid] = {
                "diffClusters": [{**cluster, "boundingBox": box}] * 3,
                "intensityStats": {"max": 255, "min": 3, "mean": 45.2, "median": 40, "stdDev": 1},
                "boundingBox": box,
                "regionAnalysis": None,
                "hotspotAnalysis": None,
                "confirmedRegions": None,
            }
        comparisons.append(entry)
        screenshots.append(
            {
                "name": name,
                "properties": props,
                "path": f"/home/dev/storefront/.vizzly/baselines/{file_name}",
                "signature": sig,
            }
        )
        (vizzly / "baselines" / file_name).write_bytes(png)
    report = {"timestamp": TS + count, "comparisons": comparisons, "summary": {}}
    (vizzly / "report-data.json").write_text(json.dumps(report, separators=(",", ":")))
    (vizzly / "comparison-details.json").write_text(json.dumps(details, separators=(",", ":")))
    metadata = {
        "buildId": "local-baseline",
        "buildName": "Local TDD Baseline",
        "environment": "test",
        "branch": "local",
        "threshold": 2,
        "signatureProperties": [],
        "createdAt": "2026-11-26T08:43:24.703Z",
        "screenshots": screenshots,
    }
    (vizzly / "baselines" / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return {"comparisons": count, "details": len(details), "baselines": count}


def floor_import(root: Path, rows: int) -> None:
    """What any importer must do at least: parse the JSON and insert that many rows."""
    vizzly = root / ".vizzly"
    for rel in ("report-data.json", "comparison-details.json", "baselines/metadata.json"):
        with open(vizzly / rel, "rb") as fh:
            json.load(fh)
    conn = sqlite3.connect(root / "floor.db")
    conn.execute("CREATE TABLE bare (id INTEGER PRIMARY KEY, payload TEXT)")
    with conn:
        conn.executemany("INSERT INTO bare (payload) VALUES (?)", [("x" * 40,)] * rows)
    conn.close()


def bench_import(work: Path) -> bool:
    template = work / "legacy-template"
    started = time.perf_counter()
    made = make_legacy_project(template, IMPORT_COMPARISONS)
    print(f"  generated {made} in {time.perf_counter() - started:.1f} s")
    copies = iter(range(10 * IMPORT_RUNS))

    def fresh_copy() -> Path:
        target = work / f"copy-{next(copies)}"
        shutil.copytree(template, target)
        return target

    def json_copy() -> Path:  # the floor reads only the JSON: no need to copy 10,000 PNGs
        target = work / f"copy-{next(copies)}"
        for rel in ("report-data.json", "comparison-details.json", "baselines/metadata.json"):
            (target / ".vizzly" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template / ".vizzly" / rel, target / ".vizzly" / rel)
        return target

    import peewee_migrate  # noqa: F401  # a per-process cost (~80 ms), not the import's

    counts: dict[str, int] = {}

    def run(project_dir: Path) -> None:
        ensure_schema(Project(project_dir))
        conn = sqlite3.connect(project_dir / ".vizzly" / "state.db")
        for table in ("comparison", "comparison_detail", "baseline", "import_log"):
            counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        conn.close()

    ours = median_time(run, IMPORT_RUNS, fresh_copy)
    ours_min = LAST_MIN[0]
    assert counts["comparison"] == made["comparisons"], counts
    assert counts["baseline"] == made["baselines"], counts
    assert counts["comparison_detail"] == made["details"], counts
    # comparisons + details + baselines + baseline versions
    rows = made["comparisons"] + made["details"] + 2 * made["baselines"]
    floor = median_time(lambda d: floor_import(d, rows), IMPORT_RUNS, json_copy)
    floor_min = LAST_MIN[0]
    met = ours < IMPORT_GOAL_S
    label = f"ensure_schema + legacy import of {IMPORT_COMPARISONS:,} comparisons"
    print(f"  {label}: {ours * 1000:.0f} ms (fastest {ours_min * 1000:.0f})")
    print(
        f"  floor (json.load + executemany of {rows:,} rows, bare table): {floor * 1000:.0f} ms"
        f" (fastest {floor_min * 1000:.0f})"
    )
    print(
        f"  ours/floor = {ours / floor:.1f}x   ours/goal = {ours / IMPORT_GOAL_S:.2f}"
        f"   goal < {IMPORT_GOAL_S:.0f} s: {'MET' if met else 'NOT MET'}"
    )
    return met


def make_page_database(work: Path) -> tuple[Project, int]:
    root = work / "page-project"
    (root / ".vizzly").mkdir(parents=True)
    project = Project(root)
    ensure_schema(project)
    conn = sqlite3.connect(project.db_path)
    rng = random.Random(7)
    with conn:
        cur = conn.execute(
            "INSERT INTO build (kind, uid, name, status, started_at) VALUES (?, ?, ?, ?, ?)",
            ("run", "bench-run", "bench", "finished", TS),
        )
        build_id = cur.lastrowid
        props = json.dumps(_properties(1280, "chrome"))
        rows = []
        for i in range(PAGE_COMPARISONS):
            name = f"page-{i:06d}"
            sig = f"{name}|1280|chrome"
            status = rng.choices(("passed", "failed", "new", "rejected"), (80, 12, 6, 2))[0]
            diff = round(rng.uniform(0, 40), 4) if status in ("failed", "rejected") else None
            rows.append(
                (build_id, identity.comparison_id(sig), name, name, sig, f"{name}_x.png", status,
                 status, props, diff, TS + i, TS + i, int(diff is not None), 0)
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO comparison (build_id, cid, name, original_name, signature, file_name,"
            " status, initial_status, properties, diff_percentage, timestamp, updated_at,"
            " has_diff_clusters, has_confirmed_regions) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    conn.execute("ANALYZE")
    conn.close()
    return project, build_id


def bench_page(work: Path) -> bool:
    project, build_id = make_page_database(work)
    from vizzly_tui.store.db import open_database

    db = open_database(project.db_path)
    try:
        from vizzly_tui.store.queries import list_comparisons

        measured = "list_comparisons(status='failed', sort='priority', limit=100)"
    except ImportError:  # the lead's queries.py is not there yet: the equivalent query
        from vizzly_tui.store.models import Comparison

        def list_comparisons(build_id: int, *, status: str | None = None, **_: Any) -> list:
            query = Comparison.select().where(Comparison.build == build_id)
            if status:
                query = query.where(Comparison.status == status)
            return list(query.order_by(Comparison.diff_percentage.desc()).limit(100))

        measured = "peewee Comparison query (store.queries missing: equivalent, not the real one)"

    # Capture the exact SQL peewee sends, to time the same statement on raw sqlite3.
    captured: list[tuple[str, Any]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.msg, tuple):
                captured.append(record.msg)

    logger = logging.getLogger("peewee")
    handler, old_level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    page = list_comparisons(build_id, status="failed", sort="priority", limit=100)
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    assert len(page) == 100 and all(c.status == "failed" for c in page)
    sql, params = captured[-1]

    def ours() -> None:
        list_comparisons(build_id, status="failed", sort="priority", limit=100)

    def unfiltered() -> None:
        list_comparisons(build_id, sort="priority", limit=100)

    raw = sqlite3.connect(project.db_path)

    def anchor() -> None:
        raw.execute(sql, params).fetchall()

    # Reads happen off the writer thread (read-only connection), as in the UI.
    results: dict[str, float] = {}

    def measure() -> None:
        ours()
        results["ours"] = median_time(ours, PAGE_RUNS)
        results["unfiltered"] = median_time(unfiltered, 10)

    reader = threading.Thread(target=measure)
    reader.start()
    reader.join()
    anchor()
    results["anchor"] = median_time(anchor, PAGE_RUNS)
    raw.close()
    db.close()
    met = results["ours"] * 1000 < PAGE_GOAL_MS
    print(f"  query: {sql} {params}")
    print(f"  {measured} of {PAGE_COMPARISONS:,}: {results['ours'] * 1000:.2f} ms")
    ratio = results["ours"] / results["anchor"]
    print(f"  anchor (same SQL, raw sqlite3 tuples): {results['anchor'] * 1000:.2f} ms", end="")
    print(f"   ours/anchor = {ratio:.1f}x")
    print(f"  goal < {PAGE_GOAL_MS:.0f} ms: {'MET' if met else 'NOT MET'}")
    print(f"  (info) unfiltered priority page: {results['unfiltered'] * 1000:.1f} ms")
    return met


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="vizzly-bench-") as tmp:
        work = Path(tmp)
        print("1. legacy import (median of 3 fresh copies)")
        import_met = bench_import(work)
        print(f"2. page query (median of {PAGE_RUNS})")
        page_met = bench_page(work)
    return 0 if import_met and page_met else 1


if __name__ == "__main__":
    sys.exit(main())
