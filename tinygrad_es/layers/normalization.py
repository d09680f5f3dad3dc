"""``BatchNormalization`` and ``LayerNormalization``: centre and scale activations, as Keras 3.

Both compute, over the reduced axes, the mean μ and the population variance σ² and return

    y = γ·(x - μ)/√(σ² + ε) + β

written as TensorFlow writes it (``tf.nn.batch_normalization``, Keras's ``layer_normalization``):
``inv = γ/√(σ² + ε)`` and ``y = x·inv + (β - μ·inv)``. The graph is made of public Tensor ops
(mean, square, sqrt, ...), so the backward is the engine's, through μ and σ² as in TensorFlow.

BatchNormalization reduces over every axis but the feature axis (the batch included); with
``training=True`` (``fit``) it normalises with the batch's statistics and moves its
``moving_mean`` / ``moving_variance`` towards them, once per call; otherwise (``predict``,
``evaluate``, ``model(x)``) it uses the moving statistics. LayerNormalization reduces over the
feature axis (or axes) of each sample and has no state.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_es import initializers, regularizers
from tinygrad_es.i18n import tr
from tinygrad_es.layers.base import Layer, Shape
from tinygrad_es.layers.convolutional import pop_unsupported
from tinygrad_es.tensor import Tensor

__all__ = ["BatchNormalization", "LayerNormalization"]


def _check_axes(layer: Layer, axes: list[int], input_shape: Shape) -> list[int]:
    """The axes as non-negative ints, each inside ``input_shape`` and of known size."""
    rank = len(input_shape)
    for axis in axes:
        if not -rank <= axis < rank:
            raise ValueError(tr("Axis {axis} is out of bounds for input shape {input_shape}. "
                                "Received: axis={received}", axis=axis,
                                input_shape=tuple(input_shape), received=layer.axis))
        if input_shape[axis] is None:
            raise ValueError(tr("{cls} layer '{name}' needs a known size along axis {axis}, "
                                "received input shape {input_shape}", cls=type(layer).__name__,
                                name=layer.name, axis=axis, input_shape=tuple(input_shape)))
    return sorted(a % rank for a in axes)


def _normalize(x: Tensor, mean: Tensor, variance: Tensor, epsilon: float,
               gamma: Tensor | None, beta: Tensor | None) -> Tensor:
    """x·inv + (β - μ·inv) with inv = γ/√(σ² + ε): TensorFlow's order of operations."""
    # NOTE: TF computes rsqrt(σ² + ε) in one op; 1/√ differs from it by at most an ulp.
    inv = 1.0 / (variance + epsilon).sqrt()
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv
    if beta is not None:
        shift = beta + shift  # NOTE: TF's offset - mean·inv; a + (-b) is a - b, bit for bit
    return x * inv + shift


def _moments(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """``tf.nn.moments`` with keepdims: the mean, and the mean of (x - stop_gradient(mean))²."""
    mean = x.mean(axis=axes, keepdims=True)
    # NOTE: as tf.nn.moments, the variance sees the mean as a constant (its gradient through the
    # mean is zero in exact arithmetic; TF does not compute it, so neither do we).
    variance = (x - mean.detach()).square().mean(axis=axes, keepdims=True)
    return mean, variance


class BatchNormalization(Layer):
    """Normalise each feature with the statistics of the batch (training) or moving ones.

    Training (``training=True``, as ``fit`` calls it): with μ, σ² the batch's mean and variance
    over every axis but ``axis``, the output is ``γ·(x - μ)/√(σ² + ε) + β``, and once per call

        moving_mean     = moving_mean · momentum + μ · (1 - momentum)
        moving_variance = moving_variance · momentum + σ² · (1 - momentum)

    (σ² is the population variance, divided by n, as Keras). Inference uses moving_mean and
    moving_variance instead of μ and σ². As in Keras, a layer with ``trainable=False`` always
    runs in inference mode, and its moving statistics stay as they are.

    Args:
        axis: the feature axis (an int; default the last).
        momentum: of the moving averages.
        epsilon: added to the variance.
        center, scale: whether to add β / multiply by γ (trainable weights).
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: names or Initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer: penalties on β and γ.

    Weights, in Keras's order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
    ``moving_variance`` (non-trainable).

    Example:
        >>> import numpy as np
        >>> bn = BatchNormalization(epsilon=0.0)
        >>> y = bn(np.array([[1.0], [3.0]]), training=True)
        >>> y.data.ravel(), bn.moving_mean.data
        (array([-1.,  1.], dtype=float32), array([0.02], dtype=float32))
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, synchronized: bool = False, **kwargs: Any):
        pop_unsupported(kwargs, "BatchNormalization",
                        ("beta_constraint", "gamma_constraint", "renorm_clipping"))
        if kwargs.pop("renorm", False):
            raise ValueError(tr("BatchNormalization: renorm=True (batch renormalization) is not "
                                "supported by tinygrad_es; pass renorm=False"))
        kwargs.pop("renorm_momentum", None)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(tr("BatchNormalization: `axis` must be an int, received "
                               "axis={axis!r}", axis=axis))
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.synchronized = bool(synchronized)  # one device: nothing to synchronise
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None
        self.moving_mean: Tensor | None = None
        self.moving_variance: Tensor | None = None
        self._reduce: tuple[int, ...] = ()
        self._stat_shape: tuple[int, ...] = ()
        self._features_last = True

    def build(self, input_shape: Shape) -> None:
        (axis,) = _check_axes(self, [self.axis], input_shape)
        size = int(input_shape[axis])
        self._reduce = tuple(d for d in range(len(input_shape)) if d != axis)
        # μ and σ² keep their reduced axes (size 1), so the weights are viewed in that shape.
        self._stat_shape = tuple(size if d == axis else 1 for d in range(len(input_shape)))
        self._features_last = axis == len(input_shape) - 1
        if self.scale:
            self.gamma = self.add_weight("gamma", (size,), self.gamma_initializer,
                                         self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", (size,), self.beta_initializer,
                                        self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", (size,), self.moving_mean_initializer,
                                           None, False)
        self.moving_variance = self.add_weight("moving_variance", (size,),
                                               self.moving_variance_initializer, None, False)

    def _view(self, weight: Tensor | None) -> Tensor | None:
        if weight is None or self._features_last:
            return weight  # a (features,) vector broadcasts against the last axis as it is
        return weight.reshape(self._stat_shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if x.data.ndim != len(self._stat_shape) or x.data.shape[self.axis] != (
                self.moving_mean.shape[0]):
            raise ValueError(tr("BatchNormalization layer '{name}' was built for inputs shaped "
                                "{built}, received input of shape {shape}", name=self.name,
                                built=self.input_shape, shape=x.data.shape))
        if training and self.trainable:
            mean, variance = _moments(x, self._reduce)
            self._update_moving(mean.data, variance.data, x.data.dtype)
        else:
            mean, variance = self._view(self.moving_mean), self._view(self.moving_variance)
        return _normalize(x, mean, variance, self.epsilon, self._view(self.gamma),
                          self._view(self.beta))

    def _update_moving(self, mean: np.ndarray, variance: np.ndarray, dtype: np.dtype) -> None:
        # NOTE: Keras's moving·momentum + batch·(1 - momentum), each Python float becoming a
        # tensor of the input's dtype (1 - momentum is computed in double first, as in Python).
        momentum, rest = dtype.type(self.momentum), dtype.type(1.0 - self.momentum)
        for weight, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            new = weight.data * momentum + batch.reshape(weight.shape) * rest
            np.copyto(weight.data, new, casting="unsafe")  # in place: the optimizer, saving hold it

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _check_axes(self, [self.axis], input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(
                    self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "synchronized": self.synchronized}


class LayerNormalization(Layer):
    """Normalise each sample over its feature axis (or axes): ``γ·(x - μ)/√(σ² + ε) + β``.

    μ and σ² are the mean and population variance of one sample over ``axis``; γ and β (shape:
    the sizes of those axes) are trainable. No state, the same in training and inference.

    Args:
        axis: an int or a list of ints (default the last axis).
        epsilon: added to the variance.
        center, scale: whether to add β / multiply by γ.
        rms_scaling: Keras's deprecated option (with its warning): ``x/√(σ² + ε)·γ``, no β;
            σ² is still the variance (Keras's ``keras.layers.RMSNormalization`` is the real RMS).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer: as Dense's.

    Example:
        >>> LayerNormalization(epsilon=0.0)([[1.0, 3.0]]).data
        array([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, rms_scaling: bool = False, **kwargs: Any):
        pop_unsupported(kwargs, "LayerNormalization", ("beta_constraint", "gamma_constraint"))
        if rms_scaling:
            warnings.warn(tr("You passed `rms_scaling=True`, which is deprecated. This argument "
                             "incorrectly scales the input by the variance, not the root mean "
                             "square. To correctly use RMS Normalization, please use "
                             "`keras.layers.RMSNormalization` instead."), stacklevel=2)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = int(axis)
        else:
            raise TypeError(tr("Expected an int or a list/tuple of ints for the argument "
                               "'axis', but received: {axis!r}", axis=axis))
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None
        self._axes: tuple[int, ...] = ()
        self._param_shape: tuple[int, ...] = ()

    def build(self, input_shape: Shape) -> None:
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes = tuple(_check_axes(self, given, input_shape))
        # As Keras: after build, `axis` is the sorted list it was given (an int becomes [int]).
        self.axis = sorted(given)
        shape = tuple(int(input_shape[d]) for d in self._axes)
        rank = len(input_shape)
        # γ and β broadcast as they are on the last axis; other axes need size-1 axes around them.
        self._param_shape = (() if self._axes == (rank - 1,) else
                             tuple(input_shape[d] if d in self._axes else 1 for d in range(rank)))
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                         self.gamma_regularizer)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                        self.beta_regularizer)

    def _view(self, weight: Tensor | None) -> Tensor | None:
        if weight is None or not self._param_shape:
            return weight
        return weight.reshape(self._param_shape)

    def call(self, x: Tensor) -> Tensor:
        expected = self.input_shape
        if x.data.ndim != len(expected) or any(x.data.shape[d] != expected[d] for d in self._axes):
            raise ValueError(tr("LayerNormalization layer '{name}' was built for inputs shaped "
                                "{built}, received input of shape {shape}", name=self.name,
                                built=expected, shape=x.data.shape))
        gamma = self._view(self.gamma)
        if self.rms_scaling:
            # Keras's deprecated branch: ops.var (tf.math.reduce_variance, gradient through μ).
            variance = x.var(axis=self._axes, keepdims=True)
            out = x * (1.0 / (variance + self.epsilon).sqrt())
            return out if gamma is None else out * gamma
        mean, variance = _moments(x, self._axes)
        return _normalize(x, mean, variance, self.epsilon, gamma, self._view(self.beta))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _check_axes(self, self.axis if isinstance(self.axis, list) else [self.axis], input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}
