"""Exercises that check themselves: write a backward, an optimizer step or a training loop.

Seven exercises in the course's spirit. Each has a template (``tinygrad-es check --new NAME``
writes ``NAME.py`` into the current folder, or :func:`template` gives its text for a notebook
cell); fill it in, then ``tinygrad-es check NAME`` (or :func:`check` in a notebook) grades it and
says what is wrong and where, with a hint:

    mul, sigmoid, mae, dense   the backward of a Function: finite differences, then gradcheck
    sgd_momentum, adam         one optimizer step, Keras's form: against tinygrad_es's optimizer
    train                      the course's network trained by hand: against tinygrad_es's fit

Example:
    >>> from tinygrad_es.functions import Sigmoid
    >>> print(check("sigmoid", Sigmoid))  # doctest: +ELLIPSIS
    PASSED backward of Sigmoid (s = 1/(1+e^-x)). Well done!
    ...
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from tinygrad_es.exercises import backward, steps, training
from tinygrad_es.exercises._report import Problem, Result
from tinygrad_es.i18n import tr

__all__ = ["EXERCISES", "check", "check_file", "template", "new", "Result"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"

# name: what the student's file defines
EXERCISES: dict[str, str] = {
    **{name: ex.class_name for name, ex in backward.EXERCISES.items()},
    **{name: ex.function_name for name, ex in steps.EXERCISES.items()},
    "train": "train",
}


def _known(exercise: str) -> None:
    if exercise not in EXERCISES:
        raise ValueError(tr("unknown exercise {name!r}; the exercises are {names}",
                            name=exercise, names=", ".join(EXERCISES)))


def title(exercise: str) -> str:
    """The exercise's one-line title, in the current language."""
    _known(exercise)
    if exercise in backward.EXERCISES:
        return tr(backward.EXERCISES[exercise].title)
    if exercise in steps.EXERCISES:
        return tr(steps.EXERCISES[exercise].title)
    return tr(training.TITLE)


def check(exercise: str, solution: Any) -> Result:
    """Grade ``solution`` for ``exercise``; print the result to read the report.

    Args:
        exercise: one of :data:`EXERCISES` (``"mul"``, ``"sigmoid"``, ..., ``"train"``).
        solution: what the template defines: the ``Function`` subclass for a backward exercise
            (``Mul``, ``Sigmoid``, ``MeanAbsoluteError``, ``Dense``), the step function for
            ``sgd_momentum`` and ``adam``, the ``train`` function for ``train``.

    Returns:
        A :class:`Result`: true when passed; its text says what was checked, or what is wrong,
        where (which input or step, which index, expected vs got) and a hint.

    Example:
        >>> def sgd_momentum_step(w, g, m, learning_rate, momentum):
        ...     return w - learning_rate * g, m          # no momentum yet
        >>> r = check("sgd_momentum", sgd_momentum_step); bool(r)
        False
    """
    _known(exercise)
    if exercise in backward.EXERCISES:
        return backward.check_backward(backward.EXERCISES[exercise], solution)
    if exercise in steps.EXERCISES:
        return steps.check_step(steps.EXERCISES[exercise], solution)
    return training.check_training(solution)


def template(exercise: str) -> str:
    """The text of the exercise's template (a Python file with the parts to fill in).

    Example:
        >>> "class Mul(Function)" in template("mul")
        True
    """
    _known(exercise)
    return (_TEMPLATES / f"{exercise}.py.txt").read_text(encoding="utf-8")


def new(exercise: str, folder: str | Path = ".", overwrite: bool = False) -> Path:
    """Write the template as ``folder/<exercise>.py``; returns its path.

    Raises:
        FileExistsError: the file exists and ``overwrite`` is False (your work is kept).
    """
    path = Path(folder) / f"{exercise}.py"
    text = template(exercise)
    if path.exists() and not overwrite:
        raise FileExistsError(tr("{path} already exists: not overwritten (delete it, or check "
                                 "it with tinygrad-es check {name} {path})", path=path,
                                 name=exercise))
    path.write_text(text, encoding="utf-8")
    return path


def check_file(exercise: str, path: str | Path) -> Result:
    """Run the student's file ``path`` and grade what it defines (see :func:`check`)."""
    _known(exercise)
    name = EXERCISES[exercise]
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"_tinygrad_es_exercise_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the student's file: any error is reported, not raised
        return Result(exercise, title(exercise), problem=Problem(
            tr("{path} did not run: {err!r}", path=path, err=err),
            tr("run python {path} to see the whole error", path=path)))
    finally:
        sys.modules.pop(spec.name, None)
    if not hasattr(module, name):
        defined = sorted(n for n in vars(module) if not n.startswith("_"))
        return Result(exercise, title(exercise), problem=Problem(
            tr("{path} does not define {name} (it defines: {defined})", path=path, name=name,
               defined=", ".join(defined) or "-"),
            tr("keep the name the template uses")))
    return check(exercise, getattr(module, name))
