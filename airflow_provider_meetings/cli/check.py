"""``airflow-provider-meetings check``: check a connection step by step, outside Airflow's API.

The same checks as the connection's *Test* button
(:func:`~airflow_provider_meetings.connection_check.check_connection`), run in this process:
it works where ``[core] test_connection`` is disabled. The connection is read as Airflow's own
``airflow connections test`` reads it: ``AIRFLOW_CONN_*`` variables, the configured secrets
backends and the metadata database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_meetings.connection_check import CheckReport

HELP = "Check a msgraph_meetings connection step by step and name the first misconfiguration with its fix."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument(
        "--conn-id",
        default="msgraph_meetings_default",
        help="id of the msgraph_meetings connection (default: msgraph_meetings_default)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")


def _check(conn_id: str) -> CheckReport:
    from airflow_provider_meetings.connection_check import check_connection
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook  # imports Airflow

    with OnlineMeetingsHook(conn_id=conn_id) as hook:
        return check_connection(hook)


@contextlib.contextmanager
def _logs_to_stderr() -> Iterator[None]:
    """Send everything written to standard output meanwhile to standard error.

    Airflow's loggers write to standard output, through stream objects taken when logging was
    configured; moving file descriptor 1 catches them all, so that stdout carries the report
    alone (``--json`` output stays parseable).
    """
    sys.stdout.flush()
    try:
        saved = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no real file behind stdout (embedded use)
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, sys.stdout.fileno())
        os.close(saved)


def run(args: argparse.Namespace) -> int:
    """Run the check; 0 when every step passed (or was skipped), 1 when one failed."""
    # Read connections as a server process does, metadata database included (Airflow's
    # `connections test` does the same: airflow/cli/commands/connection_command.py); without it
    # the Task SDK looks only at variables and secrets backends outside a task.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")

    from airflow_provider_meetings.connection_check import report_lines

    with _logs_to_stderr():
        report = _check(args.conn_id)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(report_lines(report)))
    sys.stdout.flush()
    return 0 if report.ok else 1
