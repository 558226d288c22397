"""Result types of a comparison, and their honeydiff / Vizzly JSON form.

Field names follow honeydiff 0.10's DiffResult in snake_case; `to_vizzly_dict()` gives the
camelCase names that the Vizzly HTTP API and the legacy report JSON use. Everything in that
dict is a plain int/float/bool/str/list/dict/None, never a numpy scalar, so `json.dumps`
works on it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """An axis-aligned box of pixels: columns x .. x+width-1, rows y .. y+height-1."""

    x: int
    y: int
    width: int
    height: int

    def to_vizzly_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


@dataclass(frozen=True, slots=True)
class HeightDiff:
    """Heights of the two images when they differ; the extra rows count as changed."""

    height1: int
    height2: int
    extra_pixels: int

    def to_vizzly_dict(self) -> dict[str, int]:
        return {
            "height1": self.height1,
            "height2": self.height2,
            "extraPixels": self.extra_pixels,
        }


@dataclass(frozen=True, slots=True)
class Cluster:
    """A connected (8-neighbour) group of changed pixels."""

    pixel_count: int
    center_of_mass: tuple[float, float]  # (x, y), mean of the pixel coordinates
    avg_intensity: float  # 0..255, see IntensityStats
    bounding_box: BoundingBox

    def to_vizzly_dict(self) -> dict[str, Any]:
        return {
            "pixelCount": self.pixel_count,
            "centerOfMass": [self.center_of_mass[0], self.center_of_mass[1]],
            "avgIntensity": self.avg_intensity,
            "boundingBox": self.bounding_box.to_vizzly_dict(),
        }


@dataclass(frozen=True, slots=True)
class IntensityStats:
    """Statistics of the per-pixel difference intensity over all changed pixels.

    Intensity is ΔE2000 scaled so that ΔE 10 and above is 255 (honeydiff's scale: a ΔE of
    7.1 is reported as 181), and rows that exist in only one image count as 255.
    """

    max: float
    min: float
    mean: float
    median: float
    std_dev: float

    def to_vizzly_dict(self) -> dict[str, float]:
        return {
            "max": self.max,
            "min": self.min,
            "mean": self.mean,
            "median": self.median,
            "stdDev": self.std_dev,
        }


@dataclass(frozen=True, slots=True)
class DiffResult:
    """Outcome of comparing a baseline with a current screenshot."""

    is_different: bool  # some cluster has at least min_cluster_size pixels
    diff_percentage: float  # 100 * diff_pixels / total_pixels
    total_pixels: int  # width * max(height1, height2)
    diff_pixels: int  # changed, non-AA pixels plus extra rows; not filtered by cluster size
    aa_pixels_ignored: int
    aa_percentage: float
    bounding_box: BoundingBox | None  # of every changed pixel, None when there are none
    height_diff: HeightDiff | None
    diff_clusters: list[Cluster] = field(default_factory=list)  # kept clusters, largest first
    intensity_stats: IntensityStats | None = None
    width: int = 0
    height: int = 0  # max(height1, height2)
    #: The diff image written for this comparison, or None (nothing changed, or no diff_path).
    diff_image: Path | None = None
    #: True when the two inputs were byte-identical and were never decoded.
    byte_identical: bool = False

    def to_vizzly_dict(self) -> dict[str, Any]:
        """The honeydiff result in the camelCase form of the Vizzly API and legacy JSON."""
        return {
            "isDifferent": self.is_different,
            "diffPercentage": self.diff_percentage,
            "totalPixels": self.total_pixels,
            "diffPixels": self.diff_pixels,
            "aaPixelsIgnored": self.aa_pixels_ignored,
            "aaPercentage": self.aa_percentage,
            "boundingBox": self.bounding_box.to_vizzly_dict() if self.bounding_box else None,
            "heightDiff": self.height_diff.to_vizzly_dict() if self.height_diff else None,
            "diffClusters": [cluster.to_vizzly_dict() for cluster in self.diff_clusters],
            "intensityStats": (
                self.intensity_stats.to_vizzly_dict() if self.intensity_stats else None
            ),
        }
