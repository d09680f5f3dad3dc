"""Callbacks: code that ``fit``/``evaluate``/``predict`` run at fixed points, with Keras's names.

The order inside ``fit`` (keras-semantics §6)::

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(b), on_train_batch_end(b, logs)     for each batch
        on_test_begin, on_test_batch_begin/end(b)..., on_test_end (when validating)
      on_epoch_end(epoch, logs)
    on_train_end

User callbacks run in list order, then ``History``, then ``ProgbarLogger``. Batch logs are running
means since the epoch began; epoch logs are the epoch's values plus ``val_*``. Set
``model.stop_training = True`` to end ``fit`` after the current batch (epoch callbacks still run).
"""

from __future__ import annotations

import csv
import inspect
import os
import warnings
from typing import Any, Callable

import numpy as np

from tinygrad_es.utils.progbar import Progbar

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class Callback:
    """Base class: override the hooks you need; every hook does nothing by default.

    ``self.model`` is the model being trained, ``self.params`` is ``{"verbose", "epochs",
    "steps"}``. ``on_train_batch_begin/end`` forward to the legacy ``on_batch_begin/end``.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, logs["loss"])
    """

    def __init__(self):
        self.params: dict | None = None
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    @model.setter
    def model(self, model: Any) -> None:
        self._model = model

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs=logs)
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


def _overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` does something in ``hook`` (its class or instance replaced it)."""
    fn = getattr(callback, hook)
    if getattr(fn, "__func__", fn) is not getattr(Callback, hook):
        return True
    legacy = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
    return hook in legacy and _overrides(callback, legacy[hook])


class CallbackList(Callback):
    """Calls every hook on each callback in order; adds ``History`` and ``ProgbarLogger`` last.

    Only callbacks that override a hook are called for it, so the no-op hooks of the defaults
    cost nothing per batch. ``wants(hook)`` says whether any callback overrides ``hook``, so
    ``fit`` computes batch logs only when someone reads them.

    Example:
        >>> cbs = CallbackList([EarlyStopping(monitor="loss")], add_history=True)
        >>> [type(c).__name__ for c in cbs.callbacks]
        ['EarlyStopping', 'History']
    """

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False,
                 model: Any = None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, received {cb!r} "
                                f"of type {type(cb).__name__}")
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self._active = {h: [getattr(c, h) for c in self.callbacks if _overrides(c, h)]
                        for h in _HOOKS}
        self.set_model(model)
        self.set_params(params)

    def set_params(self, params: dict) -> None:
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model: Any) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def wants(self, hook: str) -> bool:
        """True if some callback does something in ``hook``."""
        return bool(self._active[hook])

    def _call(self, hook: str, *args) -> None:
        for fn in self._active[hook]:
            fn(*args)

    # Keras hands each hook a sorted copy of the logs (shared by the callbacks of that call),
    # so keys a callback adds (learning_rate) reach the callbacks after it, e.g. History.
    def on_train_begin(self, logs=None): self._call("on_train_begin", _sorted(logs))
    def on_train_end(self, logs=None): self._call("on_train_end", _sorted(logs))
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, _sorted(logs))
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, _sorted(logs))
    def on_test_begin(self, logs=None): self._call("on_test_begin", _sorted(logs))
    def on_test_end(self, logs=None): self._call("on_test_end", _sorted(logs))
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", _sorted(logs))
    def on_predict_end(self, logs=None): self._call("on_predict_end", _sorted(logs))
    # Batch hooks get ``logs=`` by keyword, as Keras calls them.
    def on_batch_begin(self, batch, logs=None): self._call_batch("on_batch_begin", batch, logs)
    def on_batch_end(self, batch, logs=None): self._call_batch("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for fn in self._active["on_train_batch_begin"]:
            fn(batch, logs=logs if logs is not None else {})

    def on_train_batch_end(self, batch, logs=None):
        for fn in self._active["on_train_batch_end"]:
            fn(batch, logs=logs if logs is not None else {})

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)

    def _call_batch(self, hook: str, batch: int, logs: dict | None) -> None:
        for fn in self._active[hook]:
            fn(batch, logs=logs if logs is not None else {})


def _sorted(logs: dict | None) -> dict:
    return dict(sorted(logs.items())) if logs else {}


# ----- always present -----

class History(Callback):
    """Records the epoch logs: ``history.history`` (dict of lists), ``epoch``, ``params``.

    ``fit`` adds one automatically and returns it (also as ``model.history``).

    Example:
        >>> h = model.fit(x, y, epochs=3, verbose=0)   # doctest: +SKIP
        >>> list(h.history)                             # doctest: +SKIP
        ['loss']
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints the Keras progress bar (``verbose`` 1) or one line per epoch (``verbose`` 2).

    ``fit`` adds it when ``verbose != 0``; ``"Epoch k/E"`` is printed only when ``E > 1``.
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params["verbose"]
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params["epochs"]
        self.target = params["steps"]

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step",
                               stateless_metrics=set())

    def _update_progbar(self, batch, logs):
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        if self.target is None:
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


# ----- monitoring a logged quantity -----

class _MonitorCallback(Callback):
    """Shared by EarlyStopping, ReduceLROnPlateau and ModelCheckpoint: is ``current`` better?

    mode "min": ``current + |min_delta| < best``; "max": ``current - |min_delta| > best``; "auto":
    min for ``loss``/``val_loss``, else the compiled metric's ``_direction`` ("up" -> max).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                          stacklevel=3)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self._minimize: bool | None = None

    def _set_monitor_op(self) -> None:
        if self.mode != "auto":
            self._minimize = self.mode == "min"
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self._minimize = True
            for metric in getattr(self.model, "metrics", None) or []:
                direction = getattr(metric, "_direction", None)
                if getattr(metric, "name", None) == name and direction is not None:
                    self._minimize = direction != "up"
            if self._minimize is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but cannot "
                    "tell whether that metric should be maximized or minimized. Pass mode='max' "
                    "to keep the highest value, or mode='min' to keep the lowest.")
        if self._minimize:
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, current, reference) -> bool:
        if reference is None:
            return True
        if self._minimize:
            return bool(current - self.min_delta < reference)
        return bool(current - self.min_delta > reference)


class EarlyStopping(_MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Keras 3 rules: an improving epoch never stops training; ``baseline`` only blocks resetting the
    patience counter; no stop at epoch 0; ``restore_best_weights`` restores the best epoch's
    weights at the end of training even when training was not stopped early.

    Example:
        >>> stop = EarlyStopping(monitor="loss", patience=3, restore_best_weights=True)
        >>> model.fit(x, y, epochs=100, callbacks=[stop], verbose=0)   # doctest: +SKIP
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best = self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        if self._minimize is None:
            self._set_monitor_op()
        current = _monitored(self, logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


def _monitored(cb: _MonitorCallback, logs: dict | None, what: str) -> float | None:
    value = (logs or {}).get(cb.monitor)
    if value is None:
        warnings.warn(f"{what} conditioned on metric `{cb.monitor}` which is not available. "
                      f"Available metrics are: {','.join(logs or {})}", stacklevel=3)
    return value


class ReduceLROnPlateau(_MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    Adds ``learning_rate`` (the value before any reduction) to the epoch logs, so History has it.
    The new rate is stored as the optimizer stores it (float32 in float32 mode, as Keras's
    variable: 0.01 * 0.5 becomes 0.004999999888241291).

    Example:
        >>> cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_lr=1e-4)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self._minimize is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = _monitored(self, logs, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            old_lr = float(optimizer.learning_rate)
            if self.wait >= self.patience and old_lr > np.float32(self.min_lr):
                new_lr = max(old_lr * self.factor, self.min_lr)
                optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{new_lr}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


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
            self._two_args = kinds.count(inspect.Parameter.POSITIONAL_ONLY) + kinds.count(
                inspect.Parameter.POSITIONAL_OR_KEYWORD) >= 2 or \
                inspect.Parameter.VAR_POSITIONAL in kinds
        except (TypeError, ValueError):  # a builtin without a signature
            self._two_args = True

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        lr = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr}")
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

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
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                                   f"Loss value: {loss}. Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class ModelCheckpoint(_MonitorCallback):
    """Save the model (or only its weights) after every epoch or every ``save_freq`` batches.

    ``filepath`` may hold ``{epoch}`` (1-based) and log keys, e.g.
    ``"m_{epoch:02d}_{val_loss:.3f}.keras"``. The file is whatever ``model.save`` writes (our
    ``.npz`` format, under any of Keras's extensions or ``.npz``).
    With ``save_best_only`` a file is written only when ``monitor`` improves.

    Example:
        >>> ckpt = ModelCheckpoint("best.keras", monitor="loss", save_best_only=True)
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only, self.save_freq = save_weights_only, save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. "
                             "Expected save_freq are 'epoch' or integer values")
        endings = (".weights.h5", ".weights.npz") if save_weights_only else (".keras", ".h5",
                                                                              ".npz")
        if not self.filepath.endswith(endings):
            raise ValueError(f"ModelCheckpoint(save_weights_only={save_weights_only}) needs a "
                             f"filepath ending in one of {endings}; received "
                             f"filepath={self.filepath!r}")

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            self._batches_seen_since_last_saving += batch + 1
        else:
            self._batches_seen_since_last_saving += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self._minimize is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        try:
            if batch is None or "batch" in logs:
                filepath = self.filepath.format(epoch=epoch + 1, **logs)
            else:
                filepath = self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as err:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {err}") from None
        if not self._should_save(epoch, logs, filepath):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False


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
