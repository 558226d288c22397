"""What the viewer shows: one comparison's images and its clusters, regions and hotspots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ViewerSubject:
    """Built by the app (from store rows, in a worker) or by `vizzly-tui show`.

    Paths point into .vizzly/ (baselines/, current/, diffs/, or objects/ for an older
    build's images); a missing image is None (a new screenshot has no baseline).
    """

    comparison_id: str
    name: str
    status: str
    baseline_path: Path | None
    current_path: Path | None
    diff_path: Path | None
    clusters: tuple[dict, ...] = ()
    regions: tuple[dict, ...] = ()
    hotspots: tuple[dict, ...] = ()
    height_diff: int | None = None
    threshold: float = 2.0
    read_only: bool = False

    @property
    def key(self) -> tuple:
        """Identity of the pictures: the same key means the same images and masks."""
        return (
            self.comparison_id,
            str(self.baseline_path),
            str(self.current_path),
            self.threshold,
            len(self.clusters),
        )


def _height_diff(value: Any) -> int | None:
    if isinstance(value, dict):
        try:
            return int(value["height2"]) - int(value["height1"])
        except (KeyError, TypeError, ValueError):
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def subject_from_detail(detail: Any, *, read_only: bool = False) -> ViewerSubject:
    """A subject from the app's comparison detail (vizzly_tui.tui.data.Detail or alike)."""
    return ViewerSubject(
        comparison_id=str(detail.cid),
        name=str(detail.name),
        status=str(detail.status),
        baseline_path=detail.baseline_path,
        current_path=detail.current_path,
        diff_path=detail.diff_path,
        clusters=tuple(detail.clusters or ()),
        regions=tuple(detail.regions or ()),
        hotspots=tuple(detail.hotspots or ()),
        height_diff=_height_diff(detail.height_diff),
        threshold=float(detail.threshold if detail.threshold is not None else 2.0),
        read_only=read_only,
    )
