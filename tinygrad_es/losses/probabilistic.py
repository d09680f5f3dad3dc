"""Probabilistic losses: the crossentropies (plain and focal), KL divergence and Poisson.

The crossentropies follow Keras's three paths (keras-semantics.md section 2.2):

* ``from_logits=True``: y_pred are logits z.
* y_pred came out of ``activations.sigmoid``/``softmax``: the logits it carries are used, with no
  clipping, exactly as Keras uses ``_keras_logits`` (``activations.logits_of``).
* otherwise probabilities, clipped to [eps, 1 - eps] before the log.

As in Keras, the functions do not align ranks (the Loss classes do, in
``LossFunctionWrapper.call``), and the metrics of the same names call these same functions.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_es import activations, config
from tinygrad_es.losses.loss import (Loss, LossFunctionWrapper, check_same_shape, prepare,
                                     squeeze_or_expand_to_same_rank)
from tinygrad_es.tensor import Tensor, where
from tinygrad_es.i18n import tr


def _logits(p: Tensor, from_logits: bool, fn_name: str) -> Tensor | None:
    """The logits to compute from, or None for the probability path (TF's ``_get_logits``)."""
    carried = activations.logits_of(p)
    if carried is not None:
        if from_logits:
            warnings.warn(tr("`{fn_name}` received `from_logits=True`, but the `output` "
                             "argument was produced by a sigmoid or softmax activation and "
                             "thus does not represent logits. Was this intended?", fn_name=fn_name),
                          stacklevel=3)
        return carried
    return p if from_logits else None


def _smooth(y: np.ndarray, label_smoothing: float, num_classes: int) -> np.ndarray:
    return y * (1.0 - label_smoothing) + label_smoothing / y.dtype.type(num_classes)


# ----- binary -----

def _sigmoid_cross_entropy(y: np.ndarray, z: Tensor) -> Tensor:
    """TF's sigmoid_cross_entropy_with_logits: max(z, 0) - z y + log(1 + e^-|z|), op for op."""
    positive = z.data >= 0
    relu_z = where(positive, z, 0.0)
    neg_abs_z = where(positive, -z, z)
    return (relu_z - z * y) + neg_abs_z.softplus()  # softplus(-|z|) = log1p(e^-|z|) exactly


def _binary_crossentropy_elements(y: np.ndarray, p: Tensor, from_logits: bool = False,
                                  label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    check_same_shape("binary_crossentropy", y, p)
    if label_smoothing:
        y = _smooth(y, label_smoothing, 2)
    z = _logits(p, from_logits, "binary_crossentropy")
    if z is not None:
        return _sigmoid_cross_entropy(y, z)
    eps = config.epsilon()
    pc = p.clip(eps, 1.0 - eps)
    return -(pc.log() * y + (1.0 - pc).log() * (1.0 - y))


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample mean over ``axis`` of -(y log p + (1 - y) log(1 - p)).

    Probabilities are clipped to [eps, 1 - eps]; from logits z it is max(z, 0) - z y +
    log(1 + e^-|z|). ``label_smoothing`` s uses y (1 - s) + s / 2.

    Example:
        >>> binary_crossentropy(np.array([[1.0]]), Tensor([[0.0]]), from_logits=True).data
        array([0.6931472], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    return _binary_crossentropy_elements(y, p, from_logits, label_smoothing).mean(axis=axis)


def _binary_focal_elements(y: np.ndarray, p: Tensor, apply_class_balancing: bool = False,
                           alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                           label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    if label_smoothing:
        y = _smooth(y, label_smoothing, 2)
    if from_logits:
        p = activations.sigmoid(p)
    # NOTE: as in Keras, the bce term takes the logits path whenever p carries logits.
    bce = _binary_crossentropy_elements(y, p)
    p_t = p * y + (1.0 - p) * (1.0 - y)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = focal * (y * alpha + (1.0 - y) * (1.0 - alpha))
    return focal


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample mean over ``axis`` of (1 - p_t)^gamma * bce, p_t = y p + (1 - y)(1 - p);
    times y alpha + (1 - y)(1 - alpha) with ``apply_class_balancing``.

    Example:
        >>> binary_focal_crossentropy(np.array([[1.0]]), Tensor([[0.5]]), gamma=2.0).data
        array([0.1732868], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    return _binary_focal_elements(y, p, apply_class_balancing, alpha, gamma, from_logits,
                                  label_smoothing).mean(axis=axis)


# ----- categorical -----

def _categorical_checks(fn_name: str, y: np.ndarray, p: Tensor) -> None:
    if y.shape != p.shape:
        hint = (" For integer class labels use sparse_categorical_crossentropy."
                if y.ndim < p.ndim or (y.shape and y.shape[-1] == 1) else "")
        raise ValueError(tr("{fn_name} expects one-hot y_true of the same shape as y_pred, "
                            "received y_true.shape={shape} and y_pred.shape={shape2}.{hint}",
                            fn_name=fn_name, shape=y.shape, shape2=p.shape, hint=hint))
    if p.shape[-1] == 1:
        warnings.warn(tr("In loss {fn_name}, expected y_pred.shape to be (batch_size, "
                         "num_classes) with num_classes > 1. Received: y_pred.shape={shape}. "
                         "Consider using 'binary_crossentropy' if you only have 2 classes.",
                         fn_name=fn_name, shape=p.shape), SyntaxWarning,
                      stacklevel=3)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample -sum_axis y log p.

    Probabilities are first renormalised (p / sum p) and clipped to [eps, 1 - eps]; from logits
    it is logsumexp(z) - sum y z. ``label_smoothing`` s uses y (1 - s) + s / C.

    Example:
        >>> categorical_crossentropy(np.array([[0.0, 1.0]]), Tensor([[0.5, 0.5]])).data
        array([0.6931472], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    _categorical_checks("categorical_crossentropy", y, p)
    if label_smoothing:
        y = _smooth(y, label_smoothing, y.shape[axis])
    z = _logits(p, from_logits, "categorical_crossentropy")
    if z is not None:
        if axis in (-1, z.ndim - 1):  # TF's softmax_cross_entropy_with_logits, one op
            return z.softmax_cross_entropy(y)
        return (z.log_softmax(axis=axis) * -y).sum(axis=axis)
    eps = config.epsilon()
    pc = (p / p.sum(axis=axis, keepdims=True)).clip(eps, 1.0 - eps)
    return (pc.log() * -y).sum(axis=axis)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample sum_axis alpha (1 - p)^gamma * (-y log p), p renormalised and clipped
    (softmax first with ``from_logits``; Keras takes no logits path here).

    Example:
        >>> categorical_focal_crossentropy(np.array([[0.0, 1.0]]), Tensor([[0.5, 0.5]])).data
        array([0.0433217], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    _categorical_checks("categorical_focal_crossentropy", y, p)
    if label_smoothing:
        y = _smooth(y, label_smoothing, y.shape[axis])
    if from_logits:
        p = p.softmax(axis=axis)
    eps = config.epsilon()
    pc = (p / p.sum(axis=axis, keepdims=True)).clip(eps, 1.0 - eps)
    return ((1.0 - pc) ** gamma * alpha * (pc.log() * -y)).sum(axis=axis)


# ----- sparse categorical -----

def _sparse_categorical(y: np.ndarray, p: Tensor, from_logits: bool, ignore_class: int | None,
                        axis: int) -> tuple[Tensor, np.ndarray | None]:
    """Per-sample values and the mask of counted samples (None without ``ignore_class``)."""
    if axis not in (-1, p.ndim - 1):
        raise ValueError(tr("sparse_categorical_crossentropy supports only axis=-1, received "
                            "axis={axis}", axis=axis))
    if y.ndim == p.ndim and y.shape[-1] == 1:
        y = y.squeeze(-1)
    mask = None
    if ignore_class is not None:
        mask = y != ignore_class
        y = np.where(mask, y, 0)
        p = where(mask[..., None], p, 0.0)  # a new tensor: no carried logits (as in Keras)
    labels = y.astype(np.int64)
    if labels.shape != p.shape[:-1]:
        raise ValueError(tr("sparse_categorical_crossentropy expects integer labels of shape "
                            "{shape} (or {value}) for y_pred of shape {shape2}, received "
                            "y_true.shape={shape3}", shape=p.shape[:-1], value=p.shape[:-1] + (1,),
                            shape2=p.shape, shape3=labels.shape))
    _check_label_range(labels, p.shape[-1], "sparse_categorical_crossentropy")
    z = _logits(p, from_logits, "sparse_categorical_crossentropy")
    if z is None:
        eps = config.epsilon()
        z = p.clip(eps, 1.0 - eps).log()
    # NOTE: TF's sparse kernel, logsumexp(z) - z[label], reads only the label's logit (finite
    # at z = ±3e38 where the dense kernel against one-hot rows gives 0·inf = NaN).
    values = z.sparse_softmax_cross_entropy(labels)
    if mask is not None:
        values = where(mask, values, 0.0)
    return values, mask


def _check_label_range(labels: np.ndarray, num_classes: int, who: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = np.argwhere((labels < 0) | (labels >= num_classes))[0]
        where_ = f"row {bad[0]}" if len(bad) == 1 else f"index {tuple(int(i) for i in bad)}"
        raise ValueError(tr("{who} received label {labels} at {where}, but y_pred has "
                            "{num_classes} classes: expected integer labels in [0, "
                            "{num_classes}) (label value of {labels}, outside the valid range)",
                            who=who, labels=labels[tuple(bad)], where=where_,
                            num_classes=num_classes))


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """Per-sample -log p[label] for integer labels of shape (N,) or (N, 1).

    Probabilities are clipped, logged and renormalised (log softmax of log clip(p)); from logits
    it is logsumexp(z) - z[label]. Samples labelled ``ignore_class`` give 0.

    Example:
        >>> sparse_categorical_crossentropy(np.array([1]), Tensor([[0.5, 0.5]])).data
        array([0.6931472], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    return _sparse_categorical(y, p, from_logits, ignore_class, axis)[0]


# ----- divergences -----

def _poisson_elements(y: np.ndarray, p: Tensor) -> Tensor:
    return p - (p + config.epsilon()).log() * y


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample sum_last y log(y / p), both clipped to [eps, 1].

    Example:
        >>> kl_divergence(np.array([[1.0, 0.0]]), Tensor([[1.0, 0.0]])).data
        array([0.], dtype=float32)
    """
    y, p = prepare(y_true, y_pred, align=False)
    eps = config.epsilon()
    y = np.clip(y, eps, 1.0)
    return ((y / p.clip(eps, 1.0)).log() * y).sum(axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample mean_last p - y log(p + eps).

    Example:
        >>> poisson(np.array([[0.0]]), Tensor([[2.0]])).data
        array([2.], dtype=float32)
    """
    return _poisson_elements(*prepare(y_true, y_pred, align=False)).mean(axis=-1)


# ----- the Loss classes -----

class BinaryCrossentropy(LossFunctionWrapper):
    """Binary crossentropy: see :func:`binary_crossentropy`.

    Example:
        >>> float(BinaryCrossentropy(from_logits=True)(np.array([1.0]), Tensor([[0.0]])))
        0.6931471824645996
    """

    _elementwise = staticmethod(_binary_crossentropy_elements)

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_crossentropy",
                 dtype: Any = None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal crossentropy: see :func:`binary_focal_crossentropy`.

    Example:
        >>> round(float(BinaryFocalCrossentropy()(np.array([1.0]), Tensor([0.5]))), 6)
        0.173287
    """

    _elementwise = staticmethod(_binary_focal_elements)

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_focal_crossentropy", dtype: Any = None):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy on one-hot labels: see :func:`categorical_crossentropy`.

    Example:
        >>> round(float(CategoricalCrossentropy()(np.array([[0, 1]]), Tensor([[0.5, 0.5]]))), 6)
        0.693147
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_crossentropy", dtype: Any = None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal crossentropy: see :func:`categorical_focal_crossentropy`.

    Example:
        >>> round(float(CategoricalFocalCrossentropy()(np.array([[0, 1]]), Tensor([[.5, .5]]))), 6)
        0.043322
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_crossentropy", dtype: Any = None):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.alpha, self.gamma = alpha, gamma


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy on integer labels: see :func:`sparse_categorical_crossentropy`.

    With ``ignore_class``, those samples are masked: the mean is over the others (Keras's mask).

    Example:
        >>> round(float(SparseCategoricalCrossentropy()(np.array([1]), Tensor([[.5, .5]]))), 6)
        0.693147
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size", axis: int = -1,
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def _compute(self, y_true: np.ndarray, y_pred: Tensor) -> tuple[Tensor, np.ndarray | None]:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return _sparse_categorical(y_true, y_pred, self.from_logits, self.ignore_class, self.axis)

    def get_config(self) -> dict:
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence: see :func:`kl_divergence`.

    Example:
        >>> float(KLDivergence()(np.array([[1.0, 0.0]]), Tensor([[1.0, 0.0]])))
        0.0
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "kl_divergence",
                 dtype: Any = None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss: see :func:`poisson`.

    Example:
        >>> float(Poisson()(np.array([0.0]), Tensor([2.0])))
        2.0
    """

    _elementwise = staticmethod(_poisson_elements)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "poisson",
                 dtype: Any = None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)
