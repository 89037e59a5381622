"""The check's report: the verdict, the JSON, the console lines, and scrubbing."""

from __future__ import annotations

from airflow_provider_meetings.diagnostics.check import STEPS
from airflow_provider_meetings.diagnostics.report import CheckReport, Status, StepResult, report_lines, scrub


def report(*statuses: Status) -> CheckReport:
    steps = tuple(
        StepResult(
            n,
            key,
            title,
            status,
            "" if status is Status.NOT_RUN else f"finding {n}.",
            "do this." if status is Status.FAILED else None,
            "some_problem" if status is Status.FAILED else None,
        )
        for n, ((key, title, _), status) in enumerate(zip(STEPS, statuses, strict=True), start=1)
    )
    return CheckReport("meetings", steps)


def test_scrub_replaces_every_secret():
    assert scrub("a s3cret-value and token-abc", ["s3cret-value", "token-abc", ""]) == "a *** and ***"
    assert scrub(None, ["x"]) is None


def test_report_of_a_failure():
    failed = report(Status.PASSED, Status.FAILED, *[Status.NOT_RUN] * 5)

    assert not failed.ok and failed.failure is failed.steps[1]
    assert failed.summary() == "Check 2/7 (Access token from Entra ID) failed: finding 2. Fix: do this."
    data = failed.to_json()
    assert (data["ok"], data["failed_step"], data["problem"]) == (False, "token", "some_problem")
    assert [s["status"] for s in data["steps"]] == ["passed", "failed", *["not run"] * 5]
    lines = report_lines(failed)
    assert lines[3:6] == ["2. Access token from Entra ID: FAILED", "   finding 2.", "   Fix: do this."]
    assert lines[-1] == "FAILED at check 2 (Access token from Entra ID): some_problem."


def test_report_of_a_pass_with_a_skipped_step():
    passed = report(*[Status.PASSED] * 4, Status.SKIPPED, Status.SKIPPED, Status.PASSED)

    assert passed.ok
    assert passed.summary() == "All 7 checks passed. " + " ".join(f"{n}. finding {n}." for n in range(1, 8))
    assert report_lines(passed)[-1] == "OK: the connection 'meetings' passed every check."


def test_long_lines_keep_commands_whole():
    step = StepResult(1, "x", "X", Status.FAILED, "m.", "Run New-CsApplicationAccessPolicy -Identity " + "a " * 60, "p")
    lines = report_lines(CheckReport("c", (step,)), width=60)

    assert any("New-CsApplicationAccessPolicy" in line for line in lines)
    assert all(len(line) <= 60 for line in lines[1:-1])
