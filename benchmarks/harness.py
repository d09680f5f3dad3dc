"""What every benchmark shares: thread pinning, interleaved timing, the agreement check, tables.

Threads are pinned by :func:`pin_threads`, which must run **before numpy or any framework is
imported** (BLAS and OpenMP read their settings when they load). One setting, ``n`` threads, for
all:

* environment: ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``,
  ``VECLIB_MAXIMUM_THREADS``, ``NUMEXPR_NUM_THREADS`` (numpy's BLAS, torch's OpenMP, TF's
  MKL/oneDNN), ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` (TensorFlow), and for XLA
  (JAX) ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` when
  ``n == 1``;
* in-process, when the framework is imported: ``torch.set_num_threads(n)`` and
  ``torch.set_num_interop_threads(n)``; ``tf.config.threading.set_intra_op_parallelism_threads(n)``
  and ``set_inter_op_parallelism_threads(n)`` (see ``contenders``);
* and, as a backstop for thread pools that ignore all of the above, the process's CPU affinity is
  restricted to ``n`` CPUs (``os.sched_setaffinity``, Linux).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
              "TF_NUM_INTEROP_THREADS")


def pin_threads(n: int) -> None:
    """Give BLAS, OpenMP, TensorFlow and XLA ``n`` threads each, and the process ``n`` CPUs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in THREAD_ENV:
        os.environ[name] = str(n)
    if n == 1:
        os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cpus[:n]))


def threads() -> int:
    """The thread count :func:`pin_threads` set (1 when it was not called)."""
    return int(os.environ.get("OMP_NUM_THREADS", "1"))


# ----- contenders -----

class Unavailable(Exception):
    """The contender cannot run in this build (reported as "not available", never as a time)."""


class Trainer(Protocol):
    """One contender, set up on one network: ``train`` runs epochs, ``weights`` reads them back."""

    def train(self, epochs: int) -> None: ...

    def weights(self) -> list: ...


@dataclass
class Entry:
    """One contender on one network: its trainer, the agreement check and the timing samples."""

    trainer: Trainer | None = None
    status: str = ""              # "" when timed; else "skipped (...)" / "not available (...)"
    agrees: bool = True
    check: str = ""               # the agreement line
    epochs: int = 1               # epochs per timing sample
    samples: list = field(default_factory=list)

    @property
    def ms(self) -> float:
        return statistics.median(self.samples) * 1e3 if self.samples else math.nan


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calibrate(entry: Entry, target: float, max_epochs: int) -> None:
    """Choose how many epochs one timing sample runs: about ``target`` seconds' worth."""
    once = seconds(lambda: entry.trainer.train(1))
    entry.epochs = max(1, min(max_epochs, math.ceil(target / max(once, 1e-9))))


def interleaved(entries: dict[str, Entry], repeats: int) -> None:
    """Round-robin over the contenders ``repeats`` times, so that a burst of load elsewhere on the
    machine hits every contender alike; the median of the samples is reported."""
    for _ in range(repeats):
        for entry in entries.values():
            if entry.trainer is not None:
                t = seconds(lambda: entry.trainer.train(entry.epochs))
                entry.samples.append(t / entry.epochs)


def agreement(name: str, got: float, ref: float, weight_diff: float,
              rtol: float) -> tuple[bool, str]:
    """Compare a contender's loss after the check epochs with the reference's: (ok, the line)."""
    rel = abs(got - ref) / max(abs(ref), 1e-30)
    ok = bool(rel <= rtol) and math.isfinite(got)
    mark = "agrees" if ok else f"DISAGREES (> {rtol:g})"
    return ok, (f"  {name:<22} loss {got:.8g}  vs numpy loop {ref:.8g}  rel {rel:.1e}  "
                f"max |dw| {weight_diff:.1e}  {mark}")


# ----- tables -----

def cell(entry: Entry | None, ref_ms: float) -> str:
    if entry is None:
        return "–"
    if entry.status:
        return entry.status.split(" (")[0]
    flag = "" if entry.agrees else " (!)"
    return f"{fmt_ms(entry.ms)} ({entry.ms / ref_ms:.2f}×){flag}"


def fmt_ms(ms: float) -> str:
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
