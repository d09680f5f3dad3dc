"""What a check says: passed or not, and for the first thing that is wrong, where and a hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_es.i18n import tr


@dataclass
class Problem:
    """The first wrong thing a check found.

    ``what`` says what is wrong and where (already in the current language); ``index``,
    ``expected`` and ``got`` locate the worst entry of an array, when there is one.
    """

    what: str
    hint: str = ""
    index: tuple | None = None
    expected: float | None = None
    got: float | None = None


@dataclass
class Result:
    """The grade of one exercise: ``bool(result)`` is True when it passed; ``print`` it.

    Example:
        >>> r = Result("mul", "Mul backward", [tr("3 cases")]); bool(r)
        True
    """

    exercise: str
    title: str
    checked: list[str] = field(default_factory=list)
    problem: Problem | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None

    def __bool__(self) -> bool:
        return self.passed

    def to_text(self) -> str:
        """The report, in the current language."""
        if self.passed:
            lines = [tr("PASSED {title}. Well done!", title=self.title)]
            lines += [f"  - {line}" for line in self.checked]
            return "\n".join(lines)
        p = self.problem
        lines = [tr("NOT YET {title}: here is what to fix.", title=self.title),
                 "  " + p.what]
        if p.index:
            lines.append("  " + tr("at index {index}: expected {expected:.10g}, got {got:.10g}",
                                   index=p.index, expected=p.expected, got=p.got))
        elif p.expected is not None:
            lines.append("  " + tr("expected {expected:.10g}, got {got:.10g}",
                                   expected=p.expected, got=p.got))
        if p.hint:
            lines.append("  " + tr("Hint: {hint}", hint=p.hint))
        lines.append("  " + tr("Fix it and check again: tinygrad-es check {name} "
                               "{name}.py", name=self.exercise))
        return "\n".join(lines)

    __str__ = to_text

    def __repr__(self) -> str:
        return self.to_text()


def worst_entry(got: np.ndarray, expected: np.ndarray, atol: float,
                rtol: float) -> tuple[int, tuple] | None:
    """``(how many entries fail, index of the worst)`` for ``|got - expected| > atol +
    rtol·|expected|`` (NaN fails), or None when all agree."""
    got, expected = np.broadcast_arrays(np.asarray(got, np.float64),
                                        np.asarray(expected, np.float64))
    err = np.abs(got - expected)
    bad = ~(err <= atol + rtol * np.abs(expected))
    if not bad.any():
        return None
    excess = np.where(np.isnan(err), np.inf, err - rtol * np.abs(expected))
    return int(bad.sum()), tuple(int(i) for i in np.unravel_index(np.argmax(excess), err.shape))


def close(a: Any, b: Any, atol: float, rtol: float) -> bool:
    """True when the arrays have one shape and agree entry by entry."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and worst_entry(a, b, atol, rtol) is None
