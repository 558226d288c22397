"""The built-in demo: a project whose screenshots changed between two runs.

It draws UI-like screens with Pillow (no fonts or network needed) and POSTs them, as an SDK
would, to a vizzly-tui server on 127.0.0.1: a first run (the baselines) and a second run with
real changes (a recoloured button, edited text, a taller
page, a new screen), then prints the summary a test run would print.
"""

from __future__ import annotations

import asyncio
import base64
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from vizzly_tui.errors import UsageError
from vizzly_tui.project import Project
from vizzly_tui.store.store import open_store

MARKER = ".vizzly-tui-demo"
WIDTH, HEIGHT = 800, 500


@dataclass(frozen=True)
class Screen:
    name: str
    title: str
    accent: tuple[int, int, int]
    rows: int
    height: int = HEIGHT
    browser: str = "chrome"


def _draw(screen: Screen) -> bytes:
    image = Image.new("RGB", (WIDTH, screen.height), (248, 249, 251))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 56), fill=(33, 37, 41))
    draw.text((24, 20), screen.title, fill=(255, 255, 255))
    for i in range(screen.rows):
        top = 80 + i * 44
        draw.rectangle((24, top, WIDTH - 24, top + 34), outline=(210, 214, 220), fill="white")
        draw.text(
            (36, top + 11), f"{screen.title} item {i + 1}: lorem ipsum dolor", fill=(60, 60, 60)
        )
    draw.rounded_rectangle((24, screen.height - 64, 184, screen.height - 24), 8, fill=screen.accent)
    draw.text((60, screen.height - 50), "Continue", fill="white")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


BLUE, GREEN = (37, 99, 235), (22, 163, 74)
FIRST_RUN = [
    Screen("homepage", "Storefront", BLUE, 6),
    Screen("homepage", "Storefront", BLUE, 6, browser="firefox"),
    Screen("login", "Sign in", BLUE, 2),
    Screen("checkout", "Checkout", BLUE, 5),
    Screen("pricing", "Pricing", BLUE, 4),
    Screen("settings", "Settings", BLUE, 7),
]
SECOND_RUN = [
    Screen("homepage", "Storefront", BLUE, 6),
    Screen("homepage", "Storefront", BLUE, 6, browser="firefox"),
    Screen("login", "Sign in", GREEN, 2),  # the button changed colour
    Screen("checkout", "Checkout now", BLUE, 5),  # the title text changed
    Screen("pricing", "Pricing", BLUE, 4, height=560),  # the page grew taller
    Screen("settings", "Settings", BLUE, 7),
    Screen("profile", "Profile", BLUE, 3),  # a new screen
]


def prepare(directory: Path) -> Project:
    """Create (or recreate, if it is our own demo) the demo project folder."""
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise UsageError(f"{directory} exists and is not a vizzly-tui demo; choose --dir")
        shutil.rmtree(directory / ".vizzly", ignore_errors=True)
    (directory / ".vizzly").mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("created by `vizzly-tui demo`; safe to delete\n")
    return Project(directory)


def run_demo(directory: Path, echo: Callable[[str], None]) -> dict[str, int]:
    """Two runs, each a real server session that the screenshots are POSTed to."""
    project = prepare(directory)
    return asyncio.run(_send_runs(project, echo))


async def _send_runs(project: Project, echo: Callable[[str], None]) -> dict[str, int]:
    import aiohttp

    from vizzly_tui.config import load_config
    from vizzly_tui.server.runner import prepare_registry, start_server, stop_server

    config = load_config(project.root, node=None)
    prepare_registry(echo)
    with open_store(project) as store:
        for label, screens in (("first run (baselines)", FIRST_RUN), ("second run", SECOND_RUN)):
            server = await start_server(store, config, kind="run", echo=echo)
            echo(f"demo: {label}: sending {len(screens)} screenshots to {server.url}")
            try:
                async with aiohttp.ClientSession() as session:
                    for screen in screens:
                        body = {
                            "name": screen.name,
                            "image": base64.b64encode(_draw(screen)).decode(),
                            "type": "base64",
                            "properties": {"browser": screen.browser, "viewport": {"width": WIDTH}},
                        }
                        async with session.post(f"{server.url}/screenshot", json=body) as response:
                            if response.status != 200:
                                raise RuntimeError(
                                    f"demo screenshot failed: {await response.text()}"
                                )
            finally:
                await stop_server(server)
    return {"screens": len(SECOND_RUN)}
