"""The ``gridplan`` command line: the parser of every command and the entry point.

Every command prints a plain message and exits non-zero on bad input or an
infeasible setting; no traceback reaches the user (set GRIDPLAN_DEBUG=1 to see one).
Each command is one module (:mod:`~gridplan.cli.cells`, :mod:`~gridplan.cli.partition`,
:mod:`~gridplan.cli.balance`, :mod:`~gridplan.cli.export`, :mod:`~gridplan.cli.targets`,
:mod:`~gridplan.cli.run`,
:mod:`~gridplan.cli.demo`) with ``add_parser(subparsers)`` and a run function;
:mod:`~gridplan.cli.common` holds what they share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from gridplan.cli.common import EXIT_BAD_INPUT, EXIT_INTERNAL, StderrProgress, execute

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "StderrProgress", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``gridplan`` command (the command modules, in the
    order of ``gridplan --help``, each add theirs; imported here so that
    ``python -m gridplan.cli.<command>`` finds its module not imported yet)."""
    from gridplan.cli import balance, batch, cells, demo, export, partition, run, serve, targets

    parser = argparse.ArgumentParser(
        prog="gridplan",
        description="Cut a city into marketing-service grids and balance community-manager "
        "territories.",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (cells, partition, balance, export, targets, run, demo, batch, serve):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridplan`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return execute(args.command, func, args)


if __name__ == "__main__":
    sys.exit(main())
