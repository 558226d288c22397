"""Inputs of bench_engine.py: UI-like screenshot pairs, pairs with a known answer, and the
7000x7000 memory pair, generated once into .bench-cache/ (gitignored)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".bench-cache"
PAIRS_DIR = CACHE / "engine-pairs"
ACCURACY_DIR = CACHE / "engine-accuracy"
MEMORY_DIR = CACHE / "engine-memory"
PAIRS_VERSION = "2"  # bump when the generator changes, to regenerate the cached PNGs
SIZES = ((1280, 720), (1920, 1080), (3840, 2160))
KINDS = ("identical", "few", "heavy")
MEMORY_SIDE = 7000

WORDS = [
    *("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed"),
    *("do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna"),
    *("aliqua", "checkout", "cart", "order", "shipping", "total", "account", "settings"),
]


# --------------------------------------------------------------------------- pair generation
def render_page(width: int, height: int, *, dark: bool, seed: int = 7) -> Image.Image:
    """A UI-like page: header, sidebar menu, cards of text, photo-like patches, buttons."""
    rng = np.random.default_rng(seed)
    scale = width / 1280
    bg, panel, fg, border = (
        ((24, 26, 32), (36, 39, 48), (220, 222, 228), (60, 64, 76))
        if dark
        else ((248, 249, 251), (255, 255, 255), (30, 34, 40), (220, 224, 230))
    )
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, round(14 * scale)))
    title = ImageFont.load_default(size=max(14, round(24 * scale)))

    def s(v: float) -> int:
        return round(v * scale)

    draw.rectangle([0, 0, width, s(56)], fill=(40, 70, 160) if not dark else (30, 40, 90))
    draw.text((s(24), s(14)), "Storefront dashboard", font=title, fill=(255, 255, 255))
    draw.rectangle([0, s(56), s(220), height], fill=panel)
    for i in range(max(1, (height - s(80)) // s(36))):
        draw.text((s(20), s(76 + 36 * i)), f"Menu item {i + 1}", font=font, fill=fg)
    # A photo-like hero strip: smooth gradient with sensor noise (costly to compress/decode).
    hero_h = s(140)
    gy, gx = np.mgrid[0:hero_h, 0 : width - s(244)]
    hero = np.stack(
        [120 + 80 * np.sin(gx / (90 * scale)), 110 + 60 * np.cos(gy / (40 * scale)), 150 + 0 * gx],
        axis=-1,
    )
    hero = np.clip(hero + rng.normal(0, 9, hero.shape), 0, 255).astype(np.uint8)
    image.paste(Image.fromarray(hero), (s(232), s(68)))
    y = s(68) + hero_h + s(16)
    while y < height - s(210):
        x = s(244)
        while x < width - s(310):
            draw.rounded_rectangle([x, y, x + s(300), y + s(200)], s(8), fill=panel, outline=border)
            words = rng.choice(WORDS, 3)
            draw.text((x + s(16), y + s(12)), " ".join(words).title(), font=title, fill=fg)
            for line in range(5):
                text = " ".join(rng.choice(WORDS, 5))
                draw.text((x + s(16), y + s(52 + 22 * line)), text, font=font, fill=fg)
            avatar = rng.integers(0, 255, (s(40), s(40), 3), dtype=np.uint8)
            image.paste(Image.fromarray(avatar), (x + s(240), y + s(12)))
            button = [x + s(16), y + s(156), x + s(136), y + s(188)]
            draw.rounded_rectangle(button, s(6), fill=(60, 110, 230))
            draw.text((x + s(30), y + s(162)), "Open", font=font, fill=(255, 255, 255))
            x += s(324)
        y += s(224)
    return image


def _png(image: Image.Image, level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=level)
    return buffer.getvalue()


def few_pixel_change(image: Image.Image) -> Image.Image:
    """Two small spots (7 px) and a faint patch below ΔE 2, far apart."""
    pixels = np.array(image)
    height, width = pixels.shape[:2]
    pixels[height // 3 : height // 3 + 2, width // 2 : width // 2 + 2] = (230, 30, 30)
    pixels[height - 40, 300:303] = (10, 200, 40)
    pixels[height // 2 : height // 2 + 6, width - 400 : width - 396] = (250, 250, 250)
    return Image.fromarray(pixels)


def build_pairs() -> dict[str, tuple[Path, Path]]:
    """Write (or reuse) the PNG pairs; returns name -> (baseline, current)."""
    stamp = PAIRS_DIR / f"version-{PAIRS_VERSION}"
    if not stamp.exists():
        shutil.rmtree(PAIRS_DIR, ignore_errors=True)
        PAIRS_DIR.mkdir(parents=True)
        for width, height in SIZES:
            print(f"  generating {width}x{height} pairs...", flush=True)
            page = render_page(width, height, dark=False)
            base = _png(page, 6)
            tag = f"{width}x{height}"
            (PAIRS_DIR / f"{tag}-baseline.png").write_bytes(base)
            # Same pixels, different bytes: no byte-level shortcut applies.
            (PAIRS_DIR / f"{tag}-identical.png").write_bytes(_png(page, 3))
            (PAIRS_DIR / f"{tag}-few.png").write_bytes(_png(few_pixel_change(page), 6))
            (PAIRS_DIR / f"{tag}-heavy.png").write_bytes(
                _png(render_page(width, height, dark=True), 6)
            )
        shutil.copyfile(PAIRS_DIR / "1920x1080-baseline.png", PAIRS_DIR / "1920x1080-copy.png")
        stamp.write_text("ok\n")
    pairs = {}
    for width, height in SIZES:
        tag = f"{width}x{height}"
        for kind in KINDS:
            pairs[f"{tag} {kind}"] = (
                PAIRS_DIR / f"{tag}-baseline.png",
                PAIRS_DIR / f"{tag}-{kind}.png",
            )
    pairs["1920x1080 byte-identical"] = (
        PAIRS_DIR / "1920x1080-baseline.png",
        PAIRS_DIR / "1920x1080-copy.png",
    )
    return pairs


# --------------------------------------------------------------------------- accuracy pairs
def build_accuracy() -> dict[str, tuple[Path, Path, bool]]:
    """Pairs with a known answer: name -> (baseline, current, should it be different)."""
    from tests.engine.helpers import colour_at_distance, flat, text_image

    sentence = "The quick brown fox jumps over the lazy dog 0123"
    background = (70, 110, 160)
    recoloured, _ = colour_at_distance(background, 8.0, 12.0)
    grey = (120, 130, 140)
    under, _ = colour_at_distance(grey, 1.80, 1.95)
    over, _ = colour_at_distance(grey, 2.05, 2.25)
    block = flat(640, 360)
    block[100:200, 150:350] = (255, 0, 0, 255)
    recolour = flat(400, 300, background)
    recolour[50:150, 100:300, :3] = recoloured
    cases = {
        "200x100 red block on white": (flat(640, 360), block, True),
        "block recoloured, ΔE ~10": (flat(400, 300, background), recolour, True),
        "page recoloured, ΔE 2.05-2.25": (flat(300, 200, grey), flat(300, 200, over), True),
        "page shifted by ΔE 1.80-1.95": (flat(300, 200, grey), flat(300, 200, under), False),
        "text moved 1/4 px right": (
            text_image(sentence),
            text_image(sentence, offset_quarter_px=1),
            False,
        ),
        "changed word (fox -> cat)": (text_image("brown fox"), text_image("brown cat"), True),
    }
    ACCURACY_DIR.mkdir(parents=True, exist_ok=True)
    pairs = {}
    for index, (name, (first, second, expected)) in enumerate(cases.items()):
        base = ACCURACY_DIR / f"{index}-baseline.png"
        cur = ACCURACY_DIR / f"{index}-current.png"
        base.write_bytes(_png(Image.fromarray(first), 6))
        cur.write_bytes(_png(Image.fromarray(second), 6))
        pairs[name] = (base, cur, expected)
    return pairs


# --------------------------------------------------------------------------- memory
def build_memory_pair() -> tuple[Path, Path]:
    """A 7000x7000 gradient with noise, and its negative: every pixel changes."""
    base, cur = MEMORY_DIR / "baseline.png", MEMORY_DIR / "current.png"
    if not (base.exists() and cur.exists()):
        print(f"  generating the {MEMORY_SIDE}x{MEMORY_SIDE} memory pair...", flush=True)
        MEMORY_DIR.mkdir(parents=True, exist_ok=True)
        n = MEMORY_SIDE
        rng = np.random.default_rng(3)
        gy, gx = np.mgrid[0:n, 0:n].astype(np.float32)
        pixels = np.stack([gx * (255 / n), gy * (255 / n), (gx + gy) * (127 / n)], axis=-1)
        del gx, gy
        pixels += rng.normal(0, 6, (n, n, 1)).astype(np.float32)
        image = np.clip(pixels, 0, 255).astype(np.uint8)
        del pixels
        Image.fromarray(image).save(base.with_suffix(".tmp"), "PNG", compress_level=1)
        Image.fromarray(255 - image).save(cur.with_suffix(".tmp"), "PNG", compress_level=1)
        base.with_suffix(".tmp").rename(base)
        cur.with_suffix(".tmp").rename(cur)
    return base, cur
