"""The global random stream, and ``keras.random`` on it: seeded draws and ``SeedGenerator``.

The global stream: initializers without a seed, Dropout and fit's shuffling draw from it.

One ``np.random.Generator`` lives here for the whole process. ``seed(n)`` re-seeds it in place (so a
reference kept by anyone stays valid) and ``utils.set_random_seed(n)`` calls it together with
Python's ``random.seed`` and ``np.random.seed``, which makes a whole run repeat. The numbers cannot
equal TensorFlow's (it uses its own stateless Philox generator), only the distributions do.

``keras.random``'s functions (``normal``, ``uniform``, ``dropout`` ...) take ``seed`` as Keras does:

* an integer: the same numbers on every call with that seed (Keras's stateless draw);
* a :class:`SeedGenerator`: new numbers on every call, the sequence repeating with its seed;
* None: new numbers from the global stream (repeatable after ``utils.set_random_seed``).

They return Tensors (floatx unless ``dtype``) that need no gradient; ``dropout`` is differentiable
in its ``inputs``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["seed", "generator", "make_seed", "SeedGenerator", "normal", "uniform",
           "truncated_normal", "randint", "dropout", "shuffle", "categorical", "gamma", "beta",
           "binomial"]

_GENERATOR = np.random.default_rng()


def seed(n: int) -> None:
    """Re-seed the global stream so that everything drawn from it afterwards repeats.

    Example:
        >>> seed(0); a = generator().random()
        >>> seed(0); a == generator().random()
        True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"seed expects an integer, received {n!r} (type {type(n).__name__})")
    _GENERATOR.bit_generator.state = np.random.PCG64(int(n)).state


def generator() -> np.random.Generator:
    """The global ``np.random.Generator`` (always the same object; ``seed`` resets its state).

    Example:
        >>> generator().uniform(size=2).shape
        (2,)
    """
    return _GENERATOR


def make_seed() -> int:
    """An integer seed drawn from the global stream (what an unseeded initializer keeps).

    Example:
        >>> seed(1); s = make_seed(); seed(1); s == make_seed()
        True
    """
    return int(_GENERATOR.integers(1, 10**9))


# ----- keras.random -----

class SeedGenerator:
    """A stream of seeds: each random call given it draws new numbers, repeatably from ``seed``.

    Args:
        seed: an integer; None draws one from the global stream (so ``set_random_seed`` makes it
            repeat).
        name: as Keras's (``"seed_generator"``, ``"seed_generator_1"``, ... by default).

    Example:
        >>> g = SeedGenerator(3); a, b = normal((2,), seed=g), normal((2,), seed=g)
        >>> bool((a.data == b.data).all()), bool((normal((2,), seed=SeedGenerator(3)).data
        ...                                      == a.data).all())
        (False, True)
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any):
        from tinygrad_es.utils import naming

        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"SeedGenerator expects an integer seed or None, received "
                             f"seed={seed!r} (type {type(seed).__name__})")
        self.seed = None if seed is None else int(seed)
        self.name = name or naming.auto_name("SeedGenerator")
        self._rng = np.random.default_rng(make_seed() if seed is None else int(seed))

    def next(self) -> int:
        """The next seed of the stream (an integer)."""
        return int(self._rng.integers(1, 2**62))

    def get_config(self) -> dict:
        return {"seed": self.seed, "name": self.name}


def _rng(seed: Any) -> np.random.Generator:
    """The generator a call draws from, by Keras's three kinds of ``seed`` (module docstring)."""
    if seed is None:
        return _GENERATOR
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, a SeedGenerator or None, received "
                         f"seed={seed!r} (type {type(seed).__name__})")
    return np.random.default_rng(int(seed))


def _shape(shape: Any, op: str) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
        raise ValueError(f"{op} expects a shape of non-negative integers, received {shape!r}")
    return tuple(int(d) for d in dims)


def _tensor(values: np.ndarray, dtype: Any) -> Any:
    from tinygrad_es import config
    from tinygrad_es.tensor import Tensor

    return Tensor(values, dtype=config.floatx() if dtype is None else dtype)


def normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> Any:
    """Draws from Normal(mean, stddev²).

    Example:
        >>> x = normal((1000,), seed=0); round(float(x.data.std()), 1)
        1.0
    """
    return _tensor(_rng(seed).normal(mean, stddev, _shape(shape, "normal")), dtype)


def uniform(shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Any:
    """Draws from Uniform[minval, maxval)."""
    if minval > maxval:
        raise ValueError(f"uniform received minval={minval} > maxval={maxval}")
    return _tensor(_rng(seed).uniform(minval, maxval, _shape(shape, "uniform")), dtype)


def truncated_normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = None, seed: Any = None) -> Any:
    """Normal(mean, stddev²) draws, those beyond 2 stddev drawn again (as TF).

    Example:
        >>> bool(abs(truncated_normal((1000,), seed=0).data).max() <= 2)
        True
    """
    rng, dims = _rng(seed), _shape(shape, "truncated_normal")
    z = rng.standard_normal(dims)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2
    return _tensor(mean + stddev * z, dtype)


def randint(shape: Sequence[int], minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> Any:
    """Integers drawn uniformly from [minval, maxval) (int32 by default)."""
    if maxval <= minval:
        raise ValueError(f"randint expects minval < maxval, received minval={minval}, "
                         f"maxval={maxval}")
    return _tensor(_rng(seed).integers(minval, maxval, _shape(shape, "randint")), dtype)


def dropout(inputs: Any, rate: float, noise_shape: Sequence[int] | None = None,
            seed: Any = None) -> Any:
    """Zero each entry with probability ``rate`` and scale the rest by 1/(1 - rate), so the mean
    is kept; differentiable in ``inputs``. ``noise_shape`` shares one draw along its size-1 axes.

    Example:
        >>> from tinygrad_es import Tensor
        >>> sorted(set(dropout(Tensor([1.0] * 8), 0.5, seed=1).data.tolist()))
        [0.0, 2.0]
    """
    from tinygrad_es.ops.core import convert_to_tensor, float_type
    from tinygrad_es.tensor import Tensor

    x = convert_to_tensor(inputs)
    x = convert_to_tensor(x, float_type(x)) if x.dtype.kind != "f" else x
    if not 0 <= rate <= 1:
        raise ValueError(f"dropout expects a rate in [0, 1], received rate={rate!r}")
    mask_shape = x.shape if noise_shape is None else tuple(
        x.shape[i] if n is None else n for i, n in enumerate(noise_shape))
    keep = _rng(seed).uniform(size=mask_shape) >= rate
    scale = np.where(keep, 1.0 / (1.0 - rate) if rate < 1 else 0.0, 0.0).astype(x.dtype)
    return x * Tensor(scale, dtype=x.dtype)


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Any:
    """``x`` with its entries along ``axis`` in a random order (a gather: differentiable)."""
    from tinygrad_es.ops.core import convert_to_tensor

    x = convert_to_tensor(x)
    order = _rng(seed).permutation(x.shape[axis])
    return x[(slice(None),) * (axis % x.ndim) + (order,)]


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Any:
    """``num_samples`` class indices per row of ``logits`` (batch, classes), drawn from
    softmax(logits): the Gumbel-max trick, argmax(logits + Gumbel noise)."""
    z = np.asarray(getattr(logits, "data", logits), dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"categorical expects logits of shape (batch, classes), received shape "
                         f"{z.shape}")
    noise = _rng(seed).gumbel(size=(z.shape[0], num_samples, z.shape[1]))
    return _tensor(np.argmax(z[:, None, :] + noise, axis=-1), dtype)


def gamma(shape: Sequence[int], alpha: float, dtype: Any = None, seed: Any = None) -> Any:
    """Draws from Gamma(alpha, 1)."""
    return _tensor(_rng(seed).gamma(alpha, 1.0, _shape(shape, "gamma")), dtype)


def beta(shape: Sequence[int], alpha: float, beta: float, dtype: Any = None,
         seed: Any = None) -> Any:
    """Draws from Beta(alpha, beta)."""
    return _tensor(_rng(seed).beta(alpha, beta, _shape(shape, "beta")), dtype)


def binomial(shape: Sequence[int], counts: Any, probabilities: Any, dtype: Any = None,
             seed: Any = None) -> Any:
    """Draws from Binomial(counts, probabilities): successes in ``counts`` trials (floatx)."""
    counts = np.asarray(getattr(counts, "data", counts))
    probabilities = np.asarray(getattr(probabilities, "data", probabilities))
    return _tensor(_rng(seed).binomial(counts.astype(np.int64), probabilities,
                                       _shape(shape, "binomial")), dtype)
