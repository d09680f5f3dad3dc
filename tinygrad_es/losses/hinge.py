"""Margin losses (hinge, squared hinge, categorical hinge) and overlap losses (Dice, Tversky).

Hinge labels are -1/1; if every label in the batch is 0 or 1 they are mapped to 2y - 1 first.
As in Keras, the functions do not align ranks (the Loss classes do); the hinge metrics call them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.losses.loss import LossFunctionWrapper, prepare
from tinygrad_es.tensor import Tensor

Axis = int | tuple[int, ...] | None


def _signed_labels(y: np.ndarray) -> np.ndarray:
    """2y - 1 when every label is 0 or 1 (Keras's convert_binary_labels_to_hinge), else y."""
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


def _hinge_elements(y: np.ndarray, p: Tensor) -> Tensor:
    # NOTE: maximum's tie sends the gradient to its first argument, so margin 1 still passes -y.
    return (1.0 - p * _signed_labels(y)).maximum(0.0)


def _squared_hinge_elements(y: np.ndarray, p: Tensor) -> Tensor:
    return _hinge_elements(y, p).square()


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last max(1 - y p, 0).

    Example:
        >>> hinge(np.array([[1.0, 0.0]]), Tensor([[0.5, -2.0]])).data
        array([0.25], dtype=float32)
    """
    return _hinge_elements(*prepare(y_true, y_pred, align=False)).mean(axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last max(1 - y p, 0)^2.

    Example:
        >>> squared_hinge(np.array([[1.0, 0.0]]), Tensor([[0.5, -2.0]])).data
        array([0.125], dtype=float32)
    """
    return _squared_hinge_elements(*prepare(y_true, y_pred, align=False)).mean(axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample max(max_last((1 - y) p) - sum_last(y p) + 1, 0) for one-hot y.

    Example:
        >>> categorical_hinge(np.array([[0.0, 1.0]]), Tensor([[0.5, 0.25]])).data
        array([1.25], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    positive = (p * y).sum(axis=-1)
    negative = (p * (1.0 - y)).max(axis=-1)
    return (negative - positive + 1.0).maximum(0.0)


def dice(y_true: Any, y_pred: Any, axis: Axis = None) -> Tensor:
    """1 - 2 sum(y p) / (sum y + sum p + eps), summed over ``axis`` (None: everything, one number).

    Example:
        >>> dice(np.array([[1.0, 0.0]]), Tensor([[0.5, 0.5]])).data
        array(0.5, dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    intersection = (p * y).sum(axis=axis)
    return 1.0 - intersection * 2.0 / (p.sum(axis=axis) + y.sum(axis=axis) + config.epsilon())


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5,
            axis: Axis = None) -> Tensor:
    """1 - TP / (TP + alpha FP + beta FN + eps) with TP = sum y p, FP = sum (1 - p) y,
    FN = sum p (1 - y), summed over ``axis`` (None: everything).

    Example:
        >>> tversky(np.array([[1.0, 0.0]]), Tensor([[1.0, 0.0]])).data
        array(1.1920929e-07, dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    intersection = (p * y).sum(axis=axis)
    false_pos = ((1.0 - p) * y).sum(axis=axis)
    false_neg = (p * (1.0 - y)).sum(axis=axis)
    denominator = intersection + false_pos * alpha + false_neg * beta + config.epsilon()
    return 1.0 - intersection / denominator


class Hinge(LossFunctionWrapper):
    """Hinge loss: see :func:`hinge`.

    Example:
        >>> float(Hinge()(np.array([1.0]), Tensor([[0.5]])))
        0.5
    """

    _elementwise = staticmethod(_hinge_elements)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge",
                 dtype: Any = None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss: see :func:`squared_hinge`.

    Example:
        >>> float(SquaredHinge()(np.array([1.0]), Tensor([[0.5]])))
        0.25
    """

    _elementwise = staticmethod(_squared_hinge_elements)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "squared_hinge",
                 dtype: Any = None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss: see :func:`categorical_hinge`.

    Example:
        >>> float(CategoricalHinge()(np.array([[0, 1]]), Tensor([[0.5, 0.25]])))
        1.25
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class Dice(LossFunctionWrapper):
    """Dice loss: see :func:`dice`.

    Example:
        >>> round(float(Dice()(np.array([[1.0, 0.0]]), Tensor([[1.0, 0.0]]))), 6)
        0.0
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "dice",
                 axis: Axis = None, dtype: Any = None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """Tversky loss: see :func:`tversky`.

    Example:
        >>> round(float(Tversky()(np.array([[1.0, 0.0]]), Tensor([[1.0, 0.0]]))), 6)
        0.0
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.5,
                 reduction: str | None = "sum_over_batch_size", name: str = "tversky",
                 axis: Axis = None, dtype: Any = None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis
