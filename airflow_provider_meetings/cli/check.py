"""``airflow-provider-meetings check``: check a connection step by step, outside Airflow's API.

The same checks as the connection's *Test* button
(:func:`~airflow_provider_meetings.diagnostics.check.check_connection`), run in this process:
it works where ``[core] test_connection`` is disabled. The connection is read as Airflow's own
``airflow connections test`` reads it: ``AIRFLOW_CONN_*`` variables, the configured secrets
backends and the metadata database.

``--emulator`` checks against the built-in emulator instead (needs the ``emulator`` extra): it
serves the emulator from a thread of this process (:func:`~meetings_emulator.run_emulator`),
sets ``AIRFLOW_CONN_<CONN_ID>`` for this process to its seeded app, tenant and organizer (with an
access policy), runs the same checks and stops it: the command's output on a machine with no
tenant and no Airflow connection.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from airflow_provider_meetings.cli import server_connections, stdout_to_stderr

if TYPE_CHECKING:
    from airflow_provider_meetings.diagnostics.report import CheckReport

HELP = "Check a msgraph_meetings connection step by step and name the first misconfiguration with its fix."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument(
        "--conn-id",
        default="msgraph_meetings_default",
        help="id of the msgraph_meetings connection (default: msgraph_meetings_default)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    parser.add_argument(
        "--artifacts",
        default=None,
        metavar="NAMES",
        help="also check the permissions of these meeting artifacts, comma-separated: attendance, transcript, "
        "recording (default: the connection's extra check_artifacts)",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="check against the built-in emulator, started and stopped by this command (no tenant needed; "
        "--conn-id is set to it for this process only; needs the emulator extra)",
    )


#: What to install when ``--emulator`` cannot start the emulator (pyproject.toml, extra ``emulator``).
EMULATOR_EXTRA_HINT = (
    "the --emulator option needs the provider's emulator extra (trustme): "
    "pip install 'airflow-provider-meetings[emulator]' (in a clone of the repository: pip install -e '.[emulator]')"
)


class EmulatorUnavailable(Exception):
    """``--emulator`` without the emulator extra installed."""


@contextlib.contextmanager
def _emulator_connection(conn_id: str) -> Iterator[str]:
    """Serve the emulator and point ``conn_id`` at it (``AIRFLOW_CONN_<ID>``, JSON form) meanwhile.

    Yields the emulator's URL. The variable is restored (or removed) on exit.
    """
    if importlib.util.find_spec("trustme") is None:
        raise EmulatorUnavailable(EMULATOR_EXTRA_HINT)
    from meetings_emulator import run_emulator

    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    saved = os.environ.get(name)
    # The default configuration seeds the app (client id and secret), the tenant and the
    # organizer named by default_user_id, with an application access policy granted.
    with run_emulator() as emulator:
        os.environ[name] = emulator.connection_json()
        try:
            yield emulator.url
        finally:
            if saved is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = saved


def _check(conn_id: str, artifacts: tuple[str, ...] | None) -> CheckReport:
    from airflow_provider_meetings.diagnostics.check import check_connection
    from airflow_provider_meetings.hooks.online_meetings import (  # imports Airflow
        OnlineMeetingsHook,
        metadata_database_url,
    )

    with OnlineMeetingsHook(conn_id=conn_id) as hook:
        return check_connection(hook, artifacts=artifacts, database_url=metadata_database_url())


def run(args: argparse.Namespace) -> int:
    """Run the check; 0 when every step passed (or was skipped), 1 when one failed, 2 when
    ``--emulator`` cannot start for want of the emulator extra or ``--artifacts`` names an unknown artifact."""
    from airflow_provider_meetings.diagnostics.check import parse_artifact_list
    from airflow_provider_meetings.diagnostics.report import report_lines

    artifacts = None
    if getattr(args, "artifacts", None):
        try:
            artifacts = parse_artifact_list(args.artifacts)
        except ValueError as err:
            print(f"airflow-provider-meetings check: --artifacts: {err}", file=sys.stderr)
            return 2
    emulator_url = None
    if getattr(args, "emulator", False):
        # The connection is this process's AIRFLOW_CONN_ variable: no metadata database needed.
        try:
            with stdout_to_stderr(), _emulator_connection(args.conn_id) as emulator_url:
                report = _check(args.conn_id, artifacts)
        except EmulatorUnavailable as err:
            print(f"airflow-provider-meetings check: {err}", file=sys.stderr)
            return 2
    else:
        # The hook reads the connection as Airflow's `connections test` does, metadata database included.
        with stdout_to_stderr(), server_connections():
            report = _check(args.conn_id, artifacts)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        if emulator_url is not None:
            print(
                f"Against the built-in emulator at {emulator_url} (started for this check and stopped; "
                f"connection '{args.conn_id}' set for this process only)"
            )
        print("\n".join(report_lines(report)))
    sys.stdout.flush()
    return 0 if report.ok else 1
