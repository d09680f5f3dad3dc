"""``PyDataset``: batches made by Python code, indexed (Keras's ``keras.utils.PyDataset``).

Subclass it, implement ``__getitem__(index)`` returning one batch ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)`` and ``__len__`` (the number of batches), and pass the object to
``fit``/``evaluate``/``predict``. ``on_epoch_end`` runs after every epoch (reshuffle there).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, Iterator

__all__ = ["PyDataset"]


class PyDataset:
    """Base class for a dataset of batches that Python code builds one index at a time.

    Args:
        workers: accepted as Keras's; batches are built in the main process here.
        use_multiprocessing: accepted as Keras's (ignored: no worker processes here).
        max_queue_size: accepted as Keras's (ignored).

    # NOTE: Keras can prepare batches in threads or processes; tinygrad_es computes on numpy in
    # one process and asks for each batch when it needs it, so the three arguments only record.

    Example:
        >>> import numpy as np
        >>> class Halves(PyDataset):
        ...     def __init__(self, x, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = x
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         return (self.x[index * 2:(index + 1) * 2],)
        >>> data = Halves(np.arange(4.0), workers=2)
        >>> data.num_batches, data.workers, [b[0].tolist() for b in data]
        (2, 2, [[0.0, 1.0], [2.0, 3.0]])
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = False
        for name, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if name not in self.__dict__:
                setattr(self, name, default)
                missing = True
        if missing:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                          "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                          "`max_queue_size`. Do not pass these arguments to `fit()`, as they will "
                          "be ignored.", stacklevel=3)

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """The batch at position ``index``."""
        raise NotImplementedError

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self) -> Iterator:
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (range(n) if n is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the beginning of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""
