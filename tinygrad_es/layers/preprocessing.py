"""Preprocessing layers: ``Normalization`` (learns a mean and variance with ``adapt``) and
``Rescaling`` (``x·scale + offset``, e.g. pixels from [0, 255] to [0, 1]).

Neither has trainable weights; both are differentiable in their input, so they can sit inside a
model that ``fit`` trains.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterable

import numpy as np

from tinygrad_es import config
from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.tensor import Tensor
from tinygrad_es.tfcast import tf_constant

__all__ = ["Normalization", "Rescaling"]


def keras_constant(value: Any, dtype: Any) -> np.ndarray:
    """``value`` as Keras's ``ops.cast(value, dtype)`` makes it on TensorFlow: Python floats,
    alone or in (nested) lists, become float32 first; numpy values keep their precision."""
    if isinstance(value, (np.ndarray, np.generic, Tensor)):
        return np.asarray(getattr(value, "data", value)).astype(dtype)
    if isinstance(value, (int, float)):
        return np.asarray(tf_constant(value, dtype))
    array = np.asarray(value)
    if array.dtype == np.float64:  # a list of Python floats: a float32 tensor in TensorFlow
        array = array.astype(np.float32)
    return array.astype(dtype)


# ----- Normalization -----

class Normalization(Layer):
    """``(x - mean) / max(√variance, ε)`` per feature, with ε = 1e-7 (Keras's ``epsilon()``).

    The mean and variance come from ``adapt(data)`` (or are given as ``mean=`` and
    ``variance=``). ``axis`` names the axes that keep their own statistics: ``-1`` (default) one
    mean per feature, ``None`` a single mean and variance over everything, a tuple several axes.

    Args:
        axis: int, tuple of ints or None.
        mean, variance: fixed statistics (both or neither), broadcast to the kept axes; then the
            layer has no weights and ``adapt`` is not needed.
        invert: compute the inverse, ``mean + x·max(√variance, ε)``.

    Weights after build, as Keras: ``mean``, ``variance`` and ``count`` (Keras's is an int64 it
    leaves at 0; here a float64 0), all non-trainable. ``adapt`` sets the first two.

    Example:
        >>> import numpy as np
        >>> norm = Normalization(); norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> norm(np.array([[1.0, 20.0]])).data
        array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis: int | tuple[int, ...] | None = -1, mean: Any = None,
                 variance: Any = None, invert: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        else:
            try:
                axis = tuple(int(a) for a in axis)
            except (TypeError, ValueError):
                raise TypeError(tr("Normalization: `axis` must be an int, a tuple of ints or "
                                   "None, received axis={axis!r}", axis=axis)) from None
        self.axis = axis
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError(tr("When setting values directly, both `mean` and `variance` must "
                                "be set. Received: mean={mean} and variance={variance}",
                                mean=mean, variance=variance))
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(tr("When setting values directly, `mean` and `variance` must "
                                    "have the same shape. Received: mean shape {mean_shape} and "
                                    "variance shape {variance_shape}", mean_shape=np.shape(mean),
                                    variance_shape=np.shape(variance)))
            if np.ndim(mean) > len(self.axis):
                raise ValueError(tr("The rank of `mean` must be less than or equal to the "
                                    "number of axes ({n_axes}). Received: mean shape {shape} for "
                                    "axis {axis}", n_axes=len(self.axis), shape=np.shape(mean),
                                    axis=self.axis))
        self.adapt_mean: Tensor | None = None
        self.adapt_variance: Tensor | None = None
        self.count: Tensor | None = None
        self._keep: tuple[int, ...] = ()
        self._reduce: tuple[int, ...] = ()
        self._broadcast: tuple[int, ...] = ()
        self._fixed: tuple[np.ndarray, np.ndarray] | None = None

    def build(self, input_shape: Shape) -> None:
        rank = len(input_shape)
        if any(not -rank <= a < rank for a in self.axis):
            raise ValueError(tr("All `axis` values must be in the range [-ndim, ndim). Received "
                                "inputs with ndim={rank}, while axis={axis}", rank=rank,
                                axis=self.axis))
        self._keep = tuple(sorted(a % rank for a in self.axis))
        for d in self._keep:
            if input_shape[d] is None:
                raise ValueError(tr("All `axis` values to be kept must have a known shape. "
                                    "Received axis={axis}, inputs.shape={shape}, with unknown "
                                    "axis at index {d}", axis=self.axis,
                                    shape=tuple(input_shape), d=d))
        self._reduce = tuple(d for d in range(rank) if d not in self._keep)
        self._broadcast = tuple(input_shape[d] if d in self._keep else 1 for d in range(rank))
        stat_shape = tuple(int(input_shape[d]) for d in self._keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", stat_shape, "zeros", None, False)
            self.adapt_variance = self.add_weight("variance", stat_shape, "ones", None, False)
            # Keras's `count`, an int64 that adapt never updates: kept so that the weights line up
            # with Keras's; float64 here (the same 8 bytes in summary(), exact below 2**53),
            # because the model files store float weights.
            self.count = self.add_weight(shape=(), initializer="zeros", dtype="float64",
                                         trainable=False, name="count")
        else:
            # NOTE: as Keras, given statistics go through ops.cast (Python floats via float32).
            mean, variance = (keras_constant(v, self.dtype) for v in (self.input_mean,
                                                                       self.input_variance))
            shape = [1] * rank
            for i in range(1, mean.ndim + 1):  # their axes are the last kept ones
                shape[self._keep[-i]] = mean.shape[-i]
            self._fixed = tuple(np.broadcast_to(v.reshape(shape), self._broadcast).copy()
                                for v in (mean, variance))

    @property
    def mean(self) -> Tensor | None:
        """The mean the layer subtracts, shaped to broadcast against a batch (Keras's
        ``normalizer.mean``, e.g. shape (1, features)); None before build."""
        return None if not self.built else Tensor.from_numpy(self._statistics()[0].copy())

    @property
    def variance(self) -> Tensor | None:
        """The variance the layer divides by the square root of, shaped as :attr:`mean`."""
        return None if not self.built else Tensor.from_numpy(self._statistics()[1].copy())

    def _statistics(self) -> tuple[np.ndarray, np.ndarray]:
        if self._fixed is not None:
            return self._fixed
        return (self.adapt_mean.data.reshape(self._broadcast),
                self.adapt_variance.data.reshape(self._broadcast))

    def call(self, x: Tensor) -> Tensor:
        # axis=None keeps one mean and variance, which Keras broadcasts against any input
        if self._keep and (x.data.ndim != len(self._broadcast) or any(
                x.data.shape[d] != self._broadcast[d] for d in self._keep)):
            raise ValueError(tr("Normalization layer '{name}' was built for inputs shaped "
                                "{built}, received input of shape {shape}", name=self.name,
                                built=self.input_shape, shape=x.data.shape))
        mean, variance = self._statistics()
        # NOTE: Keras's maximum(√variance, epsilon()): a zero variance divides by 1e-7, not 0.
        std = np.maximum(np.sqrt(variance), x.data.dtype.type(config.epsilon()))
        if self.invert:
            return x * std + mean
        return (x - mean) / std

    def adapt(self, data: Any) -> None:
        """Set ``mean`` and ``variance`` from ``data``: an array (all at once, with numpy's mean
        and variance, as Keras) or an iterable of batches (each batch's statistics merged in
        turn, with Keras's formula).

        Example:
            >>> import numpy as np
            >>> norm = Normalization(axis=None); norm.adapt([np.array([1.0, 2.0]),
            ...                                              np.array([3.0])])
            >>> norm.adapt_mean.data, norm.adapt_variance.data
            (array(2., dtype=float32), array(0.6666667, dtype=float32))
        """
        if self._fixed is not None or (self.input_mean is not None):
            raise ValueError(tr("Normalization layer '{name}' was given `mean` and `variance`; "
                                "adapt() cannot change them", name=self.name))
        batches = None
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.ndarray):
            shape = data.shape
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError(tr("adapt() received an empty iterable (no batches). Expected "
                                    "at least one batch. Pass a non-empty iterable of arrays or "
                                    "tensors, e.g. layer.adapt([x]) or "
                                    "layer.adapt(list_of_batches)."))
            first = _batch_of(first)
            shape = first.shape
            batches = itertools.chain([first], (_batch_of(b) for b in iterator))
        else:
            raise TypeError(tr("Unsupported data type: {type}. `adapt` supports `np.ndarray` "
                               "and iterables of batches (e.g. list, generator).",
                               type=type(data)))
        if not self.built:
            self._build_for((None,) + tuple(shape[1:]))
        for d in self._keep:
            if len(shape) != len(self._broadcast) or shape[d] != self._broadcast[d]:
                raise ValueError(tr("The layer was built with input_shape={built}, but adapt() "
                                    "is being called with data with an incompatible shape, "
                                    "data.shape={shape}", built=self.input_shape,
                                    shape=tuple(shape)))
        if batches is None:
            # NOTE: Keras calls numpy here, on the data's own dtype, then casts to the weight's.
            mean, variance = np.mean(data, axis=self._reduce), np.var(data, axis=self._reduce)
        else:
            mean, variance = self._merge(batches)
        np.copyto(self.adapt_mean.data, mean, casting="unsafe")
        np.copyto(self.adapt_variance.data, variance, casting="unsafe")

    def _merge(self, batches: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Keras's running merge of per-batch means and variances, in the layer's dtype."""
        dtype = self._np_dtype
        stat_shape = self.adapt_mean.shape
        total_mean = np.zeros(stat_shape, dtype)
        total_var = np.zeros(stat_shape, dtype)
        total_count = 0
        for batch in batches:
            batch = batch.astype(dtype, copy=False)
            if batch.ndim != len(self._broadcast) or any(
                    batch.shape[d] != self._broadcast[d] for d in self._keep):
                raise ValueError(tr("adapt() yielded a batch with incompatible shape. Expected "
                                    "{built}, got {shape}.", built=self.input_shape,
                                    shape=batch.shape))
            batch_mean = batch.mean(axis=self._reduce)
            batch_var = np.square(batch - batch.mean(axis=self._reduce, keepdims=True)).mean(
                axis=self._reduce)   # tf.math.reduce_variance's order
            batch_count = math.prod(batch.shape[d] for d in self._reduce) if self._reduce else 1
            total_count += batch_count
            # NOTE: Python floats, each a tensor of the layer's dtype in Keras's expression.
            batch_weight = float(batch_count) / total_count
            existing = dtype.type(1.0 - batch_weight)
            batch_weight = dtype.type(batch_weight)
            new_mean = total_mean * existing + batch_mean * batch_weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * existing
                         + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
            total_mean = new_mean
        return total_mean, total_var

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Normalization:
        config = dict(config)
        if isinstance(config.get("axis"), list):  # JSON turned Keras's tuple into a list
            config["axis"] = tuple(config["axis"])
        return cls(**config)


def _batch_of(element: Any) -> np.ndarray:
    """One batch of an ``adapt`` iterable: the x of an (x, y) pair, as an ndarray."""
    if isinstance(element, tuple):
        element = element[0]
    if isinstance(element, Tensor):
        return element.data
    if not hasattr(element, "shape"):
        raise TypeError(tr("adapt() expects an iterable that yields arrays or tensors with a "
                           "`.shape` attribute (e.g. numpy arrays or backend tensors). Got an "
                           "element of type {type}. Ensure each yielded element is array-like "
                           "with a `.shape` attribute.", type=type(element).__name__))
    return np.asarray(element)


# ----- Rescaling -----

class Rescaling(Layer):
    """``x·scale + offset``: ``Rescaling(1/255)`` maps pixels to [0, 1], ``Rescaling(1/127.5,
    offset=-1)`` to [-1, 1].

    Args:
        scale: a number, or a sequence broadcast against the last (channels) axis.
        offset: the same.

    Example:
        >>> Rescaling(0.5, offset=1.0)([[2.0, 4.0]]).data
        array([[2., 3.]], dtype=float32)
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            try:
                array = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                array = np.array([np.nan])
            if not np.all(np.isfinite(array)):
                raise ValueError(tr("Rescaling: `{name}` must be a finite number or a sequence "
                                    "of them, received {name}={value!r}", name=name,
                                    value=value))
        self.scale, self.offset = scale, offset

    def call(self, x: Tensor) -> Tensor:
        # NOTE: Keras casts scale and offset with ops.cast: Python floats pass through float32.
        scale = keras_constant(self.scale, x.data.dtype)
        offset = keras_constant(self.offset, x.data.dtype)
        return x * scale + offset

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **{name: np.asarray(v).tolist() if isinstance(
            v, (np.ndarray, np.generic)) else v for name, v in (("scale", self.scale),
                                                                ("offset", self.offset))}}
