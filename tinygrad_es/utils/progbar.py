"""``Progbar``: Keras's console progress bar (``keras.utils.Progbar``), same text and throttling.

A live line (verbose=1) looks like Keras's, ANSI codes stripped here:

    3/10 ━━━━━━━━━━━━━━━━━━━━ 1s 12ms/step - accuracy: 0.3750 - loss: 0.7799

(the bar is 20 ``━`` characters: the first ``int(20*k/T)`` green, the rest grey). In progress the
time is the ETA, on the final line the elapsed seconds. verbose=2 prints only the final line of each
run: ``10/10 - 1s - 12ms/step - loss: 0.7799``.

Where the line goes: on a terminal (or in Jupyter) the line is redrawn in place with backspaces and
``\\r`` exactly as Keras does. When stdout is NOT a terminal (a log file, a pipe, CI) only the final
line of each run is printed, once, without ANSI codes. # NOTE: Keras decides "dynamic" with
``"posix" in sys.modules``, i.e. always on Linux, so its log files fill with ``\\b`` and ``\\r``
redraws; this is the one place where we deliberately differ.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Iterable

from tinygrad_es.i18n import N_, tr

_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\33[32m", "\33[37m", "\x1b[0m"


def _stdout_is_live() -> bool:
    """True on a terminal or in a Jupyter kernel: the places where ``\\r`` redraws work."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        tty = bool(isatty and isatty())
    except ValueError:  # a closed stream
        tty = False
    return tty or "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def format_time_per_unit(seconds: float, unit_name: str = N_("step")) -> str:
    """Keras's ``" 12ms/step"``: ``s`` at >= 1 s (or 0), ``ms`` at >= 1e-3 s, else ``us``. The
    unit is in the current language (``"paso"`` in Spanish).

    Example:
        >>> format_time_per_unit(0.0123)
        ' 12ms/step'
    """
    unit_name = tr(unit_name)
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1000.0:.0f}ms/{unit_name}"
    return f" {seconds * 1000000.0:.0f}us/{unit_name}"


class Progbar:
    """A progress bar with running values, printed as Keras prints it.

    Args:
        target: total number of steps, or None if unknown.
        width: characters of the bar (20).
        verbose: 0 silent, 1 live bar, 2 one line when the run finishes.
        interval: minimum seconds between two redraws of the live bar (0.05).
        stateful_metrics: names displayed as given (not averaged over updates).
        stateless_metrics: names averaged over updates; pass at most one of the two lists. With
            neither, every value is averaged (Keras's default).
        unit_name: the unit in ``12ms/step``.
        dynamic: redraw in place; None decides from stdout (see the module docstring).

    Example:
        >>> bar = Progbar(target=3, verbose=2)
        >>> for k in range(1, 4):
        ...     bar.update(k, [("loss", 0.5)])  # doctest: +ELLIPSIS
        3/3 - 0s - ...s/step - loss: 0.5000
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Iterable[str] | None = None,
                 stateless_metrics: Iterable[str] | None = None, unit_name: str = "step",
                 dynamic: bool | None = None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar accepts stateful_metrics or stateless_metrics, not both; "
                             f"received {stateful_metrics!r} and {stateless_metrics!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else None
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        if self.stateful_metrics is None and self.stateless_metrics is None:
            self.stateful_metrics = set()
        self._dynamic_display = _stdout_is_live() if dynamic is None else bool(dynamic)
        self._seen_so_far = 0
        self._values: dict[str, list] = {}  # name -> [sum, count]; insertion order = display order
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def update(self, current: int, values: Iterable[tuple[str, float]] | None = None,
               finalize: bool | None = None) -> None:
        """Record the values of step ``current`` and redraw (at most every ``interval`` s).

        Args:
            current: index of the current step, 1-based.
            values: ``(name, value)`` pairs; stateless ones are averaged over the steps.
            finalize: this is the last update; default ``current >= target``.

        Example:
            >>> Progbar(2, verbose=2).update(2, [("loss", 1.0)])  # doctest: +ELLIPSIS
            2/2 - 0s - ...s/step - loss: 1.0000
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for k, v in values or ():
            if self.stateful_metrics is not None:
                stateless = k not in self.stateful_metrics
            else:
                stateless = k in self.stateless_metrics
            if stateless and not finalize:
                base = max(current - self._seen_so_far, 1)
                acc = self._values.get(k)
                if acc is None:
                    self._values[k] = [v * base, base]
                else:
                    acc[0] += v * base
                    acc[1] += base
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if not finalize and (now - self._last_update < self.interval
                                 or not self._dynamic_display):
                return
            self._print(self._live_line(current, now, time_per_unit, finalize))
        elif self.verbose == 2 and finalize and self.target:
            self._print(self._summary_line(current, now, time_per_unit))
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, float]] | None = None) -> None:
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    # ----- the two line formats -----

    def _live_line(self, current: int, now: float, time_per_unit: float, finalize: bool) -> str:
        dynamic = self._dynamic_display
        bold, reset = (_BOLD, _RESET) if dynamic else ("", "")
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            done = int(self.width * float(current) / self.target)
            bar = f"{bold}{current:{digits}d}/{self.target}{reset} "
            if dynamic:
                if done > 0:
                    bar += f"{_GREEN}{'━' * done}{_RESET}"
                bar += f"{_GREY}{'━' * (self.width - done)}{_RESET}"
            else:  # Keras's bar with the colours stripped: always 20 '━'
                bar += "━" * self.width
        else:
            bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            info = f" {bold}{_format_eta(time_per_unit * (self.target - current))}{reset}"
        else:
            info = f" {bold}{now - self._start:.0f}s{reset}"
        info += format_time_per_unit(time_per_unit, self.unit_name)
        for k, (total, count) in self._values.items():
            avg = total / max(1, count)
            info += f" - {k}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {k}: {avg:.4e}"
        if not dynamic:
            return bar + info + "\n"
        width = len(_strip_ansi(bar)) + len(_strip_ansi(info))
        line = "\b" * self._prev_total_width + "\r" + bar + info
        if self._prev_total_width > width:
            line += " " * (self._prev_total_width - width)
        self._prev_total_width = width
        return line + "\n" if finalize else line

    def _summary_line(self, current: int, now: float, time_per_unit: float) -> str:
        digits = int(math.log10(self.target)) + 1
        info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s"
        info += f" -{format_time_per_unit(time_per_unit, self.unit_name)}"
        for k, (total, count) in self._values.items():
            avg = total / max(1, count)
            # NOTE: Keras's verbose=2 compares the signed value: negatives print as %.4e.
            info += f" - {k}: {avg:.4f}" if avg > 1e-3 else f" - {k}: {avg:.4e}"
        return info + "\n"

    @staticmethod
    def _print(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def _estimate_step_duration(self, current: int, now: float) -> float:
        """Seconds per step, ignoring the (slow, first-call) first step once there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


def _strip_ansi(text: str) -> str:
    for code in (_BOLD, _GREEN, _GREY, _RESET):
        text = text.replace(code, "")
    return text
