"""Learning-rate schedules: the learning rate as a function of the optimizer's step count.

The names, arguments and formulas are those of ``keras.optimizers.schedules``. An optimizer built
with a schedule calls it with its **raw** step count before the update: 0 on the first step (with
gradient accumulation every ``K`` steps: K-1, 2K-1, ...).

Precision, as in Keras: a schedule computes in the dtype of ``initial_learning_rate`` — a Python
float gives **float32, even in float64 mode** — and its other float arguments are rounded to
float32 first (``ops.cast`` of a Python float goes through float32). Pass ``np.float64(lr0)``
for a float64 schedule. The result is a numpy scalar; give an array of steps to get an array
(handy for plots).

Example:
    >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> float(s(10)), s(np.arange(3)).shape
    (0.05000000074505806, (3,))
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import warnings
from typing import Any

import numpy as np

from tinygrad_es.tfcast import tf_constant
from tinygrad_es.i18n import tr

# NOTE: each hyperparameter reaches the arithmetic through tf_constant: a Python float goes
# through float32, even in float64 mode, as Keras's ops.cast (keras-semantics.md section 8.2).

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


def _compute_dtype(initial_learning_rate: Any) -> type:
    """The numpy scalar type Keras computes in: float32 for Python numbers, else the value's own."""
    dtype = np.asarray(initial_learning_rate).dtype
    if isinstance(initial_learning_rate, (bool, int, float)) and not isinstance(
        initial_learning_rate, np.generic
    ):
        return np.float32
    return dtype.type if dtype.kind == "f" else np.float32


@functools.cache
def _libm_float32() -> dict:
    """The C library's float32 ``cosf``, ``logf`` and ``powf``, loaded on first use; {} if absent.

    Without them the schedules use numpy's float32 functions, which may differ from TensorFlow's
    in the last bit; that is said once, with a warning.
    """
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        functions = {}
        for name, n_args in (("cosf", 1), ("logf", 1), ("powf", 2)):
            fn = getattr(libm, name)
            fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float] * n_args
            functions[name] = np.frompyfunc(fn, n_args, 1)
        return functions
    except (OSError, AttributeError) as err:
        warnings.warn(tr("the C library's cosf/logf/powf could not be loaded ({err}): float32 "
                         "learning-rate schedules use numpy's, which may differ from "
                         "TensorFlow's in the last bit", err=err), RuntimeWarning, stacklevel=3)
        return {}


def math_path(*args: Any) -> str:
    """Which implementation a schedule's cos/log/pow takes for these arguments (for tests).

    ``"libm-float32"`` (ctypes cosf/logf/powf), ``"libm-float64"`` (the ``math`` module, i.e. the
    C library's cos/log/pow, for single numbers) or ``"numpy"``.
    """
    arrays = [np.asarray(a) for a in args]
    if all(a.dtype == np.float32 for a in arrays) and _libm_float32():
        return "libm-float32"
    if all(a.dtype == np.float64 and a.ndim == 0 for a in arrays):
        return "libm-float64"
    return "numpy"


# NOTE: the optimizer evaluates a schedule one step at a time, and TensorFlow's cos, log and pow
# on a single number are the C library's (cosf/logf/powf in float32, cos/log/pow in float64).
# numpy's own ufuncs may use SIMD code of their own that differs in the last bit (float32 cos and
# log for ~10% of inputs; float64 pow on AVX-512 machines), which float64 training then sees as
# 1e-10 in the weights. So single numbers go through the C library, arrays of float64 through
# numpy (as TensorFlow vectorises them too).
def _c_library_math(name: str, numpy_fn):
    scalar_fn = getattr(math, name)

    def fn(*args):
        arrays = [np.asarray(a) for a in args]
        path = math_path(*arrays)
        if path == "libm-float32":
            return np.asarray(_libm_float32()[name + "f"](*arrays), dtype=np.float32)[()]
        if path == "libm-float64":
            try:
                return np.float64(scalar_fn(*(float(a) for a in arrays)))
            except (ValueError, OverflowError):  # log(0), pow of a negative base: numpy's inf/nan
                pass
        return numpy_fn(*arrays)
    return fn


_cos = _c_library_math("cos", np.cos)
_log = _c_library_math("log", np.log)
_pow = _c_library_math("pow", np.power)


def _check_positive(name: str, value: Any) -> None:
    if value <= 0:
        raise ValueError(tr("Argument `{name}` must be > 0. Received: {name}={value}", name=name,
                            value=value))


class LearningRateSchedule:
    """Base class: a subclass defines ``__call__(step)`` and ``get_config()``.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, lr0): self.lr0 = lr0
        ...     def __call__(self, step): return self.lr0 * 0.5 ** (np.asarray(step) // 100)
        ...     def get_config(self): return {"lr0": self.lr0}
        >>> float(Halving(0.1)(250))
        0.025
    """

    def __call__(self, step):
        raise NotImplementedError(
            tr("Learning rate schedule '{cls}' must override `__call__(self, step)`.",
               cls=type(self).__name__)
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            tr("Learning rate schedule '{cls}' must override `get_config()`.",
               cls=type(self).__name__)
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        try:
            items = self.get_config().items()
        except NotImplementedError:
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in items if k != "name")
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``lr0 * decay_rate ** (step / decay_steps)``; with ``staircase`` the exponent is floored.

    Example:
        >>> float(ExponentialDecay(0.1, 100, 0.96, staircase=True)(150))
        0.09600000083446503
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        dt = _compute_dtype(self.initial_learning_rate)
        lr0 = dt(self.initial_learning_rate)
        p = tf_constant(step, dt) / tf_constant(self.decay_steps, dt)
        if self.staircase:
            p = np.floor(p)
        return lr0 * _pow(tf_constant(self.decay_rate, dt), p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``lr0 / (1 + decay_rate * step / decay_steps)``; with ``staircase`` the ratio is floored.

    Example:
        >>> float(InverseTimeDecay(0.1, 10, 1.0)(10))
        0.05000000074505806
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        dt = _compute_dtype(self.initial_learning_rate)
        p = tf_constant(step, dt) / tf_constant(self.decay_steps, dt)
        if self.staircase:
            p = np.floor(p)
        return dt(self.initial_learning_rate) / (dt(1) + tf_constant(self.decay_rate, dt) * p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` for ``step <= boundaries[0]``, ``values[i]`` for ``b[i-1] < step <= b[i]``,
    ``values[-1]`` after the last boundary: each boundary belongs to the segment on its left.

    Example:
        >>> s = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
        >>> [float(s(k)) for k in (100, 101, 201)]
        [1.0, 0.5, 0.10000000149011612]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                tr("The length of boundaries should be 1 less than the length of values. "
                   "Received: boundaries={boundaries} of length {n_boundaries}, and "
                   "values={values} of length {n_values}.", boundaries=boundaries,
                   n_boundaries=len(boundaries), values=values, n_values=len(values))
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = np.asarray(step)
        bounds = [np.asarray(b).astype(step.dtype) for b in self.boundaries]
        dt = _compute_dtype(self.values[0])
        values = [dt(v) for v in self.values]
        # NOTE: Keras sums indicator * value over the segments rather than looking the value up.
        result = dt(0) + (step <= bounds[0]).astype(dt) * values[0]
        result = result + (step > bounds[-1]).astype(dt) * values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1]):
            result = result + ((step > low) & (step <= high)).astype(dt) * value
        return result[()] if np.ndim(result) == 0 else result

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(lr0 - end) * (1 - s/D) ** power + end`` with ``s = min(step, D)``.

    With ``cycle=True`` the horizon grows instead: ``D' = D * ceil(step / D)`` (``D`` at step 0)
    and ``s = step``.

    Example:
        >>> round(float(PolynomialDecay(0.1, 100, end_learning_rate=0.0)(50)), 6)
        0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        dt = _compute_dtype(self.initial_learning_rate)
        lr0, end = dt(self.initial_learning_rate), tf_constant(self.end_learning_rate, dt)
        s, decay_steps = tf_constant(step, dt), tf_constant(self.decay_steps, dt)
        if self.cycle:
            multiplier = np.where(s == 0, dt(1), np.ceil(s / dt(self.decay_steps)))
            decay_steps = decay_steps * multiplier
        else:
            s = np.minimum(s, decay_steps)
        p = s / decay_steps
        return (lr0 - end) * _pow(1 - p, tf_constant(self.power, dt)) + end

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine annealing, optionally after a linear warmup (Loshchilov & Hutter, SGDR).

    Without warmup, with ``s = min(step, D)``::

        lr = lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * s / D)) + alpha)

    With ``warmup_target=T`` and ``warmup_steps=W``, ``s = min(step, D + W)``: a line from
    ``lr0`` to ``T`` while ``s < W``, then the cosine above started from ``T`` at ``s - W``.

    Example:
        >>> round(float(CosineDecay(0.1, 100)(50)), 6)
        0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, s, decay_steps, decay_from_lr, dt):
        cosine = 0.5 * (1.0 + _cos(dt(math.pi) * (s / decay_steps)))
        return decay_from_lr * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        dt = _compute_dtype(self.initial_learning_rate)
        lr0 = dt(self.initial_learning_rate)
        decay_steps, s = tf_constant(self.decay_steps, dt), tf_constant(step, dt)
        if self.warmup_target is None:
            return self._decay(np.minimum(s, decay_steps), decay_steps, lr0, dt)
        target = tf_constant(self.warmup_target, dt)
        warmup_steps = tf_constant(self.warmup_steps, dt)
        s = np.minimum(s, decay_steps + warmup_steps)
        with np.errstate(divide="ignore", invalid="ignore"):
            warm = (target - lr0) * (s / warmup_steps) + lr0
        result = np.where(s < warmup_steps, warm,
                          self._decay(s - warmup_steps, decay_steps, target, dt))
        return result[()] if np.ndim(result) == 0 else result

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine annealing with warm restarts (SGDR): period ``D, D*t_mul, D*t_mul**2, ...``, the
    peak multiplied by ``m_mul`` at every restart.

    With ``f = step / D``, the restart index ``i`` and the fraction ``f'`` into period ``i`` are
    ``i = floor(f), f' = f - i`` when ``t_mul == 1``, else
    ``i = floor(log(1 - f (1 - t_mul)) / log t_mul)`` and
    ``f' = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i``;
    then ``lr = lr0 * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi f')) + alpha)``.

    Example:
        >>> s = CosineDecayRestarts(0.1, 10)
        >>> float(s(0)), float(s(10))
        (0.10000000149011612, 0.10000000149011612)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        dt = _compute_dtype(self.initial_learning_rate)
        alpha, t_mul, m_mul = (tf_constant(x, dt) for x in (self.alpha, self._t_mul, self._m_mul))
        fraction = tf_constant(step, dt) / tf_constant(self.first_decay_steps, dt)
        if t_mul == 1.0:
            i_restart = np.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = np.floor(_log(1.0 - fraction * (1.0 - t_mul)) / _log(t_mul))
            sum_r = (1.0 - _pow(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / _pow(t_mul, i_restart)
        cosine = 0.5 * _pow(m_mul, i_restart) * (1.0 + _cos(dt(math.pi) * fraction))
        return dt(self.initial_learning_rate) * ((1 - alpha) * cosine + alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


# ----- serialization -----

_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay,
                                            PiecewiseConstantDecay, PolynomialDecay, CosineDecay,
                                            CosineDecayRestarts)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}``, the shape Keras uses (Keras's dicts load too).

    Example:
        >>> serialize(ExponentialDecay(0.1, 10, 0.9))["class_name"]
        'ExponentialDecay'
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """The inverse of :func:`serialize`; ``custom_objects`` maps names to your own schedules.

    Example:
        >>> deserialize({"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1,
        ...                                                      "decay_steps": 10}}).decay_steps
        10
    """
    known = {**_SCHEDULES, **(custom_objects or {})}
    name = config.get("class_name")
    if name not in known:
        raise ValueError(tr("Unknown learning rate schedule {name!r}; known: {known}", name=name,
                            known=sorted(known)))
    return known[name].from_config(dict(config.get("config", {})))
