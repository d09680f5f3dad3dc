"""``tinygrad-es check``: the exercises that check themselves (see ``tinygrad_es.exercises``).

    tinygrad-es check                  the list of exercises
    tinygrad-es check --new sigmoid    write the template sigmoid.py into the current folder
    tinygrad-es check sigmoid [FILE]   grade FILE (default sigmoid.py): exit 0 passed, 1 not yet
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygrad_es.cli._common import EXIT_CODES
from tinygrad_es.i18n import tr


def add_parser(sub: Any) -> None:
    """The ``check`` subcommand and its arguments."""
    from tinygrad_es.exercises import EXERCISES

    check = sub.add_parser("check", help=tr("exercises that check themselves: write a backward, "
                                            "an optimizer step, a training loop"),
                           description=tr("Grade an exercise: write its template with --new, "
                                          "fill it in, then check it."),
                           epilog=EXIT_CODES)
    check.add_argument("exercise", nargs="?", choices=list(EXERCISES), metavar=tr("EXERCISE"),
                       help=tr("one of: {names}", names=", ".join(EXERCISES)))
    check.add_argument("file", nargs="?", help=tr("your solution (default EXERCISE.py)"))
    check.add_argument("--new", action="store_true",
                       help=tr("write the exercise's template into the current folder"))
    check.add_argument("--force", action="store_true",
                       help=tr("with --new: overwrite an existing file"))
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """List the exercises, write a template, or grade a solution."""
    from tinygrad_es import exercises

    if args.exercise is None:
        print(tr("The exercises (tinygrad-es check --new NAME writes one here):"))
        for name in exercises.EXERCISES:
            print(f"  {name:<13} {exercises.title(name)}")
        return 0
    if args.new:
        try:
            path = exercises.new(args.exercise, overwrite=args.force)
        except FileExistsError as err:
            print(err, file=sys.stderr)
            return 2
        print(tr("wrote {path}: fill in the TODO, then run tinygrad-es check {name}",
                 path=path, name=args.exercise))
        return 0
    path = Path(args.file or f"{args.exercise}.py")
    if not path.is_file():
        print(tr("{path} not found: write the template first with tinygrad-es check --new "
                 "{name}", path=path, name=args.exercise), file=sys.stderr)
        return 2
    result = exercises.check_file(args.exercise, path)
    print(result)
    return 0 if result else 1
