"""A large Vizzly CLI project (only its JSON files and PNGs, no state.db), as the Vizzly CLI
0.29.6 writes them (contract vizzly-local-tdd.md §2; shapes of ../shared/fixtures)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from vizzly_tui import identity

TS = 1_795_682_600_000
BUILD_ID = "6f1c2a0e-3b9d-4c2e-9a51-0d6b1f2e3c4d"


def tiny_png(seed: int, width: int = 8, height: int = 4) -> bytes:
    """A valid greyscale PNG whose bytes differ for every seed (so every object differs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = seed.to_bytes(4, "big") + bytes((seed + x * 7) % 256 for x in range(width - 4))
    raw = b"".join(b"\x00" + row[y:] + row[:y] for y in range(height))
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _properties(width: int) -> dict[str, Any]:
    base = {"browser": "chrome", "viewport": {"width": width, "height": 720}}
    return {**base, "viewport_width": width, "viewport_height": 720, "metadata": dict(base)}


def make_legacy_project(root: Path, count: int) -> dict[str, Any]:
    """`count` screenshots: baselines/ (with metadata.json) for all but the new ones,
    current/ for all, diffs/ for the failed ones, report-data.json,
    comparison-details.json and baseline-metadata.json. Returns what the import must find:
    {"signatures": {signature: baseline sha256 or None}, "comparisons": count}."""
    vizzly = root / ".vizzly"
    for folder in ("baselines", "current", "diffs"):
        (vizzly / folder).mkdir(parents=True)
    comparisons, details, screenshots = [], {}, []
    expected: dict[str, str | None] = {}
    import hashlib

    for i in range(count):
        name = f"page-{i:05d}"
        props = _properties(1280 if i % 2 else 375)
        sig = identity.signature(name, props)
        cid, file_name = identity.comparison_id(sig), identity.file_name(name, sig)
        status = ("failed", "passed", "passed", "new")[i % 4]
        current = tiny_png(i)
        (vizzly / "current" / file_name).write_bytes(current)
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
            baseline = current if status == "passed" else tiny_png(i + 100_000)
            (vizzly / "baselines" / file_name).write_bytes(baseline)
            expected[sig] = hashlib.sha256(baseline).hexdigest()
            screenshots.append(
                {
                    "name": name,
                    "properties": props,
                    "path": f"/home/dev/storefront/.vizzly/baselines/{file_name}",
                    "signature": sig,
                }
            )
            entry.update(threshold=2, minClusterSize=2, totalPixels=24, aaPixelsIgnored=0)
        if status == "failed":
            (vizzly / "diffs" / file_name).write_bytes(tiny_png(i + 200_000))
            entry.update(diffPercentage=12.5, diffCount=3, reason="pixel-diff", heightDiff=None)
            box = {"x": 1, "y": 1, "width": 2, "height": 1}
            details[cid] = {
                "diffClusters": [{"pixelCount": 3, "boundingBox": box}],
                "intensityStats": {"max": 255, "min": 3, "mean": 45.2, "median": 40, "stdDev": 1},
                "boundingBox": box,
                "regionAnalysis": None,
                "hotspotAnalysis": None,
                "confirmedRegions": None,
            }
        comparisons.append(entry)
    report = {"timestamp": TS + count, "comparisons": comparisons, "summary": {}}
    (vizzly / "report-data.json").write_text(json.dumps(report))
    (vizzly / "comparison-details.json").write_text(json.dumps(details))
    metadata = {
        "buildId": BUILD_ID,
        "buildName": "main @ 1a2b3c4",
        "environment": "test",
        "branch": "main",
        "threshold": 2,
        "signatureProperties": [],
        "createdAt": "2026-11-26T08:43:24.703Z",
        "screenshots": screenshots,
    }
    (vizzly / "baselines" / "metadata.json").write_text(json.dumps(metadata, indent=2))
    build_metadata = {
        "buildId": BUILD_ID,
        "buildName": "main @ 1a2b3c4",
        "branch": "main",
        "environment": "test",
        "commitSha": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
        "commitMessage": "Storefront baselines",
        "approvalStatus": "approved",
        "completedAt": "2026-11-26T08:40:00.000Z",
        "downloadedAt": "2026-11-26T08:43:24.703Z",
    }
    (vizzly / "baseline-metadata.json").write_text(json.dumps(build_metadata, indent=2))
    return {"signatures": expected, "comparisons": count}
