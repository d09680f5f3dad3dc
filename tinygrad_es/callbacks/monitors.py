"""Callbacks that watch a logged quantity: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint.

They share one rule for "did ``monitor`` improve?" (``_MonitorCallback``, as Keras's
``MonitorCallback``): the mode, the sign of ``min_delta``, and the warning when the quantity is
missing from the logs.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from tinygrad_es.callbacks.callback import Callback
from tinygrad_es.i18n import N_, tr


class _MonitorCallback(Callback):
    """Shared by EarlyStopping, ReduceLROnPlateau and ModelCheckpoint: is ``current`` better?

    mode "min": ``current + |min_delta| < best``; "max": ``current - |min_delta| > best``; "auto":
    min for ``loss``/``val_loss``, else the compiled metric's ``_direction`` ("up" -> max).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(tr("{cls} mode '{mode}' is unknown, fallback to auto mode.",
                             cls=type(self).__name__, mode=mode),
                          stacklevel=3)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self._minimize: bool | None = None

    def _set_monitor_op(self) -> None:
        """Decide min or max once; called at each epoch end, when the compiled metrics exist."""
        if self._minimize is not None:
            return
        if self.mode != "auto":
            self._minimize = self.mode == "min"
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self._minimize = True
            found = []
            for metric in getattr(self.model, "metrics", None) or []:
                # Keras's: the compiled metrics are one Metric ("compile_metrics"): look inside
                found.extend(getattr(metric, "metrics", None) or [metric])
            for metric in found:
                direction = getattr(metric, "_direction", None)
                if getattr(metric, "name", None) == name and direction is not None:
                    self._minimize = direction != "up"
            if self._minimize is None:
                raise ValueError(
                    tr("{cls} callback received monitor={monitor}, but cannot tell whether "
                       "that metric should be maximized or minimized. Pass mode='max' to keep "
                       "the highest value, or mode='min' to keep the lowest.",
                       cls=type(self).__name__, monitor=self.monitor))
        if self._minimize:
            self.min_delta = -abs(self.min_delta)

    def _monitor_value(self, logs: dict | None, missing: str) -> float | None:
        """``logs[monitor]``; if absent, None and the warning ``missing`` (Keras's wording).

        ``missing`` may use ``{monitor}`` and ``{available}`` (the keys that are in ``logs``).
        """
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(tr(missing, monitor=self.monitor, available=",".join(logs or {})),
                          stacklevel=3)
        return value

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
        self._set_monitor_op()
        current = self._monitor_value(logs, N_("Early stopping conditioned on metric "
                                               "`{monitor}` which is not available. Available "
                                               "metrics are: {available}"))
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
            print(tr("Epoch {stopped_epoch}: early stopping", stopped_epoch=self.stopped_epoch + 1))
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(tr("Restoring model weights from the end of the best epoch: {best_epoch}.",
                         best_epoch=self.best_epoch + 1))
            self.model.set_weights(self.best_weights)


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
            raise ValueError(tr("ReduceLROnPlateau does not support a factor >= 1.0. Received "
                                "factor={factor}", factor=factor))
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        self._set_monitor_op()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._monitor_value(logs, N_("Learning rate reduction conditioned on metric "
                                               "`{monitor}` which is not available. Available "
                                               "metrics are: {available}"))
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
                    print(tr("\nEpoch {epoch}: ReduceLROnPlateau reducing learning rate to "
                             "{new_lr}.", epoch=epoch + 1, new_lr=new_lr))
                self.cooldown_counter, self.wait = self.cooldown, 0


class ModelCheckpoint(_MonitorCallback):
    """Save the model (or only its weights) after every epoch or every ``save_freq`` batches.

    ``filepath`` may hold ``{epoch}`` (1-based) and log keys, e.g.
    ``"m_{epoch:02d}_{val_loss:.3f}.keras"``. The file is whatever ``model.save`` (or
    ``save_weights``) writes for that name: Keras's own zip for ``.keras``, Keras's h5 layout for
    ``.weights.h5``, our npz (exact resume) for any other name.
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
            raise ValueError(tr("Unrecognized save_freq: {save_freq}. Expected save_freq are "
                                "'epoch' or integer values", save_freq=save_freq))
        endings = (".weights.h5", ".weights.npz") if save_weights_only else (".keras", ".h5",
                                                                              ".npz")
        if not self.filepath.endswith(endings):
            raise ValueError(tr("ModelCheckpoint(save_weights_only={save_weights_only}) needs "
                                "a filepath ending in one of {endings}; received "
                                "filepath={filepath!r}", save_weights_only=save_weights_only,
                                endings=endings, filepath=self.filepath))

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
            raise KeyError(tr('Failed to format this callback filepath: "{filepath}". Reason: '
                              "{err}", filepath=self.filepath, err=err)) from None
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
            print(tr("\nEpoch {epoch}: finished saving model to {filepath}", epoch=epoch + 1,
                     filepath=filepath))

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(tr("\nEpoch {epoch}: saving model to {filepath}", epoch=epoch + 1,
                         filepath=filepath))
            return True
        current = self._monitor_value(
            logs, N_("Can save best model only with {monitor} available."))
        if current is None:
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(tr("\nEpoch {epoch}: {monitor} improved from {best_str} to "
                         "{current:.5f}, saving model to {filepath}", epoch=epoch + 1,
                         monitor=self.monitor, best_str=best_str, current=current,
                         filepath=filepath))
            self.best = current
            return True
        if self.verbose > 0:
            print(tr("\nEpoch {epoch}: {monitor} did not improve from {best_str}", epoch=epoch + 1,
                     monitor=self.monitor, best_str=best_str))
        return False

