"""Regression losses: MSE, MAE, MAPE, MSLE, Huber, log-cosh, cosine similarity.

Each is a function ``fn(y_true, y_pred) -> per-sample Tensor`` (a mean over the last axis, or a
sum for cosine similarity) and a ``Loss`` class around it with Keras's default name.
``y`` is y_true (a constant), ``p`` is y_pred, ``eps`` is ``config.epsilon()`` = 1e-7.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.losses.loss import Loss, LossFunctionWrapper, prepare
from tinygrad_es.tensor import Tensor, where
from tinygrad_es.tfcast import tf_constant

_LOG2 = float(tf_constant(math.log(2.0), np.float32))  # NOTE: Keras's log 2 is float32, always.


# ----- per-element terms (their mean over the last axis is the per-sample loss) -----

def _squared_error(y: np.ndarray, p: Tensor) -> Tensor:
    return (y - p).square()


def _absolute_error(y: np.ndarray, p: Tensor) -> Tensor:
    return (y - p).abs()


def _squared_log_error(y: np.ndarray, p: Tensor) -> Tensor:
    eps = tf_constant(config.epsilon(), p.dtype)  # NOTE: a float32 tensor in Keras, in float64 too.
    return ((p.maximum(eps) + 1.0).log() - np.log(np.maximum(y, eps) + 1.0)).square()


def _huber_error(y: np.ndarray, p: Tensor, delta: float = 1.0) -> Tensor:
    error = p - y
    abs_error = error.abs()
    linear = abs_error * delta - 0.5 * p.dtype.type(delta) ** 2
    return where(abs_error.data <= delta, error.square() * 0.5, linear)


def _log_cosh_error(y: np.ndarray, p: Tensor) -> Tensor:
    error = p - y
    return error + (error * -2.0).softplus() - _LOG2


# ----- the per-sample functions -----

def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last (y - p)^2.

    Example:
        >>> mean_squared_error(np.array([[0.0, 1.0]]), Tensor([[1.0, 1.0]])).data
        array([0.5], dtype=float32)
    """
    return _squared_error(*prepare(y_true, y_pred)).mean(axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last |y - p| (gradient 0 at zero error, as TF's sign(0)).

    Example:
        >>> mean_absolute_error(np.array([[0.0, 1.0]]), Tensor([[1.0, 1.0]])).data
        array([0.5], dtype=float32)
    """
    return _absolute_error(*prepare(y_true, y_pred)).mean(axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample 100 * mean_last |(y - p) / max(|y|, eps)|.

    Example:
        >>> mean_absolute_percentage_error(np.array([[2.0]]), Tensor([[1.0]])).data
        array([50.], dtype=float32)
    """
    y, p = prepare(y_true, y_pred)
    return ((y - p) / np.maximum(np.abs(y), config.epsilon())).abs().mean(axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2.

    Example:
        >>> mean_squared_logarithmic_error(np.array([[0.0]]), Tensor([[3.0]])).data
        array([1.9218117], dtype=float32)
    """
    return _squared_log_error(*prepare(y_true, y_pred)).mean(axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Per-sample mean_last of 0.5 r^2 if |r| <= delta else delta |r| - 0.5 delta^2, r = p - y.

    Example:
        >>> huber(np.array([[0.0, 0.0]]), Tensor([[0.5, 3.0]])).data
        array([1.3125], dtype=float32)
    """
    return _huber_error(*prepare(y_true, y_pred), delta=delta).mean(axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last log cosh(r), computed as r + softplus(-2r) - log 2 with r = p - y.

    Example:
        >>> log_cosh(np.array([[0.0]]), Tensor([[0.0]])).data
        array([0.], dtype=float32)
    """
    return _log_cosh_error(*prepare(y_true, y_pred)).mean(axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Per-sample -sum(y_hat * p_hat) along ``axis``, x_hat = x * min(1/sqrt(sum x^2), 1/eps).

    -1 means the directions agree.

    Example:
        >>> cosine_similarity(np.array([[0.0, 2.0]]), Tensor([[0.0, 5.0]])).data
        array([-1.], dtype=float32)
    """
    y, p = prepare(y_true, y_pred)
    cap = 1.0 / config.epsilon()
    with np.errstate(divide="ignore"):
        y_hat = y * np.minimum(1.0 / np.sqrt(np.sum(np.square(y), axis=axis, keepdims=True)), cap)
    # NOTE: the floor under the sum changes no value (below it the cap wins anyway) but keeps
    # d(s^-0.5)/ds finite, so an all-zero row (a relu output) gets TF's finite gradient
    # p_hat' = cap, not 0 * inf = NaN.
    floor = config.epsilon() ** 2 / 4
    p_hat = p * (p.square().sum(axis=axis, keepdims=True).maximum(floor) ** -0.5).minimum(cap)
    return (p_hat * -y_hat).sum(axis=axis)


# ----- the Loss classes -----

class MeanSquaredError(LossFunctionWrapper):
    """Mean of (y - p)^2: see :func:`mean_squared_error`.

    Example:
        >>> float(MeanSquaredError()(np.array([1.0, 2.0]), Tensor([[1.0], [4.0]])))
        2.0
    """

    _elementwise = staticmethod(_squared_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of |y - p|: see :func:`mean_absolute_error`.

    Example:
        >>> float(MeanAbsoluteError()(np.array([1.0, 2.0]), Tensor([[1.0], [4.0]])))
        1.0
    """

    _elementwise = staticmethod(_absolute_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean |(y - p) / y|: see :func:`mean_absolute_percentage_error`.

    Example:
        >>> float(MeanAbsolutePercentageError()(np.array([2.0]), Tensor([1.0])))
        50.0
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean of (log(p + 1) - log(y + 1))^2: see :func:`mean_squared_logarithmic_error`.

    Example:
        >>> round(float(MeanSquaredLogarithmicError()(np.array([0.0]), Tensor([3.0]))), 6)
        1.921812
    """

    _elementwise = staticmethod(_squared_log_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta``: see :func:`huber`.

    ``get_config`` also records ``delta`` (Keras 3.15 leaves it out, so a reloaded Keras Huber
    forgets a non-default delta).

    Example:
        >>> float(Huber(delta=1.0)(np.array([0.0]), Tensor([3.0])))
        2.5
    """

    _elementwise = staticmethod(_huber_error)

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss", dtype: Any = None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Mean of log cosh(p - y): see :func:`log_cosh`.

    Example:
        >>> round(float(LogCosh()(np.array([0.0]), Tensor([1.0]))), 4)
        0.4338
    """

    _elementwise = staticmethod(_log_cosh_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh",
                 dtype: Any = None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``: see :func:`cosine_similarity`.

    ``get_config`` also records ``axis`` (Keras 3.15 leaves it out).

    Example:
        >>> float(CosineSimilarity()(np.array([[1.0, 0.0]]), Tensor([[2.0, 0.0]])))
        -1.0
    """

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity", dtype: Any = None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)


__all__ = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "huber", "log_cosh", "cosine_similarity",
           "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "Huber", "LogCosh", "CosineSimilarity", "Loss"]
