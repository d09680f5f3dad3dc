"""The global random stream: initializers without a seed, Dropout and fit's shuffling draw from it.

One ``np.random.Generator`` lives here for the whole process. ``seed(n)`` re-seeds it in place (so a
reference kept by anyone stays valid) and ``utils.set_random_seed(n)`` calls it together with
Python's ``random.seed`` and ``np.random.seed``, which makes a whole run repeat. The numbers cannot
equal TensorFlow's (it uses its own stateless Philox generator), only the distributions do.
"""

from __future__ import annotations

import numpy as np

__all__ = ["seed", "generator", "make_seed"]

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
