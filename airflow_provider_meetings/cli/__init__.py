"""The ``airflow-provider-meetings`` console command: one subcommand per module of this package.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int`` (the exit
status) and a one-line ``HELP``; :data:`COMMANDS` names them. Modules are imported only for
the subcommand that runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: subcommand -> module below ``airflow_provider_meetings.cli``
COMMANDS: dict[str, str] = {
    "check": "check",
    "login": "login",
}


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
