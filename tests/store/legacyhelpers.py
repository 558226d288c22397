"""Helpers for the legacy-import tests: bootstrap a project and read what the import wrote."""

from __future__ import annotations

import json
import sqlite3
import struct
import zlib
from pathlib import Path
from typing import Any

from vizzly_tui.project import Project
from vizzly_tui.store.bootstrap import BootstrapReport, ensure_schema
from vizzly_tui.store.db import readonly_uri

TABLES = (
    "build",
    "comparison",
    "comparison_detail",
    "baseline",
    "baseline_version",
    "hotspot",
    "region",
    "setting",
    "import_log",
)


def bootstrap(project_dir: Path) -> BootstrapReport:
    return ensure_schema(Project(project_dir))


def connect(project_dir: Path) -> sqlite3.Connection:
    """A read-only connection: the tests must not be able to change what they check."""
    conn = sqlite3.connect(readonly_uri(project_dir / ".vizzly" / "state.db"), uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def counts(project_dir: Path) -> dict[str, int]:
    with connect(project_dir) as conn:
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in TABLES}


def rows(project_dir: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    conn = connect(project_dir)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def settings(project_dir: Path) -> dict[str, Any]:
    found = rows(project_dir, "SELECT key, value FROM setting")
    return {r["key"]: json.loads(r["value"]) for r in found}


def import_log(project_dir: Path) -> list[tuple[str, str | None, str, str]]:
    found = rows(project_dir, "SELECT source, item, outcome, detail FROM import_log ORDER BY id")
    return [tuple(r) for r in found]


def skips(project_dir: Path) -> list[tuple[str, str | None, str]]:
    return [(s, i, d) for s, i, o, d in import_log(project_dir) if o == "skipped"]


def notes(project_dir: Path) -> list[tuple[str, str | None, str]]:
    return [(s, i, d) for s, i, o, d in import_log(project_dir) if d.startswith("note: ")]


def load(project_dir: Path, rel: str) -> Any:
    return json.loads((project_dir / ".vizzly" / rel).read_text(encoding="utf-8"))


def save(project_dir: Path, rel: str, value: Any) -> None:
    (project_dir / ".vizzly" / rel).write_text(json.dumps(value), encoding="utf-8")


def snapshot(project_dir: Path) -> dict[str, bytes]:
    """Every file under .vizzly/ (JSON and PNG) with its bytes."""
    vizzly = project_dir / ".vizzly"
    return {str(p.relative_to(vizzly)): p.read_bytes() for p in vizzly.rglob("*") if p.is_file()}


def tiny_png(width: int = 2, height: int = 3) -> bytes:
    """A valid greyscale PNG, built by hand so the helpers need no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    body = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body
