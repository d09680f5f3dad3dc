"""Random initializers: normal, truncated normal and uniform draws, the fan-scaled family
(VarianceScaling and its Glorot / He / LeCun names) and Orthogonal.

Each keeps an integer seed: ``seed=n`` repeats the same values on every call, and an unseeded
initializer draws its seed from the global stream (``tinygrad_es.random``) once, when it is
created — so, as in Keras, one instance returns the same values each time it is called, and
``utils.set_random_seed`` makes a whole model repeat. The values cannot equal TensorFlow's (a
different generator); the distributions do.

fan_in, fan_out: (a, b) for a 2-D shape (a, b); n and n for (n,); for rank > 2 both are
multiplied by the receptive field size prod(shape[:-2]).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_es import random as _random
from tinygrad_es.initializers.initializer import Initializer, as_dtype, as_shape

# NOTE: 0.87962566103423978 is the std of a unit normal truncated at ±2; dividing by it makes the
# truncated draw have the requested std (Keras's VarianceScaling does the same).
_TRUNCATED_STD = 0.87962566103423978


class RandomInitializer(Initializer):
    """Holds the seed: the given integer, or one drawn from the global stream at creation."""

    def __init__(self, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError("`seed` argument should be an integer or None. "
                             f"Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._seed = _random.make_seed() if seed is None else int(seed)

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self._seed)

    def get_config(self):
        return {"seed": self.seed}


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], mean: float,
                      stddev: float) -> np.ndarray:
    """Normal draws, those beyond ±2 std redrawn until none is (as TF's truncated_normal)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return mean + stddev * z


class RandomNormal(RandomInitializer):
    """Normal(mean, stddev).

    Example:
        >>> RandomNormal(stddev=1.0, seed=0)((1000,)).std().round(1)
        np.float32(1.0)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._rng().normal(self.mean, self.stddev, as_shape(shape)).astype(as_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal(mean, stddev) truncated at ±2 stddev (values beyond are redrawn).

    Example:
        >>> float(abs(TruncatedNormal(stddev=1.0, seed=0)((1000,))).max()) <= 2
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        values = _truncated_normal(self._rng(), as_shape(shape), self.mean, self.stddev)
        return values.astype(as_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform on [minval, maxval).

    Example:
        >>> float(abs(RandomUniform(seed=0)((1000,))).max()) <= 0.05
        True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        values = self._rng().uniform(self.minval, self.maxval, as_shape(shape))
        return values.astype(as_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape: tuple[int, ...], input_axes: Any = None,
                 output_axes: Any = None) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape, as Keras computes them.

    Example:
        >>> compute_fans((3, 5))
        (3, 5)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


class VarianceScaling(RandomInitializer):
    """Scale the spread to the weight's fans: s = scale / n, n = fan_in, fan_out or their mean.

    "truncated_normal" (alias "normal"): std √s / 0.8796..., truncated at ±2 std;
    "untruncated_normal": std √s; "uniform": limit √(3s).

    Example:
        >>> w = VarianceScaling(2.0, "fan_in", "uniform", seed=0)((50, 10))
        >>> float(abs(w).max()) <= (3 * 2.0 / 50) ** 0.5
        True
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None,
                 input_axes: Any = None, output_axes: Any = None):
        if not scale > 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of {self._MODES}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. "
                             f"Please use one of {self._DISTRIBUTIONS}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = as_shape(shape)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        s = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(s) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(s), shape)
        else:
            limit = math.sqrt(3.0 * s)
            values = rng.uniform(-limit, limit, shape)
        return values.astype(as_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling (Glorot/He/LeCun): only the seed and the fan axes are arguments."""

    _ARGS: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None, input_axes: Any = None, output_axes: Any = None):
        super().__init__(*self._ARGS, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: limit √(6 / (fan_in + fan_out)). Dense's default kernel init.

    Example:
        >>> float(abs(GlorotUniform(seed=0)((3, 3))).max()) <= 1.0
        True
    """
    _ARGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot normal: truncated, std √(2 / (fan_in + fan_out)) / 0.8796...

    Example:
        >>> GlorotNormal(seed=0)((3, 3)).shape
        (3, 3)
    """
    _ARGS = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: limit √(6 / fan_in).

    Example:
        >>> HeUniform(seed=0)((3, 3)).shape
        (3, 3)
    """
    _ARGS = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated, std √(2 / fan_in) / 0.8796...

    Example:
        >>> HeNormal(seed=0)((3, 3)).shape
        (3, 3)
    """
    _ARGS = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: limit √(3 / fan_in).

    Example:
        >>> LecunUniform(seed=0)((3, 3)).shape
        (3, 3)
    """
    _ARGS = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated, std √(1 / fan_in) / 0.8796... (the partner of selu).

    Example:
        >>> LecunNormal(seed=0)((3, 3)).shape
        (3, 3)
    """
    _ARGS = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """An orthogonal matrix (times ``gain``) from the QR decomposition of a normal matrix.

    The shape is flattened to (prod(shape[:-1]), shape[-1]); Q of a (max, min) normal matrix is
    multiplied by sign(diag R), transposed when there are fewer rows than columns.

    Example:
        >>> q = Orthogonal(seed=0)((3, 3)); bool(np.allclose(q.T @ q, np.eye(3), atol=1e-6))
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = as_shape(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(as_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}
