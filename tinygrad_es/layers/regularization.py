"""``Dropout``: during training, zero each input with probability ``rate`` and scale the rest."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import random as _random
from tinygrad_es.layers.base import Layer
from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout: ``x * keep / (1 - rate)`` with keep ~ Bernoulli(1 - rate), only when
    ``training=True`` (fit); at inference (predict, evaluate, ``model(x)``) it is the identity.

    Args:
        rate: fraction of inputs to drop, in [0, 1].
        noise_shape: shape of the keep-mask, broadcast against the input (None entries take the
            input's size), e.g. ``(None, 1)`` drops whole rows.
        seed: an integer gives the layer its own repeatable stream; None draws from the global one
            (``tinygrad_es.random``). The masks cannot equal TensorFlow's.

    Example:
        >>> Dropout(0.5)([[1.0, 1.0, 1.0, 1.0]])  # inference: unchanged
        Tensor([[1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if (isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating))
                or not 0 <= rate <= 1):
            raise ValueError(tr("Invalid value received for argument `rate`. Expected a float "
                                "value between 0 and 1. Received: rate={rate!r}", rate=rate))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(tr("Dropout `seed` must be an integer or None. Received: "
                                "seed={seed!r}", seed=seed))
        if noise_shape is not None:
            try:
                noise_shape = tuple(noise_shape)
            except TypeError:
                raise ValueError(tr("Invalid value received for argument `noise_shape`. "
                                    "Expected a tuple of integers or None. Received: "
                                    "{noise_shape!r}", noise_shape=noise_shape)) from None
            if any(d is not None and (not isinstance(d, int) or d <= 0) for d in noise_shape):
                raise ValueError(tr("Invalid value received for argument `noise_shape`. "
                                    "Expected positive integers or None. Received: "
                                    "{noise_shape!r}", noise_shape=noise_shape))
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = _random.generator() if seed is None else np.random.default_rng(seed)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0:
            return x
        shape = x.data.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))
        if self.rate == 1:
            return x * np.zeros(shape, dtype=x.dtype)
        keep = self._rng.random(shape) >= self.rate
        # NOTE: TF multiplies by 1/(1-rate) then by the 0/1 mask; keep·scale gives the same bits.
        scale = np.asarray(1.0 / (1.0 - self.rate), dtype=x.dtype)
        return x * np.where(keep, scale, np.zeros((), dtype=x.dtype))

    def get_config(self) -> dict[str, Any]:
        noise = list(self.noise_shape) if self.noise_shape is not None else None
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": noise}
