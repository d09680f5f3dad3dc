"""fit's fast replay (jit_codegen.py, ``Optimizer.bind``) gives the numbers of ``apply`` and eager.

Two fast paths, each against the path it replaces, with ``np.array_equal`` (our own arithmetic on
both sides: the same update_steps on the same segments, the same numpy calls in the same order):

* ``opt.bind(variables)()`` with the gradients written into ``flat_gradients`` views, against
  ``opt.apply(grads, variables)`` on a twin, for every elementwise optimizer and both segment
  layouts; options that need the general path (clipping, decay, EMA, loss scale) set after the
  bind must still give ``apply``'s numbers;
* the generated step of a fit (``entry.fast``) against an eager fit: weights, optimizer state,
  logs, and ``w.grad`` after the last batch.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import gradient_sequence

import tinygrad_es as tg
from tinygrad_es import config
from tinygrad_es import layers as L
from tinygrad_es import optimizers as ours
from tinygrad_es.jit_codegen import compile_step, trace
from tinygrad_es.models.sequential import Sequential
from tinygrad_es.optimizers import flat as flat_module
from tinygrad_es.tensor import Tensor

SHAPES = {"k0": (5, 7), "b0": (7,), "k1": (7, 3), "b1": (3,)}
ELEMENTWISE = [("SGD", {}), ("SGD", dict(momentum=0.9, nesterov=True)), ("Adam", {}),
               ("Adam", dict(amsgrad=True)), ("AdamW", {}), ("Adamax", {}), ("Nadam", {}),
               ("Adagrad", {}), ("RMSprop", dict(centered=True, momentum=0.5)),
               ("Adadelta", dict(learning_rate=1.0)), ("Lion", {}), ("Ftrl", {})]


def _variables(dtype):
    rng = np.random.default_rng(1)
    return [Tensor(rng.normal(size=s), dtype=dtype, requires_grad=True) for s in SHAPES.values()]


def _assert_same(wa, wb, oa, ob):
    for a, b in zip(wa, wb):
        assert a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data)
    assert len(oa.variables) == len(ob.variables)
    for a, b in zip(oa.variables, ob.variables):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert int(oa.iterations) == int(ob.iterations)


@pytest.mark.parametrize("segment", [None, 6], ids=["one-segment", "segments-of-6"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", ELEMENTWISE, ids=[f"{n}-{i}" for i, (n, _) in
                                                          enumerate(ELEMENTWISE)])
def test_bound_update_equals_apply(name, kwargs, dtype, segment, monkeypatch):
    if segment:
        monkeypatch.setattr(flat_module, "SEGMENT_SIZE", segment)
    config.set_floatx(dtype)
    fast, ref = getattr(ours, name)(**kwargs), getattr(ours, name)(**kwargs)
    wf, wr = _variables(dtype), _variables(dtype)
    fast.build(wf)
    update, views = fast.bind(wf), fast.flat_gradients(dtype).views
    assert update is not None
    for step in gradient_sequence(SHAPES, 6):
        grads = [g.astype(dtype) for g in step]
        for view, g in zip(views, grads):
            view[...] = g
        update()
        ref.apply(grads, wr)
        assert fast.update_path == "flat"
        _assert_same(wf, wr, fast, ref)


@pytest.mark.parametrize("option", [dict(clipnorm=0.5), dict(global_clipnorm=1.0),
                                    dict(clipvalue=0.1), dict(weight_decay=0.1),
                                    dict(loss_scale_factor=4.0), dict(use_ema=True)],
                         ids=lambda o: next(iter(o)))
def test_bound_update_after_setting_an_option_still_equals_apply(option):
    """Set after the bind (use_ema, whose state is made at build, from the start)."""
    early = option if "use_ema" in option else {}
    fast, ref = ours.Adam(0.01, **early), ours.Adam(0.01, **early)
    wf, wr = _variables("float32"), _variables("float32")
    fast.build(wf)
    update, views = fast.bind(wf), fast.flat_gradients().views
    for k, step in enumerate(gradient_sequence(SHAPES, 4)):
        if k == 2 and not early:   # set on both, after the bind
            for opt in (fast, ref):
                for key, value in option.items():
                    setattr(opt, key, value)
        grads = [g.astype("float32") for g in step]
        for view, g in zip(views, grads):
            view[...] = g
        update()
        ref.apply(grads, wr)
        _assert_same(wf, wr, fast, ref)


def test_bind_refuses_other_variables_and_follows_a_rebound_weight():
    opt, ws = ours.SGD(0.5), _variables("float32")
    opt.build(ws)
    assert opt.bind(ws[:2]) is None and opt.bind(ws[::-1]) is None
    no_flat = ours.SGD(0.5)
    no_flat.flat_buffers = False
    no_flat.build(_variables("float32"))
    assert no_flat.bind(no_flat._variables) is None
    update, views = opt.bind(ws), opt.flat_gradients().views
    ws[0].data = np.full(ws[0].shape, 3.0, np.float32)   # rebound: copied into the buffer
    for v in views:
        v[...] = 1.0
    update()
    assert np.array_equal(ws[0].data, np.full(ws[0].shape, 2.5, np.float32))
    assert ws[0].data.base is ws[1].data.base


# ----- the generated step in fit -----

def _twin_fits(layers_fn, compile_kw, x, y, **fit_kw):
    out = []
    for jc in (False, "auto"):
        tg.random.seed(0)
        model = Sequential(layers_fn())
        rng = np.random.default_rng(1)
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in model.get_weights()])
        kw = dict(compile_kw)
        kw["optimizer"] = kw["optimizer"]()
        model.compile(**kw, jit_compile=jc)
        h = model.fit(x, y, verbose=0, **{"epochs": 3, "batch_size": 8, **fit_kw})
        out.append((model, h.history))
    return out


NETS = {
    "tanh-mse-sgd": (lambda: [L.Input((4,)), L.Dense(5, activation="tanh"), L.Dense(3)],
                     dict(optimizer=lambda: ours.SGD(0.1, momentum=0.9), loss="mse")),
    "selu-softmax-adam-metrics": (
        lambda: [L.Input((4,)), L.Dense(6, activation="selu"), L.Dense(3, activation="softmax")],
        dict(optimizer=lambda: ours.Adam(0.01), loss="categorical_crossentropy",
             metrics=["accuracy", "categorical_crossentropy"])),
    "prelu-sigmoid-mae-nadam": (
        lambda: [L.Input((4,)), L.Dense(5), L.PReLU(), L.Dense(3, activation="sigmoid")],
        dict(optimizer=lambda: ours.Nadam(0.01), loss="mae")),
    "conv1d-mse-rmsprop": (   # a kernel gradient that is the op's own array (no out=)
        lambda: [L.Input((4,)), L.Reshape((4, 1)), L.Conv1D(6, 2), L.Flatten(), L.Dense(3)],
        dict(optimizer=lambda: ours.RMSprop(0.01), loss="mse")),
}


@pytest.mark.parametrize("segment", [None, 6], ids=["one-segment", "segments-of-6"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net", list(NETS))
def test_generated_step_in_fit_bit_identical(net, dtype, segment, monkeypatch):
    """Segments of 6 cut the kernels into pieces: their gradients are used where they are."""
    if segment:
        monkeypatch.setattr(flat_module, "SEGMENT_SIZE", segment)
    config.set_floatx(dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 4))
    y = np.eye(3)[rng.integers(0, 3, 37)] if "softmax" in net else rng.uniform(0, 1, (37, 3))
    layers_fn, compile_kw = NETS[net]
    (eager, he), (captured, hc) = _twin_fits(layers_fn, compile_kw, x, y,
                                             sample_weight=rng.uniform(0.5, 2, 37))
    entries = list(captured._jit_step.entries.values())
    assert len(entries) == 2 and all(e.fast is not None for e in entries)  # 8 rows and 5 rows
    assert he == hc
    for a, b in zip(eager.get_weights(), captured.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    for a, b in zip(eager.optimizer.variables, captured.optimizer.variables):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(eager.trainable_weights, captured.trainable_weights):   # the last batch's
        assert np.array_equal(a.grad, b.grad)
    flat = captured.optimizer._flat
    assert not flat.grads   # no whole gradient buffer: the packed segments' own buffers
    if segment:   # a big kernel's gradient is its own array, not copied into a flat buffer
        kernel = captured.trainable_weights[0]
        assert kernel.grad is not None and not any(np.shares_memory(kernel.grad, seg.grad)
                                                   for seg in flat.segments if seg.grad is not None)
    # each Dense's backward writes its packed gradients where the optimizer reads them; the
    # others are copied there (all packed: PReLU's alpha, the conv's kernel and bias), a big
    # kernel's stays its own array, read in pieces where it is
    n_dense = sum(isinstance(layer, L.Dense) for layer in captured.layers)
    copied = {"prelu": 1, "conv1d": 2}.get(net.split("-")[0], 0)
    for entry in entries:
        source = entry.fast.source
        assert source.count("out=O") == n_dense
        if segment is None:
            assert source.count("copyto(T") == copied and "r = g" not in source
        else:
            assert "r = g" in source

@pytest.mark.parametrize("loss", ["mse", "sparse_categorical_crossentropy"])
def test_the_step_reads_the_batch_as_given_unless_a_cast_is_made_from_it(loss):
    """x is read as given (no copy into the program's buffer), as the eager step reads it; sparse
    labels are cast from y's buffer (``y.astype(int64)``), so y is still copied in there."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 4)).astype(np.float32)
    y = (rng.integers(0, 3, 37) if loss.startswith("sparse") else rng.standard_normal((37, 3))
         ).astype(np.float32)
    (eager, he), (captured, hc) = _twin_fits(
        lambda: [L.Input((4,)), L.Dense(5, activation="relu"), L.Dense(3)],
        dict(optimizer=lambda: ours.Adam(0.01), loss=loss), x, y,
        sample_weight=rng.uniform(0.5, 2, 37))
    assert he == hc
    for a, b in zip(eager.get_weights(), captured.get_weights()):
        assert np.array_equal(a, b)
    for entry in captured._jit_step.entries.values():
        source = entry.fast.source
        assert "copyto(B0" not in source and "v0 = x0" in source
        assert ("copyto(B1" in source) == loss.startswith("sparse")


@pytest.mark.parametrize("option", [dict(clipnorm=0.5), dict(global_clipnorm=1.0),
                                    dict(clipvalue=0.1), dict(weight_decay=0.1)],
                         ids=lambda o: next(iter(o)))
def test_generated_step_after_setting_an_option_equals_eager(option, monkeypatch):
    """Set once the generated step is verified: its bound update then takes the general path,
    on each gradient where the step left it (a big kernel's: its own array)."""
    monkeypatch.setattr(flat_module, "SEGMENT_SIZE", 6)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 3))
    models = []
    for jc in (False, "auto"):
        model = Sequential(NETS["tanh-mse-sgd"][0]())
        init = np.random.default_rng(1)
        model.set_weights([init.uniform(-0.5, 0.5, w.shape) for w in model.get_weights()])
        model.compile(optimizer=ours.SGD(0.1, momentum=0.9), loss="mse", jit_compile=jc)
        model.fit(x, y, batch_size=8, shuffle=False, verbose=0)   # capture, verify, replays
        for key, value in option.items():
            setattr(model.optimizer, key, value)
        model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
        models.append(model)
    eager, captured = models
    assert all(e.fast is not None for e in captured._jit_step.entries.values())
    for a, b in zip(eager.get_weights(), captured.get_weights()):
        assert np.array_equal(a, b)


def test_captured_fit_holds_one_step_at_a_time():
    """tracemalloc over a fit whose weights outweigh its activations: the weights, the
    momentum, and at the verification the eager step's gradients beside one run's (the
    capture, the verification's runs and the replays each hold one step's arrays at a time,
    and no whole flat gradient buffer is made). Before: 7.5 models' worth."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 600)), rng.standard_normal((32, 600))
    models = []
    for _ in range(2):   # the first one makes the lazy imports
        model = Sequential([L.Input((600,)), L.Dense(600, activation="relu"), L.Dense(600)])
        model.compile(optimizer=ours.SGD(0.01, momentum=0.9), loss="mse")
        model.build((None, 600))
        models.append(model)
    models[0].fit(x, y, batch_size=8, shuffle=False, verbose=0)
    tracemalloc.start()
    try:
        models[1].fit(x, y, batch_size=8, shuffle=False, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert all(e.fast is not None for e in models[1]._jit_step.entries.values())
    size = sum(w.data.nbytes for w in models[1].weights)   # big kernels: cut into pieces
    assert peak < 5 * size, peak / size


def test_no_fast_step_without_flat_buffers_and_equal_anyway():
    def no_flat():
        opt = ours.Adam(0.01)
        opt.flat_buffers = False
        return opt
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 4)), rng.standard_normal((20, 3))
    (eager, he), (captured, hc) = _twin_fits(NETS["tanh-mse-sgd"][0],
                                             dict(optimizer=no_flat, loss="mse"), x, y)
    entries = list(captured._jit_step.entries.values())
    assert all(e.verified and e.fast is None for e in entries)
    assert he == hc and all(np.array_equal(a, b) for a, b in
                            zip(eager.get_weights(), captured.get_weights()))


def test_compile_step_returns_none_when_a_leaf_gets_no_gradient():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    model = Sequential(NETS["tanh-mse-sgd"][0]())
    model.compile(optimizer=ours.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    entry = next(iter(model._jit_step.entries.values()))
    program = entry.program
    tr = trace(program, (x, y))
    targets = [np.empty(leaf.data.shape, leaf.data.dtype) for leaf in program.leaves]
    assert compile_step(program, tr, [entry.refs[0]], targets) is not None
    tr.info.pop(program.leaf_plan[0][0])   # as if the first leaf had received nothing
    assert compile_step(program, tr, [entry.refs[0]], targets) is None


def test_compile_step_without_targets_keeps_each_gradient_in_a_buffer_of_its_own():
    """A None target (bind(gather=False) gives one for a big weight): a gradient the step must
    copy goes into a buffer the step made, the same one at every call."""
    rng = np.random.default_rng(0)   # (a step takes its program's dtypes: fit's are floatx)
    x, y = (rng.standard_normal(s).astype(np.float32) for s in ((8, 4), (8, 3)))
    model = Sequential(NETS["tanh-mse-sgd"][0]())
    model.compile(optimizer=ours.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    entry = next(iter(model._jit_step.entries.values()))
    program = entry.program
    _, expected = program.run((x, y))
    step = compile_step(program, trace(program, (x, y)), [entry.refs[0]],
                        [None] * len(program.leaves))
    step(x, y)
    grads = [leaf.grad for leaf in program.leaves]
    assert all(np.array_equal(g, e) for g, e in zip(grads, expected))
    step(x, y)
    assert all(leaf.grad is g for leaf, g in zip(program.leaves, grads))
