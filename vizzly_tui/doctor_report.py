"""A doctor report: findings with a severity, what to do, and the exit code they make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vizzly_tui.errors import EXIT_DATABASE

# Files and rows younger than this may belong to work in progress (a capture, a diff image
# being written): the same age after which recovery sweeps temporary files.
IN_FLIGHT_S = 60
# How long doctor waits for the project lock to confirm what it found (a capture holds it
# for one screenshot; a review command for its whole decision).
CONFIRM_LOCK_S = 10
DOCTOR_EXIT_HEALTHY = 0
DOCTOR_EXIT_WARNINGS = 1
DOCTOR_EXIT_ERRORS = EXIT_DATABASE


@dataclass
class Finding:
    severity: str  # error | warning | note
    check: str  # database | baselines | comparisons | decisions | objects | server
    message: str  # what is wrong, in plain words
    action: str | None = None  # what to do about it
    items: list[str] = field(default_factory=list)  # the files or names concerned

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "action": self.action,
            "items": self.items,
        }


@dataclass
class DoctorReport:
    project: str
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        severity: str,
        check: str,
        message: str,
        action: str | None = None,
        items: list[str] | None = None,
    ) -> None:
        self.findings.append(Finding(severity, check, message, action, items or []))

    @property
    def exit_code(self) -> int:
        severities = {f.severity for f in self.findings}
        if "error" in severities:
            return DOCTOR_EXIT_ERRORS
        if "warning" in severities:
            return DOCTOR_EXIT_WARNINGS
        return DOCTOR_EXIT_HEALTHY

    @property
    def healthy(self) -> bool:
        return self.exit_code == DOCTOR_EXIT_HEALTHY

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "healthy": self.healthy,
            "exitCode": self.exit_code,
            "checked": self.checked,
            "findings": [f.to_json() for f in self.findings],
        }


REPAIR = "run `vizzly-tui doctor --repair` (it keeps the damaged file beside the new one)"
