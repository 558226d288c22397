"""The diff image: size, highlighted pixels, and an atomic write."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vizzly_tui.engine import compare_files
from vizzly_tui.engine import diffimage as diffimage_module
from vizzly_tui.engine.diffimage import AA_COLOUR, DIFF_COLOUR

from .helpers import flat, text_image, ui_like, write_png

SENTENCE = "The quick brown fox jumps over the lazy dog"


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_diff_image_marks_changed_pixels_red(tmp_path: Path) -> None:
    first = ui_like(240, 160)
    second = first.copy()
    second[50:60, 70:90] = (0, 200, 0, 255)
    base = write_png(tmp_path / "base.png", first)
    cur = write_png(tmp_path / "cur.png", second)
    out = tmp_path / "diffs" / "out.png"  # the folder is created on demand
    result = compare_files(base, cur, diff_path=out)
    assert result.diff_image == out
    image = rgb(out)
    assert image.shape == (160, 240, 3)
    red = np.all(image == DIFF_COLOUR, axis=-1)
    assert red.sum() == result.diff_pixels == 200
    assert red[50:60, 70:90].all()
    # Everything else is the faded current screenshot: light, and never pure red.
    assert image[~red].min() >= 255 - 0.45 * 255 - 1
    assert not list(out.parent.glob(".*.tmp"))


def test_anti_aliasing_pixels_are_yellow(tmp_path: Path) -> None:
    base = write_png(tmp_path / "base.png", text_image(SENTENCE))
    cur = write_png(tmp_path / "cur.png", text_image(SENTENCE, offset_quarter_px=1))
    out = tmp_path / "diff.png"
    result = compare_files(base, cur, diff_path=out)
    image = rgb(out)
    assert result.aa_pixels_ignored > 0
    assert np.all(image == AA_COLOUR, axis=-1).sum() == result.aa_pixels_ignored


def test_taller_image_diff_covers_both_heights(tmp_path: Path) -> None:
    base = write_png(tmp_path / "base.png", flat(50, 40))
    cur = write_png(tmp_path / "cur.png", flat(50, 55, (10, 10, 10)))
    out = tmp_path / "diff.png"
    compare_files(base, cur, diff_path=out)
    image = rgb(out)
    assert image.shape == (55, 50, 3)
    # Extra rows are tinted red; the common rows (all changed) are solid red.
    assert np.all(image[:40] == DIFF_COLOUR)
    tinted = image[40:]
    assert np.all(tinted[..., 0] > tinted[..., 1])


def test_no_diff_image_when_nothing_changed(tmp_path: Path) -> None:
    pixels = ui_like(64, 48)
    base = write_png(tmp_path / "a.png", pixels, level=1)
    cur = write_png(tmp_path / "b.png", pixels, level=9)
    result = compare_files(base, cur, diff_path=tmp_path / "d.png")
    assert result.diff_image is None
    assert not (tmp_path / "d.png").exists()


def test_write_replaces_an_existing_file_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = write_png(tmp_path / "base.png", flat(30, 20))
    cur = write_png(tmp_path / "cur.png", flat(30, 20, (0, 0, 0)))
    out = tmp_path / "diff.png"
    out.write_bytes(b"old contents")

    calls: list[tuple[str, str]] = []
    fsynced: list[int] = []
    real_replace = os.replace
    real_fsync = os.fsync

    def spy_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        # At the moment of the rename the target still holds the old, complete file.
        assert Path(dst).read_bytes() == b"old contents"
        assert fsynced, "data must be fsynced before the rename"
        real_replace(src, dst)

    def spy_fsync(fd: int) -> None:
        fsynced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(diffimage_module.os, "replace", spy_replace)
    monkeypatch.setattr(diffimage_module.os, "fsync", spy_fsync)
    compare_files(base, cur, diff_path=out)
    ((src, dst),) = calls
    assert Path(src).parent == tmp_path and dst == str(out)
    assert rgb(out).shape == (20, 30, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.png", "cur.png", "diff.png"]


def test_failed_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = write_png(tmp_path / "base.png", flat(30, 20))
    cur = write_png(tmp_path / "cur.png", flat(30, 20, (0, 0, 0)))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(diffimage_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        compare_files(base, cur, diff_path=tmp_path / "diff.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.png", "cur.png"]
