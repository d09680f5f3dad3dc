"""What ``compile`` resolves and saves: the loss tracker, the compiled metrics, the losses of a
model with several outputs, and the compile arguments as JSON.

Keras's ``trainers/compile_utils.py``: ``"accuracy"`` becomes the accuracy class the shapes call
for, a metric named twice gets ``weighted_``, a model with several outputs logs
``<output>_loss`` and ``<output>_<metric>``, and a Loss or Metric object in ``compile`` is saved
by its config so ``load_model`` compiles the model again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import losses as losses_module, metrics as metrics_module
from tinygrad_es.i18n import tr
from tinygrad_es.metrics.base import Mean
from tinygrad_es.metrics.variable import pythonify
from tinygrad_es.tensor import Tensor

# keyed by dtype, not its name: ``dtype.name`` costs ~1 us, and the tracker resets every epoch
_ROUND = {np.dtype("float32"): lambda v: float(np.float32(v)),
          np.dtype("float16"): lambda v: float(np.float16(v))}


class LossTracker(Mean):
    """Keras's loss tracker, ``Mean(name="loss")``: ``total += loss * n``, ``count += n``.

    Python floats rounded to floatx after each op give Keras's float32 result bit for bit (a
    double holds the exact product or sum of two float32s) at a third of numpy's cost.

    Example:
        >>> t = LossTracker("loss"); t.update_state(0.5, sample_weight=4)
        >>> t.update_state(Tensor(0.25), sample_weight=2); t.result()
        0.4166666567325592
    """

    def __init__(self, name: str = "loss", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self._round = _ROUND.get(self._dtype, float)
        self.total, self.count = 0.0, 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore
        """Add one batch's scalar loss, counted ``sample_weight`` times (default once)."""
        value = float(values.data) if isinstance(values, Tensor) else float(np.mean(values))
        rnd = self._round
        if sample_weight is None or isinstance(sample_weight, int):  # a count: exact in floatx
            n = 1.0 if sample_weight is None else float(sample_weight)
            self.count += n
        else:
            n = float(np.sum(sample_weight))
            self.count = rnd(self.count + n)
        self.total = rnd(self.total + rnd(value * n))

    def result(self) -> float:
        return self._round(self.total / self.count) if self.count else 0.0


class CompileMetrics(metrics_module.Metric):
    """The metrics of ``compile(metrics=..., weighted_metrics=...)`` as one Metric (Keras's
    ``compile_metrics``): ``update_state`` updates each, ``result()`` is the dict of their values.

    Args:
        ids: ``(metrics, weighted_metrics)`` as given to compile (lists, or per output).
        output_names: None for a model with one output, else the names of its outputs.
    """

    def __init__(self, ids: tuple, output_names: list | None = None):
        super().__init__(name="compile_metrics")
        self.ids, self.output_names = ids, output_names
        self.entries: list | None = None   # [(log name, Metric, weighted, output index)]

    @property
    def built(self) -> bool:
        return self.entries is not None

    @property
    def metrics(self) -> list:
        """The Metric objects, in compile order."""
        return [m for _, m, _, _ in self.entries or ()]

    def build(self, y: Any, output_shape: Any) -> None:
        """Resolve every identifier from the labels and the predictions' shapes (once)."""
        if self.output_names is None:
            self.entries = [(n, m, w, None) for n, m, w in resolve_metrics(self.ids, y, output_shape)]
            return
        names, entries = self.output_names, []
        plain, weighted = (per_output_arg(ids or None, names, arg) for ids, arg in
                           zip(self.ids, ("metrics", "weighted_metrics")))
        for i, name in enumerate(names):
            for log, metric, is_weighted in resolve_metrics(
                    (_as_list(plain[i]), _as_list(weighted[i])), y[i], output_shape[i]):
                entries.append((f"{name}_{log}", metric, is_weighted, i))
        self.entries = entries

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.entries is None:   # first called outside fit: resolve from this batch
            self.build(y_true, _shapes(y_pred))
        for _, metric, weighted, i in self.entries:
            if i is None:
                metric.update_state(y_true, y_pred, sample_weight if weighted else None)
            else:
                sw = sample_weight[i] if weighted and sample_weight is not None else None
                metric.update_state(y_true[i], y_pred[i], sw)

    def result(self) -> dict:  # type: ignore[override]
        # a Keras-style result() may return its variable: log the value, not the live object
        return {name: pythonify(metric.result()) for name, metric, _, _ in self.entries or ()}

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()


def _shapes(y_pred: Any) -> Any:
    if isinstance(y_pred, (list, tuple)):
        return [tuple(p.shape) for p in y_pred]
    return tuple(y_pred.shape)


def resolve_metrics(ids: tuple[list, list], y: np.ndarray, output_shape: tuple) -> list:
    """[(log name, Metric, weighted)]; a name used by both lists gets ``weighted_`` (as Keras)."""
    entries, seen = [], set()
    for weighted, group in ((False, ids[0]), (True, ids[1])):
        for identifier in group:
            if identifier is None:
                continue
            metric = metrics_module.get(identifier, y_true=y, y_pred=output_shape)
            name = metric.name
            if name in seen:
                name = f"weighted_{name}" if weighted else name
                k, base = 1, name
                while name in seen:
                    name, k = f"{base}_{k}", k + 1
            seen.add(name)
            entries.append((name, metric, weighted))
    return entries


# ----- several outputs -----

def per_output_arg(value: Any, names: list, arg: str) -> list:
    """A compile argument spread over the outputs: one entry per output name, in order.

    A list goes by position, a dict by output name; for ``loss``, a single loss is every output's.

    Example:
        >>> per_output_arg({"b": "mae"}, ["a", "b"], "metrics")
        [None, 'mae']
    """
    if value is None:
        return [None] * len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(tr("Expected keys {names} in {arg} dict, but found "
                                "{arg}.keys()={keys}", names=names, arg=arg, keys=list(value)))
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) == len(names):
            return list(value)
        if arg == "loss":
            raise ValueError(tr("`loss` has {n} entries but the model has {k} outputs {names}: "
                                "pass one loss per output (or None for an output without one), "
                                "or a dict {{output name: loss}}", n=len(value), k=len(names),
                                names=names))
        raise ValueError(tr("Invalid `{arg}`. `{arg}` should contain metrics objects and either "
                            "be a dict or a list matching the output names of the functional "
                            "model {names} or match the output structure of the model: "
                            "{structure}.\nReceived: {arg}={value!r}", arg=arg, names=names,
                            structure=["X"] * len(names), value=value))
    if arg == "loss":
        return [value] * len(names)
    raise ValueError(tr("Expected `{name}` argument to be a list or tuple. Received "
                        "instead: {name}={value!r} of type {type}", name=arg, value=value,
                        type=type(value).__name__))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def per_output(value: Any, names: list) -> list:
    """Labels, predictions or sample weights as one entry per output (dicts by name)."""
    if value is None:
        return [None] * len(names)
    if isinstance(value, dict):
        return [value[name] for name in names]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] * len(names)   # one sample_weight array weighs every output


class OutputLosses:
    """The compiled loss of a model with several outputs: ``sum(weight_i * loss_i)``.

    Keras's ``CompileLoss``: the outputs are summed in order (Python's ``sum``, left to right),
    each term already multiplied by its weight; with more than one loss, each output's loss
    (before its weight, as Keras) is also logged as ``<output>_loss``, a mean over the batches.

    Args:
        loss: one loss for every output, a list (one per output, None for none) or a dict.
        loss_weights: None, a float, a list or a dict, as ``loss``.
        output_names: the outputs' names, in the model's order.
    """

    def __init__(self, loss: Any, loss_weights: Any, output_names: list):
        self.names = list(output_names)
        self.ids = per_output_arg(loss, self.names, "loss")
        self.fns: list = [None if i is None or i in ("crossentropy", "ce")
                          else losses_module.get(i) for i in self.ids]
        active = sum(i is not None for i in self.ids)
        if loss_weights is None or isinstance(loss_weights, (int, float)):
            weights = [loss_weights] * len(self.names)
        else:
            if len(loss_weights) != active:
                raise ValueError(tr("`loss_weights` must match the number of losses, got {n} "
                                    "losses and {k} weights.", n=active, k=len(loss_weights)))
            weights = per_output_arg(loss_weights, self.names, "loss_weights")
        self.weights = [None if w is None else float(w) for w in weights]
        self.trackers = [LossTracker(f"{name}_loss") if i is not None and active > 1 else None
                         for name, i in zip(self.names, self.ids)]

    @property
    def metrics(self) -> list:
        return [t for t in self.trackers if t is not None]

    def build(self, y: list, output_shapes: list) -> None:
        """Resolve ``"crossentropy"`` per output, check every output's labels against its loss."""
        for i, identifier in enumerate(self.ids):
            if identifier is not None and self.fns[i] is None:
                self.fns[i] = losses_module.resolve_crossentropy(y[i], output_shapes[i])
            if self.fns[i] is not None:
                losses_module.check_targets(self.fns[i], y[i], output_shapes[i])

    def __call__(self, y: list, y_pred: list, sample_weight: list) -> Tensor | None:
        total = None
        for fn, weight, tracker, yt, yp, sw in zip(self.fns, self.weights, self.trackers, y,
                                                   y_pred, sample_weight):
            if fn is None:
                continue
            value = fn(yt, yp, sw)
            if tracker is not None:   # Keras logs each output's loss *unweighted*
                # NOTE: Keras counts the batch as `y_pred.shape[0]`, which inside its compiled
                # step is None (the batch dimension is not static), so `<output>_loss` is the
                # plain mean of the batch losses, not weighted by batch size as `loss` is.
                tracker.update_state(value)
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        return total


def serialize_compile_arg(value: Any) -> Any:
    """A compile argument as JSON: names as they are, a Loss or Metric by its config."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [serialize_compile_arg(v) for v in value]
    if isinstance(value, dict):
        return {k: serialize_compile_arg(v) for k, v in value.items()}
    if isinstance(value, losses_module.Loss):
        return {"kind": "loss", "value": losses_module.serialize(value)}
    if isinstance(value, metrics_module.Metric):
        return {"kind": "metric", "value": metrics_module.serialize(value)}
    raise TypeError(f"cannot save the compile argument {value!r}: use a string name, a Loss or "
                    "a Metric object")


def deserialize_compile_arg(value: Any) -> Any:
    """The inverse of :func:`serialize_compile_arg`."""
    if isinstance(value, list):
        return [deserialize_compile_arg(v) for v in value]
    if isinstance(value, dict) and value.get("kind") == "loss":
        return losses_module.deserialize(value["value"])
    if isinstance(value, dict) and value.get("kind") == "metric":
        return metrics_module.deserialize(value["value"])
    return value
