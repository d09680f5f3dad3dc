"""Losses as in ``keras.losses``: functions, ``Loss`` classes, string aliases, and ``get``.

Example:
    >>> from tinygrad_es import losses
    >>> mse = losses.get("mse")
    >>> float(mse(np.array([1.0, 2.0]), Tensor([[1.0], [4.0]])))
    2.0
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.losses.circle import Circle, circle
from tinygrad_es.losses.ctc import CTC, ctc
from tinygrad_es.losses.generalized import (CategoricalGeneralizedCrossEntropy,
                                            categorical_generalized_cross_entropy)
from tinygrad_es.losses.hinge import (CategoricalHinge, Dice, Hinge, SquaredHinge, Tversky,
                                      categorical_hinge, dice, hinge, squared_hinge, tversky)
from tinygrad_es.losses.loss import (Loss, LossFunctionWrapper, reduce_weighted_values,
                                     squeeze_or_expand_to_same_rank)
from tinygrad_es.losses.probabilistic import (
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, KLDivergence, Poisson, SparseCategoricalCrossentropy,
    _check_label_range, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, kl_divergence, poisson, sparse_categorical_crossentropy)
from tinygrad_es.losses.regression import (
    CosineSimilarity, Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, cosine_similarity, huber, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error)
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils.registry import unknown

# Each built-in function and the class that wraps it.
_FUNCTION_CLASS: dict[Callable, type[LossFunctionWrapper]] = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber, log_cosh: LogCosh,
    cosine_similarity: CosineSimilarity, binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    kl_divergence: KLDivergence, poisson: Poisson, hinge: Hinge, squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge, dice: Dice, tversky: Tversky, ctc: CTC, circle: Circle,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
}
_CLASSES: dict[str, type[Loss]] = {cls.__name__: cls for cls in [Loss, *_FUNCTION_CLASS.values()]}
_FUNCTIONS: dict[str, Callable] = {fn.__name__: fn for fn in _FUNCTION_CLASS}
# Keras's short aliases. NOT accepted (as in Keras): huber_loss, logcosh, cce, scce,
# kullback_leibler_divergence; "crossentropy"/"ce" only through compile (resolve_crossentropy).
_ALIASES: dict[str, Callable] = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy, "kld": kl_divergence,
    "KLD": kl_divergence, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error, "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
}
# Exported, and loaded back by deserialize, but keras.losses.get rejects these two strings.
_NOT_BY_STRING = ("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy")


def _names() -> list[str]:
    return sorted(n for n in [*_CLASSES, *_FUNCTIONS, *_ALIASES] if n not in _NOT_BY_STRING)


def _unknown(identifier: str) -> ValueError:
    return unknown("loss", identifier, _names())


def _from_function(fn: Callable) -> Loss:
    cls = _FUNCTION_CLASS.get(fn)
    if cls is not None:  # the class runs the same function, with the fused fast path
        return cls(name=fn.__name__)
    return LossFunctionWrapper(fn, name=getattr(fn, "__name__", None))


def get(identifier: Any) -> Loss | None:
    """A ``Loss`` instance for a name, alias, class, instance, function or serialized dict.

    A function name or alias (``"mse"``) gives the matching class named after the function
    (``MeanSquaredError(name="mean_squared_error")``); a class name gives a default instance;
    a plain ``fn(y_true, y_pred) -> per-sample Tensor`` is wrapped. None gives None.

    Raises:
        ValueError: unknown name (lists the valid ones and the closest).

    Example:
        >>> get("bce").name, type(get("BinaryCrossentropy")).__name__
        ('binary_crossentropy', 'BinaryCrossentropy')
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _NOT_BY_STRING:
            raise _unknown(identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        fn = _FUNCTIONS.get(identifier) or _ALIASES.get(identifier)
        if fn is None:
            raise _unknown(identifier)
        return _from_function(fn)
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return _from_function(identifier)
    raise ValueError(f"Could not interpret loss identifier {identifier!r}: expected a name, a "
                     "Loss class or instance, a function or a serialized dict")


def serialize(loss: Loss | Callable) -> dict:
    """A JSON-able ``{"class_name", "config"}`` for a built-in loss or function.

    Example:
        >>> serialize(MeanSquaredError())
        {'class_name': 'MeanSquaredError', 'config': {'name': 'mean_squared_error', \
'reduction': 'sum_over_batch_size'}}
    """
    if not isinstance(loss, Loss):
        loss = get(loss)
    cls_name = type(loss).__name__
    if _CLASSES.get(cls_name) is type(loss):
        return {"class_name": cls_name, "config": loss.get_config()}
    if type(loss) is LossFunctionWrapper and _FUNCTIONS.get(loss.fn.__name__) is loss.fn:
        return {"class_name": "LossFunctionWrapper",
                "config": {**loss.get_config(), "fn": loss.fn.__name__}}
    raise ValueError(f"Cannot serialize loss {loss!r}: only built-in losses and functions have "
                     "names that load back")


def deserialize(config: dict | str) -> Loss:
    """The inverse of :func:`serialize` (a string goes through :func:`get`).

    Example:
        >>> deserialize(serialize(Huber(delta=2.0))).get_config()["delta"]
        2.0
    """
    if isinstance(config, str):
        return get(config)
    name, kwargs = config.get("class_name"), dict(config.get("config") or {})
    if name == "LossFunctionWrapper":
        fn_name = kwargs.pop("fn", None)
        if fn_name not in _FUNCTIONS:
            raise _unknown(str(fn_name))
        return LossFunctionWrapper(_FUNCTIONS[fn_name], **kwargs)
    if name == "function" and isinstance(config.get("config"), str):
        return get(config["config"])
    if name not in _CLASSES:
        raise _unknown(str(name))
    return _CLASSES[name].from_config(kwargs)


def resolve_crossentropy(y_true: Any, y_pred: Any) -> Loss:
    """compile's ``"crossentropy"``/``"ce"``: binary if y_pred has one output, else sparse when
    y_true has lower rank or a last dimension of 1, else categorical (Keras's rule).

    Args:
        y_true: labels (or anything with ``.shape``, or a shape tuple).
        y_pred: predictions, or their shape.

    Example:
        >>> resolve_crossentropy(np.zeros(8), np.zeros((8, 3))).name
        'sparse_categorical_crossentropy'
    """
    t_shape, p_shape = _shape(y_true), _shape(y_pred)
    if p_shape[-1] == 1:
        return BinaryCrossentropy()
    if len(t_shape) < len(p_shape) or t_shape[-1] == 1 and p_shape[-1] > 1:
        return SparseCategoricalCrossentropy()
    return CategoricalCrossentropy()


def _shape(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else tuple(np.shape(x))


def check_targets(loss: Loss | Callable, y_true: Any, y_pred: Any) -> None:
    """Reject labels that cannot fit a crossentropy loss, once per ``fit`` (vectorised, cheap).

    Sparse: labels must be integers in [0, classes) (``ignore_class`` excepted). Categorical: the
    one-hot width must equal the number of outputs. Binary: one target per output. Other losses
    are not checked (Keras broadcasts them).

    Args:
        loss: the compiled loss (instance, function or name).
        y_true: all the labels.
        y_pred: a prediction batch, or the model's output shape (batch entry may be None).

    Raises:
        ValueError: naming the loss, what was received and what was expected.

    Example:
        >>> check_targets(get("sparse_categorical_crossentropy"), np.array([0, 3]), (None, 3))
        Traceback (most recent call last):
        ...
        ValueError: sparse_categorical_crossentropy received label 3 at row 1, but y_pred has \
3 classes: expected integer labels in [0, 3) (label value of 3, outside the valid range)
    """
    if isinstance(loss, str):
        loss = get(loss)
    kind, ignore_class = _target_kind(loss)
    if kind is None:
        return
    y = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    p_shape = _shape(y_pred)
    name = getattr(loss, "name", None) or getattr(loss, "__name__", "loss")
    if kind == "sparse":
        if y.ndim == len(p_shape) and y.shape[-1:] == (1,):
            y = y[..., 0]
        if y.shape[1:] != p_shape[1:-1]:
            raise ValueError(tr("{name} expects integer labels of shape (batch_size,) + "
                                "{inner} for model outputs of shape {output}, received labels "
                                "of shape {shape}", name=name, inner=p_shape[1:-1],
                                output=p_shape, shape=y.shape))
        if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
            row = int(np.argwhere(~(np.isfinite(y) & (y == np.round(y))))[0][0])
            raise ValueError(tr("{name} expects integer class labels, received {value} at row "
                                "{row}", name=name, value=y.ravel()[row], row=row))
        labels = y.astype(np.int64)
        if ignore_class is not None:
            labels = np.where(labels == ignore_class, 0, labels)
        _check_label_range(labels, p_shape[-1], name)
    elif y.shape[1:] != p_shape[1:]:
        what = tr("one-hot width") if kind == "categorical" else tr("target shape")
        hint = (" " + tr("For integer class labels use sparse_categorical_crossentropy.")
                if kind == "categorical" and (y.ndim < len(p_shape) or y.shape[-1] == 1) else "")
        if kind == "binary" and y.ndim == len(p_shape) - 1 and p_shape[-1] == 1:
            return  # (N,) against (N, 1): Keras expands
        raise ValueError(tr("{name}: {what} of y_true {got} does not match the model's output "
                            "{expected} (y_true.shape={shape}, output shape {output}).{hint}",
                            name=name, what=what, got=y.shape[1:], expected=p_shape[1:],
                            shape=y.shape, output=p_shape, hint=hint))


def _target_kind(loss: Any) -> tuple[str | None, Any]:
    fn = loss.fn if isinstance(loss, LossFunctionWrapper) else loss
    if fn is sparse_categorical_crossentropy:
        return "sparse", getattr(loss, "_kwargs", {}).get("ignore_class")
    if fn in (categorical_crossentropy, categorical_focal_crossentropy):
        return "categorical", None
    if fn in (binary_crossentropy, binary_focal_crossentropy):
        return "binary", None
    return None, None


__all__ = ["Loss", "LossFunctionWrapper", "get", "serialize", "deserialize",
           "resolve_crossentropy", "check_targets", "reduce_weighted_values",
           "squeeze_or_expand_to_same_rank", *_CLASSES, *_FUNCTIONS]
