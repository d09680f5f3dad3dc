"""The data side of ``Trainer``: each run's data checked, converted and turned into a
``DataAdapter``, and the compiled loss and metrics resolved from the first targets (before the
first update); plus the helpers that shape logs and predictions.

``TrainerData`` is a mixin of ``Trainer`` (``training.py``) with no state of its own: it reads
the compile state that ``Trainer.__init__`` declares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import losses as losses_module
from tinygrad_es.i18n import tr
from tinygrad_es.metrics.variable import pythonify
from tinygrad_es.models.compile_utils import CompileMetrics, per_output
from tinygrad_es.models.data_adapter import (ArrayAdapter, get_data_adapter,
                                             pack_x_y_sample_weight, train_validation_split)
from tinygrad_es.models.data_arrays import (as_floatx, check_cardinality, convert_all_targets,
                                            convert_inputs, is_structure, match_input_shape,
                                            num_rows)
from tinygrad_es.tensor import Tensor


class TrainerData:
    """How ``Trainer`` turns ``x``/``y``/``sample_weight`` into checked batches."""

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            # Keras's type and words, with the method named.
            raise ValueError(tr("You must call `compile()` before using the model. Received a "
                                "call to `{method}()` on a model that was not compiled: call "
                                "model.compile(optimizer=..., loss=...) first.", method=method))

    def _output_names(self) -> list | None:
        """None for one output; else the outputs' names (a dict output's keys, sorted)."""
        shape = getattr(self, "output_shape", None) if getattr(self, "built", False) else None
        if isinstance(shape, dict) or isinstance(getattr(self, "_outputs_struct", None), dict):
            # a functional model's dict of outputs: its keys, sorted (Keras flattens dicts so)
            return sorted(shape if isinstance(shape, dict) else self._outputs_struct)
        if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
            names = getattr(self, "output_names", None)
            return list(names) if names else [f"output_{i}" for i in range(len(shape))]
        return None

    def _adapter(self, x: Any, y: Any, sample_weight: Any, class_weight: dict | None,
                 batch_size: int | None, steps: int | None, shuffle: bool | str, where: str,
                 validation_split: float = 0.0) -> Any:
        """The data's adapter, its arrays checked and the compiled loss resolved from them; with
        ``validation_split``, ``(train adapter, validation arrays)``."""
        arg = {"validation_data": "fit"}.get(where, where)

        def prepare(x, y, sample_weight, class_weight):
            return self._prepare(x, y, sample_weight, class_weight, where)

        if validation_split:
            train, val = train_validation_split(prepare(x, y, sample_weight, class_weight),
                                                validation_split)
            if class_weight is not None:  # Keras splits first: class weights weigh training only
                val = val[:2] + (None,)
            adapter = get_data_adapter(*train, None, batch_size, steps, shuffle,
                                       prepare=lambda x, y, sw, _: (x, y, sw), convert=None,
                                       where=arg)
            self._resolve_compiled(train[1], where)
            self._resolve_compiled(val[1], where)
            return adapter, val
        adapter = get_data_adapter(x, y, sample_weight, class_weight, batch_size, steps, shuffle,
                                   prepare=prepare, where=arg,
                                   convert=lambda batch, i: self._convert_batch(batch, i, where))
        if isinstance(adapter, ArrayAdapter):
            self._resolve_compiled(adapter.arrays[1], where)  # before the first update
        return adapter

    def _convert_batch(self, batch: tuple, index: int, where: str) -> tuple:
        """One batch of a generator or dataset, checked as it comes (the error names it)."""
        x, y, sample_weight = batch
        try:
            if where == "predict":
                return (self._prepare_x(x, where, finite=False),)
            x, y, sample_weight = self._prepare(x, y, sample_weight, None, where)
            self._resolve_compiled(y, where)
        except (ValueError, TypeError) as err:
            raise type(err)(tr("{where}(): in batch {index} of the data: {err}", where=where,
                               index=index, err=err)) from None
        return pack_x_y_sample_weight(x, y, sample_weight)

    def _prepare_x(self, x: Any, where: str, finite: bool = True) -> Any:
        """x as checked floatx arrays; one array builds the model for its shape on first sight."""
        x = convert_inputs(x, where, finite)
        if is_structure(x):
            return x
        if not self.built:
            self.build((None,) + x.shape[1:])
        return match_input_shape(x, self.input_shape, self.layers, where)

    def _prepare(self, x: Any, y: Any, sample_weight: Any, class_weight: dict | None,
                 where: str) -> tuple:
        """(x, y, sample_weight) as floatx arrays, all checked (class_weight folded in).

        y may be None when the step does not need it (as in Keras): a model whose loss is all
        ``add_loss``, or a ``train_step`` / ``test_step`` of its own."""
        x = self._prepare_x(x, where)
        if y is None and class_weight is None and not _needs_targets(self, where):
            if sample_weight is not None:
                sample_weight = as_floatx(sample_weight, "sample_weight", where)
                check_cardinality({"x": x, "sample_weight": sample_weight})
            return x, None, sample_weight
        y, sample_weight = convert_all_targets(x, y, sample_weight, class_weight, where)
        return x, y, sample_weight

    def _resolve_compiled(self, y: Any, where: str) -> None:
        """What a run needs before its first step, from the targets and the built model's output
        shape: the compiled loss and metrics (resolved once per compile, as Keras on its first
        batch); and every time, the labels checked against the loss."""
        if y is None:   # (allowed only when nothing compiled reads it: _needs_targets)
            return
        n = num_rows(y)
        names = self._output_names()
        if names is not None:
            shapes = [(n,) + tuple(s[1:]) for s in per_output(self.output_shape, names)]
            targets = per_output(y, names)
            self._output_losses.build(targets, shapes)
            if self._compile_metrics is not None and not self._compile_metrics.built:
                self._compile_metrics.build(targets, shapes)
            return
        output_shape = (n,) + tuple(self.output_shape[1:])  # the predictions for y
        if self._loss_fn is None and self.loss is None:
            if _default_step(self, where):
                raise ValueError(tr("{where}() needs a loss: pass loss=... to model.compile()",
                                    where=where))
        elif self._loss_fn is None:
            self._loss_fn = losses_module.resolve_crossentropy(y, output_shape)
        if self._loss_fn is not None:
            losses_module.check_targets(self._loss_fn, y, output_shape)  # labels fit the loss
        if self._compile_metrics is not None and not self._compile_metrics.built:
            self._compile_metrics.build(y, output_shape)

    # ----- logs -----

    def _step_logs(self, logs: Any) -> dict:
        """What a step returned, as the callbacks get it (None: the running values)."""
        if logs is None:
            return self.get_metrics_result()
        return python_values(logs)

    def _epoch_logs(self, logs: Any) -> dict:
        """Keras's rule: the metrics' values, unless the last step returned other keys (a custom
        ``train_step``), then what it returned (a dict value stays nested: the callbacks put its
        entries in its place, as Keras's ``pythonify_logs``)."""
        metric_logs = self.get_metrics_result()
        if logs is None or set(logs) == set(metric_logs):
            return metric_logs
        return python_values(logs)

    def _flatten(self, logs: dict) -> float | list:
        """Keras's order: each metric of :attr:`metrics` by name (``compile_metrics`` by its
        metrics' names), then any other key sorted."""
        # NOTE: Keras looks the metrics up by metric.name, not by the logged key, so a metric in
        # both lists appears twice (its unweighted value), then "weighted_<name>" at the end;
        # with several outputs the metrics log as "<output>_<name>" and so come sorted, after
        # "loss" and the "<output>_loss" trackers.
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                names += [] if self._output_losses is not None else [m.name for m in metric.metrics]
            else:
                names.append(metric.name)
        values = [logs[k] for k in names if k in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values


def _needs_targets(model: Any, where: str) -> bool:
    """Whether the step that will run reads y: Trainer's own, with a compiled loss or metrics."""
    compiled = (model.loss is not None or model._loss_fn is not None
                or model._output_losses is not None or model._compile_metrics is not None)
    return _default_step(model, where) and compiled


def _default_step(model: Any, where: str) -> bool:
    """True when the step that will run is Trainer's own (which needs a compiled loss)."""
    step = "test_step" if where in ("evaluate", "test_on_batch", "validation_data") else "train_step"
    return getattr(type(model), step).__qualname__ == f"Trainer.{step}"


def python_values(logs: dict) -> dict:
    """A step's logs with Python floats for values (Tensors, metric variables, numpy scalars)."""
    out: dict = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out[key] = python_values(value)
            continue
        value = pythonify(value.data if isinstance(value, Tensor) else value)
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.item()
        out[key] = value
    return out


def flat_logs(logs: dict) -> dict:
    """Keras's ``pythonify_logs`` order: keys sorted, a dict value's entries in its place."""
    out: dict = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            out.update(flat_logs(value))
        else:
            out[key] = value
    return out


def numpy_outputs(y_pred: Any) -> Any:
    if isinstance(y_pred, Tensor):
        return y_pred.data
    if isinstance(y_pred, dict):
        return {k: v.data for k, v in y_pred.items()}
    return [v.data for v in y_pred]


def concatenate_outputs(outputs: list) -> Any:
    """The batches' outputs joined along rows, leaf by leaf (one batch: as it is)."""
    if len(outputs) == 1:
        return outputs[0]
    first = outputs[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(outputs)
    if isinstance(first, dict):
        return {k: np.concatenate([o[k] for o in outputs]) for k in first}
    return [np.concatenate([o[i] for o in outputs]) for i in range(len(first))]
