"""The review app: builds, comparisons, detail, baselines and regions, with keyboard decisions.

Threads: the event loop never touches the database. Reads run in thread workers
(tui/data.py) and come back as typed messages; decisions call vizzly_tui.review's actions
from thread workers (they block on the store's writer) and come back as DecisionDone /
DecisionFailed. A watcher thread posts DbChanged when anyone commits; refreshes are paced so
a burst of commits is a few repaints, and the cursor is kept by comparison id.

`create_app` is the one factory: the CLI, the tests, the screenshots and the benchmark all
build the app through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Static
from textual.worker import Worker, WorkerState

from vizzly_tui.formatting import printable
from vizzly_tui.project import Project
from vizzly_tui.store.store import Store, open_store
from vizzly_tui.tui import data
from vizzly_tui.tui.commands import ReviewCommands
from vizzly_tui.tui.data import FILTER_LABELS, FILTERS, BuildRow, Detail, ListData
from vizzly_tui.tui.decide import DecisionsMixin
from vizzly_tui.tui.loading import LoadingMixin
from vizzly_tui.tui.messages import (
    BaselinesLoaded,
    DbChanged,
    ReadFailed,
    ViewerReady,
)
from vizzly_tui.tui.settings import Settings, load_settings
from vizzly_tui.tui.widgets.comparisons import ComparisonList
from vizzly_tui.tui.widgets.footer import KeysFooter
from vizzly_tui.tui.widgets.panes import BaselinesTable, BuildsTable, DetailView, RegionsTable

# Actions that make sense only with the review screen in front.
MAIN_ONLY = frozenset(
    {
        "accept_all",
        "delete",
        "skip",
        "open",
        "cycle_filter",
        "search",
        "cycle_browser",
        "cycle_viewport",
        "focus_pane",
        "leave_search",
        "clear_filters",
        "all_baselines",
    }
)
DECISIONS = frozenset({"accept", "reject", "undo"})
PANES = ("builds", "comparisons", "detail", "baselines", "regions")


@dataclass(frozen=True)
class AppOptions:
    build_uid: str | None = None
    filter: str | None = None
    read_only: bool = False


class ReviewApp(LoadingMixin, DecisionsMixin, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "vizzly-tui"
    COMMANDS = App.COMMANDS | {ReviewCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept", id="accept"),
        Binding("r", "reject", "Reject", id="reject"),
        Binding("s", "skip", "Skip", id="skip"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("A", "accept_all", "Accept all", id="accept-all"),
        Binding("x", "delete", "Delete", id="delete", show=False),
        Binding("enter", "open", "Open", id="open"),
        Binding("f", "cycle_filter", "Filter", id="filter"),
        Binding("slash", "search", "Search", id="search"),
        Binding("b", "cycle_browser", "Browser", id="browser", show=False),
        Binding("v", "cycle_viewport", "Viewport", id="viewport", show=False),
        Binding("tab", "next_pane", "Next pane", id="next-pane", show=False, priority=True),
        Binding(
            "shift+tab", "previous_pane", "Prev pane", id="previous-pane", show=False, priority=True
        ),
        Binding("1", "focus_pane('builds')", "Builds", id="focus-builds", show=False),
        Binding("2", "focus_pane('comparisons')", "List", id="focus-comparisons", show=False),
        Binding("3", "focus_pane('detail')", "Detail", id="focus-detail", show=False),
        Binding("4", "focus_pane('baselines')", "Baselines", id="focus-baselines", show=False),
        Binding("5", "focus_pane('regions')", "Regions", id="focus-regions", show=False),
        Binding("escape", "leave_search", "Back", id="leave-search", show=False),
        Binding("ctrl+p", "command_palette", "Palette", id="command-palette", priority=True),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self, store: Store, options: AppOptions, settings: Settings, *, watch: bool = True
    ) -> None:
        super().__init__()
        self.store = store
        self.options = options
        self.settings = settings
        self._watch = watch
        self._watcher: Any = None
        self.animation_level = "none"  # over ssh every animation frame is bytes on the wire
        self.builds: tuple[BuildRow, ...] = ()
        self.newest_build_id: int | None = None
        self.viewed_build_id: int | None = None
        self.follow_newest = options.build_uid is None
        self.filter = options.filter or settings.default_filter or "needs-review"
        self.search_text = ""
        self.browser: str | None = None
        self.viewport: int | None = None
        self.list_data: ListData | None = None
        self.detail: Detail | None = None
        self.versions: tuple[dict, ...] = ()
        self.progress_text = ""
        self._token = 0
        self._refresh_running = False
        self._refresh_pending = False
        self._refresh_timer: Any = None
        self._last_refresh = 0.0
        self._announced_done = False
        self._first_screen_at: float | None = None
        self._deciding: dict[str, int | None] = {}  # cid -> see DecisionsMixin.deciding
        self._prefetched: int | None = None  # comparison whose detail a refresh is sending
        self._preview: Any = None
        self._preview_failed = False  # the viewer's ImagePreview, mounted after the first screen

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with Vertical(id="builds-pane", classes="pane"):
                    yield BuildsTable(id="builds")
                with Vertical(id="comparisons-pane", classes="pane"):
                    yield Input(placeholder="search by name", id="search", classes="-hidden")
                    yield ComparisonList(id="comparisons")
                # Under the list, not under the picture: the detail gets the whole height.
                with Vertical(id="baselines-pane", classes="pane"):
                    yield BaselinesTable(id="baselines")
                with Vertical(id="regions-pane", classes="pane"):
                    yield RegionsTable(id="regions")
            with Vertical(id="right"), Vertical(id="detail-pane", classes="pane"):
                yield DetailView(id="detail")
        yield Static("", id="notices")
        yield KeysFooter(id="footer")

    def on_mount(self) -> None:
        self.title = "vizzly-tui"
        self.sub_title = printable(self.store.project.root.name)
        titles = {
            "builds": "1 Builds",
            "comparisons": "2 Comparisons",
            "detail": "3 Detail",
            "baselines": "4 Baselines",
            "regions": "5 Regions",
        }
        for pane, title in titles.items():
            self.main.query_one(f"#{pane}-pane").border_title = title
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        for problem in self.settings.problems:
            self.notify(problem, severity="warning", timeout=8)
        if self.settings.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.notify(f"unknown theme {self.settings.theme!r}", severity="warning")
        self._size_classes(self.size.width, self.size.height)
        self.main.query_one(ComparisonList).focus()
        self._update_notices()
        if self.store.db is None:
            self.main.query_one(ComparisonList).empty_message = "No screenshots recorded yet."
            return
        if self._watch:
            from vizzly_tui.tui.live import Watcher

            self._watcher = Watcher(self.store, lambda: self.post_message(DbChanged())).start()
        self.request_refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._size_classes(event.size.width, event.size.height)

    def _size_classes(self, width: int, height: int) -> None:
        self.main.set_class(width < 110, "-narrow")
        self.main.set_class(height < 30, "-short")
        self.main.set_class(height >= 50, "-tall")

    @property
    def main(self) -> Screen:
        """The review screen. `self.query_one` searches only the active screen, which is a
        dialog or the viewer while one is open; live updates still go to the panes."""
        return self.screen_stack[0]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys of the review screen do nothing under a dialog; over the viewer only the
        decisions on the comparison it shows (a, r, u) and help apply."""
        from vizzly_tui.tui.screens import ConfirmScreen, HelpScreen

        if not self.screen_stack or self.screen is self.main:
            return True
        if isinstance(self.screen, ConfirmScreen | HelpScreen):
            return action not in MAIN_ONLY | DECISIONS | {"quit", "help"}
        return action not in MAIN_ONLY

    def on_unmount(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        if self._watcher is not None:
            self._watcher.stop()

    # --- detail -------------------------------------------------------------------------

    @on(ComparisonList.Highlighted)
    def _highlighted(self, message: ComparisonList.Highlighted) -> None:
        if message.row is None:
            self.detail = None
            self.versions = ()
            self._show_detail()
            return
        if message.row.id == self._prefetched:
            return  # the refresh that selected it has read its detail already
        self._prefetched = None
        # After the cursor's repaint: the key press shows at once, the numbers follow.
        self.call_after_refresh(self._load_detail, message.row.id)

    def on_detail_shown(self, detail: Detail | None) -> None:
        """The overlay picture under the numbers (drawn by the viewer's worker threads)."""
        if self._preview is None:
            return  # mounted once its modules are imported; it then shows self.detail
        from vizzly_tui.tui.viewer import subject_from_detail

        self._preview.subject = subject_from_detail(detail) if detail is not None else None

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _warm_viewer(self) -> None:
        """Import the picture code (numpy, Pillow, the engine: ~0.6 s) off the event loop
        after the first screen, so the list and the numbers do not wait for it."""
        try:
            import vizzly_tui.tui.viewer.preview  # noqa: F401
        except Exception as exc:
            self._preview_failed = True  # the numbers stay; the picture is not shown
            self.post_message(ReadFailed("the image preview", str(exc)))
            return
        self.post_message(ViewerReady())

    def _keymap_problems(self) -> list[str]:
        """What the user's [keys] breaks: ids no binding has, and bindings whose keys it
        gave to another action of the same screen or pane (Textual drops those silently)."""
        from vizzly_tui.tui.screens import ConfirmScreen, HelpScreen
        from vizzly_tui.tui.viewer import ViewerScreen

        keymap = self.settings.keymap
        owners = (type(self), ComparisonList, BuildsTable, BaselinesTable, RegionsTable)
        owners += (ViewerScreen, ConfirmScreen, HelpScreen)
        problems: list[str] = []
        known: set[str] = set()
        for cls in owners:
            bindings = [b for b in cls.BINDINGS if isinstance(b, Binding) and b.id]
            known.update(b.id for b in bindings if b.id)
            for binding in bindings:
                if binding.id in keymap:
                    continue  # rebound by the user: its old keys are free
                taken = {
                    key
                    for other in bindings
                    if other.id in keymap and other.id != binding.id
                    for key in keymap[other.id].split(",")
                }
                lost = [k for k in binding.key.split(",") if k.strip() in taken]
                if lost:
                    left = len(lost) == len(binding.key.split(","))
                    problems.append(
                        f"{binding.id} lost the key {', '.join(lost)} to another binding"
                        + (" and has no key left" if left else "")
                    )
        unknown = sorted(set(keymap) - known)
        if unknown:
            problems.append(f"no binding has the id {', '.join(unknown)} (? lists the ids)")
        return problems

    def on_viewer_ready(self, message: ViewerReady) -> None:
        from vizzly_tui.tui.viewer import ImagePreview

        # Checked now: the viewer's bindings are importable cheaply only after the warm-up.
        for problem in self._keymap_problems() if self.settings.keymap else ():
            title = f"{self.settings.path or 'config.toml'} [keys]"
            self.notify(problem, title=title, severity="warning", timeout=8)

        self._preview = ImagePreview(id="preview")
        self.main.query_one("#detail-pane").mount(self._preview)
        self.on_detail_shown(self.detail)

    def screen_ready(self) -> bool:
        """The screen is complete: the list, the detail numbers and the detail picture
        (used by the tests, the screenshots script and the benchmark)."""
        if self.list_data is None or self._refresh_running or self._refresh_pending:
            return False
        if not self.list_data.total:
            return True
        if self.detail is None:
            return False
        if self._preview is None:
            return self._preview_failed
        return not self._preview.busy

    # --- filters ------------------------------------------------------------------------

    def set_filter(self, name: str) -> None:
        self.filter = name
        self.notify(f"Filter: {FILTER_LABELS[name]}", timeout=2)
        self.request_refresh()

    def action_cycle_filter(self) -> None:
        self.set_filter(FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)])

    def _cycle(self, values: tuple[Any, ...], current: Any) -> Any:
        options = (None, *values)
        return options[(options.index(current) + 1) % len(options)] if current in options else None

    def action_cycle_browser(self) -> None:
        self.browser = self._cycle(self.list_data.browsers if self.list_data else (), self.browser)
        self.notify(f"Browser: {self.browser or 'all'}", timeout=2)
        self.request_refresh()

    def action_cycle_viewport(self) -> None:
        values = self.list_data.viewports if self.list_data else ()
        self.viewport = self._cycle(values, self.viewport)
        self.notify(f"Viewport: {self.viewport or 'all'}", timeout=2)
        self.request_refresh()

    def action_clear_filters(self) -> None:
        self.search_text, self.browser, self.viewport = "", None, None
        search = self.main.query_one("#search", Input)
        search.value = ""
        search.add_class("-hidden")
        self.request_refresh()

    def action_search(self) -> None:
        search = self.main.query_one("#search", Input)
        search.remove_class("-hidden")
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()
        self.request_refresh()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.action_leave_search()

    def action_leave_search(self) -> None:
        search = self.main.query_one("#search", Input)
        if not search.value:
            search.add_class("-hidden")
        self.main.query_one(ComparisonList).focus()

    # --- panes --------------------------------------------------------------------------

    def _pane_widget(self, pane: str) -> Any:
        return self.main.query_one(f"#{pane}")

    def action_focus_pane(self, pane: str) -> None:
        container = self.main.query_one(f"#{pane}-pane")
        widget = self._pane_widget(pane)
        if container.has_class("-collapsed"):
            container.remove_class("-collapsed")
            # A widget that was not displayed can take focus only once it is laid out again.
            self.call_after_refresh(widget.focus)
        elif widget.has_focus and pane != "comparisons":
            self.toggle_pane(pane)
        else:
            widget.focus()

    def toggle_pane(self, pane: str) -> None:
        container = self.main.query_one(f"#{pane}-pane")
        container.toggle_class("-collapsed")
        if container.has_class("-collapsed") and self._pane_widget(pane).has_focus:
            self.main.query_one(ComparisonList).focus()

    def action_next_pane(self) -> None:
        self.screen.focus_next()

    def action_previous_pane(self) -> None:
        self.screen.focus_previous()

    # --- builds -------------------------------------------------------------------------

    @on(BuildsTable.ViewBuild)
    def _view_build(self, message: BuildsTable.ViewBuild) -> None:
        self.view_build(message.uid)

    def view_build(self, uid: str) -> None:
        build = next((b for b in self.builds if b.uid == uid), None)
        if build is None:
            return
        if build.is_origin:
            self.notify("A baseline origin has no comparisons to show", severity="warning")
            return
        self.follow_newest = build.id == self.newest_build_id
        self.viewed_build_id = build.id
        if not self.follow_newest:
            self.notify(
                f"Viewing older build {uid}: read-only, decisions apply to the newest build only",
                severity="warning",
            )
        self.request_refresh()

    # --- baselines pane -----------------------------------------------------------------

    def action_all_baselines(self) -> None:
        table = self.main.query_one(BaselinesTable)
        if table.all_view:
            table.show_versions(self.versions)
            self.main.query_one("#baselines-pane").border_title = "4 Baselines"
        else:
            self._all_baselines_worker()

    @on(BaselinesTable.ToggleAll)
    def _toggle_all(self) -> None:
        self.action_all_baselines()

    @work(thread=True, exclusive=True, group="baselines", exit_on_error=False)
    def _all_baselines_worker(self) -> None:
        try:
            self.post_message(BaselinesLoaded(data.all_baselines(self.store)))
        except Exception as exc:
            self.post_message(ReadFailed("baselines", str(exc)))

    def on_baselines_loaded(self, message: BaselinesLoaded) -> None:
        self.main.query_one(BaselinesTable).show_all(message.baselines)
        self.main.query_one("#baselines-pane").border_title = "4 Baselines · all"

    # --- other --------------------------------------------------------------------------

    def action_help(self) -> None:
        from vizzly_tui.tui.screens import HelpScreen

        self.push_screen(HelpScreen(self.active_keys()))

    def active_keys(self) -> dict[str, str]:
        """binding id -> keys as the user sees them (after their keymap)."""
        keys: dict[str, list[str]] = {}
        for widget_cls in (type(self), ComparisonList, BuildsTable, BaselinesTable, RegionsTable):
            for binding in widget_cls.BINDINGS:
                if isinstance(binding, Binding) and binding.id:
                    keys.setdefault(binding.id, []).append(binding.key)
        out = {}
        for binding_id, values in keys.items():
            raw = self._keymap.get(binding_id) or ",".join(values)
            out[binding_id] = ", ".join(
                self.get_key_display(Binding(k, "")) for k in raw.split(",")
            )
        return out

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notice is plain text: they quote names, variants, search text and error
        messages, where "[/]" read as markup would raise and an escape reach the terminal."""
        super().notify(
            printable(message, lines=True),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for a worker that failed in a way its own code did not expect."""
        if event.state == WorkerState.ERROR:
            if event.worker.group == "refresh":
                self._refresh_running = False
            self.notify(f"internal error: {event.worker.error!r}", severity="error")

    def on_db_changed(self, message: DbChanged) -> None:
        self.request_refresh()


def create_app(
    project: Project,
    *,
    options: AppOptions | None = None,
    settings: Settings | None = None,
    store: Store | None = None,
    watch: bool = True,
) -> ReviewApp:
    """The one way to build the app (CLI, tests, screenshots, benchmark)."""
    options = options or AppOptions()
    if store is None:
        store = open_store(project, write=not options.read_only)
    return ReviewApp(store, options, settings or load_settings(), watch=watch)


def run_app(app: ReviewApp, *, mouse: bool = True) -> int:
    """Run until the user quits; the exit status (1 when the app ended on an error, whose
    traceback Textual has printed: scripts must not read a crash as success)."""
    try:
        app.run(mouse=mouse)
    finally:
        app.store.close()
    return app.return_code or 0
