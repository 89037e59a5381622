"""What the connection check found: each step's result, the report, and its text for a console.

A step ends in one of three ways: it returns an :class:`Outcome` (passed, or skipped with what
it found), or it raises :class:`Failed` (the misconfiguration, what was found and the fix). The
orchestration (:mod:`~airflow_provider_meetings.diagnostics.check`) turns these into one
:class:`StepResult` per step and a :class:`CheckReport`; nothing here sends a request.
"""

from __future__ import annotations

import enum
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_meetings import __version__

__all__ = ["CheckReport", "Failed", "Outcome", "Status", "StepResult", "report_lines", "scrub"]


class Status(str, enum.Enum):
    """The outcome of one step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"


class Failed(Exception):
    """A step's failure: the misconfiguration, what was found, and the fix.

    :param problem: stable name of the misconfiguration, e.g. ``wrong_secret``
    :param message: what was found
    :param fix: what to do
    """

    def __init__(self, problem: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Outcome:
    """A step that did not fail: passed (``skipped=False``) or skipped, with what it found.

    :param message: what was found
    :param skipped: the step could not decide (a later call will tell)
    """

    message: str
    skipped: bool = False


@dataclass(frozen=True)
class StepResult:
    """What one step found.

    :param number: position in the check, from 1
    :param key: stable name, e.g. ``token``
    :param title: what the step checks, for people
    :param status: passed, failed, skipped, or not run (after an earlier failure)
    :param message: what was found
    :param fix: what to do (failures only)
    :param problem: stable name of the misconfiguration (failures only), e.g. ``wrong_secret``
    """

    number: int
    key: str
    title: str
    status: Status
    message: str = ""
    fix: str | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-able data."""
        return {
            "step": self.number,
            "key": self.key,
            "title": self.title,
            "status": self.status.value,
            "message": self.message,
            "fix": self.fix,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class CheckReport:
    """The results of every step of one check.

    :param conn_id: the connection checked
    :param steps: one result per step, in order
    """

    conn_id: str
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        """No step failed."""
        return self.failure is None

    @property
    def failure(self) -> StepResult | None:
        """The step that failed, if any."""
        return next((s for s in self.steps if s.status is Status.FAILED), None)

    def summary(self) -> str:
        """One text for Airflow's *Test* button: every finding, or the failure and its fix."""
        failure = self.failure
        if failure is not None:
            return f"Check {failure.number}/{len(self.steps)} ({failure.title}) failed: {failure.message} Fix: {failure.fix}"
        findings = " ".join(f"{s.number}. {s.message}" for s in self.steps)
        return f"All {len(self.steps)} checks passed. {findings}"

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-able data (the command's ``--json`` output)."""
        failure = self.failure
        return {
            "conn_id": self.conn_id,
            "ok": self.ok,
            "failed_step": failure.key if failure else None,
            "problem": failure.problem if failure else None,
            "provider_version": __version__,
            "steps": [s.to_json() for s in self.steps],
        }


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with every secret of at least four characters replaced by ``***``.

    :param text: a message or fix (``None`` passes through)
    :param secrets: the connection's secrets and the tokens the check saw
    """
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


#: Keep commands (New-CsApplicationAccessPolicy) and URLs whole when wrapping.
_WRAP = {"break_on_hyphens": False, "break_long_words": False}
_LABELS: Mapping[Status, str] = {
    Status.PASSED: "ok",
    Status.FAILED: "FAILED",
    Status.SKIPPED: "skipped",
    Status.NOT_RUN: "not run",
}


def report_lines(report: CheckReport, *, width: int = 100) -> list[str]:
    """The report as text lines for a console: each step with its result, then the verdict.

    :param report: the check's report
    :param width: the longest line (commands and URLs are never broken)
    """
    lines = [f"Checking connection {report.conn_id!r} (airflow-provider-meetings {__version__})"]
    for step in report.steps:
        lines.append(f"{step.number}. {step.title}: {_LABELS[step.status]}")
        if step.message:
            lines.extend(textwrap.wrap(step.message, width, initial_indent="   ", subsequent_indent="   ", **_WRAP))
        if step.fix:
            lines.extend(
                textwrap.wrap(f"Fix: {step.fix}", width, initial_indent="   ", subsequent_indent="   ", **_WRAP)
            )
    failure = report.failure
    if failure is None:
        lines.append(f"OK: the connection {report.conn_id!r} passed every check.")
    else:
        lines.append(f"FAILED at check {failure.number} ({failure.title}): {failure.problem}.")
    return lines
