"""The vizzly-tui diff engine: honeydiff-compatible screenshot comparison in numpy.

It imports nothing from the rest of vizzly_tui but the status names (vizzly_tui.statuses,
which imports nothing), so the server, the CLI and the review app can all use it, and it can
be tested on its own.


    result = compare_files(baseline, current, threshold=2.0, diff_path=diff)
    if result.is_different: ...
    json.dumps(result.to_vizzly_dict())
"""

from .compare import OptionError, compare_arrays, compare_bytes, compare_files
from .coverage import (
    AUTO_PASS_COVERAGE,
    HIGH_CONFIDENCE_SCORE,
    Classification,
    classify,
    cluster_intersects_region,
    hotspot_coverage,
    is_high_confidence,
    region_box,
    region_coverage,
)
from .decode import DEFAULT_MAX_PIXELS, read_png_size
from .diffimage import pending_diff, wait_for_diff
from .errors import DimensionMismatch, EngineError, ImageError
from .report import format_result
from .result import BoundingBox, Cluster, DiffResult, HeightDiff, IntensityStats

__all__ = [
    "AUTO_PASS_COVERAGE",
    "DEFAULT_MAX_PIXELS",
    "HIGH_CONFIDENCE_SCORE",
    "BoundingBox",
    "Classification",
    "Cluster",
    "DiffResult",
    "DimensionMismatch",
    "EngineError",
    "HeightDiff",
    "ImageError",
    "IntensityStats",
    "OptionError",
    "classify",
    "cluster_intersects_region",
    "compare_arrays",
    "compare_bytes",
    "compare_files",
    "format_result",
    "hotspot_coverage",
    "is_high_confidence",
    "pending_diff",
    "read_png_size",
    "region_box",
    "region_coverage",
    "wait_for_diff",
]
