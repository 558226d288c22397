"""Regenerate the README's pictures of the review app: `python -m vizzly_tui.tui.screenshots`.

It makes the Quick start demo project in a temporary folder, opens the app on it headless
(through the same factory as `vizzly-tui review`) and saves SVG screenshots in screenshots/,
with `vizzly-tui show`'s coloured output drawn as a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SHOTS: tuple[tuple[str, tuple[int, int], tuple[str, ...], str], ...] = (
    ("review", (120, 36), (), "The review queue of the demo: failed and new screenshots first"),
    ("review-80x24", (80, 24), (), "The same screen in an 80x24 terminal"),
    ("regions", (120, 36), ("5",), "Regions: diff clusters that can become ignore regions"),
    ("help", (120, 40), ("question_mark",), "Every key, with the binding ids the config remaps"),
    ("viewer", (120, 36), ("enter",), "enter: the comparison full size"),
    ("viewer-cluster", (120, 36), ("enter", "n", "n"), "n, n: the second change at 1:1, boxed"),
    ("viewer-side-by-side", (120, 36), ("enter", "1"), "1: baseline | current, in step"),
    ("viewer-blink", (120, 36), ("enter", "n", "n", "5", "space"), "5, space: blink, which"),
    ("viewer-slider", (120, 36), ("enter", "4"), "4: the slider between the two"),
    ("viewer-inspector", (120, 36), ("enter", "n", "n", "i"), "i: both colours, their ΔE2000"),
)
#: `vizzly-tui show` outputs: file name, arguments (the title is the command line).
SHOW_SHOTS: tuple[tuple[str, tuple[str, ...]], ...] = (("show", ("pricing", "--width", "100")),)


def _show_shot(project_root: Path, args: tuple[str, ...]) -> str:
    """The real command's coloured output, drawn as a terminal by Rich."""
    import subprocess
    import sys

    from vizzly_tui.show import ansi_svg

    argv = [sys.executable, "-m", "vizzly_tui", "--project", str(project_root), "show", *args]
    env = dict(os.environ, COLORTERM="truecolor")
    env.pop("NO_COLOR", None)
    run = subprocess.run(
        [*argv, "--color", "always"], env=env, capture_output=True, text=True, check=True
    )
    return ansi_svg(run.stdout, title=f"$ vizzly-tui show {' '.join(args)}", width=100)


async def _wait(pilot, ready: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if ready():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not settle")
        await pilot.pause(0.05)


async def _shoot(project_root: Path, out: Path, size, keys, title) -> None:
    from vizzly_tui.project import Project
    from vizzly_tui.tui.app import create_app
    from vizzly_tui.tui.settings import Settings
    from vizzly_tui.tui.viewer import widget as viewer_widget

    # SVG pictures are truecolor whatever terminal regenerates them.
    viewer_widget.FORCED_COLOURS = "truecolor"
    app = create_app(Project(project_root), settings=Settings(), watch=False)
    try:
        async with app.run_test(size=size) as pilot:
            await _wait(pilot, app.screen_ready)
            for key in keys:
                await pilot.press(key)
                await _wait(pilot, lambda: True)
            busy = [w for w in app.screen.query("ImageView") if getattr(w, "busy", False)]
            if busy:
                await _wait(pilot, lambda: not any(w.busy for w in busy))
            out.write_text(app.export_screenshot(title=title), encoding="utf-8")
    finally:
        app.store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    from vizzly_tui.demo import run_demo

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vizzly-demo"
        run_demo(root, lambda _line: None)
        for name, size, keys, title in SHOTS:
            path = args.out / f"{name}.svg"
            asyncio.run(_shoot(root, path, size, keys, f"vizzly-tui — {title}"))
            print(path)
        for name, show_args in SHOW_SHOTS:
            path = args.out / f"{name}.svg"
            path.write_text(_show_shot(root, show_args), encoding="utf-8")
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
