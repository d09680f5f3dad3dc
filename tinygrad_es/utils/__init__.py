"""Utilities named as in ``keras.utils``: seeding, one-hot labels, resetting the automatic names,
the progress bar, ``PyDataset``, ``pad_sequences``, ``split_dataset``."""

from __future__ import annotations

import random as _py_random
from typing import Any

import numpy as np

from tinygrad_es import random as _random
from tinygrad_es.utils import naming
from tinygrad_es.utils.dataset_utils import split_dataset
from tinygrad_es.utils.progbar import Progbar
from tinygrad_es.utils.py_dataset import PyDataset
from tinygrad_es.utils.sequence_utils import pad_sequences

__all__ = ["set_random_seed", "to_categorical", "clear_session", "Progbar", "PyDataset",
           "Sequence", "pad_sequences", "split_dataset", "unpack_x_y_sample_weight", "normalize"]

Sequence = PyDataset   # Keras 3 keeps the old name as an alias


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
        >>> unpack_x_y_sample_weight((np.ones(2), np.zeros(2)))[2] is None
        True
    """
    from tinygrad_es.models.data_adapter import unpack_x_y_sample_weight as unpack

    return unpack(data)


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """x divided by its ``order``-norm along ``axis`` (a zero norm divides by 1), as Keras's
    ``keras.utils.normalize``: an array gives an array; a Tensor gives ``ops.normalize``'s Tensor.

    Example:
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    from tinygrad_es.tensor import Tensor

    if isinstance(x, Tensor):
        from tinygrad_es.ops.nn import normalize as ops_normalize

        return ops_normalize(x, axis=axis, order=order)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    # NOTE: Keras expands the norms at ``axis or -1``, so axis=0 divides by them along the last
    # axis (wrong numbers for a square x, an error otherwise); here at ``axis``
    return x / np.expand_dims(norm, axis)


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, ``np.random`` and tinygrad_es's global stream, as Keras does.

    After it, weight initialization, Dropout masks and fit's shuffling repeat from run to run.
    They do not equal Keras's numbers (TensorFlow's generator is not numpy's); to compare with
    Keras, copy the weights over with ``set_weights``.

    Example:
        >>> set_random_seed(42)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
                         f"(of type {type(seed).__name__})")
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _random.seed(int(seed))


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels (float64 array, as ``keras.utils.to_categorical``).

    A trailing axis of size 1 is dropped first, so labels shaped (N, 1) give (N, num_classes).

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]])
    """
    labels = np.asarray(x)
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"to_categorical expects integer labels, received dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels) & (labels == np.round(labels))):
        raise ValueError("to_categorical expects integer labels, received non-integer values "
                         f"such as {labels[labels != np.round(labels)][:3].tolist()}")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        bad = flat[(flat < 0) | (flat >= num_classes)][0]
        raise ValueError(f"to_categorical received label {bad}, outside [0, {num_classes - 1}] "
                         f"for num_classes={num_classes}")
    out = np.zeros((flat.size, num_classes))
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def clear_session() -> None:
    """Restart every automatic name, as ``keras.utils.clear_session`` does.

    Layers, models, losses, metrics, optimizers and unnamed layer weights all take their names
    from ``utils/naming.py``; after this call they start again from ``dense``, ``adam``, ...

    Example:
        >>> from tinygrad_es.optimizers import Adam
        >>> clear_session(); Adam().name, Adam().name
        ('adam', 'adam_1')
    """
    naming.reset()
