"""Initializers without randomness: a constant, zeros, ones and the identity matrix."""

from __future__ import annotations

import numpy as np

from tinygrad_es.initializers.initializer import Initializer, as_dtype, as_shape


class Constant(Initializer):
    """Every value equal to ``value`` (a scalar).

    Example:
        >>> Constant(3.0)((2,))
        array([3., 3.], dtype=float32)
    """

    def __init__(self, value: float = 0.0):
        if not np.isscalar(value) and np.ndim(value) != 0:
            raise ValueError(f"Constant expects a scalar value, received {value!r}")
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(as_shape(shape), self.value, dtype=as_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    """All zeros (the default bias initializer).

    Example:
        >>> Zeros()((2,))
        array([0., 0.], dtype=float32)
    """

    def __call__(self, shape, dtype=None):
        return np.zeros(as_shape(shape), dtype=as_dtype(dtype))


class Ones(Initializer):
    """All ones.

    Example:
        >>> Ones()((2,))
        array([1., 1.], dtype=float32)
    """

    def __call__(self, shape, dtype=None):
        return np.ones(as_shape(shape), dtype=as_dtype(dtype))


class Identity(Initializer):
    """``gain`` times the identity matrix; 2-D shapes only.

    Keras's ``Identity.get_config()`` omits ``gain`` (it returns ``{}``); here it is kept so that a
    saved model reloads with the same gain.

    Example:
        >>> Identity()((2, 2))
        array([[1., 0.],
               [0., 1.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = as_shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(as_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}
