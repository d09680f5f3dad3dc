"""The smaller built-in callbacks: LearningRateScheduler, TerminateOnNaN, CSVLogger, LambdaCallback.

None of them watches a metric for improvement (those are in ``monitors.py``).
"""

from __future__ import annotations

import csv
import inspect
import os
from typing import Any, Callable

import numpy as np

from tinygrad_es.callbacks.callback import Callback
from tinygrad_es.i18n import tr


class LearningRateScheduler(Callback):
    """At each epoch begin set the learning rate to ``schedule(epoch, lr)`` or ``schedule(epoch)``.

    ``epoch`` is 0-based; the result must be a float. Adds ``learning_rate`` to the epoch logs.

    Example:
        >>> cb = LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose
        try:  # Keras tries schedule(epoch, lr) and falls back on TypeError; we ask the signature
            kinds = [p.kind for p in inspect.signature(schedule).parameters.values()]
            self._two_args = (kinds.count(inspect.Parameter.POSITIONAL_ONLY) + kinds.count(
                inspect.Parameter.POSITIONAL_OR_KEYWORD) >= 2 or
                inspect.Parameter.VAR_POSITIONAL in kinds)
        except (TypeError, ValueError):  # a builtin without a signature
            self._two_args = True

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        lr = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError(tr("The output of the `schedule` function should be a float. Got: "
                                "{lr}", lr=lr))
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(tr("\nEpoch {epoch}: LearningRateScheduler setting learning rate to {lr}.",
                     epoch=epoch + 1, lr=lr))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training when a batch's running loss is NaN or inf (or raise, with ``raise_error``).

    Example:
        >>> model.fit(x, y, callbacks=[TerminateOnNaN()])   # doctest: +SKIP
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(tr("NaN or Inf loss encountered at batch {batch}. Loss "
                                      "value: {loss}. Terminating training immediately.",
                                      batch=batch, loss=loss))
            print(tr("Batch {batch}: Invalid loss, terminating training", batch=batch))
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file: ``epoch`` then the sorted keys, one row per epoch.

    Without ``val_*`` keys at the first epoch, ``val_<key>`` columns are added and filled with
    ``NA`` (as Keras). The file is flushed every epoch.

    Example:
        >>> model.fit(x, y, callbacks=[CSVLogger("training.csv")])   # doctest: +SKIP
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        super().__init__()
        self.sep, self.filename, self.append = separator, os.fspath(filename), append
        self.writer = self.keys = self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not bool(len(f.readline()))
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            dialect = type("_Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _csv_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class LambdaCallback(Callback):
    """A callback made of plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``.

    Any other hook can be given by name in ``**kwargs`` (e.g. ``on_test_end=fn``).

    Example:
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for hook, fn in given.items():
            if fn is not None:
                setattr(self, hook, fn)
