"""Pictures of a comparison for terminals: composites of the six view modes (numpy/Pillow),
half-block cells with merged runs, and deliberate 256/16-colour quantisation.

No Textual and no database here: the review app's viewer (vizzly_tui.tui.viewer) and
`vizzly-tui show` both draw with it.

    pair = load_pair(baseline_png, current_png, threshold=2.0)
    view = fit(pair.width, pair.height, cols, 2 * rows)
    rows = half_block_rows(compose(pair, view, Options(mode="overlay")), "256")
"""

from .cells import SYSTEMS, Run, cell_pixels, half_block_rows
from .compose import MODES, Options, compose, geometry_width, guide_boxes
from .navigate import PixelInfo, cluster_view, describe_cluster, next_cluster, pixel_info
from .pair import Pair, load_pair, pair_from_arrays
from .view import View, centred, clamp, fit, pan, resized, zoom_step

__all__ = [
    "MODES",
    "SYSTEMS",
    "Options",
    "Pair",
    "PixelInfo",
    "Run",
    "View",
    "cell_pixels",
    "centred",
    "clamp",
    "cluster_view",
    "compose",
    "describe_cluster",
    "fit",
    "geometry_width",
    "guide_boxes",
    "half_block_rows",
    "load_pair",
    "next_cluster",
    "pair_from_arrays",
    "pan",
    "pixel_info",
    "resized",
    "zoom_step",
]
