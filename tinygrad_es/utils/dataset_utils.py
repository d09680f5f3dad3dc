"""``split_dataset``: arrays split in two, optionally shuffled first (Keras's).

Keras returns two ``tf.data.Dataset``; here (no TensorFlow needed) each side is what came in:
an array for an array, a tuple of arrays for a tuple or list of arrays, so
``model.fit(*left)`` trains on it. The rows are the ones Keras picks, shuffled with Python's
``random`` and the same seed.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from tinygrad_es.i18n import tr

__all__ = ["split_dataset"]


def split_dataset(dataset: Any, left_size: float | int | None = None,
                  right_size: float | int | None = None, shuffle: bool = False,
                  seed: int | None = None) -> tuple:
    """Split an array, or a tuple/list of arrays with the same rows, into (left, right).

    Args:
        dataset: an ndarray, or a tuple/list of them (e.g. ``(x, y)``).
        left_size: a fraction in (0, 1), a number of rows, or None (the rest after
            ``right_size``).
        right_size: as ``left_size``, for the right side (taken from the end).
        shuffle: shuffle the rows first (Python's ``random``, seeded with ``seed``, as Keras).
        seed: the seed; default a random one.

    Example:
        >>> left, right = split_dataset((np.arange(5), np.arange(5) * 10), left_size=0.6)
        >>> left[1].tolist(), right[0].tolist()
        ([0, 10, 20], [3, 4])
    """
    if isinstance(dataset, (list, tuple)):
        arrays = [np.asarray(a) for a in dataset]
    elif isinstance(dataset, np.ndarray):
        arrays = [dataset]
    else:
        raise TypeError(tr("The `dataset` argument must be either a `tf.data.Dataset` object, or "
                           "a list/tuple of arrays. Received: dataset={dataset} of type {type}",
                           dataset=dataset, type=type(dataset)))
    if left_size is None and right_size is None:
        raise ValueError(tr("At least one of the `left_size` or `right_size` must be specified. "
                            "Received: left_size=None and right_size=None"))
    total = len(arrays[0])
    if any(len(a) != total for a in arrays):
        raise ValueError(tr("Data cardinality is ambiguous. Make sure all arrays contain the "
                            "same number of samples.{lines}",
                            lines=f"'dataset' sizes: {', '.join(str(len(a)) for a in arrays)}\n"))
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.seed(seed)          # as Keras: Python's generator, seeded
        random.shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    order = np.asarray(order, dtype=np.intp)
    sides = tuple(tuple(a[idx] for a in arrays) for idx in (order[:left], order[total - right:]))
    if isinstance(dataset, np.ndarray):
        return sides[0][0], sides[1][0]
    return sides


def _split_sizes(left: Any, right: Any, total: int) -> tuple[int, int]:
    """Keras's rules: fractions round to rows, a missing side is the rest, neither side empty."""
    for name, size in (("left_size", left), ("right_size", right)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(tr("Invalid `{name}` Type. Expected: int or float or None, "
                               "Received: type({name})={type}.", name=name, type=type(size)))
    if left == 0 and right == 0:
        raise ValueError(tr("Both `left_size` and `right_size` are zero. At least one of the "
                            "split sizes must be non-zero."))
    for name, size in (("left_size", left), ("right_size", right)):
        if (type(size) is int and not 0 < size < total
                or type(size) is float and not 0 < size < 1):
            raise ValueError(tr("`{name}` should be either a positive integer smaller than "
                                "{total}, or a float within the range `[0, 1]`. Received: "
                                "{name}={size}", name=name, total=total, size=size))
    if type(left) is float and type(right) is float and left + right > 1:
        raise ValueError(tr("The sum of `left_size` and `right_size` is greater than 1. It "
                            "must be less than or equal to 1."))
    left = round(left * total) if type(left) is float else left
    right = round(right * total) if type(right) is float else right
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(tr("The sum of `left_size` and `right_size` should be smaller than the "
                            "{total}. Received: left_size + right_size = {sum}and total_length = "
                            "{total}", total=total, sum=left + right))
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(tr("With `dataset` of length={total}, `left_size`={left} and "
                                "`right_size`={right}.Resulting {side} side dataset split will "
                                "be empty. Adjust any of the aforementioned parameters",
                                total=total, left=left, right=right, side=side))
    return int(left), int(right)
