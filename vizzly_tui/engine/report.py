"""A short human-readable summary of a DiffResult, for the `vizzly-tui compare` command."""

from __future__ import annotations

from .result import DiffResult


def _percent(value: float) -> str:
    # Small but non-zero percentages must not print as 0.00 %: a 2-pixel change matters.
    if value == 0:
        return "0%"
    if value < 0.01:
        return f"{value:.2g}%"
    return f"{value:.2f}%"


def format_result(result: DiffResult) -> str:
    """Multi-line summary: verdict, changed pixels, AA, clusters, bounding box, height change."""
    if result.byte_identical:
        verdict = "identical (byte-for-byte)"
    elif result.is_different:
        verdict = "DIFFERENT"
    elif result.diff_pixels:
        verdict = "not different (only clusters below the minimum size)"
    else:
        verdict = "not different"
    lines = [
        f"Result:        {verdict}",
        f"Size:          {result.width}x{result.height} ({result.total_pixels:,} pixels)",
        f"Diff pixels:   {result.diff_pixels:,} ({_percent(result.diff_percentage)})",
        f"AA ignored:    {result.aa_pixels_ignored:,} ({_percent(result.aa_percentage)})",
        f"Clusters:      {len(result.diff_clusters)}",
    ]
    if result.diff_clusters:
        largest = result.diff_clusters[0]
        box = largest.bounding_box
        lines.append(
            f"Largest:       {largest.pixel_count:,} px at "
            f"x={box.x} y={box.y} {box.width}x{box.height}"
        )
    if result.bounding_box is not None:
        box = result.bounding_box
        lines.append(f"Bounding box:  x={box.x} y={box.y} {box.width}x{box.height}")
    if result.height_diff is not None:
        hd = result.height_diff
        lines.append(
            f"Height change: {hd.height1} -> {hd.height2} px ({hd.extra_pixels:,} extra pixels)"
        )
    if result.diff_image is not None:
        lines.append(f"Diff image:    {result.diff_image}")
    return "\n".join(lines)
