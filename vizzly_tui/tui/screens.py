"""Modal screens: confirmation (accept all, delete, restore, region preview) and help."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from vizzly_tui.formatting import printable

# (binding id, what it does) in the order the help lists them; keys come from the live keymap.
HELP_ROWS = (
    ("cursor-down", "next item"),
    ("cursor-up", "previous item"),
    ("open", "open the comparison full size"),
    ("next-pane", "next pane"),
    ("previous-pane", "previous pane"),
    ("accept", "accept: the current screenshot becomes the baseline"),
    ("reject", "reject: keep the baseline"),
    ("skip", "skip to the next item"),
    ("accept-all", "accept every item in the filter (asks first)"),
    ("undo", "undo the last decision"),
    ("delete", "delete the comparison and its baseline (asks first)"),
    ("filter", "cycle: needs review, failed, new, rejected, all"),
    ("search", "search by name"),
    ("browser", "filter by browser (cycles)"),
    ("viewport", "filter by viewport width (cycles)"),
    ("focus-builds", "focus Builds (again: collapse/expand)"),
    ("focus-comparisons", "focus Comparisons"),
    ("focus-detail", "focus Detail (again: collapse/expand)"),
    ("focus-baselines", "focus Baselines (again: collapse/expand)"),
    ("focus-regions", "focus Regions (again: collapse/expand)"),
    ("view-build", "Builds: view the selected build"),
    ("restore-version", "Baselines: restore the selected version"),
    ("all-baselines", "Baselines: every baseline of the project"),
    ("delete-baseline", "Baselines (all): delete the baseline"),
    ("ignore-cluster", "Regions: ignore the selected diff cluster"),
    ("delete-region", "Regions: delete the local region"),
    ("help", "this help"),
    ("command-palette", "command palette"),
    ("quit", "quit"),
)


class ConfirmScreen(ModalScreen[bool]):
    """Ask before a decision that is broad or destructive; dismisses with True or False."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmScreen #confirm-keys { margin-top: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, title: str, body: str | Text, yes: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self._title
            yield self._body_widget()
            yield Static(f"y / enter: {self._yes}    n / esc: cancel", id="confirm-keys")

    def _body_widget(self) -> Static:
        # Bodies name screenshots and variants: text, never markup or escapes.
        body = self._body if isinstance(self._body, Text) else printable(self._body, lines=True)
        return Static(body, id="confirm-body", markup=False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class RegionScreen(ConfirmScreen):
    """The ignore-region proposal: its numbers and, above them, the comparison's picture
    with the padded box drawn where it will be (the viewer's guides, showing only this
    box), so the user sees what will be ignored before it is saved."""

    DEFAULT_CSS = """
    RegionScreen > Vertical { width: 90%; max-width: 140; height: 90%; }
    RegionScreen #region-picture { height: 1fr; min-height: 6; }
    RegionScreen #confirm-body { height: auto; }
    """

    def __init__(self, title: str, body: str | Text, subject: Any | None, yes: str) -> None:
        super().__init__(title, body, yes=yes)
        self._subject = subject  # a ViewerSubject whose only region is the proposed box

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self._title
            if self._subject is not None:
                from vizzly_tui.tui.viewer import ImagePreview

                yield ImagePreview(id="region-picture")
            yield self._body_widget()
            yield Static(f"y / enter: {self._yes}    n / esc: cancel", id="confirm-keys")

    def on_mount(self) -> None:
        if self._subject is not None:
            picture = self.query_one("#region-picture")
            picture.subject = self._subject
            if not picture.options.guides:
                picture.toggle_guides()

    @property
    def picture(self) -> Any | None:
        """The picture with the proposed box (None when the images could not be shown)."""
        found = self.query("#region-picture")
        return found.first() if found else None


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90; max-width: 98%; height: auto; max-height: 95%; padding: 0 1;
        border: thick $primary; background: $surface; overflow-y: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help-close")
    ]

    def __init__(self, keys: dict[str, str]) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        text = Text()
        for binding_id, what in HELP_ROWS:
            keys = self._keys.get(binding_id, "")
            text.append(f"{keys:>14}  ", style="bold")
            text.append(f"{what:<52}")
            text.append(f" {binding_id}\n", style="dim")
        text.append(
            "\nRemap a key by its id (right column), set the theme and the default filter "
            "in $XDG_CONFIG_HOME/vizzly-tui/config.toml:\n"
            '  theme = "textual-light"\n  default_filter = "all"\n  [keys]\n  accept = "a,y"',
            style="dim",
        )
        with Vertical() as box:
            box.border_title = "Keys"
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
