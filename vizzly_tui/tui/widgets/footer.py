"""The keys that apply now, as one line of text.

Textual's Footer is a grid of one widget per key, rebuilt on every "bindings changed"
signal; at start-up (focus, keymap, tables mounting) those rebuilds and their style passes
were about a third of the first screen's time. This footer is one Static: a burst of
binding changes is one cheap text update. Keys come from the live keymap.

On a narrow terminal (80 columns) every key does not fit: the gaps shrink to one space,
then the last keys give way, except help and quit, so a user can always find the rest.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


class KeysFooter(Static):
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._queued = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Any) -> None:
        if not self._queued and self.is_attached and screen is self.screen:
            self._queued = True
            self.call_after_refresh(self._rebuild)

    def on_resize(self) -> None:
        self._bindings_changed(self.screen)

    def _rebuild(self) -> None:
        self._queued = False
        if not self.is_attached:
            return  # its screen (e.g. the viewer) was closed before the rebuild ran
        self.update(self.keys_text())

    def keys_text(self) -> Text:
        keys: list[tuple[str, str, bool, bool]] = []  # key, description, enabled, kept
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            kept = binding.action in KEPT_ACTIONS
            keys.append((self.app.get_key_display(binding), binding.description, enabled, kept))
        room = self.content_size.width
        gap = "  "
        if room and _width(keys, gap) > room:
            gap = " "
            while _width(keys, gap) > room and any(not kept for *_, kept in keys):
                last = max(i for i, (*_, kept) in enumerate(keys) if not kept)
                del keys[last]
        key_style = self.app.theme_variables.get("footer-key-foreground", "bold")
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, description, enabled, _kept in keys:
            if text:
                text.append(gap)
            text.append(key, style=f"bold {key_style}")
            text.append(f" {description}", style="" if enabled else "dim")
        return text


# Shown whatever the width: help lists every other key.
KEPT_ACTIONS = frozenset({"help", "app.help", "quit", "app.quit"})


def _width(keys: list[tuple[str, str, bool, bool]], gap: str) -> int:
    return sum(cell_len(f"{key} {description}") for key, description, *_ in keys) + len(gap) * (
        len(keys) - 1
    )
