"""compile / fit / evaluate / predict: the training loop every model inherits (``Trainer``).

``compile`` only stores what to use. ``fit`` gets a ``DataAdapter`` for its data (arrays are
checked and converted all at once; a generator, ``PyDataset`` or ``tf.data.Dataset`` batch by
batch), resolves the compiled loss and metrics before the first update, then runs one loop: for
each batch one ``train_step`` (forward -> loss -> backward -> ``optimizer.apply``), the step
``train_on_batch`` runs too, and which a model may override (Keras 3's ``train_step(data)``
returning its logs). What gets logged is Keras's (keras-semantics §5.2): the loss of a batch is
computed with the weights *before* its update, the epoch ``loss`` is the batch losses weighted by
batch size (Keras's ``Mean`` metric, in floatx), batch logs are running values since the epoch
began, and validation runs after the last update of the epoch. A model with several outputs logs
``loss`` (the weighted sum), ``<output>_loss`` and ``<output>_<metric>``, as Keras.
"""

from __future__ import annotations

import warnings
from typing import Any

from tinygrad_es import losses as losses_module, optimizers
from tinygrad_es.autograd import no_grad
from tinygrad_es.layers.base import losses_possible
from tinygrad_es.callbacks import CallbackList
from tinygrad_es.i18n import tr
from tinygrad_es.metrics.variable import pythonify
from tinygrad_es.models.compile_utils import (CompileMetrics, LossTracker, OutputLosses,
                                              deserialize_compile_arg, per_output,
                                              serialize_compile_arg)
from tinygrad_es.models.data_adapter import (ArrayAdapter, DataAdapter, check_batch_size,
                                             check_fit_args, get_data_adapter, should_validate,
                                             unpack_validation, unpack_x_y_sample_weight)
from tinygrad_es.models.data_arrays import num_rows, to_tensors
from tinygrad_es.models.data_iterables import kind_of
from tinygrad_es.models.trainer_data import (TrainerData, concatenate_outputs, flat_logs,
                                             numpy_outputs)
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils.interrupts import defer_sigint


class Trainer(TrainerData):
    """The Keras training API, mixed into ``Sequential`` (and any model).

    The model supplies ``__call__(x, training)``, ``trainable_weights``, ``losses``, ``layers``,
    ``input_shape``, ``output_shape``, ``built``/``build``, ``get_weights``/``set_weights``, and
    calls ``Trainer.__init__`` from its own. A model with several outputs returns a list (or a
    dict) of Tensors, has a list (or dict) ``output_shape`` and Keras's ``output_names``.

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
        self._loss_weights: Any = None                    # compile's loss_weights
        self._metric_ids: tuple[list, Any] = ([], [])     # (metrics, weighted_metrics)
        self._compile_args: dict = {}                     # for get_compile_config / model.save
        # resolved once per compile, from the first targets and the built model's output shape
        self._loss_fn: Any = None                         # the Loss (one output) that fit uses
        self._output_losses: OutputLosses | None = None   # the losses of several outputs
        self._loss_tracker: LossTracker | None = None     # Keras's Mean(name="loss")
        self._compile_metrics: CompileMetrics | None = None
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
                metrics: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True) -> None:
        """Choose the optimizer, the loss and the metrics (Keras's argument order).

        For a model with several outputs, ``loss``, ``loss_weights``, ``metrics`` and
        ``weighted_metrics`` may be lists (one entry per output) or dicts keyed by output name.

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
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise ValueError(tr("Expected `{name}` argument to be a list or tuple. Received "
                                    "instead: {name}={value!r} of type {type}", name=name,
                                    value=value, type=type(value).__name__))
        names = self._output_names()
        if names is None and isinstance(loss, (list, tuple)) and len(loss) == 1:
            loss = loss[0]
        if names is None and isinstance(loss_weights, (list, tuple)) and len(loss_weights) == 1:
            loss_weights = loss_weights[0]
        self.jit_compile = False if run_eagerly else jit_compile  # checked by the setter
        self.optimizer = optimizers.get(optimizer)
        self.loss, self._loss_weights = loss, loss_weights
        self._output_losses = None if names is None else OutputLosses(loss, loss_weights, names)
        crossentropy = loss is None or loss in ("crossentropy", "ce")  # resolved from the shapes
        self._loss_fn = None if crossentropy or names is not None else losses_module.get(loss)
        self._metric_ids = (metrics or [], weighted_metrics or [])
        self._loss_tracker = LossTracker("loss")
        self._compile_metrics = (CompileMetrics(self._metric_ids, names)
                                 if metrics or weighted_metrics else None)
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
        """Keras 3's ``model.metrics``: the loss tracker (a ``Mean`` named ``loss``), then
        ``compile_metrics`` (the compiled metrics as one Metric) when metrics were compiled,
        then the ``<output>_loss`` trackers of a model with several outputs.

        A model that tracks its own metrics overrides this property (Keras's guide
        "Customizing what happens in fit()"); ``reset_metrics`` and the logs then use its list.
        """
        if not self.compiled:
            return []
        found = [self._loss_tracker]
        if self._compile_metrics is not None:
            found.append(self._compile_metrics)
        if self._output_losses is not None:
            found.extend(self._output_losses.metrics)
        return found

    @property
    def metrics_names(self) -> list[str]:
        """As Keras: the names of :attr:`metrics` (``['loss', 'compile_metrics']``, ...)."""
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        """Reset every metric in :attr:`metrics` (done at each epoch start)."""
        for metric in self.metrics:
            metric.reset_state()

    # ----- fit -----

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool | str = True,
            class_weight: dict | None = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int | list = 1):
        """Train for ``epochs`` passes over the data; returns a ``History``.

        ``x`` is an array, a list/tuple/dict of arrays (several inputs), a generator of
        ``(x, y)`` / ``(x, y, sample_weight)`` batches, a ``PyDataset`` or a ``tf.data.Dataset``
        (then ``y`` comes with it). Arrays are all checked before the first update (a bad
        argument never leaves the model half-trained); batches of a generator or dataset are
        checked as they come. Array batches are consecutive rows (of a fresh permutation each
        pass when ``shuffle``; it draws from ``tinygrad_es.random.generator()``). With
        ``validation_split`` the LAST rows, taken before shuffling, are the validation set.
        Each batch is one :meth:`train_step`.

        Example:
            >>> h = model.fit(x, y, epochs=5, batch_size=16, validation_split=0.2, verbose=0)
            ...                                                               # doctest: +SKIP
            >>> sorted(h.history)                                           # doctest: +SKIP
            ['loss', 'val_loss']
        """
        # ----- check and convert everything we can, before the first update -----
        self._assert_compiled("fit")
        check_fit_args(batch_size, epochs, validation_split, steps_per_epoch, validation_freq,
                      shuffle)
        iterable = kind_of(x) is not None
        if validation_split and validation_data is None and iterable:
            raise ValueError(tr("Argument `validation_split` is only supported for tensors or "
                                "NumPy arrays.Found incompatible type in the input: {types}",
                                types=[type(x)]))
        data = self._adapter(x, y, sample_weight, class_weight, batch_size, steps_per_epoch,
                             shuffle, "fit", validation_split=0.0 if validation_data is not None
                             else validation_split)
        val = None
        if validation_data is not None:
            val_batch = validation_batch_size or batch_size
            if kind_of(validation_data) is not None:
                val = self._adapter(validation_data, None, None, None, None, validation_steps,
                                    False, "validation_data")
            else:
                val = self._adapter(*unpack_validation(validation_data), None, val_batch,
                                    validation_steps, False, "validation_data")
        elif isinstance(data, tuple):
            data, val = data[0], ArrayAdapter(data[1], validation_batch_size or data[0].batch_size,
                                              False, validation_steps)
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
        # (which batch hooks some callback has is fixed for the run: asked once, not per batch)
        batch_begin = callbacks.wants("on_train_batch_begin")
        batch_end = callbacks.wants("on_train_batch_end")
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = None
            for step, batch in data.epoch():
                if batch_begin:
                    callbacks.on_train_batch_begin(step)
                logs = self.train_step(batch)       # forward, loss, backward, update, metrics
                if batch_end:
                    callbacks.on_train_batch_end(step, self._step_logs(logs))
                if self.stop_training:
                    break
            epoch_logs = self._epoch_logs(logs)
            if val is not None and should_validate(epoch, validation_freq):
                val_logs = self._test_loop(val, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if epochs > 0:
            self.optimizer.finalize_variable_values(self.trainable_weights)  # use_ema: averages
        callbacks.on_train_end(epoch_logs)
        return self.history

    # ----- one step: what fit, train_on_batch, evaluate and test_on_batch run per batch -----

    def train_step(self, data: tuple) -> dict | None:
        """One update on one batch (Keras's ``train_step``): forward, loss, backward, update.

        The loss and metrics of the batch, computed with the weights *before* the update, go
        into the running values that the logs read. A model may override it (Keras 3 style):
        whatever dict it returns is what ``fit`` logs.

        Args:
            data: ``(x, y, sample_weight)`` or ``(x, y)``: floatx arrays (or structures of
                them), checked and converted (``fit`` passes each batch so).

        Returns:
            None: ``fit`` then reads the running values from :attr:`metrics` only when a
            callback wants them (Keras's step returns them every batch; an override may return
            its logs dict, as Keras's: ``fit`` logs it).

        Example:
            >>> model.train_step((x[:32], y[:32]))                           # doctest: +SKIP
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if self._jit_step is not None and self._jit_step.step(x, y, sample_weight):
            return                                  # captured or replayed: the same numbers
        y_pred, loss, weights = self._forward_backward(x, y, sample_weight)
        self._apply_update(weights)                                         # update
        self._update_compiled_metrics(loss, x, y, y_pred, sample_weight)    # pre-update loss

    def _forward_backward(self, x: Any, y: Any, sample_weight: Any) -> tuple:
        """Forward, loss, backward: ``(y_pred, loss, trainable weights)``, grads in ``.grad``."""
        y_pred = self(to_tensors(x), training=True)                         # forward
        loss = self.compute_loss(x, y, y_pred, sample_weight)               # loss (+ penalties)
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

    def test_step(self, data: tuple) -> dict | None:
        """Loss and metrics on one batch with ``training=False``, no graph (Keras's ``test_step``).

        Args:
            data: ``(x, y, sample_weight)`` or ``(x, y)``: floatx arrays, checked and converted.

        Returns:
            None, or an override's logs dict, as :meth:`train_step`.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with no_grad():
            y_pred = self(to_tensors(x), training=False)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
            self._update_compiled_metrics(loss, x, y, y_pred, sample_weight)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Tensor:
        """The compiled loss of the batch plus every layer's penalty (Keras 3's ``compute_loss``).

        One output: ``loss_weight * loss(y, y_pred, sample_weight)``; several: the sum over the
        outputs of ``weight_i * loss_i`` (each loss also logged, unweighted, as ``<output>_loss``). Then each
        regularization / ``add_loss`` penalty is added, in Keras's order. ``x`` and
        ``training`` are accepted as Keras's and unused.

        Example:
            >>> loss = model.compute_loss(y=y, y_pred=model(x))              # doctest: +SKIP
        """
        if self._output_losses is not None:
            names = self._output_losses.names
            loss = self._output_losses(per_output(y, names), per_output(y_pred, names),
                                       per_output(sample_weight, names))
        elif self._loss_fn is not None:
            loss = self._loss_fn(y, y_pred, sample_weight)
            if self._loss_weights is not None:
                loss = loss * float(self._loss_weights)
        else:
            loss = None
        if losses_possible():   # (else no layer can have one: the walk is skipped)
            for penalty in self.losses:
                loss = penalty if loss is None else loss + penalty
        if loss is None:
            raise ValueError(tr("No loss to compute. Provide a `loss` argument in `compile()`."))
        return loss

    def _update_compiled_metrics(self, loss: Tensor, x: Any, y: Any, y_pred: Any,
                                 sample_weight: Any) -> None:
        # Keras's loss tracker counts a batch as its number of samples
        self._loss_tracker.update_state(loss, sample_weight=num_rows(x))
        if self._compile_metrics is not None:
            if self._output_losses is None:
                self._compile_metrics.update_state(y, y_pred, sample_weight)
            else:
                self.compute_metrics(x, y, y_pred, sample_weight, _logs=False)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None,
                        _logs: bool = True) -> dict | None:
        """Update the compiled metrics with one batch; return the logs (Keras 3's).

        The Tensor itself goes to the metrics, not its data: a sigmoid/softmax output carries
        its logits, and the crossentropy metrics compute from them as Keras's do (no clipping).
        """
        if self._compile_metrics is not None:
            if self._output_losses is not None:
                names = self._output_losses.names
                y, y_pred = per_output(y, names), per_output(y_pred, names)
                sample_weight = per_output(sample_weight, names)
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result() if _logs else None

    def get_metrics_result(self) -> dict:
        """The current value of every metric in :attr:`metrics`, as Python floats, keys sorted
        (a metric whose result is a dict, as ``compile_metrics``, adds its entries)."""
        logs: dict = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                logs.update(value)
            else:
                logs[metric.name] = pythonify(value)
        return dict(sorted(logs.items()))

    _logs = get_metrics_result

    # ----- evaluate / predict -----

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False):
        """Loss and metrics on the data with ``training=False``: a float, a list or a dict.

        The data is as :meth:`fit` takes it. The list's order is Keras's: ``loss``, then each
        ``<output>_loss``, then the compiled metrics.

        Example:
            >>> model.evaluate(x, y, verbose=0)                              # doctest: +SKIP
            [0.31, 0.9]
        """
        self._assert_compiled("evaluate")
        check_batch_size(batch_size)
        data = self._adapter(x, y, sample_weight, None, batch_size, steps, False, "evaluate")
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=data.steps)
        logs = self._test_loop(data, callbacks)
        return logs if return_dict else self._flatten(logs)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None) -> Any:
        """The model's outputs for x (``training=False``, no graph) as floatx ndarrays.

        One output gives one array; several give a list (or dict) of arrays, as Keras.

        Example:
            >>> model.predict(x, verbose=0).shape                            # doctest: +SKIP
            (99, 1)
        """
        check_batch_size(batch_size)
        data = get_data_adapter(
            x, None, None, None, batch_size, steps, False,
            prepare=lambda x, *_: (self._prepare_x(x, "predict", finite=False), None, None),
            convert=lambda batch, i: self._convert_batch(batch, i, "predict"), where="predict")
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=data.steps)
        outputs = []
        callbacks.on_predict_begin()
        with no_grad():
            for step, batch in data.epoch():
                xb = batch[0] if type(batch) is tuple else batch
                callbacks.on_predict_batch_begin(step)
                outputs.append(numpy_outputs(self(to_tensors(xb), training=False)))
                callbacks.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callbacks.on_predict_end()
        return concatenate_outputs(outputs)

    def predict_on_batch(self, x: Any) -> Any:
        """``predict`` for one batch, without callbacks."""
        x = self._prepare_x(x, "predict_on_batch", finite=False)
        with no_grad():
            return numpy_outputs(self(to_tensors(x), training=False))

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, return_dict: bool = False):
        """One :meth:`train_step` on exactly this batch; returns its (pre-update) loss and metrics.

        Example:
            >>> model.train_on_batch(x[:32], y[:32])                         # doctest: +SKIP
        """
        self._assert_compiled("train_on_batch")
        data = self._prepare(x, y, sample_weight, class_weight, "train_on_batch")
        self.reset_metrics()
        logs = flat_logs(self._epoch_logs(self.train_step(data)))
        return logs if return_dict else self._flatten(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False):
        """Loss and metrics on one batch with ``training=False``."""
        self._assert_compiled("test_on_batch")
        data = self._prepare(x, y, sample_weight, None, "test_on_batch")
        logs = self._test_loop(ArrayAdapter(data, num_rows(data[0]), False, None),
                               CallbackList())  # one batch, no callbacks
        return logs if return_dict else self._flatten(logs)

    def _test_loop(self, data: DataAdapter, callbacks: CallbackList) -> dict:
        data.reset()
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = None
        for step, batch in data.epoch():
            callbacks.on_test_batch_begin(step)
            logs = self.test_step(batch)
            if callbacks.wants("on_test_batch_end"):
                callbacks.on_test_batch_end(step, self._step_logs(logs))
        logs = flat_logs(self._epoch_logs(logs))
        callbacks.on_test_end(logs)
        return logs
