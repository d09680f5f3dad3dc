"""The data side of fit/evaluate/predict: one ``DataAdapter`` per kind of input, one epoch loop.

Keras's ``trainers/data_adapters`` and ``epoch_iterator.py``. Whatever ``x`` is, ``fit`` gets a
``DataAdapter`` from :func:`get_data_adapter` and asks it for one epoch of ``(step, batch)`` at a
time; a batch is ``(x, y, sample_weight)``, converted and checked.

- arrays (one, or a list/tuple/dict of them; ``data_arrays.py``): checked and converted all at
  once, before the first update; batches are row slices, reshuffled at each new pass.
- a Python generator, an iterator, a ``PyDataset``, a ``tf.data.Dataset`` (``data_iterables.py``):
  each batch is checked as it comes, and an error names the batch's index.

The epoch loop is Keras's: with ``steps_per_epoch`` the data is NOT restarted at each epoch (an
epoch that reaches its end stops there with Keras's warning, the next starts a new pass); data of
unknown length (a generator) runs until it is exhausted, and Keras's warning says so.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from tinygrad_es import random as tg_random
from tinygrad_es.i18n import tr
from tinygrad_es.models.data_arrays import num_rows, take, take_rows

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or "
           "generator can generate at least `steps_per_epoch * epochs` batches. You may need to "
           "use the `.repeat()` function when building your dataset.")


class DataAdapter:
    """One epoch of batches at a time, Keras's way (``EpochIterator``).

    A subclass sets ``num_batches`` (``None`` when unknown) and implements ``_new_pass()`` (an
    iterator over one pass of raw batches) and, if batches need it, ``_convert(batch, index)``
    (arrays, checked all at once, need none).

    Args:
        steps_per_epoch: ``fit``'s ``steps_per_epoch`` (or evaluate's ``steps``), or None.
    """

    num_batches: int | None = None

    def __init__(self, steps_per_epoch: int | None):
        self.steps_per_epoch = steps_per_epoch
        self._learned: int | None = None     # the length of data of unknown length, once run out
        self._pass: Iterator | None = None   # the pass in progress (kept across epochs with steps)
        self._seen = 0                       # batches taken from it
        self._index = 0                      # batches taken in all, for error messages

    @property
    def steps(self) -> int | None:
        """What the progress bar is told: the steps of an epoch, None while unknown."""
        return self.steps_per_epoch or self.num_batches or self._learned

    def reset(self) -> None:
        """Start again from a new pass (evaluate's and validation's, at each run, as Keras)."""
        self._pass, self._seen, self._learned = None, 0, None

    def epoch(self) -> Iterator[tuple[int, tuple]]:
        """Yield ``(step, batch)`` for one epoch; a batch is ``(x,)``, ``(x, y)`` or
        ``(x, y, sample_weight)``."""
        known = self.num_batches or self._learned
        steps = self.steps_per_epoch or known
        if self._pass is None or not self.steps_per_epoch:
            self._pass, self._seen = self._new_pass(), 0
        for step in (range(steps) if steps else _count()):
            if known and self._seen >= known:
                if self.steps_per_epoch:
                    warnings.warn(RAN_OUT, stacklevel=3)
                break
            self._seen += 1
            try:
                batch = next(self._pass)
            except StopIteration:
                if not known:   # now known: what the next epochs run
                    self._learned = self._seen
                warnings.warn(RAN_OUT, stacklevel=3)
                self._pass = None
                self.on_epoch_end()
                return
            self._index += 1
            yield step, batch if self._convert is None else self._convert(batch, self._index - 1)
        if known and self._seen >= known:
            self._pass = None
        self.on_epoch_end()

    def _new_pass(self) -> Iterator:
        raise NotImplementedError

    _convert: Callable | None = None   # batch, index -> the checked batch (iterables only)

    def on_epoch_end(self) -> None:
        """Called when an epoch ends (a ``PyDataset`` forwards it)."""


def _count() -> Iterator[int]:
    step = 0
    while True:
        yield step
        step += 1


class ArrayAdapter(DataAdapter):
    """Consecutive row slices (views) of checked arrays; a new pass, reshuffled, when one runs out.

    Args:
        arrays: ``(x, y, sample_weight)``, each an array, a structure of arrays, or None.
        batch_size: rows per batch (the last batch keeps the remainder, as Keras).
        shuffle: True (a fresh permutation from ``tinygrad_es.random.generator()`` each pass),
            False, or ``"batch"`` (shuffle inside each batch only).
        steps_per_epoch: as :class:`DataAdapter`.

    A batch is packed as Keras's: ``x`` alone when there is nothing but one array, else the
    tuple ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
        >>> a = ArrayAdapter((np.arange(5.0), None, None), 2, False, None)
        >>> [b.tolist() for _, b in a.epoch()]
        [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """

    def __init__(self, arrays: tuple, batch_size: int, shuffle: bool | str,
                 steps_per_epoch: int | None):
        super().__init__(steps_per_epoch)
        self.arrays, self.batch_size, self.shuffle = arrays, batch_size, shuffle
        n = num_rows(arrays[0])
        self.num_batches = math.ceil(n / batch_size)
        self._cuts = [slice(a, a + batch_size) for a in range(0, n, batch_size)]

    def epoch(self) -> Iterator[tuple[int, tuple]]:
        if self.steps_per_epoch:   # a pass may span epochs: the general loop keeps its place
            return super().epoch()
        return enumerate(self._new_pass())   # one whole pass, nothing to check between batches

    def _new_pass(self) -> Iterator:
        arrays = [a for a in self._shuffled() if a is not None]  # (x,), (x, y), (x, y, sw)
        cuts = self._cuts
        if len(arrays) == 1 and isinstance(arrays[0], np.ndarray):
            return map(arrays[0].__getitem__, cuts)   # x alone, not (x,): Keras's train_step data
        if all(isinstance(a, np.ndarray) for a in arrays):   # one array each: slice directly
            # (the batches as tuples of views, zipped in C: no Python frame per batch)
            return zip(*[map(a.__getitem__, cuts) for a in arrays])
        return (tuple(take(arr, c.start, c.stop) for arr in arrays) for c in cuts)

    def _shuffled(self) -> tuple:
        n = num_rows(self.arrays[0])
        if not self.shuffle:
            return self.arrays
        rng = tg_random.generator()
        if self.shuffle == "batch":  # shuffle only inside each batch
            order = np.arange(n)
            for a in range(0, n, self.batch_size):
                order[a:a + self.batch_size] = rng.permutation(order[a:a + self.batch_size])
        else:
            order = rng.permutation(n)
        return tuple(None if arr is None else take_rows(arr, order) for arr in self.arrays)


def get_data_adapter(x: Any, y: Any, sample_weight: Any, class_weight: dict | None,
                     batch_size: int | None, steps: int | None, shuffle: bool | str,
                     prepare: Callable, convert: Callable, where: str) -> DataAdapter:
    """The adapter for ``x``: arrays are ``prepare``d at once, other data batch by batch.

    Args:
        prepare: ``prepare(x, y, sample_weight, class_weight) -> (x, y, sample_weight)``, the
            checked arrays (the trainer's, which knows the model's input shape).
        convert: ``convert(batch, index) -> (x, y, sample_weight)`` for one batch of an iterable.
        where: the method, for messages (``"fit"``, ``"evaluate"``, ``"predict"``).
    """
    from tinygrad_es.models import data_iterables

    kind = data_iterables.kind_of(x)
    if kind is None:
        arrays = prepare(x, y, sample_weight, class_weight)
        if batch_size is None:
            batch_size = math.ceil(num_rows(arrays[0]) / steps) if steps else 32
        return ArrayAdapter(arrays, batch_size, shuffle if where == "fit" else False, steps)
    return data_iterables.make_adapter(kind, x, y, sample_weight, class_weight, steps,
                                       shuffle if where == "fit" else False, convert)


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


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> tuple:
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``: the batch a ``train_step`` receives, as
    Keras's (``x, y = data`` works when there are no weights).

    Example:
        >>> len(pack_x_y_sample_weight(np.ones(2), np.ones(2)))
        2
    """
    if sample_weight is not None:
        return x, y, sample_weight
    return (x,) if y is None else (x, y)


def unpack_validation(validation_data: Any) -> tuple:
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        return tuple(validation_data) + (None,) * (3 - len(validation_data))
    raise ValueError(tr("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                        "sample_weight_val), received {type}", type=type(validation_data).__name__))


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """(train, validation): the LAST rows are the validation set, as Keras (before shuffling)."""
    n = num_rows(arrays[0])
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(tr("Training data contains {n} samples, which is not sufficient to "
                            "split it into a validation and training set as specified by "
                            "`validation_split={validation_split}`. Either provide more data, "
                            "or a different value for the `validation_split` argument.", n=n,
                            validation_split=validation_split))
    return (tuple(None if a is None else take(a, 0, split) for a in arrays),
            tuple(None if a is None else take(a, split, n) for a in arrays))


def should_validate(epoch: int, validation_freq: int | list) -> bool:
    if isinstance(validation_freq, list):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


