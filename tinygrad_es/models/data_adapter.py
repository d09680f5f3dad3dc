"""The data side of fit/evaluate/predict: arrays checked and converted once, then batched.

Every check runs before the first update, so a bad argument never leaves a model half-trained,
and each error says what was received. ``Batches`` then serves row slices of the converted arrays.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es import random as tg_random
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor


class Batches:
    """Consecutive row slices (views) of the arrays; a new pass, reshuffled, when one runs out.

    With ``steps_per_epoch`` the pass is NOT restarted at each epoch (Keras §5.1): an epoch that
    reaches the end of the data stops there with Keras's warning, and the next starts a new pass.
    """

    def __init__(self, arrays: tuple, batch_size: int, shuffle: bool | str,
                 steps_per_epoch: int | None):
        self.arrays, self.batch_size, self.shuffle = arrays, batch_size, shuffle
        self.num_batches = math.ceil(len(arrays[0]) / batch_size)
        self.steps_per_epoch = steps_per_epoch
        self.steps = steps_per_epoch or self.num_batches
        self._pass: tuple | None = None
        self._seen = 0

    def epoch(self):
        """Yield ``(step, (x, y, sample_weight))`` for one epoch; y/sample_weight may be None."""
        if self._pass is None or not self.steps_per_epoch:
            self._pass, self._seen = self._new_pass(), 0
        x, y, sw = self._pass
        bs = self.batch_size
        for step in range(self.steps):
            if self._seen >= self.num_batches:
                if self.steps_per_epoch:
                    warnings.warn("Your input ran out of data; interrupting training. Make sure "
                                  "that your dataset or generator can generate at least "
                                  "`steps_per_epoch * epochs` batches.", stacklevel=3)
                break
            a = self._seen * bs
            self._seen += 1
            yield step, (x[a:a + bs], None if y is None else y[a:a + bs],
                         None if sw is None else sw[a:a + bs])
        if self._seen >= self.num_batches:
            self._pass = None

    def _new_pass(self) -> tuple:
        n = len(self.arrays[0])
        if not self.shuffle:
            return self.arrays
        rng = tg_random.generator()
        if self.shuffle == "batch":  # shuffle only inside each batch
            order = np.arange(n)
            for a in range(0, n, self.batch_size):
                order[a:a + self.batch_size] = rng.permutation(order[a:a + self.batch_size])
        else:
            order = rng.permutation(n)
        return tuple(None if arr is None else arr[order] for arr in self.arrays)


# ----- fit's arguments -----

def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_batch_size(batch_size: Any) -> None:
    if batch_size is not None and (not _is_int(batch_size) or batch_size <= 0):
        raise ValueError(tr("batch_size must be a positive integer or None, received "
                            "batch_size={batch_size!r}", batch_size=batch_size))


def check_fit_args(batch_size, epochs, validation_split, steps_per_epoch, validation_freq,
                   shuffle) -> None:
    check_batch_size(batch_size)
    if not _is_int(epochs) or epochs < 0:
        raise ValueError(tr("epochs must be an integer >= 0, received epochs={epochs!r}",
                            epochs=epochs))
    if not isinstance(validation_split, numbers.Real) or not 0 <= validation_split < 1:
        raise ValueError(tr("validation_split must be a number in [0, 1) (the fraction of rows, "
                            "taken from the end, kept for validation), received "
                            "{validation_split!r}", validation_split=validation_split))
    if steps_per_epoch is not None and (not _is_int(steps_per_epoch) or steps_per_epoch <= 0):
        raise ValueError(tr("steps_per_epoch must be a positive integer or None, received "
                            "{steps_per_epoch!r}", steps_per_epoch=steps_per_epoch))
    if not (_is_int(validation_freq) and validation_freq > 0 or isinstance(validation_freq, list)):
        raise ValueError(tr("Expected `validation_freq` to be a list or int. Received: "
                            "validation_freq={validation_freq!r} of the type {type}.",
                            validation_freq=validation_freq, type=type(validation_freq).__name__))
    if shuffle not in (True, False, "batch"):
        raise ValueError(tr("shuffle must be True, False or 'batch', received {shuffle!r}",
                            shuffle=shuffle))


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """``(x, y, sample_weight)`` from a batch given as x, ``(x,)``, ``(x, y)`` or ``(x, y, sw)``.

    Keras's ``keras.utils.unpack_x_y_sample_weight``, what ``train_step(data)`` starts with.

    Example:
        >>> unpack_x_y_sample_weight((np.ones(2), np.zeros(2)))[2] is None
        True
    """
    if not isinstance(data, (tuple, list)):
        return data, None, None
    if 1 <= len(data) <= 3:
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError(tr("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, "
                        "sample_weight)`, received a {type} of {n} entries",
                        type=type(data).__name__, n=len(data)))


def unpack_validation(validation_data: Any) -> tuple:
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        return tuple(validation_data) + (None,) * (3 - len(validation_data))
    raise ValueError(tr("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                        "sample_weight_val), received {type}", type=type(validation_data).__name__))


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """(train, validation): the LAST rows are the validation set, as Keras (before shuffling)."""
    n = len(arrays[0])
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(tr("Training data contains {n} samples, which is not sufficient to "
                            "split it into a validation and training set as specified by "
                            "`validation_split={validation_split}`. Either provide more data, "
                            "or a different value for the `validation_split` argument.", n=n,
                            validation_split=validation_split))
    return (tuple(None if a is None else a[:split] for a in arrays),
            tuple(None if a is None else a[split:] for a in arrays))


def should_validate(epoch: int, validation_freq: int | list) -> bool:
    if isinstance(validation_freq, list):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


# ----- arrays: floatx, finite, one row per sample -----

def as_floatx(value: Any, name: str, where: str, finite: bool = True) -> np.ndarray:
    """``value`` as a floatx ndarray (no copy when it is one); NaN/inf raise when ``finite``."""
    if value is None:
        raise ValueError(tr("{where}() needs {name}, received None", where=where, name=name))
    if isinstance(value, Tensor):
        value = value.data
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ValueError(tr("{where}() expects {name} to be a rectangular array of numbers, "
                            "received {type}: {err}", where=where, name=name,
                            type=type(value).__name__, err=err)) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(tr("{where}() expects {name} to be numeric, received an array of dtype "
                           "{dtype} (e.g. {flat!r}); convert it to numbers first", where=where,
                           name=name, dtype=arr.dtype, flat=arr.flat[0]))
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(tr("{where}() expects {name} to have one row per sample, received a "
                            "scalar (shape {shape})", where=where, name=name, shape=arr.shape)
                         if arr.ndim == 0 else
                         tr("{where}() expects {name} to have one row per sample, received no "
                            "rows (shape {shape})", where=where, name=name, shape=arr.shape))
    arr = arr.astype(config.floatx(), copy=False)
    if finite:
        _check_finite(arr, name, where)
    return arr


def convert_targets(x: np.ndarray, y: Any, sample_weight: Any, class_weight: dict | None,
                    where: str) -> tuple:
    """(y, sample_weight) as checked floatx arrays with x's rows; class_weight becomes weights.

    NaN/inf in y are allowed, with one warning: Keras trains on them (the loss turns NaN and
    ``TerminateOnNaN`` stops the run), so a bad target is found where Keras finds it.
    """
    y = as_floatx(y, "y", where, finite=False)
    _warn_non_finite(y, "y", where)
    _check_lengths(x, y, where)
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError(tr("Arguments `sample_weight` and `class_weight` cannot be "
                                "specified at the same time. Received: "
                                "sample_weight={sample_weight}, class_weight={class_weight}",
                                sample_weight=sample_weight, class_weight=class_weight))
        sample_weight = _class_weight_to_sample_weight(y, class_weight)
    elif sample_weight is not None:
        sample_weight = as_floatx(sample_weight, "sample_weight", where)
        _check_lengths(x, sample_weight, where, "sample_weight")
    return y, sample_weight


def match_input_shape(x: np.ndarray, input_shape: tuple | None, layers: list,
                      where: str) -> np.ndarray:
    """x reshaped as Keras does ((N,) -> (N, 1) for a 1-feature model), or a clear error."""
    if input_shape is None:
        return x
    expected = tuple(input_shape[1:])
    if x.shape[1:] == expected:
        return x
    if x.ndim == 1 and expected == (1,):
        return x[:, None]
    layer = layers[0].name if layers else "the model's input"
    raise ValueError(tr("{where}(): layer '{layer}' expects input of shape {value} (features "
                        "{expected}), but x has shape {shape}", where=where, layer=layer,
                        value=tuple(input_shape), expected=expected, shape=x.shape))


def _check_finite(arr: np.ndarray, name: str, where: str) -> None:
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.flatnonzero(~finite.reshape(len(arr), -1).all(axis=1))[0])
        raise ValueError(tr("{where}() received NaN or inf in {name}: the first bad row is "
                            "{name}[{row}] = {arr!r}", where=where, name=name, row=row,
                            arr=arr[row]))


def _warn_non_finite(arr: np.ndarray, name: str, where: str) -> None:
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.flatnonzero(~finite.reshape(len(arr), -1).all(axis=1))[0])
        warnings.warn(f"{where}() received NaN or inf in {name} (the first bad row is {name}[{row}]"
                      f" = {arr[row]!r}); as in Keras, training goes on and the loss of the "
                      "batches with it is NaN or inf (TerminateOnNaN stops the run there)",
                      stacklevel=5)


def _check_lengths(x: np.ndarray, other: np.ndarray, where: str, name: str = "y") -> None:
    if len(x) != len(other):
        raise ValueError(tr("{where}() needs as many rows in {name} as in x: x has {n} rows "
                            "(shape {shape}) but {name} has {n2} (shape {shape2})", where=where,
                            name=name, n=len(x), shape=x.shape, n2=len(other), shape2=other.shape))


def _class_weight_to_sample_weight(y: np.ndarray, class_weight: dict) -> np.ndarray:
    """Keras's rule: class = argmax of one-hot rows, else round(y); missing classes weigh 1."""
    if not isinstance(class_weight, dict):
        raise ValueError(tr("class_weight must be a dict {{class: weight}}, received {type}",
                            type=type(class_weight).__name__))
    labels = y
    if y.ndim > 1:
        labels = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    labels = np.round(labels).astype("int32")
    return np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=config.floatx())
