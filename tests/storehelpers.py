"""Helpers to build a project with one build of comparisons, for store and review tests."""

from __future__ import annotations

from pathlib import Path

from vizzly_tui.project import Project
from vizzly_tui.store.models import Build, Comparison
from vizzly_tui.store.store import Store, open_store


def make_project(root: Path) -> Project:
    (root / ".vizzly").mkdir(parents=True, exist_ok=True)
    return Project(root)


def seed(store: Store, count: int, status: str = "failed") -> list[str]:
    """`count` comparisons in a new build, with distinct current and baseline bytes."""
    project = store.project
    project.ensure_dirs()

    def command() -> list[str]:
        build = Build.create(kind="run", uid=f"run-{Build.select().count() + 1}", started_at=1)
        names = []
        for i in range(count):
            name = f"shot-{i:03d}"
            file_name = f"{name}.png"
            Comparison.create(
                build=build,
                cid=f"{i:016x}",
                name=name,
                signature=f"{name}|1280|chrome",
                file_name=file_name,
                status=status,
                initial_status=status,
                diff=f"/images/diffs/{file_name}",
                diff_percentage=1.5,
                timestamp=1,
                updated_at=1,
            )
            (project.current_dir / file_name).write_bytes(b"current-" + name.encode())
            (project.baselines_dir / file_name).write_bytes(b"baseline-" + name.encode())
            (project.diffs_dir / file_name).write_bytes(b"diff-" + name.encode())
            names.append(name)
        return names

    return store.call(command)


def open_seeded(root: Path, count: int = 3, status: str = "failed") -> tuple[Store, list[str]]:
    project = make_project(root)
    store = open_store(project)
    return store, seed(store, count, status)
