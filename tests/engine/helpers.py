"""Image builders and an independent CIEDE2000 reference for the engine tests."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WHITE = (255, 255, 255, 255)


def png_bytes(pixels: np.ndarray | Image.Image, *, level: int = 6) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(np.asarray(pixels))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=level)
    return buffer.getvalue()


def write_png(path: Path, pixels: np.ndarray | Image.Image, *, level: int = 6) -> Path:
    path.write_bytes(png_bytes(pixels, level=level))
    return path


def flat(width: int, height: int, colour: tuple[int, ...] = WHITE) -> np.ndarray:
    rgba = colour if len(colour) == 4 else (*colour, 255)
    return np.tile(np.array(rgba, dtype=np.uint8), (height, width, 1))


def text_image(
    text: str,
    *,
    offset_quarter_px: int = 0,
    size: int = 16,
    width: int = 480,
    height: int = 40,
    fg: tuple[int, int, int] = (20, 20, 20),
    bg: tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """Text drawn at 4x with the built-in PIL font, LANCZOS-downsampled: real anti-aliasing.

    `offset_quarter_px` shifts the text right by that many quarter pixels of the result.
    """
    scale = 4
    big = Image.new("RGB", (width * scale, height * scale), bg)
    draw = ImageDraw.Draw(big)
    font = ImageFont.load_default(size=size * scale)
    draw.text((8 * scale + offset_quarter_px, 8 * scale), text, font=font, fill=fg)
    small = big.resize((width, height), Image.LANCZOS)
    return np.asarray(small.convert("RGBA")).copy()


def ui_like(width: int, height: int, *, seed: int = 3) -> np.ndarray:
    """Busy content (text lines and noise patches) so neighbourhoods are not flat."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    for row in range(8, height - 16, 22):
        draw.text(
            (6, row), "the quick brown fox jumps over 0123456789", font=font, fill=(30, 30, 40)
        )
    patch = rng.integers(0, 256, (min(24, height), min(24, width), 3), dtype=np.uint8)
    image.paste(Image.fromarray(patch), (width - patch.shape[1], 0))
    return np.asarray(image.convert("RGBA")).copy()


# --------------------------------------------------------------------------------------------
# Reference CIEDE2000 in plain Python (float64, degrees), written straight from Sharma, Wu &
# Dalal (2005), to check the vectorised float32 implementation against.

SHARMA_PAIRS = [
    # (L1, a1, b1), (L2, a2, b2), ΔE00 — from the paper's Table 1 test data
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def ref_ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if (a1p or b1) else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if (a2p or b2) else 0.0
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp) / 2)
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        h_mean = (h1p + h2p + 360) / 2
    else:
        h_mean = (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    d_theta = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt(
        (d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h)
    )


def ref_srgb_to_lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """sRGB 8-bit -> CIELAB D65, float64, textbook formulas."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ref_delta_e_rgb(rgb1: tuple[int, int, int], rgb2: tuple[int, int, int]) -> float:
    return ref_ciede2000(ref_srgb_to_lab(rgb1), ref_srgb_to_lab(rgb2))


def colour_at_distance(
    base: tuple[int, int, int], low: float, high: float
) -> tuple[tuple[int, int, int], float]:
    """A colour whose reference ΔE00 from `base` lies in (low, high), found by walking one
    channel at a time away from `base`."""
    for channel in range(3):
        for step in range(1, 60):
            for sign in (1, -1):
                candidate = list(base)
                candidate[channel] = base[channel] + sign * step
                if not 0 <= candidate[channel] <= 255:
                    continue
                colour = (candidate[0], candidate[1], candidate[2])
                distance = ref_delta_e_rgb(base, colour)
                if low < distance < high:
                    return colour, distance
    raise AssertionError(f"no colour with ΔE in ({low}, {high}) next to {base}")
