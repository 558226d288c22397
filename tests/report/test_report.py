"""The static HTML report: its content, and a real browser opening it from a file path."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from tests.report.cdp import chromium_page, find_chromium
from tests.storehelpers import make_project
from vizzly_tui.capture import CaptureSettings, capture, start_build
from vizzly_tui.cli import main
from vizzly_tui.store.store import open_store

REPO = Path(__file__).resolve().parents[2]


def page(title: str, accent=(37, 99, 235), extra: bool = False, tall: int = 0) -> bytes:
    image = Image.new("RGB", (640, 400 + tall), (248, 250, 252))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 640, 48), fill=(15, 23, 42))
    draw.text((16, 16), "Storefront", fill=(255, 255, 255))
    draw.text((24, 80), title, fill=(15, 23, 42))
    for row in range(6):
        draw.rectangle((24, 120 + row * 28, 420, 132 + row * 28), fill=(203, 213, 225))
    draw.rectangle((24, 320, 184, 360), fill=accent)
    draw.text((40, 332), "Buy now", fill=(255, 255, 255))
    if extra:
        draw.rectangle((460, 120, 610, 250), fill=(250, 204, 21))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def reported(tmp_path):
    """A project whose current build has failed, new and passed comparisons."""
    project = make_project(tmp_path / "shop")
    settings = CaptureSettings()
    desktop = {"browser": "chrome", "viewport": {"width": 1280, "height": 800}}
    phone = {"browser": "safari", "viewport": {"width": 375, "height": 812}}
    with open_store(project) as store:
        first = start_build(store, "run")
        capture(store, first.id, "checkout", page("Checkout"), desktop, settings)
        capture(store, first.id, "product <page>", page("Product"), desktop, settings)
        capture(store, first.id, "cart", page("Cart"), phone, settings)
        second = start_build(store, "run")
        capture(store, second.id, "checkout", page("Checkout", (22, 163, 74)), desktop, settings)
        capture(store, second.id, "product <page>", page("Product", extra=True), desktop, settings)
        capture(store, second.id, "cart", page("Cart"), phone, settings)
        capture(store, second.id, "account", page("Account"), desktop, settings)
    return project


def test_report_command_writes_a_self_contained_page(reported, tmp_path):
    result = CliRunner().invoke(main, ["--project", str(reported.root), "report", "--json"])
    assert result.exit_code == 0, result.output
    index = Path(__import__("json").loads(result.output)["reportPath"])
    assert index == reported.vizzly_dir / "report" / "index.html"
    text = index.read_text()
    assert "<script" not in text  # readable without JavaScript
    for heading in ("Visual changes (2)", "New screenshots (1)", "Passed (1)", "Errors (0)"):
        assert heading in text
    assert text.count("<details>") == 4
    assert "product _page_" in text  # the sanitized name, as upstream stores it
    assert "viewport 375" in text and "browser safari" in text
    assert "<rect " in text  # the diff clusters are drawn
    links = re.findall(r'src="([^"]+)"', text)
    assert links and all(not link.startswith(("/", "http")) for link in links)  # relative
    for link in links:
        assert (index.parent / html.unescape(link)).is_file()
    # Moved elsewhere (a CI artefact), it still has everything it needs.
    moved = tmp_path / "artefact"
    shutil.copytree(index.parent, moved)
    shutil.rmtree(reported.vizzly_dir / "report")
    for link in links:
        assert (moved / html.unescape(link)).is_file()


def test_report_out_folder_and_unknown_build(reported, tmp_path):
    out = tmp_path / "public"
    result = CliRunner().invoke(
        main, ["--project", str(reported.root), "report", "--out", str(out)]
    )
    assert result.exit_code == 0 and (out / "index.html").is_file()
    again = CliRunner().invoke(main, ["--project", str(reported.root), "report", "--out", str(out)])
    assert again.exit_code == 0  # our own page is replaced
    missing = CliRunner().invoke(main, ["--project", str(reported.root), "report", "--build", "x"])
    assert missing.exit_code == 2 and "no build 'x'" in missing.output


def test_report_never_overwrites_or_deletes_a_users_files(reported, tmp_path):
    site = tmp_path / "site"
    (site / "images").mkdir(parents=True)
    (site / "images" / "logo.png").write_bytes(b"mine")
    (site / "index.html").write_text("<html>my site</html>")
    refused = CliRunner().invoke(
        main, ["--project", str(reported.root), "report", "--out", str(site)]
    )
    assert refused.exit_code == 2 and "is not a vizzly-tui report" in refused.output
    assert (site / "index.html").read_text() == "<html>my site</html>"
    (site / "index.html").unlink()
    result = CliRunner().invoke(
        main, ["--project", str(reported.root), "report", "--out", str(site)]
    )
    assert result.exit_code == 0
    assert (site / "images" / "logo.png").read_bytes() == b"mine"


@pytest.mark.slow
async def test_report_opens_in_headless_chromium_from_a_file_path(reported, tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    from vizzly_tui.report import write_report

    index = write_report(reported)
    async with chromium_page(binary) as tab:
        await tab.send("Page.navigate", url=index.as_uri())
        await tab.wait_for("document.readyState === 'complete'")
        assert await tab.evaluate("document.querySelectorAll('details').length") == 4
        # Closed <details> do not load their images: open them all, as a reader would.
        await tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        await tab.wait_for("Array.from(document.images).every(i => i.complete)", timeout=20)
        broken = await tab.evaluate(
            "Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)"
        )
        assert broken == []
        # 4 baselines or placeholders, 4 current, 2 diffs each laid over a faded current.
        assert await tab.evaluate("document.images.length") == 12
        # Phone width: nothing wider than the screen.
        await tab.send(
            "Emulation.setDeviceMetricsOverride",
            width=390, height=844, deviceScaleFactor=1, mobile=True,
        )  # fmt: skip
        overflow = await tab.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
        assert overflow is True
        assert tab.console_errors() == []
        # The picture in the README: the first visual change open, at a laptop width.
        await tab.evaluate(
            "document.querySelectorAll('details').forEach((d, i) => d.open = i === 0)"
        )
        picture = tmp_path / "report.png"
        await tab.screenshot(picture, 1100, 900)
    assert Image.open(picture).size == (1100, 900)
    # The README's picture is kept in screenshots/: written when missing, refreshed on
    # request, so that a test run does not leave a changed file in every checkout.
    kept = REPO / "screenshots" / "report.png"
    if not kept.exists() or os.environ.get("VIZZLY_UPDATE_SCREENSHOTS") == "1":
        kept.parent.mkdir(exist_ok=True)
        shutil.copyfile(picture, kept)


def test_the_diff_is_shown_over_a_faded_current_image(reported):
    # The engine's diff image holds only the changes on a transparent canvas: alone it would
    # show red marks on nothing, so the report lays it over the current screenshot.
    result = CliRunner().invoke(main, ["--project", str(reported.root), "report"])
    assert result.exit_code == 0, result.output
    text = (reported.vizzly_dir / "report" / "index.html").read_text()
    diffs = re.findall(r"<figcaption>Diff</figcaption><div class=\"frame\">(.*?)</div>", text)
    assert len(diffs) == 2  # checkout and product changed
    for frame in diffs:
        under, over = re.findall(r"<img([^>]*)>", frame)
        assert 'class="under"' in under and "current" in under
        assert 'class="over"' in over and "diff" in over
