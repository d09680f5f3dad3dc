"""compile / fit / evaluate / predict: the training loop every model inherits (``Trainer``).

``compile`` only stores what to use. ``fit`` checks and converts all the data once, resolves the
compiled loss and metrics, then runs one loop: for each batch one ``train_step`` (forward -> loss
-> backward -> ``optimizer.apply``), the step ``train_on_batch`` runs too. What gets logged is
Keras's (keras-semantics §5.2): the loss of a batch is computed with the weights *before* its
update, the epoch ``loss`` is the batch losses weighted by batch size (Keras's ``Mean`` metric, in
floatx), batch logs are running values since the epoch began, and validation runs after the last
update of the epoch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tinygrad_es import config, losses as losses_module, optimizers
from tinygrad_es.autograd import no_grad
from tinygrad_es.callbacks import CallbackList
from tinygrad_es.i18n import tr
from tinygrad_es.metrics.variable import pythonify
from tinygrad_es.models.compile_utils import (deserialize_compile_arg, resolve_metrics,
                                              serialize_compile_arg)
from tinygrad_es.models.data_adapter import (Batches, as_floatx, check_batch_size, check_fit_args,
                                             convert_targets, match_input_shape, should_validate,
                                             train_validation_split, unpack_validation,
                                             unpack_x_y_sample_weight)
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils.interrupts import defer_sigint


class Trainer:
    """The Keras training API, mixed into ``Sequential``.

    The model supplies ``__call__(x, training)``, ``trainable_weights``, ``losses``, ``layers``,
    ``input_shape``, ``output_shape``, ``built``/``build``, ``get_weights``/``set_weights``, and
    calls ``Trainer.__init__`` from its own.

    Example:
        >>> model.compile(optimizer=SGD(learning_rate=0.001), loss="mae")    # doctest: +SKIP
        >>> history = model.fit(x, y, epochs=50, batch_size=len(x), verbose=0)  # doctest: +SKIP
        >>> history.history["loss"][-1]                                     # doctest: +SKIP
    """

    def __init__(self) -> None:
        # compile(): what to use, as given
        self.compiled = False
        self.optimizer: Any = None                        # an Optimizer
        self.loss: Any = None                             # compile's loss argument
        self._loss_weight: float | None = None            # compile's loss_weights, as a float
        self._metric_ids: tuple[list, list] = ([], [])    # (metrics, weighted_metrics)
        self._compile_args: dict = {}                     # for get_compile_config / model.save
        # resolved once per compile, from the first targets and the built model's output shape
        self._loss_fn: Any = None                         # the Loss that fit differentiates
        self._metric_entries: list | None = None          # [(log name, Metric, weighted)]
        # the running loss since reset_metrics(): Keras's loss tracker, a Mean in floatx
        self._loss_sum, self._loss_count = 0.0, 0
        self._round: Any = float                          # rounds a Python float to floatx
        self._regularized = False                         # any layer has a penalty to add
        # one fit() run
        self.stop_training = False                        # set by callbacks (EarlyStopping)
        self.history: Any = None                          # the History of the last fit
        self._initial_epoch: int | None = None            # set by BackupAndRestore (Keras's name)
        # compile(jit_compile=...): the captured train_step (tinygrad_es/jit_fit.py), or None
        self._jit_compile: Any = "auto"
        self._jit_step: Any = None
        self._jit_reason: str | None = None               # why the last new batch shape ran eagerly

    # ----- compile -----

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: list | None = None, weighted_metrics: list | None = None,
                run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True) -> None:
        """Choose the optimizer, the loss and the metrics (Keras's argument order).

        ``jit_compile``: ``"auto"`` (the default) captures the training step on the first
        batch of each shape and replays it as a flat program of numpy calls when every layer,
        the optimizer, the loss and the metrics are known to be capturable
        (``tinygrad_es/jit_fit.py``); ``True`` captures any model (each capture is checked
        against a second eager step); ``False`` always runs eagerly. The numbers are the same
        bit for bit either way. ``run_eagerly=True`` means ``jit_compile=False``, as in Keras.
        ``steps_per_execution`` and ``auto_scale_loss`` are accepted for compatibility and
        ignored.

        Example:
            >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
            ...               metrics=["accuracy"])                        # doctest: +SKIP
        """
        for name, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple)):
                raise ValueError(tr("Expected `{name}` argument to be a list or tuple. Received "
                                    "instead: {name}={value!r} of type {type}", name=name,
                                    value=value, type=type(value).__name__))
        if isinstance(loss, (list, tuple)) and len(loss) == 1:
            loss = loss[0]
        if isinstance(loss_weights, (list, tuple)) and len(loss_weights) == 1:
            loss_weights = loss_weights[0]
        self.jit_compile = False if run_eagerly else jit_compile  # checked by the setter
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        crossentropy = loss is None or loss in ("crossentropy", "ce")  # resolved from the shapes
        self._loss_fn = None if crossentropy else losses_module.get(loss)
        self._loss_weight = None if loss_weights is None else float(loss_weights)
        self._metric_ids = (list(metrics or []), list(weighted_metrics or []))
        self._metric_entries = None
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}
        self.compiled = True

    @property
    def jit_compile(self) -> Any:
        """``"auto"``, True or False: whether fit captures its training step (see ``compile``).

        Setting it (as in Keras) forgets the steps captured so far.
        """
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value: Any) -> None:
        if not (isinstance(value, bool) or (isinstance(value, str) and value == "auto")):
            raise ValueError(tr("Invalid value for argument `jit_compile`: expected True, False "
                                "or 'auto', received {value!r}", value=value))
        from tinygrad_es.jit_fit import StepJit  # (jit_fit imports the models package)

        self._jit_compile = value
        self._jit_step = StepJit(self, force=value is True) if value else None
        self._jit_reason = None

    def get_compile_config(self) -> dict:
        """JSON-able description of the compile() call, for ``model.save``."""
        if not self.compiled:
            return {}
        opt = self.optimizer
        return {"optimizer": {"class_name": type(opt).__name__, "config": opt.get_config()},
                **{k: serialize_compile_arg(v) for k, v in self._compile_args.items()}}

    def compile_from_config(self, cfg: dict) -> None:
        """Compile again from :meth:`get_compile_config` (used by ``load_model``)."""
        if cfg:
            self.compile(**{k: deserialize_compile_arg(v) if k != "optimizer" else v
                            for k, v in cfg.items()})

    @property
    def metrics(self) -> list:
        """The compiled Metric objects (resolved when fit/evaluate first sees data)."""
        return [m for _, m, _ in self._metric_entries or []]

    @property
    def metrics_names(self) -> list[str]:
        """As Keras: ``['loss']``, plus ``'compile_metrics'`` when metrics were compiled."""
        has = self.compiled and any(self._metric_ids)
        return ["loss", "compile_metrics"] if has else ["loss"]

    def reset_metrics(self) -> None:
        """Zero the running loss and every compiled metric (done at each epoch start)."""
        self._loss_sum, self._loss_count = 0.0, 0
        for _, metric, _ in self._metric_entries or ():
            metric.reset_state()

    # ----- fit -----

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: tuple | None = None, shuffle: bool | str = True,
            class_weight: dict | None = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int | list = 1):
        """Train for ``epochs`` passes over (x, y); returns a ``History``.

        Everything is checked before the first update (a bad argument never leaves the model
        half-trained). Batches are consecutive rows (of a fresh permutation each pass when
        ``shuffle``; the permutation draws from ``tinygrad_es.random.generator()``). With
        ``validation_split`` the LAST rows, taken before shuffling, are the validation set.
        Each batch is one :meth:`train_step`.

        Example:
            >>> h = model.fit(x, y, epochs=5, batch_size=16, validation_split=0.2, verbose=0)
            ...                                                               # doctest: +SKIP
            >>> sorted(h.history)                                           # doctest: +SKIP
            ['loss', 'val_loss']
        """
        # ----- check and convert everything once, before the first update -----
        self._assert_compiled("fit")
        check_fit_args(batch_size, epochs, validation_split, steps_per_epoch, validation_freq,
                      shuffle)
        train = self._prepare(x, y, sample_weight, class_weight, "fit")   # (x, y, sample_weight)
        val = None
        if validation_data is not None:
            val = self._prepare(*unpack_validation(validation_data), None, "validation_data")
        elif validation_split:
            train, val = train_validation_split(train, validation_split)
        self._resolve_compiled(train[1], "fit")
        if validation_data is not None:
            self._resolve_compiled(val[1], "validation_data")  # its labels are checked too
        if batch_size is None:
            batch_size = math.ceil(len(train[0]) / steps_per_epoch) if steps_per_epoch else 32
        data = Batches(train, batch_size, shuffle, steps_per_epoch)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs, steps=data.steps)
        if not self.trainable_weights:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)

        # ----- the loop: one train_step per batch -----
        self.stop_training = False
        epoch_logs: dict = {}
        callbacks.on_train_begin()
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            for step, batch in data.epoch():
                callbacks.on_train_batch_begin(step)
                self.train_step(batch)       # forward, loss, backward, update, metrics
                if callbacks.wants("on_train_batch_end"):
                    callbacks.on_train_batch_end(step, self._logs())
                if self.stop_training:
                    break
            epoch_logs = self._logs()
            if val is not None and should_validate(epoch, validation_freq):
                val_logs = self._test_loop(val, validation_batch_size or batch_size,
                                           validation_steps, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if epochs > 0:
            self.optimizer.finalize_variable_values(self.trainable_weights)  # use_ema: averages
        callbacks.on_train_end(epoch_logs)
        return self.history

    # ----- one step: what fit, train_on_batch, evaluate and test_on_batch run per batch -----

    def train_step(self, data: tuple) -> None:
        """One update on one batch (Keras's ``train_step``): forward, loss, backward, update.

        The loss and metrics of the batch, computed with the weights *before* the update, go
        into the running values that the logs read.

        Args:
            data: ``(x, y, sample_weight)`` or ``(x, y)``: floatx arrays, checked and converted
                (``fit`` passes each batch so).

        Example:
            >>> model.train_step((x[:32], y[:32]))                           # doctest: +SKIP
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self._jit_step is not None and self._jit_step.step(x, y, sample_weight):
            return                                  # captured or replayed: the same numbers
        y_pred, loss, weights = self._forward_backward(x, y, sample_weight)
        self._apply_update(weights)                                         # update
        self._update_metrics(loss, y, y_pred, sample_weight)                # pre-update loss

    def _forward_backward(self, x: np.ndarray, y: np.ndarray, sample_weight: Any) -> tuple:
        """Forward, loss, backward: ``(y_pred, loss, trainable weights)``, grads in ``.grad``."""
        y_pred = self(Tensor.from_numpy(x), training=True)                  # forward
        loss = self._compute_loss(y, y_pred, sample_weight)                 # loss (+ penalties)
        weights = self.trainable_weights
        if weights:
            for w in weights:                                               # zero the grads
                w.grad = None
            # Keras's optimizer.scale_loss(loss): loss * loss_scale_factor, or LossScaleOptimizer's
            # dynamic scale; the logged loss stays unscaled.
            self.optimizer.scale_loss(loss).backward()                      # backward
        return y_pred, loss, weights

    def _apply_update(self, weights: list) -> None:
        if weights:
            with defer_sigint():                                            # (Ctrl-C waits)
                self.optimizer.apply([w.grad for w in weights], weights)

    def test_step(self, data: tuple) -> None:
        """Loss and metrics on one batch with ``training=False``, no graph (Keras's ``test_step``).

        Args:
            data: ``(x, y, sample_weight)`` or ``(x, y)``: floatx arrays, checked and converted.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with no_grad():
            y_pred = self(Tensor.from_numpy(x), training=False)
            loss = self._compute_loss(y, y_pred, sample_weight)
            self._update_metrics(loss, y, y_pred, sample_weight)

    # ----- evaluate / predict -----

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False):
        """Loss and metrics on (x, y) with ``training=False``: a float, a list or a dict, as Keras.

        Example:
            >>> model.evaluate(x, y, verbose=0)                              # doctest: +SKIP
            [0.31, 0.9]
        """
        self._assert_compiled("evaluate")
        check_batch_size(batch_size)
        data = self._prepare(x, y, sample_weight, None, "evaluate")
        self._resolve_compiled(data[1], "evaluate")
        batch_size = batch_size or 32
        n_steps = steps or math.ceil(len(data[0]) / batch_size)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=n_steps)
        logs = self._test_loop(data, batch_size, steps, callbacks)
        return logs if return_dict else self._flatten(logs)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None) -> np.ndarray:
        """The model's outputs for x (``training=False``, no graph) as one floatx ndarray.

        Example:
            >>> model.predict(x, verbose=0).shape                            # doctest: +SKIP
            (99, 1)
        """
        check_batch_size(batch_size)
        x = self._prepare_x(x, "predict", finite=False)
        data = Batches((x, None, None), batch_size or 32, False, steps)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=data.steps)
        outputs = []
        callbacks.on_predict_begin()
        with no_grad():
            for step, (xb, _, _) in data.epoch():
                callbacks.on_predict_batch_begin(step)
                outputs.append(self(Tensor.from_numpy(xb), training=False).data)
                callbacks.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callbacks.on_predict_end()
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """``predict`` for one batch, without callbacks."""
        x = self._prepare_x(x, "predict_on_batch", finite=False)
        with no_grad():
            return self(Tensor.from_numpy(x), training=False).data

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, return_dict: bool = False):
        """One :meth:`train_step` on exactly this batch; returns its (pre-update) loss and metrics.

        Example:
            >>> model.train_on_batch(x[:32], y[:32])                         # doctest: +SKIP
        """
        self._assert_compiled("train_on_batch")
        data = self._prepare(x, y, sample_weight, class_weight, "train_on_batch")
        self._resolve_compiled(data[1], "train_on_batch")
        self.reset_metrics()
        self.train_step(data)
        return self._logs() if return_dict else self._flatten(self._logs())

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False):
        """Loss and metrics on one batch with ``training=False``."""
        self._assert_compiled("test_on_batch")
        data = self._prepare(x, y, sample_weight, None, "test_on_batch")
        self._resolve_compiled(data[1], "test_on_batch")
        logs = self._test_loop(data, len(data[0]), None, CallbackList())  # one batch, no callbacks
        return logs if return_dict else self._flatten(logs)

    # ----- the pieces of a step -----

    def _compute_loss(self, y: np.ndarray, y_pred: Tensor, sample_weight: Any) -> Tensor:
        """The compiled loss (times its weight) plus every layer's regularization penalty."""
        loss = self._loss_fn(y, y_pred, sample_weight)
        if self._loss_weight is not None:
            loss = loss * self._loss_weight
        if self._regularized:
            for penalty in self.losses:
                loss = loss + penalty
        return loss

    def _update_metrics(self, loss: Tensor, y: np.ndarray, y_pred: Tensor, sw: Any) -> None:
        # Keras's loss tracker, a Mean in floatx: total += loss * batch_size, count += batch_size.
        # Python floats rounded to floatx after each op give the float32 result bit for bit
        # (a double holds the exact product/sum of two float32s) at a third of numpy's cost.
        rnd, n = self._round, len(y)
        self._loss_sum = rnd(self._loss_sum + rnd(float(loss.data) * n))
        self._loss_count += n
        # The Tensor itself, not its data: a sigmoid/softmax output carries its logits, and the
        # crossentropy metrics compute from them as Keras's do (no clipping).
        for _, metric, weighted in self._metric_entries:
            metric.update_state(y, y_pred, sw if weighted else None)

    def _logs(self) -> dict:
        """Running values since the last reset, keys sorted as Keras's logs are."""
        count = self._loss_count
        logs = {"loss": self._round(self._loss_sum / count) if count else 0.0}
        if not self._metric_entries:
            return logs
        for name, metric, _ in self._metric_entries:
            # a Keras-style result() may return its variable: log the value, not the live object
            logs[name] = pythonify(metric.result())
        return dict(sorted(logs.items()))

    def _test_loop(self, data: tuple, batch_size: int | None, steps: int | None,
                   callbacks: CallbackList) -> dict:
        batches = Batches(data, batch_size or 32, False, steps)
        self.reset_metrics()
        callbacks.on_test_begin()
        for step, batch in batches.epoch():
            callbacks.on_test_batch_begin(step)
            self.test_step(batch)
            if callbacks.wants("on_test_batch_end"):
                callbacks.on_test_batch_end(step, self._logs())
        logs = self._logs()
        callbacks.on_test_end(logs)
        return logs

    def _flatten(self, logs: dict) -> float | list:
        """Keras's order: loss, compiled metrics in compile order, then any other key sorted."""
        # NOTE: Keras looks the metrics up by metric.name, not by the logged key, so a metric in
        # both lists appears twice (its unweighted value), then "weighted_<name>" at the end.
        names = ["loss"] + [metric.name for _, metric, _ in self._metric_entries]
        values = [logs[k] for k in names if k in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    # ----- before the first step: data converted and checked, loss and metrics resolved -----

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            # Keras's type and words, with the method named.
            raise ValueError(tr("You must call `compile()` before using the model. Received a "
                                "call to `{method}()` on a model that was not compiled: call "
                                "model.compile(optimizer=..., loss=...) first.", method=method))

    def _prepare_x(self, x: Any, where: str, finite: bool = True) -> np.ndarray:
        """x as a checked floatx array; builds the model for its shape on first sight."""
        x = as_floatx(x, "x", where, finite)
        if not self.built:
            self.build((None,) + x.shape[1:])
        return match_input_shape(x, self.input_shape, self.layers, where)

    def _prepare(self, x: Any, y: Any, sample_weight: Any, class_weight: dict | None,
                 where: str) -> tuple:
        """(x, y, sample_weight) as floatx arrays, all checked (class_weight folded in)."""
        x = self._prepare_x(x, where)
        y, sample_weight = convert_targets(x, y, sample_weight, class_weight, where)
        return x, y, sample_weight

    def _resolve_compiled(self, y: np.ndarray, where: str) -> None:
        """What a run needs before its first step, from the targets and the built model's output
        shape: the compiled loss and metrics (resolved once per compile, as Keras on its first
        batch), the labels checked against the loss, the loss tracker's floatx, the running
        values zeroed."""
        output_shape = (len(y),) + tuple(self.output_shape[1:])  # the predictions for y
        if self._loss_fn is None:
            if self.loss is None:
                raise ValueError(tr("{where}() needs a loss: pass loss=... to model.compile()",
                                    where=where))
            self._loss_fn = losses_module.resolve_crossentropy(y, output_shape)
        losses_module.check_targets(self._loss_fn, y, output_shape)  # labels fit the loss
        if self._metric_entries is None:
            self._metric_entries = resolve_metrics(self._metric_ids, y, output_shape)
        self._round = _ROUND.get(config.floatx(), float)
        self._regularized = bool(self.losses)
        self.reset_metrics()


_ROUND = {"float32": lambda v: float(np.float32(v)), "float16": lambda v: float(np.float16(v))}
