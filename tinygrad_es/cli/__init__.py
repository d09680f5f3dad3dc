"""The ``tinygrad-es`` command (also ``python -m tinygrad_es``).

    tinygrad-es demo                 the course's network: train it, backprop vs finite differences
    tinygrad-es train --data iris    train a network on iris, digits or a CSV file; save it
    tinygrad-es compare              the same training in tinygrad_es and in Keras, epoch by epoch
    tinygrad-es graph                draw a computation graph (or a model's layers)
    tinygrad-es explain --lang es    the backward pass, step by step
    tinygrad-es paths                optimizers racing on a 2-D loss surface (pictures and a GIF)

Only numpy is required: without matplotlib the plots are skipped, without Graphviz's ``dot`` the
graphs are written as ``.dot`` files, and each time the output says so.

A subcommand is a module: ``demo.py``, ``train.py``, ``compare.py``, and ``pictures.py`` for graph,
explain and paths; each has its ``cmd_*`` function and adds its own arguments to the parser.
"""

from __future__ import annotations

import argparse
import os
import sys

from tinygrad_es.cli import compare, demo, pictures, train
from tinygrad_es.cli._common import EXIT_CODES


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and exit code 2) instead of the usage block."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``tinygrad-es`` argument parser (subcommands demo, train, compare, graph, explain,
    paths).

    Example:
        >>> build_parser().parse_args(["demo", "--epochs", "5"]).epochs
        5
    """
    parser = _Parser(prog="tinygrad-es", epilog=EXIT_CODES,
                     description="See and check backpropagation; train small networks with "
                                 "Keras's API on numpy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo.add_parser(sub)
    train.add_parser(sub)
    compare.add_parser(sub)
    pictures.add_parsers(sub)  # graph, explain, paths
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``tinygrad-es`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Example:
        >>> main(["demo", "--epochs", "3", "--verbose", "0"])  # doctest: +ELLIPSIS
        The course's network on iris rows 0-98 ...
        0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.error("choose a COMMAND: demo, train, compare, graph, explain or paths")
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. `tinygrad-es explain | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
