"""The ``airflow-provider-meetings`` console command: one subcommand per module of this package.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int`` (the exit
status) and a one-line ``HELP``; :data:`COMMANDS` names them. Modules are imported only for
the subcommand that runs, so ``--help`` stays fast.

What every subcommand shares is here: :func:`server_connections` (connections read as
Airflow's own ``airflow connections get`` and ``test`` read them, metadata database included),
:func:`read_connection`, and :func:`stdout_to_stderr` (standard output kept for the command's
result alone).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

#: subcommand -> module below ``airflow_provider_meetings.cli``
COMMANDS: dict[str, str] = {
    "check": "check",
    "login": "login",
}


#: Airflow's variable that tells its secrets lookup which process it runs in.
PROCESS_CONTEXT = "_AIRFLOW_PROCESS_CONTEXT"


@contextlib.contextmanager
def server_connections() -> Iterator[None]:
    """Read Airflow connections as a server process does meanwhile: the metadata database included.

    Outside a task, the Task SDK looks for a connection in ``AIRFLOW_CONN_*`` variables and the
    configured secrets backends only, unless ``_AIRFLOW_PROCESS_CONTEXT`` is ``server``
    (``ensure_secrets_backend_loaded``, airflow/sdk/execution_time/supervisor.py); Airflow's
    ``connections get`` and ``connections test`` set it (airflow/cli/commands/connection_command.py).
    The variable is restored (or removed) afterwards, as Airflow's triggerer does.
    """
    saved = os.environ.get(PROCESS_CONTEXT)
    os.environ[PROCESS_CONTEXT] = "server"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(PROCESS_CONTEXT, None)
        else:
            os.environ[PROCESS_CONTEXT] = saved


def read_connection(conn_id: str) -> Any:
    """The Airflow connection ``conn_id``, from wherever Airflow keeps it (:func:`server_connections`).

    :raises airflow.exceptions.AirflowNotFoundException: when it is nowhere
    """
    from airflow.sdk import BaseHook  # imports Airflow

    with server_connections():
        return BaseHook.get_connection(conn_id)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to standard output meanwhile to standard error.

    Airflow's loggers write to standard output, through stream objects taken when logging was
    configured; moving file descriptor 1 catches them all, so that stdout carries the command's
    result alone (``--json`` output stays parseable, a refresh token is the only line).
    """
    sys.stdout.flush()
    try:
        stdout, stderr = sys.stdout.fileno(), sys.stderr.fileno()
        saved = os.dup(stdout)
    except (AttributeError, OSError, ValueError):  # no real file behind stdout or stderr (embedded use)
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    try:
        os.dup2(stderr, stdout)
    except OSError:
        os.close(saved)
        raise
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, stdout)
        os.close(saved)


def build_parser() -> argparse.ArgumentParser:
    """The command line parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="airflow-provider-meetings",
        description="Tools for the Microsoft Teams meetings provider of Apache Airflow.",
    )
    from airflow_provider_meetings import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse reports a subcommand's unknown option (`check --jsn`) with the top-level
        # usage; the subcommand's own usage says what it takes. The top level has no option
        # with a value, so the first word not starting with "-" is the subcommand: unknown
        # words before it are the top level's.
        command_at = next(i for i, word in enumerate(argv) if not word.startswith("-"))
        if set(unknown) & set(argv[:command_at]):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        _subparsers(parser).choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return int(args.run(args))


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action
