"""The ``tinygrad-es`` command (also ``python -m tinygrad_es``).

    tinygrad-es demo                 the course's network: train it, backprop vs finite differences
    tinygrad-es train --data iris    train a network on iris, digits or a CSV file; save it
    tinygrad-es compare              the same training in tinygrad_es and in Keras, epoch by epoch
    tinygrad-es graph                draw a computation graph (or a model's layers)
    tinygrad-es explain --lang es    the backward pass, step by step
    tinygrad-es paths                optimizers racing on a 2-D loss surface (pictures and a GIF)
    tinygrad-es check sigmoid        exercises that check themselves (--new sigmoid: the template)

Only numpy is required: without matplotlib the plots are skipped, without Graphviz's ``dot`` the
graphs are written as ``.dot`` files, and each time the output says so.

A subcommand is a module: ``demo.py``, ``train.py``, ``compare.py``, and ``pictures.py`` for graph,
explain and paths; each has its ``cmd_*`` function and adds its own arguments to the parser.

``--lang es`` (before the command, or after it as each command's own option; default: the
``TINYGRAD_ES_LANG`` variable, else English) sets the language of everything the command says:
its help, its output, its pictures and its errors, argparse's own words included.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys

from tinygrad_es import i18n
from tinygrad_es.cli import check, compare, demo, pictures, train
from tinygrad_es.cli._common import EXIT_CODES
from tinygrad_es.i18n import argparse_speaks, tr


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and exit code 2) instead of the usage block; its epilog
    (every command's: the exit codes) in the current language."""

    def __init__(self, *args: object, epilog: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, epilog=tr(epilog) if epilog else epilog, **kwargs)

    def error(self, message: str) -> None:
        self.exit(2, tr("{prog}: error: {message} (see {prog} --help)", prog=self.prog,
                        message=message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``tinygrad-es`` argument parser (subcommands demo, train, compare, graph, explain,
    paths).

    Example:
        >>> build_parser().parse_args(["demo", "--epochs", "5"]).epochs
        5
    """
    parser = _Parser(prog="tinygrad-es", epilog=EXIT_CODES,
                     description=tr("See and check backpropagation; train small networks with "
                                    "Keras's API on numpy."))
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=None,
                        help=tr("language of everything the command says: en (English) or es "
                                "(Spanish) (default: $TINYGRAD_ES_LANG, else en)"))
    sub = parser.add_subparsers(dest="command", metavar=tr("COMMAND"))
    demo.add_parser(sub)
    train.add_parser(sub)
    compare.add_parser(sub)
    pictures.add_parsers(sub)  # graph, explain, paths
    check.add_parser(sub)
    return parser


def _requested_language(argv: list[str]) -> str | None:
    """The value of the last ``--lang`` in ``argv`` (global or a command's), if any."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--lang", choices=i18n.LANGUAGES)
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return pre.parse_known_args(argv)[0].lang
        except SystemExit:  # a bad --lang: the real parser reports it
            return None


def main(argv: list[str] | None = None) -> int:
    """Run ``tinygrad-es`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    The language (``--lang``, else the current one) holds while the command runs; the previous
    one is restored afterwards.

    Example:
        >>> main(["demo", "--epochs", "3", "--verbose", "0"])  # doctest: +ELLIPSIS
        The course's network on iris rows 0-98 ...
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    saved = i18n.language()
    i18n.set_language(_requested_language(argv) or saved)
    try:
        with argparse_speaks(i18n.language()):
            parser = build_parser()
            args = parser.parse_args(argv)
            if not getattr(args, "func", None):
                parser.error(tr("choose a COMMAND: demo, train, compare, graph, explain, paths "
                                "or check"))
        args.lang = i18n.language()  # the commands' own --lang: the same switch
        return args.func(args)
    except BrokenPipeError:  # e.g. `tinygrad-es explain | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        i18n.set_language(saved)
