"""Comparisons whose answer is known, built from images drawn in the test."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from vizzly_tui.engine import (
    BoundingBox,
    DimensionMismatch,
    EngineError,
    OptionError,
    compare_bytes,
    compare_files,
)
from vizzly_tui.engine import compare as compare_module

from .helpers import colour_at_distance, flat, png_bytes, text_image, ui_like, write_png

SENTENCE = "The quick brown fox jumps over the lazy dog 0123"


def pair(tmp_path: Path, first: np.ndarray, second: np.ndarray) -> tuple[Path, Path]:
    return write_png(tmp_path / "baseline.png", first), write_png(tmp_path / "current.png", second)


def test_identical_pixels_in_different_bytes(tmp_path: Path) -> None:
    pixels = ui_like(320, 200)
    base = write_png(tmp_path / "a.png", pixels, level=9)
    cur = write_png(tmp_path / "b.png", pixels, level=1)
    assert base.read_bytes() != cur.read_bytes()
    result = compare_files(base, cur)
    assert not result.is_different
    assert not result.byte_identical
    assert (result.diff_pixels, result.aa_pixels_ignored, result.total_pixels) == (0, 0, 64000)
    assert result.bounding_box is None and result.height_diff is None
    assert result.diff_clusters == [] and result.intensity_stats is None


def test_one_isolated_pixel_is_noise_at_min_cluster_two(tmp_path: Path) -> None:
    first = flat(200, 100)
    second = first.copy()
    second[40, 120] = (255, 0, 0, 255)
    base, cur = pair(tmp_path, first, second)

    noise = compare_files(base, cur)
    assert not noise.is_different
    assert noise.diff_pixels == 1
    assert noise.diff_clusters == []  # below min_cluster_size: not listed, like honeydiff
    assert noise.bounding_box == BoundingBox(120, 40, 1, 1)

    found = compare_files(base, cur, min_cluster_size=1)
    assert found.is_different
    assert [c.pixel_count for c in found.diff_clusters] == [1]
    assert found.diff_clusters[0].center_of_mass == (120.0, 40.0)


def test_block_on_a_flat_background_is_found(tmp_path: Path) -> None:
    # honeydiff 0.10.1 scored this as 0 different pixels (all "anti-aliasing").
    first = flat(640, 360)
    second = first.copy()
    second[100:200, 150:350] = (255, 0, 0, 255)
    result = compare_files(*pair(tmp_path, first, second))
    assert result.is_different
    assert result.diff_pixels == 20_000
    assert result.aa_pixels_ignored == 0
    assert result.bounding_box == BoundingBox(150, 100, 200, 100)
    (cluster,) = result.diff_clusters
    assert cluster.pixel_count == 20_000
    assert cluster.center_of_mass == (249.5, 149.5)
    assert cluster.avg_intensity == 255
    assert result.diff_percentage == pytest.approx(100 * 20_000 / (640 * 360))


def test_block_recoloured_on_a_flat_colour_is_found(tmp_path: Path) -> None:
    background = (70, 110, 160)
    shifted, distance = colour_at_distance(background, 8.0, 12.0)
    first = flat(400, 300, background)
    second = first.copy()
    second[50:150, 100:300, :3] = shifted
    result = compare_files(*pair(tmp_path, first, second))
    assert result.is_different and result.diff_pixels == 20_000, distance


@pytest.mark.parametrize(
    ("size", "fg", "bg"),
    [
        (12, (20, 20, 20), (255, 255, 255)),
        (16, (20, 20, 20), (255, 255, 255)),
        (20, (40, 90, 220), (255, 255, 255)),
        (16, (220, 222, 228), (24, 26, 32)),
    ],
    ids=["12px", "16px", "20px-blue", "16px-dark"],
)
def test_text_shifted_by_a_quarter_pixel_is_only_anti_aliasing(
    tmp_path: Path, size: int, fg: tuple[int, int, int], bg: tuple[int, int, int]
) -> None:
    first = text_image(SENTENCE, size=size, fg=fg, bg=bg)
    second = text_image(SENTENCE, offset_quarter_px=1, size=size, fg=fg, bg=bg)
    base, cur = pair(tmp_path, first, second)
    result = compare_files(base, cur)
    assert not result.is_different
    assert result.diff_clusters == []
    # The shift really changed many pixels beyond ΔE 2: AA classification is what passes it.
    assert result.aa_pixels_ignored > 300
    strict = compare_files(base, cur, antialiasing=False)
    assert strict.is_different and strict.diff_pixels >= result.aa_pixels_ignored


@pytest.mark.parametrize(
    ("before", "after"),
    [("brown fox", "brown cat"), ("total 1234", "total 1284"), ("Hello world", "Hello world.")],
)
def test_changed_text_is_not_mistaken_for_anti_aliasing(
    tmp_path: Path, before: str, after: str
) -> None:
    result = compare_files(*pair(tmp_path, text_image(before), text_image(after)))
    assert result.is_different
    assert result.diff_clusters[0].pixel_count >= 2


def test_solid_patch_drawn_into_busy_content_is_found(tmp_path: Path) -> None:
    # The fixture `login` case: honeydiff kept 2 of 12 changed pixels, the rest went to AA.
    first = ui_like(200, 120)
    second = first.copy()
    second[30:33, 60:64] = (255, 0, 0, 255)
    result = compare_files(*pair(tmp_path, first, second))
    assert result.is_different
    assert result.diff_pixels >= 10


def test_colour_shift_just_under_and_just_over_delta_e_two(tmp_path: Path) -> None:
    background = (120, 130, 140)
    under, d_under = colour_at_distance(background, 1.80, 1.95)
    over, d_over = colour_at_distance(background, 2.05, 2.25)
    first = flat(300, 200, background)

    below = compare_files(*pair(tmp_path, first, flat(300, 200, under)))
    assert not below.is_different and below.diff_pixels == 0, d_under

    above = compare_files(*pair(tmp_path, first, flat(300, 200, over)))
    assert above.is_different and above.diff_pixels == 60_000, d_over
    assert above.aa_pixels_ignored == 0  # a flat area is never anti-aliasing
    expected_intensity = math.floor(d_over * 25.5)
    assert above.intensity_stats is not None
    assert abs(above.intensity_stats.mean - expected_intensity) <= 1

    # Threshold 0 means any difference; a larger threshold hides the bigger shift too.
    assert compare_files(*pair(tmp_path, first, flat(300, 200, under)), threshold=0).is_different
    assert not compare_files(*pair(tmp_path, first, flat(300, 200, over)), threshold=3).is_different


def test_taller_current_image_counts_the_extra_rows(tmp_path: Path) -> None:
    first = ui_like(200, 100)
    second = np.concatenate([first, ui_like(200, 30, seed=9)])
    result = compare_files(*pair(tmp_path, first, second))
    assert result.is_different
    assert result.height_diff is not None
    assert (result.height_diff.height1, result.height_diff.height2) == (100, 130)
    assert result.height_diff.extra_pixels == 6000
    assert result.total_pixels == 200 * 130
    assert result.diff_pixels == 6000  # the common 100 rows are identical
    assert result.bounding_box == BoundingBox(0, 100, 200, 30)
    (band,) = result.diff_clusters
    assert band.bounding_box == BoundingBox(0, 100, 200, 30)
    assert band.pixel_count == 6000
    assert result.to_vizzly_dict()["heightDiff"] == {
        "height1": 100,
        "height2": 130,
        "extraPixels": 6000,
    }


def test_shorter_current_image_is_compared_over_the_common_rows(tmp_path: Path) -> None:
    first = flat(120, 80)
    second = flat(120, 60)
    second[10:12, 10:12] = (0, 0, 0, 255)
    result = compare_files(*pair(tmp_path, first, second), diff_path=tmp_path / "d.png")
    assert result.height_diff is not None and result.height_diff.extra_pixels == 20 * 120
    assert result.diff_pixels == 4 + 20 * 120
    assert [c.pixel_count for c in result.diff_clusters] == [2400, 4]
    assert result.bounding_box == BoundingBox(0, 10, 120, 70)


def test_wider_image_is_a_dimension_mismatch(tmp_path: Path) -> None:
    base, cur = pair(tmp_path, flat(200, 100), flat(240, 100))
    with pytest.raises(DimensionMismatch) as caught:
        compare_files(base, cur)
    assert isinstance(caught.value, EngineError)
    assert "Image dimensions don't match" in str(caught.value)
    assert "200x100" in str(caught.value) and "240x100" in str(caught.value)


def test_byte_identical_files_are_not_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = png_bytes(ui_like(1920, 1080))
    (tmp_path / "a.png").write_bytes(data)
    (tmp_path / "b.png").write_bytes(data)

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(compare_module, "decode_pair", no_decoding)
    result = compare_files(tmp_path / "a.png", tmp_path / "b.png", diff_path=tmp_path / "d.png")
    assert result.byte_identical and not result.is_different
    assert result.total_pixels == 1920 * 1080
    assert result.diff_image is None and not (tmp_path / "d.png").exists()
    # The patched function really is on the decoding path: other bytes do reach it.
    (tmp_path / "c.png").write_bytes(png_bytes(ui_like(1920, 1080), level=1))
    with pytest.raises(AssertionError, match="decoded"):
        compare_files(tmp_path / "a.png", tmp_path / "c.png")


def test_compare_bytes_matches_compare_files(tmp_path: Path) -> None:
    first = ui_like(160, 90)
    second = first.copy()
    second[20:30, 20:30] = (0, 128, 0, 255)
    base, cur = pair(tmp_path, first, second)
    from_files = compare_files(base, cur)
    from_bytes = compare_bytes(base.read_bytes(), cur.read_bytes())
    assert from_files == from_bytes


def test_clusters_are_eight_connected_and_sorted_largest_first(tmp_path: Path) -> None:
    first = flat(100, 100)
    second = first.copy()
    second[10, 10] = second[11, 11] = (0, 0, 0, 255)  # diagonal neighbours: one cluster
    second[50:53, 50:53] = (0, 0, 0, 255)  # 9 pixels
    second[80, 80] = second[80, 82] = (0, 0, 0, 255)  # a gap: two single pixels
    result = compare_files(*pair(tmp_path, first, second))
    assert [c.pixel_count for c in result.diff_clusters] == [9, 2]
    assert result.diff_pixels == 13
    assert result.diff_clusters[1].bounding_box == BoundingBox(10, 10, 2, 2)
    assert result.diff_clusters[1].center_of_mass == (10.5, 10.5)


def test_vizzly_dict_is_plain_json_with_camel_case_names(tmp_path: Path) -> None:
    first = flat(120, 80)
    second = np.concatenate([first, flat(120, 10, (0, 0, 0))])
    second[5:9, 5:9] = (200, 30, 30, 255)
    payload = compare_files(*pair(tmp_path, first, second)).to_vizzly_dict()
    assert set(payload) == {
        "isDifferent",
        "diffPercentage",
        "totalPixels",
        "diffPixels",
        "aaPixelsIgnored",
        "aaPercentage",
        "boundingBox",
        "heightDiff",
        "diffClusters",
        "intensityStats",
    }
    assert set(payload["diffClusters"][0]) == {
        "pixelCount",
        "centerOfMass",
        "avgIntensity",
        "boundingBox",
    }
    assert set(payload["intensityStats"]) == {"max", "min", "mean", "median", "stdDev"}
    assert json.loads(json.dumps(payload)) == payload

    def check_plain(value: object) -> None:
        assert type(value) in (bool, int, float, str, list, dict, type(None)), type(value)
        if isinstance(value, dict):
            for item in value.values():
                check_plain(item)
        elif isinstance(value, list):
            for item in value:
                check_plain(item)

    check_plain(payload)


@pytest.mark.parametrize(
    "options",
    [
        {"threshold": -1},
        {"threshold": float("nan")},
        {"min_cluster_size": 0},
        {"min_cluster_size": 1.5},
        {"max_pixels": 0},
        {"threshold": True},
        {"threshold": "2"},
    ],
)
def test_invalid_options_raise_an_engine_error(tmp_path: Path, options: dict) -> None:
    base, cur = pair(tmp_path, flat(10, 10), flat(10, 10, (0, 0, 0)))
    with pytest.raises(OptionError) as caught:
        compare_files(base, cur, **options)
    assert isinstance(caught.value, EngineError) and isinstance(caught.value, ValueError)
