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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover - python -m airflow_provider_meetings.cli
    sys.exit(main())
