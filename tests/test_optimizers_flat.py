"""Flat parameter buffers (optimizers/flat.py): bit for bit the per-variable updates.

The same variables (a 5-7-4-3 network's kernels and biases) and the same gradient sequence go
through two copies of an optimizer, one with flat buffers and one with ``flat_buffers = False``;
after every step the weights, and at the end every optimizer variable, must be ``np.array_equal``.
Our own arithmetic decides both sides (the same ``update_step`` on one variable's view or on a
segment of the buffers: all of them, or pieces of 6 numbers; the same numpy ufuncs on contiguous
data, Ftrl's elementwise ``np.power`` included), so equality is exact, float32 and float64, over
gradients from 1e-8 to 1e3 with exact zeros. Each case also asserts which path ran
(``opt.update_path``), and the fallbacks are checked one by one.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from conftest import gradient_sequence

import tinygrad_es as tk
from tinygrad_es import config
from tinygrad_es import optimizers as ours
from tinygrad_es.optimizers import flat as flat_module
from tinygrad_es.optimizers import schedules
from tinygrad_es.tensor import Tensor

SHAPES = {"dense/kernel": (5, 7), "dense/bias": (7,), "dense_1/kernel": (7, 4),
          "dense_1/bias": (4,), "dense_2/kernel": (4, 3), "dense_2/bias": (3,)}
N_STEPS = 12

# (id, class name, kwargs); a learning_rate "exp" is an ExponentialDecay, "callable" a lambda.
CASES = [
    ("sgd", "SGD", {}),
    ("sgd-momentum", "SGD", dict(momentum=0.9)),
    ("sgd-nesterov-wd", "SGD", dict(momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("adam", "Adam", {}),
    ("adam-amsgrad-clipvalue", "Adam", dict(amsgrad=True, clipvalue=0.5, learning_rate=0.01)),
    ("adam-schedule-ema", "Adam", dict(learning_rate="exp", use_ema=True,
                                       ema_overwrite_frequency=4)),
    ("adamw", "AdamW", dict(weight_decay=0.1)),
    ("adamw-amsgrad-clipnorm", "AdamW", dict(amsgrad=True, clipnorm=1.0)),
    ("adamax", "Adamax", dict(global_clipnorm=2.0)),
    ("nadam", "Nadam", {}),
    ("nadam-lossscale", "Nadam", dict(loss_scale_factor=8.0, learning_rate="exp")),
    ("adagrad", "Adagrad", dict(initial_accumulator_value=0.5, weight_decay=0.01)),
    ("rmsprop", "RMSprop", {}),
    ("rmsprop-centered-momentum", "RMSprop", dict(centered=True, momentum=0.5, rho=0.8)),
    ("rmsprop-momentum", "RMSprop", dict(momentum=0.9, learning_rate="callable")),
    ("adadelta", "Adadelta", dict(learning_rate=1.0)),
    ("lion", "Lion", dict(weight_decay=0.5)),
    ("ftrl", "Ftrl", {}),
    ("ftrl-all", "Ftrl", dict(learning_rate=0.05, learning_rate_power=-0.3,
                              l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                              l2_shrinkage_regularization_strength=0.01, beta=0.1)),
]


def _make(class_name: str, kwargs: dict, flat: bool):
    kwargs = dict(kwargs)
    if kwargs.get("learning_rate") == "exp":
        kwargs["learning_rate"] = schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.7)
    elif kwargs.get("learning_rate") == "callable":
        kwargs["learning_rate"] = lambda: 0.003
    opt = getattr(ours, class_name)(**kwargs)
    opt.flat_buffers = flat
    return opt


def _variables(dtypes) -> list[Tensor]:
    rng = np.random.default_rng(1)
    return [Tensor(rng.normal(size=shape), dtype=dtype, requires_grad=True, name=name)
            for (name, shape), dtype in zip(SHAPES.items(), dtypes)]


def run_both(make, dtypes, none_every=None, exclude=None, path=lambda opt: opt.update_path):
    """Train a flat and a per-variable copy on the same gradients; assert equality every step.
    Returns both optimizers and the paths the flat one took."""
    runs = []
    for flat in (True, False):
        opt, ws = make(flat), _variables(dtypes)
        if exclude:
            opt.exclude_from_weight_decay(var_names=exclude)
        runs.append((opt, ws))
    (o_flat, w_flat), (o_per, w_per) = runs
    paths = []
    for k, step in enumerate(gradient_sequence(SHAPES, N_STEPS)):
        grads = [g.astype(d) for g, d in zip(step, dtypes)]
        if none_every and k % none_every == none_every - 1:
            grads[1] = None
        with pytest.warns(UserWarning) if grads[1] is None else contextlib.nullcontext():
            o_flat.apply(grads, w_flat)
            o_per.apply([None if g is None else g.copy() for g in grads], w_per)
        paths.append(path(o_flat))
        assert path(o_per) == "per_variable"
        for a, b in zip(w_flat, w_per):
            assert a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data), (k, a.name)
    assert len(o_flat.variables) == len(o_per.variables)
    for a, b in zip(o_flat.variables, o_per.variables):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    if o_flat.use_ema:
        o_flat.finalize_variable_values(w_flat)
        o_per.finalize_variable_values(w_per)
        assert all(np.array_equal(a.data, b.data) for a, b in zip(w_flat, w_per))
    return o_flat, w_flat, paths


@pytest.fixture(params=[None, 6], ids=["segments-default", "segments-of-6"])
def segment_size(request, monkeypatch):
    """The default packs all these variables into one segment; 6 cuts every kernel and some
    biases into pieces and packs the small ones: both ways of slicing must give the same bits."""
    if request.param is not None:
        monkeypatch.setattr(flat_module, "SEGMENT_SIZE", request.param)
    return request.param


# ----- every optimizer: flat equals per variable, bit for bit -----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case_id, class_name, kwargs", CASES, ids=[c[0] for c in CASES])
def test_flat_equals_per_variable(case_id, class_name, kwargs, dtype, segment_size):
    config.set_floatx(dtype)
    opt, ws, paths = run_both(lambda flat: _make(class_name, kwargs, flat), [dtype] * len(SHAPES))
    assert paths == ["flat"] * N_STEPS
    pieces = [seg.piece is not None for seg in opt._flat.segments]
    assert (any(pieces) and not all(pieces)) if segment_size else pieces == [False]
    assert opt._flat.grads == {}   # no whole gradient buffer unless a captured step asks
    buffer = ws[0].data.base
    assert buffer is not None and buffer.ndim == 1 and buffer.size == sum(w.size for w in ws)
    assert all(w.data.base is buffer for w in ws)
    for w in ws:   # the state: per-variable views of one buffer per slot name
        for slot in opt.slots(w).values():
            assert slot.base is not None and slot.base.size == buffer.size
            assert not np.shares_memory(slot, buffer)


@pytest.mark.parametrize("class_name, kwargs", [
    ("Adam", dict(amsgrad=True)), ("Nadam", {}), ("SGD", dict(momentum=0.9, nesterov=True)),
    ("RMSprop", dict(centered=True)), ("Ftrl", dict(beta=0.1)), ("Lion", {})])
def test_mixed_dtypes_one_buffer_per_dtype(class_name, kwargs, segment_size):
    dtypes = ["float32", "float64", "float64", "float32", "float32", "float64"]
    opt, ws, paths = run_both(lambda flat: _make(class_name, kwargs, flat), dtypes)
    assert paths == ["flat"] * N_STEPS
    assert [d.name for d in opt._flat.dtypes] == ["float32", "float64"]
    for w, dtype in zip(ws, dtypes):
        assert w.data.dtype == dtype and w.data.base is opt._flat.weights[np.dtype(dtype)]


# ----- fallbacks: per variable where it must be, the same bits either way -----

@pytest.mark.parametrize("class_name, kwargs", [
    ("Adam", dict(use_ema=True)), ("Nadam", {}), ("RMSprop", dict(centered=True, momentum=0.5)),
    ("Ftrl", dict(l1_regularization_strength=0.01)), ("SGD", dict(momentum=0.9, clipnorm=1.0))])
def test_none_gradient_steps_run_per_variable(class_name, kwargs, segment_size):
    _, _, paths = run_both(lambda flat: _make(class_name, kwargs, flat),
                           ["float32"] * len(SHAPES), none_every=3)
    assert paths == ["flat", "flat", "per_variable"] * (N_STEPS // 3)


def test_exclude_from_weight_decay_decays_per_view():
    _, _, paths = run_both(lambda flat: _make("AdamW", dict(weight_decay=0.2), flat),
                           ["float64"] * len(SHAPES), exclude=["bias"])
    assert paths == ["flat"] * N_STEPS


@pytest.mark.parametrize("class_name, kwargs", [
    ("SGD", dict(gradient_accumulation_steps=2)), ("Lamb", {}), ("Adafactor", {}),
    ("ScheduleFreeAdamW", {}), ("Muon", {})])
def test_optimizers_that_are_not_elementwise_stay_per_variable(class_name, kwargs):
    opt = getattr(ours, class_name)(**kwargs)
    ws = _variables(["float32"] * len(SHAPES))
    for _ in range(2):   # with gradient_accumulation_steps=2, the second call updates
        opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
    assert opt._flat is None and opt.update_path == "per_variable"
    assert all(w.data.base is None for w in ws)
    with pytest.raises(ValueError, match="no flat buffers"):
        opt.flat_gradients()


def test_a_subclass_with_its_own_update_step_is_not_trusted():
    class HalfSGD(ours.SGD):
        def update_step(self, grad, variable, learning_rate):
            variable.data -= 0.5 * learning_rate * grad

    opt, ws = HalfSGD(0.1), _variables(["float32"] * 2)
    opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
    assert opt._flat is None and opt.update_path == "per_variable"


class ClassicMomentum(ours.Optimizer):
    """base.py's example of a custom optimizer, declaring its update elementwise."""

    _elementwise_update = True

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = self.add_optimizer_variables(variables, "velocity")

    def update_step(self, grad, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v *= 0.9
        v += learning_rate * grad
        variable.data -= v


def test_a_custom_optimizer_can_opt_in(segment_size):
    _, _, paths = run_both(_make_custom, ["float64"] * len(SHAPES))
    assert paths == ["flat"] * N_STEPS


def _make_custom(flat):
    opt = ClassicMomentum(0.01)
    opt.flat_buffers = flat
    return opt


def test_a_subset_of_the_variables_runs_per_variable():
    opt, ws = ours.Adam(0.1), _variables(["float32"] * len(SHAPES))
    opt.build(ws)
    opt.apply([np.ones(w.shape, np.float32) for w in ws[:2]], ws[:2])
    assert opt.update_path == "per_variable"
    opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
    assert opt.update_path == "flat"


def test_rebinding_data_is_adopted_by_the_next_update():
    runs = []
    for flat in (True, False):
        opt, ws = _make("SGD", dict(momentum=0.9), flat), _variables(["float32"] * len(SHAPES))
        opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
        ws[0].data = np.full(ws[0].shape, 3.0, np.float32)   # the user rebinds a weight
        opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
        runs.append((opt, ws))
    (o_flat, w_flat), (_, w_per) = runs
    assert o_flat.update_path == "flat" and w_flat[0].data.base is o_flat._flat.weights[
        np.dtype("float32")]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(w_flat, w_per))


def test_rebinding_to_another_dtype_falls_back_for_good():
    opt, ws = ours.SGD(0.1), _variables(["float32"] * 2)
    opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
    ws[1].data = ws[1].data.astype(np.float64)
    opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
    assert opt.update_path == "per_variable" and ws[1].data.dtype == np.float64


def test_switched_off_on_the_class():
    try:
        ours.Optimizer.flat_buffers = False
        opt, ws = ours.Adam(), _variables(["float32"] * 2)
        opt.apply([np.ones(w.shape, np.float32) for w in ws], ws)
        assert opt._flat is None and opt.update_path == "per_variable"
    finally:
        ours.Optimizer.flat_buffers = True


# ----- wrappers: their inner optimizers go flat, with the same bits -----

@pytest.mark.parametrize("wrapper", ["LossScaleOptimizer", "MultiOptimizer"])
def test_wrappers_inner_optimizers(wrapper):
    def make(flat):
        inner = [_make("Adam", {}, flat), _make("SGD", dict(momentum=0.5), flat)]
        if wrapper == "LossScaleOptimizer":
            return ours.LossScaleOptimizer(inner[0], initial_scale=256.0)
        return ours.MultiOptimizer(ours.OptimizerMap(inner[1], {"dense_1/.*": inner[0]}))

    def path(opt):
        inner = [opt.inner_optimizer] if wrapper == "LossScaleOptimizer" else opt.optimizers
        return "/".join(sorted({o.update_path for o in inner}))

    _, _, paths = run_both(make, ["float32"] * len(SHAPES), path=path)
    assert paths == ["flat"] * N_STEPS


# ----- the interface for a captured step, and saving -----

@pytest.mark.parametrize("clipnorm", [None, 1.0])
def test_apply_flat_equals_apply(clipnorm, segment_size):
    steps = gradient_sequence(SHAPES, 5)
    o_ref, w_ref = ours.Adam(0.01, clipnorm=clipnorm), _variables(["float32"] * len(SHAPES))
    o_cap, w_cap = ours.Adam(0.01, clipnorm=clipnorm), _variables(["float32"] * len(SHAPES))
    o_cap.build(w_cap)
    data = [w.data for w in w_cap]
    assert all(w.data.base is None for w in w_cap)   # build alone leaves the model alone
    flat = o_cap.flat_gradients("float32")
    assert all(w.data.base is o_cap._flat.weights[np.dtype("float32")] for w in w_cap)
    assert all(np.array_equal(w.data, d) for w, d in zip(w_cap, data))
    data = [w.data for w in w_cap]                   # these arrays stay the weights
    assert flat.variables == w_cap and flat.array.shape == (sum(w.size for w in w_cap),)
    assert all(seg.grad is None or np.shares_memory(seg.grad, flat.array)   # gathered there
               for seg in o_cap._flat.segments)
    for step in steps:
        o_ref.apply([g.astype(np.float32) for g in step], w_ref)
        for view, g in zip(flat.views, step):
            view[...] = g                        # what a captured backward writes
        o_cap.apply_flat()
        assert o_cap.update_path == "flat"
        assert all(np.array_equal(a.data, b.data) for a, b in zip(w_ref, w_cap))
    assert all(np.array_equal(a, b) for a, b in zip(o_ref.variables, o_cap.variables))
    assert int(o_cap.iterations) == len(steps)
    assert all(w.data is d for w, d in zip(w_cap, data))


def test_flat_gradients_needs_the_dtype_when_there_are_several():
    opt, ws = ours.SGD(), _variables(["float32", "float64"])
    opt.build(ws)
    with pytest.raises(ValueError, match="pass the dtype"):
        opt.flat_gradients()
    with pytest.raises(ValueError, match="no flat buffer of dtype float16"):
        opt.flat_gradients("float16")
    with pytest.raises(TypeError, match="dtype must be a numpy dtype.*'flaot32'"):
        opt.flat_gradients("flaot32")
    assert opt.flat_gradients("float64").views[0] is opt._flat.grad_views[1]


def test_state_round_trips_into_the_flat_buffers():
    steps = gradient_sequence(SHAPES, 8)
    o_a, w_a = ours.Nadam(0.01), _variables(["float64"] * len(SHAPES))
    for step in steps[:4]:
        o_a.apply(step, w_a)
    o_b, w_b = ours.Nadam(0.01), _variables(["float64"] * len(SHAPES))
    o_b.set_state(o_a.get_state(), w_b)
    for a, b in zip(w_a, w_b):
        b.data[...] = a.data
    for step in steps[4:]:
        o_a.apply(step, w_a)
        o_b.apply(step, w_b)
    assert o_b.update_path == "flat"
    assert all(np.array_equal(a.data, b.data) for a, b in zip(w_a, w_b))
    assert all(np.array_equal(a, b) for a, b in zip(o_a.variables, o_b.variables))


def test_fit_uses_flat_buffers_and_gives_the_same_model():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    weights, models = None, []
    for flat in (True, False):
        tk.utils.set_random_seed(0)
        model = tk.Sequential([tk.Input((4,)), tk.layers.Dense(8, activation="selu"),
                               tk.layers.Dense(3, activation="softmax")])
        weights = weights or model.get_weights()
        model.set_weights(weights)
        opt = ours.Adam(0.01)
        opt.flat_buffers = flat
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        models.append(model)
    assert models[0].optimizer.update_path == "flat"
    assert models[1].optimizer.update_path == "per_variable"
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        assert np.array_equal(a, b)
