"""The human-readable summary printed by `vizzly-tui compare`."""

from __future__ import annotations

from pathlib import Path

from vizzly_tui.engine import compare_files, format_result

from .helpers import flat, write_png


def test_summary_of_a_different_pair(tmp_path: Path) -> None:
    first = flat(200, 100)
    second = flat(200, 120)
    second[10:20, 30:50] = (255, 0, 0, 255)
    base = write_png(tmp_path / "a.png", first)
    cur = write_png(tmp_path / "b.png", second)
    text = format_result(compare_files(base, cur, diff_path=tmp_path / "d.png"))
    lines = text.splitlines()
    assert lines[0].endswith("DIFFERENT")
    assert "200x120 (24,000 pixels)" in text
    assert "Diff pixels:   4,200 (17.50%)" in text
    assert "Clusters:      2" in text
    assert "Largest:       4,000 px at x=0 y=100 200x20" in text
    assert "Bounding box:  x=0 y=10 200x110" in text
    assert "Height change: 100 -> 120 px (4,000 extra pixels)" in text
    assert f"Diff image:    {tmp_path / 'd.png'}" in text


def test_summary_of_noise_and_of_identical_files(tmp_path: Path) -> None:
    first = flat(1000, 1000)
    second = first.copy()
    second[5, 5] = (0, 0, 0, 255)
    base = write_png(tmp_path / "a.png", first)
    cur = write_png(tmp_path / "b.png", second)
    noise = format_result(compare_files(base, cur))
    assert "not different (only clusters below the minimum size)" in noise
    assert "Diff pixels:   1 (0.0001%)" in noise  # tiny, but not printed as 0
    same = format_result(compare_files(base, base))
    assert same.splitlines()[0].endswith("identical (byte-for-byte)")
    assert "Bounding box" not in same and "Height change" not in same
