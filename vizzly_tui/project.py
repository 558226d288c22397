"""Where a project's files live, and how a command finds its project.

The `.vizzly/` layout is the Vizzly CLI's (contract §1.1): `baselines/`, `current/` and
`diffs/` hold PNGs named by identity.file_name(); we add `state.db` and `objects/` (every
image a baseline ever had, content-addressed by sha256, so any decision can be undone).
Nothing of ours writes outside `.vizzly/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

VIZZLY_DIR = ".vizzly"

LEGACY_STATE_FILES = (
    "report-data.json",
    "comparison-details.json",
    "baselines/metadata.json",
    "hotspots.json",
    "regions.json",
    "baseline-metadata.json",
)


class ProjectNotFound(Exception):
    """No `.vizzly/` folder here or above (or at the given --project)."""


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def vizzly_dir(self) -> Path:
        return self.root / VIZZLY_DIR

    @property
    def db_path(self) -> Path:
        return self.vizzly_dir / "state.db"

    @property
    def lock_path(self) -> Path:
        return self.vizzly_dir / "state.db.lock"

    @property
    def baselines_dir(self) -> Path:
        return self.vizzly_dir / "baselines"

    @property
    def current_dir(self) -> Path:
        return self.vizzly_dir / "current"

    @property
    def diffs_dir(self) -> Path:
        return self.vizzly_dir / "diffs"

    @property
    def objects_dir(self) -> Path:
        return self.vizzly_dir / "objects"

    def image_dir(self, kind: str) -> Path:
        """`baselines`, `current` or `diffs` -> its folder (the only image folders we write)."""
        if kind not in ("baselines", "current", "diffs"):
            raise ValueError(f"unknown image folder {kind!r}")
        return self.vizzly_dir / kind

    def object_path(self, sha256: str) -> Path:
        return self.objects_dir / f"{sha256}.png"

    def legacy_files(self) -> list[Path]:
        """The Vizzly CLI's JSON state files present in this project (contract §2.6)."""
        found = (self.vizzly_dir / rel for rel in LEGACY_STATE_FILES)
        return [path for path in found if path.is_file()]

    def ensure_dirs(self) -> None:
        for folder in (self.baselines_dir, self.current_dir, self.diffs_dir, self.objects_dir):
            folder.mkdir(parents=True, exist_ok=True)


def find_project(explicit: Path | str | None = None, start: Path | None = None) -> Project:
    """The project for a command.

    With `explicit` (--project DIR) that folder must hold `.vizzly/` (or be the `.vizzly/`
    folder itself). Otherwise walk up from `start` (the current directory) to the first folder
    holding `.vizzly/`, as the SDKs do when they look for `.vizzly/server.json`.
    """
    if explicit is not None:
        root = Path(explicit).expanduser().resolve()
        if root.name == VIZZLY_DIR and root.is_dir():
            root = root.parent
        if not root.is_dir():
            raise ProjectNotFound(f"--project {explicit}: no such directory")
        if not (root / VIZZLY_DIR).is_dir():
            raise ProjectNotFound(
                f"{root} has no {VIZZLY_DIR}/ folder. Run `vizzly-tui serve` or `vizzly-tui run` "
                "there first, or pass the folder that holds .vizzly/."
            )
        return Project(root)
    here = (start or Path(os.getcwd())).resolve()
    for folder in (here, *here.parents):
        if (folder / VIZZLY_DIR).is_dir():
            return Project(folder)
    raise ProjectNotFound(
        f"No {VIZZLY_DIR}/ folder in {here} or any folder above it. Run this inside a project "
        "that has used Vizzly or vizzly-tui, or pass --project DIR."
    )
