"""Typed messages from worker threads to the app. Workers only post these; handlers on the
event loop do the UI work. Messages that a newer one makes stale say so with `can_replace`,
so a burst of commits or progress ticks becomes one repaint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from vizzly_tui.tui.data import BuildRow, Detail, ListData, Row


class DbChanged(Message):
    """Another connection committed (another process, or our own writer)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DbChanged)


@dataclass
class BuildsReady(Message):
    builds: tuple[BuildRow, ...]
    newest: int | None
    build: int | None  # the build the list shows


@dataclass
class ListLoaded(Message):
    data: ListData
    token: int
    detail_for: int | None = None  # a DetailLoaded for this comparison follows


@dataclass
class PageLoaded(Message):
    generation: int  # the list state it was asked for (ComparisonList.generation)
    offset: int
    rows: tuple[Row, ...]


@dataclass
class AcceptAllKeys(Message):
    # Every acceptable comparison of the filter, read for `A`: cid -> Row.shown (what the
    # confirmation states is accepted; one that changes meanwhile is skipped).
    keys: dict[str, tuple[int | None, str | None, str]]


@dataclass
class BuildsLoaded(Message):
    builds: tuple[BuildRow, ...]
    newest_id: int | None


@dataclass
class DetailLoaded(Message):
    detail: Detail | None
    versions: tuple[dict, ...]
    comparison_id: int


@dataclass
class BaselinesLoaded(Message):
    baselines: tuple[dict, ...]


@dataclass
class DecisionDone(Message):
    label: str
    result: Any  # review.ActionResult
    advance: bool = False
    cids: tuple[str, ...] = ()  # the comparisons decided on (the app's in-flight guard)


@dataclass
class DecisionFailed(Message):
    label: str
    error: str
    cids: tuple[str, ...] = ()


@dataclass
class Progress(Message):
    label: str
    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress) and message.label == self.label


@dataclass
class ReadFailed(Message):
    what: str
    error: str


class ViewerReady(Message):
    """The image preview's modules are imported: it can be mounted."""
