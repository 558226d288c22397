"""Damaged and read-only projects, made for real: bytes over state.db pages, read-only
folders (chmod for a normal user; a read-only bind mount when the tests run as root, since
root ignores permission bits)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.racehelpers import png
from vizzly_tui.capture import capture, start_build
from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store


def cli(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def recorded_project(root: Path, count: int = 12) -> Project:
    """A project with one build: `count` screenshots with baselines, half of them failed."""
    (root / ".vizzly").mkdir(parents=True, exist_ok=True)
    project = Project(root)
    with open_store(project) as store:
        build = start_build(store, "serve")
        for i in range(count):
            capture(store, build.id, f"shot-{i:02d}", png((i * 9, 40, 90)))
            if i % 2:
                capture(store, build.id, f"shot-{i:02d}", png((i * 9, 200, 90)))
    checkpoint(project.db_path)
    return project


def checkpoint(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def page_of(db_path: Path, table: str) -> tuple[int, int]:
    """(file offset, page size) of `table`'s root page."""
    conn = sqlite3.connect(db_path)
    try:
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        root = page.fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return (root - 1) * size, size


def overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    made = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)])
    if made.returncode != 0:
        pytest.skip("running as root without a way to make a folder read-only")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)
