"""Data that comes one batch at a time: generators, iterators, ``PyDataset``, ``tf.data``.

Keras's ``generator_data_adapter.py``, ``py_dataset_adapter.py`` and ``tf_dataset_adapter.py``,
on top of :class:`~tinygrad_es.models.data_adapter.DataAdapter`. Each batch is ``(x,)``,
``(x, y)`` or ``(x, y, sample_weight)``; the trainer's ``convert`` checks and converts it as it
comes, and an error names the batch's index. TensorFlow is never imported here: a
``tf.data.Dataset`` is recognised by its class's module and read with ``as_numpy_iterator()``.
"""

from __future__ import annotations

import itertools
import random
import types
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.models.data_adapter import DataAdapter
from tinygrad_es.models.data_arrays import flatten
from tinygrad_es.utils.py_dataset import PyDataset

# What Keras calls each kind in its messages ("When providing `x` as a generator, ...").
KINDS = {"generator": "generator", "py_dataset": "PyDataset", "tf": "tf.data.Dataset"}
PEEKED = 2   # Keras's NUM_BATCHES_FOR_TENSOR_SPEC


def is_tf_dataset(x: Any) -> bool:
    """A ``tf.data.Dataset`` (or a distributed one), found by class name and module as Keras does."""
    return any(c.__name__ in ("DatasetV2", "DistributedDataset", "DistributedDatasetsFromFunction")
               and "tensorflow.python." in str(c.__module__) for c in type(x).__mro__)


def _is_keras_py_dataset(x: Any) -> bool:
    return any(c.__name__ == "PyDataset" and str(c.__module__).startswith("keras")
               for c in type(x).__mro__)


def kind_of(x: Any) -> str | None:
    """``"tf"``, ``"py_dataset"``, ``"generator"`` (also any iterator), or None for arrays."""
    if isinstance(x, (np.ndarray, list, tuple, dict)) or x is None:
        return None
    if is_tf_dataset(x):
        return "tf"
    if isinstance(x, PyDataset) or _is_keras_py_dataset(x):
        return "py_dataset"
    # NOTE: Keras takes only generators; any other iterator (``iter(batches)``, a ``map``) is
    # one too and is read the same way here, where Keras says "Unrecognized data type".
    if isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and hasattr(x, "__iter__")):
        return "generator"
    return None


def make_adapter(kind: str, x: Any, y: Any, sample_weight: Any, class_weight: dict | None,
                 steps: int | None, shuffle: bool | str, convert: Callable) -> DataAdapter:
    """The adapter for an iterable ``x``, after Keras's checks of what may come with it."""
    name = KINDS[kind]
    for arg, value, what in (("y", y, "the targets"),
                             ("sample_weights", sample_weight, "the sample weights")):
        if value is not None:
            raise ValueError(tr("When providing `x` as a {input_type}, `{arg}` should not be "
                                "passed. Instead, {what} should be included as part of the "
                                "{input_type}.", input_type=name, arg=arg, what=what))
    if kind == "generator" and class_weight is not None:
        raise ValueError(tr("Argument `class_weight` is not supported for Python generator "
                            "inputs. Received: class_weight={class_weight}",
                            class_weight=class_weight))
    if shuffle and kind == "generator":
        warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was "
                      "provided as a generator. The generator is expected to yield "
                      "already-shuffled data.", stacklevel=4)
    if shuffle and kind == "tf":
        warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was "
                      "provided as a tf.data.Dataset. The Dataset is expected to already be "
                      "shuffled (via `.shuffle(buffer_size)`).", stacklevel=4)
    cls = {"generator": GeneratorAdapter, "py_dataset": PyDatasetAdapter, "tf": TFDatasetAdapter}
    return cls[kind](x, steps, shuffle, class_weight, convert)


class _IterableAdapter(DataAdapter):
    """Batches standardized to ``(x, y, sample_weight)``, then the trainer's ``convert``."""

    def __init__(self, data: Any, steps: int | None, shuffle: bool | str,
                 class_weight: dict | None, convert: Callable):
        super().__init__(steps)
        self.data, self.shuffle, self.class_weight = data, shuffle, class_weight
        self._trainer_convert = convert

    def _convert(self, batch: Any, index: int) -> Any:
        bare = not isinstance(batch, (tuple, list))
        batch = self._standardize(batch, index)
        if self.class_weight is not None:
            batch = _with_class_weight(batch, self.class_weight)
        batch = self._trainer_convert(batch, index)
        # an element that is x alone reaches train_step as x alone, as in Keras (a tuple (x,)
        # stays a tuple)
        return batch[0] if bare and len(batch) == 1 else batch

    def _standardize(self, batch: Any, index: int) -> tuple:
        if isinstance(batch, list):
            batch = tuple(batch)
        if not isinstance(batch, tuple) or not 1 <= len(batch) <= 3:
            raise ValueError(tr("When passing a Python generator to a Keras model, the generator "
                                "must return a tuple, either (input,) or (inputs, targets) or "
                                "(inputs, targets, sample_weights). Received (batch {index}): "
                                "{batch}", index=index, batch=_short(batch)))
        return batch + (None,) * (3 - len(batch))


def _short(batch: Any) -> str:
    text = repr(batch)
    return text if len(text) <= 200 else text[:200] + "..."


def _with_class_weight(batch: tuple, class_weight: dict) -> tuple:
    from tinygrad_es.models.data_arrays import class_weight_to_sample_weight

    x, y, sw = batch
    if sw is not None:
        raise ValueError(tr("You cannot specify `class_weight` and `sample_weight` at the same "
                            "time."))
    if y is not None and len(flatten(y)) > 1:
        raise ValueError(tr("`class_weight` is only supported for Models with a single output."))
    return x, y, None if y is None else class_weight_to_sample_weight(np.asarray(y), class_weight)


class GeneratorAdapter(_IterableAdapter):
    """A Python generator (or any iterator) of batches; its length is learnt when it runs out.

    # NOTE: Keras reads the first two batches ahead (to learn their shapes) and puts them back
    # in front of the generator at *every* epoch: a finite generator gives all its batches in
    # the first epoch, then only those two in each later epoch, each epoch ending with the
    # "ran out of data" warning. The same happens here, so the numbers match Keras's.
    """

    def __init__(self, data: Any, steps: int | None, shuffle: bool | str,
                 class_weight: dict | None, convert: Callable):
        super().__init__(data, steps, shuffle, class_weight, convert)
        self._first = list(itertools.islice(data, PEEKED))
        if not self._first:
            raise ValueError(tr("When passing a Python generator to a Keras model, the generator "
                                "must yield at least one batch. Received an empty generator."))
        self._standardize(self._first[0], 0)

    def _new_pass(self) -> Iterator:
        return itertools.chain(self._first, self.data)


class PyDatasetAdapter(_IterableAdapter):
    """A ``PyDataset``: ``dataset[i]`` for i in order (shuffled with Python's ``random`` when
    ``shuffle``, as Keras does), ``on_epoch_end`` after each epoch; endless when
    ``num_batches`` is None."""

    def __init__(self, data: Any, steps: int | None, shuffle: bool | str,
                 class_weight: dict | None, convert: Callable):
        super().__init__(data, steps, shuffle, class_weight, convert)
        self.num_batches = data.num_batches
        if self.num_batches is None and shuffle:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was "
                          "provided as an infinite PyDataset. The PyDataset is expected to "
                          "already be shuffled.", stacklevel=5)

    def _new_pass(self) -> Iterator:
        if self.num_batches is None:
            return (self.data[i] for i in itertools.count())
        order = list(range(self.num_batches))
        if self.shuffle:
            random.shuffle(order)
        return (self.data[i] for i in order)

    def _standardize(self, batch: Any, index: int) -> tuple:
        if isinstance(batch, dict):
            return batch, None, None
        if isinstance(batch, np.ndarray):
            batch = (batch,)
        if isinstance(batch, list):
            batch = tuple(batch)
        if not isinstance(batch, tuple) or not 1 <= len(batch) <= 3:
            raise ValueError(tr("PyDataset.__getitem__() must return a tuple or a dict. If a "
                                "tuple, it must be ordered either (input,) or (inputs, targets) "
                                "or (inputs, targets, sample_weights). Received (batch {index}): "
                                "{batch} of type {type}", index=index, batch=_short(batch),
                                type=type(batch).__name__))
        return batch + (None,) * (3 - len(batch))

    def on_epoch_end(self) -> None:
        self.data.on_epoch_end()


class TFDatasetAdapter(_IterableAdapter):
    """A ``tf.data.Dataset`` of batches, read as numpy; its length is its cardinality (None when
    infinite or unknown). Each epoch iterates it again (unless ``steps_per_epoch`` is given)."""

    def __init__(self, data: Any, steps: int | None, shuffle: bool | str,
                 class_weight: dict | None, convert: Callable):
        super().__init__(data, steps, shuffle, class_weight, convert)
        cardinality = data.cardinality
        cardinality = int(cardinality() if callable(cardinality) else cardinality)
        self.num_batches = cardinality if cardinality >= 0 else None

    def _new_pass(self) -> Iterator:
        return iter(self.data.as_numpy_iterator())

    def _standardize(self, batch: Any, index: int) -> tuple:
        if not isinstance(batch, (tuple, list)):
            return batch, None, None   # a dataset of x alone (predict)
        return super()._standardize(batch, index)
