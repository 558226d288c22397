"""Every status and state name the tool stores or prints, in one place.

They are `StrEnum`s, so a member *is* its string: it compares equal to the text stored in
the database and in the Vizzly CLI's JSON files (`ComparisonStatus.FAILED == "failed"`),
goes into SQL and JSON unchanged, and prints as the bare word. This module imports nothing
of ours, so every layer (engine included) may use it.
"""

from __future__ import annotations

from enum import StrEnum


class ComparisonStatus(StrEnum):
    """A comparison's status, as the Vizzly CLI names it (contract section 4)."""

    PASSED = "passed"
    FAILED = "failed"
    NEW = "new"
    # Upstream's name for a comparison whose screenshot became the first baseline.
    BASELINE_CREATED = "baseline-created"
    REJECTED = "rejected"
    ERROR = "error"


# Both names a first screenshot of a signature can carry.
NEW_STATUSES: tuple[ComparisonStatus, ...] = (
    ComparisonStatus.NEW,
    ComparisonStatus.BASELINE_CREATED,
)


class BuildStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # the command was stopped (Ctrl-C, a signal) before its end
    IMPORTED = "imported"  # made from legacy JSON files or a cloud download
    FAILED = "failed"  # `serve`/`run` could not start listening (no free port)


class DecisionState(StrEnum):
    """Where a decision is in the crash protocol of store.decisions."""

    PENDING = "pending"  # recorded, its files not yet all in place
    DONE = "done"
    ROLLED_BACK = "rolled-back"  # undone by the protocol after a failure
    FAILED = "failed"  # could be neither completed nor rolled back: doctor reports it
    SUPERSEDED = "superseded"  # set aside by undo: its screenshot was captured again since
