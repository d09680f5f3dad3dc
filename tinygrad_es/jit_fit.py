"""fit's captured training step: when it is safe (a whitelist), and capture / verify / replay.

``compile(jit_compile="auto")`` (the default) gives the model a :class:`StepJit`; ``train_step``
hands it each batch. Per batch signature (the shapes and dtypes of x, y and sample_weight, so a
partial last batch gets its own program) the first batch is captured while it runs eagerly, the
second runs both ways and must agree bit for bit, and every later one is replayed. Under "auto" a
model is captured only when every piece is known to be capturable (:func:`fit_reason`);
``jit_compile=True`` skips that list (the verification still guards), ``False`` stays eager.

When the optimizer keeps its weights in flat buffers (optimizers/flat.py), the verification also
builds the **fast replay**: the program as generated straight-line code (jit_codegen.py) that
writes each gradient where the optimizer reads it, and ``optimizer.bind(weights)``, the update
over those buffers with its checks done once. It must agree with the eager step on the
verification batch too, or the generic replay is used. The verification runs the eager step,
the program and the generated step one after the other, each compared and dropped before the
next: a step's memory is about that of an eager step. The update still runs inside fit's
``defer_sigint`` (read from the training module at each step), so Ctrl-C never tears it.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from tinygrad_es.jit_codegen import compile_step, trace
from tinygrad_es.jit_program import _NotCapturable, build, recording, same
from tinygrad_es.layers import base as layers_base
from tinygrad_es.tensor import Tensor

__all__ = ["StepJit", "fit_reason"]

# Layers whose call is a fixed sequence of engine ops for a given input shape.
# NOTE: Dropout is not here: it draws its mask with numpy outside the engine, so a replay would
# reuse the captured mask; a model with Dropout trains eagerly.
CAPTURABLE_LAYERS = (
    "InputLayer", "Dense", "Activation", "Sigmoid", "Tanh", "SELU", "ReLU", "LeakyReLU", "ELU",
    "Softmax", "PReLU", "Flatten", "Reshape", "ZeroPadding2D", "UpSampling2D", "Conv1D",
    "Conv2D", "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
    "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
)
_MAX_PROGRAMS = 8  # signatures kept per model (a full batch and a partial last one, usually)


def fit_reason(model: Any) -> str | None:
    """Why ``model``'s train_step may not be captured under ``jit_compile="auto"``, or None.

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Input((2,)), layers.Dense(1), layers.Dropout(0.5)])
        >>> model.compile(optimizer="sgd", loss="mse"); fit_reason(model)
        'layer Dropout is not known to be capturable'
    """
    from tinygrad_es import layers
    from tinygrad_es.models.sequential import Sequential
    from tinygrad_es.models.training import Trainer
    from tinygrad_es.optimizers.base import Optimizer

    cls = type(model)
    for name in ("train_step", "_forward_backward", "compute_loss"):
        if getattr(cls, name) is not getattr(Trainer, name):
            return f"{name} is overridden"
    if cls.__call__ is not Sequential.__call__:
        return "the model's __call__ is overridden"
    known = {getattr(layers, n) for n in CAPTURABLE_LAYERS if hasattr(layers, n)}
    for layer in model.layers:
        if type(layer) not in known:
            return f"layer {type(layer).__name__} is not known to be capturable"
        if layer.activity_regularizer is not None:   # (an add_loss at each call)
            return f"layer {layer.name} has an activity regularizer"
        activation = getattr(layer, "activation", None)
        if activation is not None and not _ours(activation, "activations"):
            return f"layer {layer.name} has a custom activation"
        for _, reg, _ in layer._penalized:
            if not _ours(reg, "regularizers"):
                return f"layer {layer.name} has a custom regularizer"
    opt = model.optimizer
    if not _ours(opt, "optimizers") or type(opt).__name__ == "LossScaleOptimizer":
        return f"optimizer {type(opt).__name__} is not known to be capturable"
    if type(opt).scale_loss is not Optimizer.scale_loss:
        return f"optimizer {type(opt).__name__} scales the loss by a changing factor"
    if model._output_losses is not None:
        return "a model with several outputs is not captured yet"
    loss = model._loss_fn
    if not _ours(loss, "losses") or not _ours(getattr(loss, "fn", loss), "losses"):
        return "the loss is not one of tinygrad_es.losses"
    if getattr(loss, "ignore_class", None) is not None:  # a mask computed from the labels
        return "the loss has an ignore_class"
    for metric in _metrics(model):
        if not _ours(metric, "metrics") or not _ours(getattr(metric, "_fn", metric), "metrics",
                                                     "losses"):
            return f"metric {metric.name} is not one of tinygrad_es.metrics"
    return None


def _metrics(model: Any) -> list:
    """The compiled Metric objects the step updates (none when no metrics were compiled)."""
    compiled = model._compile_metrics
    return [] if compiled is None else [entry[1] for entry in compiled.entries or ()]


def _ours(obj: Any, *packages: str) -> bool:
    """``obj`` (a function or an instance) comes from one of tinygrad_es's ``packages``."""
    module = obj.__module__ if callable(obj) and hasattr(obj, "__code__") else \
        type(obj).__module__
    return any(module == f"tinygrad_es.{p}" or module.startswith(f"tinygrad_es.{p}.")
               for p in packages)


class StepJit:
    """A model's captured train steps, one program per batch signature.

    ``step(x, y, sample_weight)`` runs the whole step (forward, loss, backward, update, metrics)
    and returns True, or returns False when the caller should run it eagerly.
    """

    def __init__(self, model: Any, force: bool = False):
        self.model, self.force = model, force
        self.entries: dict = {}  # signature -> _Entry

    def step(self, x: Any, y: Any, sample_weight: Any) -> bool:
        model = self.model
        if not all(a is None or type(a) is np.ndarray for a in (x, y, sample_weight)):
            return False  # several inputs or outputs (lists, dicts): eager
        key = (x.shape, x.dtype, None if y is None else (y.shape, y.dtype),
               None if sample_weight is None else (sample_weight.shape, sample_weight.dtype),
               id(model._loss_fn), id(model.optimizer), model._loss_weights,
               layers_base.losses_possible())
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= _MAX_PROGRAMS:
                return False
            reason = None if self.force else fit_reason(model)
            model._jit_reason = reason
            if reason is not None:
                self.entries[key] = _Entry(reason)
                return False
            entry = _Entry(None)
            entry.capture(model, x, y, sample_weight)  # an error: no entry, capture again
            self.entries[key] = entry
            return True
        if entry.program is None:
            return False
        if entry.generation != layers_base.generation:   # (a `trainable` set, a layer added...)
            weights = model.trainable_weights
            if len(weights) != len(entry.weights) or any(
                    a is not b for a, b in zip(weights, entry.weights)):
                del self.entries[key]  # they changed: this batch eager, the next captures again
                return False
            entry.generation = layers_base.generation
        if entry.verified:
            if entry.fast is not None and model.optimizer._flat is entry.flat:
                return entry.replay_fast(model, x, y, sample_weight)
            return entry.replay(model, x, y, sample_weight)
        return entry.verify(model, x, y, sample_weight)


class _Entry:
    """One signature's program, where the outputs live in it, and whether it was verified."""

    def __init__(self, reason: str | None):
        self.reason = reason
        self.program: Any = None
        self.verified = False
        self.weights: list = []
        self.generation = -1  # layers_base.generation when ``weights`` were last seen current
        self.unreached: list = []
        self.refs: tuple = ()  # (loss, y_pred, logits or None) as op indices or leaves
        # the generated step (jit_codegen.py) and the optimizer's bound update over its flat
        # buffers (their FlatStorage: a rebuilt optimizer drops back to replay)
        self.fast: Any = None
        self.update: Any = None
        self.flat: Any = None
        self.guard: Any = None

    def capture(self, model: Any, x: Any, y: Any, sample_weight: Any) -> bool:
        # the capture runs on private copies: the generic replay copies each new batch into
        # them (the generated step reads a batch as given where nothing views its buffer)
        bx, by, bsw = (None if a is None else a.copy() for a in (x, y, sample_weight))
        y_pred, loss, weights = self._record(model, bx, by, bsw)
        model._apply_update(weights)
        model._update_compiled_metrics(loss, x, y, y_pred, sample_weight)
        return True

    def _record(self, model: Any, bx: Any, by: Any, bsw: Any) -> tuple:
        """The eager step on the private copies, recorded and built into the program. Its
        outputs come back cut from the graph: the graph and the tape are gone before the
        update (the first one makes the optimizer's buffers)."""
        with recording(snapshots=False) as tape:   # (every update goes through _apply_update)
            y_pred, loss, weights = model._forward_backward(bx, by, bsw)
        logits = y_pred.logits
        self.refs = (tape.ref(loss), tape.ref(y_pred),
                     None if logits is None else tape.ref(logits))
        keep = self.refs if model._compile_metrics is not None else self.refs[:1]  # what metrics read
        try:
            self.program = build(tape, [b for b in (bx, by, bsw) if b is not None],
                                 known=model.weights, keep=[r for r in keep if r is not None])
        except _NotCapturable as err:
            self.reason = model._jit_reason = str(err)
        if self.program is not None:
            self.weights = list(weights)
            # weights the backward does not reach keep .grad None, as after the eager step
            self.unreached = [w for w in weights if all(w is not leaf for leaf in
                                                        self.program.leaves)]
        return _detached(y_pred), _detached(loss), weights

    def verify(self, model: Any, x: Any, y: Any, sample_weight: Any) -> bool:
        # one step at a time, so that no two steps' intermediates are alive together: the eager
        # step first (its graph dropped, its outputs and gradients kept: the update reads them),
        # then the program and the generated step, each compared with it and dropped
        y_pred, loss, weights = model._forward_backward(x, y, sample_weight)
        loss, y_pred = _detached(loss), _detached(y_pred)
        expected = [loss.data]
        if model._compile_metrics is not None:
            logits = y_pred.logits
            expected += [y_pred.data, None if logits is None else logits.data]
        program = self.program
        grads = [leaf.grad for leaf in program.leaves]
        inputs = _present(x, y, sample_weight)
        values, run_grads = program.run(inputs)
        agree = _agree([None if ref is None else program.value(values, ref)
                        for ref in self.refs[:len(expected)]] + run_grads, expected + grads)
        del values, run_grads
        if agree:
            self.verified = True
            self.fast = self._compile_fast(model, inputs, expected, grads)  # (None: generic)
            for leaf, g in zip(program.leaves, grads):   # the generated step set its own
                leaf.grad = g
        else:
            self.program = None
            self.reason = model._jit_reason = (
                "a replay of the captured step differed from the eager step (it depends on "
                "values computed outside the engine)")
        model._apply_update(weights)
        model._update_compiled_metrics(loss, x, y, y_pred, sample_weight)
        return True

    def _compile_fast(self, model: Any, inputs: tuple, expected: list, grads: list) -> Any:
        """The generated step for this program (jit_codegen.py), if on ``inputs`` it gives the
        ``expected`` outputs and the eager ``grads`` (in ``program.leaves`` order); None when
        it differs, or the optimizer has no flat buffers for exactly these weights (or a
        weight gets no gradient, or ``_apply_update`` is overridden)."""
        from tinygrad_es.models.training import Trainer

        opt, program = model.optimizer, self.program
        if (type(model)._apply_update is not Trainer._apply_update or self.unreached
                or not hasattr(opt, "bind")):
            return None
        decisions = trace(program, inputs)
        update = opt.bind(self.weights, gather=False)   # (no whole gradient buffer)
        if update is None:
            return None
        views = opt._flat.packed_grad_views()
        where = {id(w): k for k, w in enumerate(self.weights)}
        if any(id(leaf) not in where for leaf in program.leaves):
            return None
        targets = [views[where[id(leaf)]] for leaf in program.leaves]
        outputs = (list(self.refs) if model._compile_metrics is not None
                   else [self.refs[0], None, None])
        pieces = (update.segment_grads,
                  {k: update.pieces[where[id(leaf)]] for k, leaf in enumerate(program.leaves)
                   if where[id(leaf)] in update.pieces})
        step = compile_step(program, decisions, outputs, targets, pieces)
        if step is None:
            return None
        values = step(*inputs)
        if not _agree(values[:len(expected)] + [leaf.grad for leaf in program.leaves],
                      expected + grads):
            return None
        self.update, self.flat = update, opt._flat
        self.guard = sys.modules[Trainer.__module__]   # its defer_sigint, read at each step
        return step

    def replay_fast(self, model: Any, x: Any, y: Any, sample_weight: Any) -> bool:
        """The generated step, the bound update under the SIGINT guard (an update is never
        torn), the loss tracker and metrics: what ``replay`` does, without its bookkeeping."""
        loss, y_pred, logits = self.fast(x, y) if sample_weight is None else \
            self.fast(x, y, sample_weight)
        with self.guard.defer_sigint():            # fit's own guard: Ctrl-C waits for the update
            self.update()
        loss = Tensor.from_numpy(loss)
        if y_pred is not None:
            y_pred = Tensor.from_numpy(y_pred)
            if logits is not None:
                y_pred = y_pred.with_logits(Tensor.from_numpy(logits))
        model._update_compiled_metrics(loss, x, y, y_pred, sample_weight)
        return True

    def replay(self, model: Any, x: Any, y: Any, sample_weight: Any) -> bool:
        program = self.program
        values, grads = program.run(_present(x, y, sample_weight))
        for w in self.unreached:
            w.grad = None
        for leaf, g in zip(program.leaves, grads):
            leaf.grad = g
        model._apply_update(self.weights)
        loss_ref, pred_ref, logits_ref = self.refs
        loss = Tensor.from_numpy(program.value(values, loss_ref))
        y_pred = None
        if model._compile_metrics is not None:  # the metrics read y_pred (and its logits, if it has them)
            y_pred = Tensor.from_numpy(program.value(values, pred_ref))
            if logits_ref is not None:
                y_pred = y_pred.with_logits(Tensor.from_numpy(program.value(values, logits_ref)))
        model._update_compiled_metrics(loss, x, y, y_pred, sample_weight)
        return True


def _present(*arrays: Any) -> tuple:
    return tuple([a for a in arrays if a is not None])


def _detached(t: Tensor) -> Tensor:
    """``t`` (and its logits) cut from the graph, whose values and gradients can then go."""
    out = t.detach()
    return out if t.logits is None else out.with_logits(t.logits.detach())


def _agree(got: list, expected: list) -> bool:
    return all(same(a, b) for a, b in zip(got, expected))
