"""``Loss``: Keras's pipeline around a per-sample loss function (keras-semantics.md section 2.1).

``loss(y_true, y_pred, sample_weight)``:

1. casts both to the loss dtype (``floatx()`` when the loss was made); y_true becomes a constant,
2. aligns ranks: ``(N,)`` against ``(N, 1)`` expands the rank-1 side; otherwise a trailing 1 is
   squeezed from the larger; never an (N, N) broadcast,
3. computes the per-sample values (the subclass's ``call``, reducing over the last axis),
4. multiplies by ``sample_weight`` (aligned the same way),
5. reduces: ``"sum_over_batch_size"``/``"mean"`` -> sum / number of values, ``"sum"``,
   ``"mean_with_sample_weight"`` -> sum / sum(weights), ``None``/``"none"`` -> the values,
   dividing with ``divide_no_nan`` (0 / 0 is 0).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_es import config
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import naming

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_MEANS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred) -> per-sample Tensor``.

    Args:
        name: defaults to the snake_case class name, made unique (``utils/naming.py``).
        reduction: one of ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or None.
        dtype: computation dtype; defaults to ``config.floatx()`` at construction.

    Example:
        >>> class MyMSE(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return (y_pred - y_true).square().mean(axis=-1)
        >>> float(MyMSE()(np.array([[1.0]]), Tensor([[3.0]])))
        4.0
    """

    # Per-element function whose mean over the last axis is the per-sample loss (or None).
    _elementwise: Callable[..., Tensor] | None = None

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction` of {type(self).__name__}: "
                             f"expected one of {REDUCTIONS}, received {reduction!r}")
        self.name = name or naming.auto_name(type(self).__name__)
        self.reduction = reduction
        self.dtype = np.dtype(dtype or config.floatx())

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The reduced loss: a scalar Tensor (the per-sample Tensor for reduction None/"none")."""
        y_true, y_pred = cast_inputs(y_true, y_pred, self.dtype)
        if (self._elementwise is not None and sample_weight is None and self.reduction in _MEANS
                and y_pred.size):
            # Fast path: mean over the last axis, then over the batch, is one mean.
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            return self._elementwise(y_true, y_pred, **self._fn_kwargs()).mean()
        values, mask = self._compute(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.dtype)

    def call(self, y_true: np.ndarray, y_pred: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def _compute(self, y_true: np.ndarray, y_pred: Tensor) -> tuple[Tensor, np.ndarray | None]:
        """Per-sample values and an optional boolean mask of the values that count."""
        return self.call(y_true, y_pred), None

    def _fn_kwargs(self) -> dict:
        return {}

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs) -> per-sample Tensor``.

    Example:
        >>> def l1(y_true, y_pred):
        ...     return (y_pred - y_true).abs().sum(axis=-1)
        >>> float(LossFunctionWrapper(l1)(np.array([[1.0, 1.0]]), Tensor([[0.0, 3.0]])))
        3.0
    """

    def __init__(self, fn: Callable[..., Tensor], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._kwargs = kwargs

    def call(self, y_true: np.ndarray, y_pred: Tensor) -> Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._kwargs)

    def _fn_kwargs(self) -> dict:
        return self._kwargs

    def get_config(self) -> dict:
        return {**super().get_config(), **self._kwargs}

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._kwargs})>"


# ----- the pipeline's steps -----

def cast_inputs(y_true: Any, y_pred: Any, dtype: np.dtype) -> tuple[np.ndarray, Tensor]:
    """y_true as an ndarray of ``dtype`` (a constant), y_pred as a Tensor of ``dtype``.

    A y_pred Tensor already in ``dtype`` is passed through untouched, so it keeps the logits a
    sigmoid/softmax attached (Keras's convert_to_tensor is also a no-op then).
    """
    if isinstance(y_true, Tensor):
        y_true = y_true.data
    y_true = np.asarray(y_true, dtype=dtype)
    if isinstance(y_pred, Tensor):
        if y_pred.dtype == dtype:
            return y_true, y_pred
        if y_pred.dtype.kind == "f" and y_pred.requires_grad:
            if np.promote_types(y_pred.dtype, dtype) == dtype:
                return y_true, y_pred * Tensor.from_numpy(np.ones((), dtype=dtype))
            # NOTE: no narrowing cast op in the engine: compute in y_pred's (wider) dtype.
            return y_true.astype(y_pred.dtype), y_pred
        y_pred = y_pred.data
    return y_true, Tensor.from_numpy(np.asarray(y_pred, dtype=dtype))


def squeeze_or_expand_to_same_rank(x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple:
    """Keras's rank alignment: if ranks differ by one and the larger ends in 1, expand a rank-1
    smaller side, else squeeze the larger. Works on Tensors and ndarrays.

    Example:
        >>> [a.shape for a in squeeze_or_expand_to_same_rank(np.zeros(4), np.zeros((4, 1)))]
        [(4, 1), (4, 1)]
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = _expand_last(x2)
        else:
            x1 = _squeeze_last(x1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = _expand_last(x1)
        else:
            x2 = _squeeze_last(x2)
    return x1, x2


def _expand_last(x: Any) -> Any:
    return x.expand_dims(-1) if isinstance(x, Tensor) else x[..., None]


def _squeeze_last(x: Any) -> Any:
    return x.squeeze(-1) if isinstance(x, Tensor) else x[..., 0]


def reduce_weighted_values(values: Tensor, sample_weight: Any = None,
                           mask: np.ndarray | None = None,
                           reduction: str | None = "sum_over_batch_size",
                           dtype: Any = None) -> Tensor:
    """Weight the per-sample ``values`` and reduce them as Keras's ``reduce_weighted_values``.

    Example:
        >>> float(reduce_weighted_values(Tensor([1.0, 3.0]), np.array([1.0, 0.0])))
        0.5
    """
    dtype = values.dtype if dtype is None else np.dtype(dtype)
    if sample_weight is not None:
        if isinstance(sample_weight, Tensor):
            sample_weight = sample_weight.data
        try:
            sample_weight = np.asarray(sample_weight, dtype=dtype)
        except (TypeError, ValueError):
            raise ValueError(f"sample_weight must be numeric, received {sample_weight!r}") from None
    if mask is not None:
        sample_weight = _apply_mask(sample_weight, mask, dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        try:  # one weight per sample; a single loss value (Dice, axis=None) broadcasts as in TF
            shape = np.broadcast_shapes(values.shape, sample_weight.shape)
            ok = shape == values.shape or values.ndim == 0
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"sample_weight of shape {sample_weight.shape} does not match the "
                             f"per-sample losses of shape {values.shape}: expected one weight per "
                             "sample, e.g. shape (batch_size,)")
        values = values * sample_weight
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(np.sum(sample_weight, dtype=dtype))
    else:
        divisor = values.size
    if divisor == values.size:
        return values.mean()
    if divisor == 0:  # divide_no_nan: 0, with a zero gradient
        return values.sum() * 0.0
    return values.sum() / divisor


def _apply_mask(sample_weight: np.ndarray | None, mask: np.ndarray, dtype: np.dtype,
                reduction: str | None) -> np.ndarray:
    """Merge a boolean mask into the sample weights (Keras's ``apply_mask``)."""
    if reduction in ("mean", "sum_over_batch_size"):
        # Valid entries weigh total/valid, so the mean over all entries is the mean over the valid.
        valid = np.sum(mask, dtype=dtype)
        weight = dtype.type(mask.size) / valid if valid else dtype.type(0)
        float_mask = np.where(mask, weight, dtype.type(0)).astype(dtype)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


# ----- helpers shared by the loss functions -----

def prepare(y_true: Any, y_pred: Any, align: bool = True) -> tuple[np.ndarray, Tensor]:
    """The standalone functions' input handling: y_pred a Tensor (keeping its dtype), y_true a
    constant of that dtype, ranks aligned as in Keras."""
    if not isinstance(y_pred, Tensor):
        arr = np.asarray(y_pred)
        y_pred = Tensor.from_numpy(arr if arr.dtype.kind == "f" else arr.astype(config.floatx()))
    y_true = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true, dtype=y_pred.dtype)
    if align:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def check_same_shape(fn_name: str, y_true: np.ndarray, y_pred: Tensor) -> None:
    """A clear error where numpy would silently broadcast two mismatched shapes."""
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{fn_name} expects y_true and y_pred of the same shape, received "
                         f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
