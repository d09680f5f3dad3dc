"""The captured training step gives the eager step's numbers bit for bit (issue 13).

Each test trains two copies of one model on the same data, one eagerly (``jit_compile=False``)
and one captured (the default ``"auto"``, or ``True``), and compares every logged value, every
weight and the optimizer's state (``optimizer.variables``) with ``np.array_equal``: our own
arithmetic decides here, the same numpy calls in the same order, so no tolerance is allowed.
Models the whitelist leaves out must fall back to eager (``_jit_reason``) and still be equal.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_es as tg
from tinygrad_es import Tensor, config, jit
from tinygrad_es import layers as L
from tinygrad_es import optimizers
from tinygrad_es.jit_fit import fit_reason
from tinygrad_es.models.sequential import Sequential

DTYPES = ["float32", "float64"]
OPTIMIZERS = [name for name in optimizers.__all__
              if isinstance(getattr(optimizers, name), type)
              and issubclass(getattr(optimizers, name), optimizers.Optimizer)
              and name not in ("Optimizer", "LossScaleOptimizer", "MultiOptimizer")]


def data(n=37, n_in=4, n_out=3, seed=0, classes=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in))
    if classes:
        return x, rng.integers(0, n_out, n)
    return x, rng.standard_normal((n, n_out))


def make(layers_fn, seed=1):
    """A fresh model with weights drawn from ``seed`` (so two calls give the same model)."""
    model = Sequential(layers_fn())
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape) for w in model.get_weights()])
    return model


def dense_net():
    return [L.Input((4,)), L.Dense(5, activation="tanh"), L.Dense(3)]


def twin_fits(layers_fn, compile_kw, fit_kw, x, y, jit_compile="auto"):
    """(eager model, captured model, eager history, captured history)."""
    out = []
    for jc in (False, jit_compile):
        tg.random.seed(0)
        model = make(layers_fn)
        kw = dict(compile_kw)
        if callable(kw.get("optimizer")):
            kw["optimizer"] = kw["optimizer"]()
        model.compile(**kw, jit_compile=jc)
        history = model.fit(x, y, verbose=0, **{"epochs": 4, "batch_size": 8, **fit_kw})
        out.append((model, history))
    (eager, he), (captured, hc) = out
    return eager, captured, he.history, hc.history


def assert_identical(eager, captured, he, hc):
    assert list(he) == list(hc)
    for key in he:
        assert he[key] == hc[key], key  # Python floats: exactly equal
    for a, b in zip(eager.get_weights(), captured.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    ve, vc = eager.optimizer.variables, captured.optimizer.variables
    assert len(ve) == len(vc)
    for a, b in zip(ve, vc):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def replayed(model):
    """How many batch signatures of the model were captured and verified (replayed after)."""
    return sum(e.verified for e in model._jit_step.entries.values())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_every_optimizer_bit_identical(opt, dtype):
    config.set_floatx(dtype)
    x, y = data()
    cls = getattr(optimizers, opt)
    eager, captured, he, hc = twin_fits(dense_net, {"optimizer": cls, "loss": "mse"}, {}, x, y)
    assert_identical(eager, captured, he, hc)
    assert captured._jit_reason is None
    assert replayed(captured) == 2  # batches of 8 and the partial last batch of 5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("wrapper", ["LossScaleOptimizer", "MultiOptimizer"])
def test_wrapper_optimizers_bit_identical(wrapper, dtype):
    """The wrappers override scale_loss (LossScaleOptimizer's dynamic scale changes between
    steps): both train eagerly, with the reason, and give the eager numbers."""
    config.set_floatx(dtype)
    x, y = data()
    if wrapper == "LossScaleOptimizer":
        make_opt = lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.01))  # noqa: E731
    else:
        make_opt = lambda: optimizers.MultiOptimizer(optimizers.OptimizerMap(  # noqa: E731
            optimizers.SGD(0.1), {".*bias.*": optimizers.Adam(0.01)}))
    eager, captured, he, hc = twin_fits(dense_net, {"optimizer": make_opt, "loss": "mse"}, {},
                                        x, y)
    assert_identical(eager, captured, he, hc)
    assert captured._jit_reason.startswith(f"optimizer {wrapper} ") and replayed(captured) == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["class_weight", "sample_weight", "validation_split",
                                  "regularizers", "metrics", "sparse_labels", "sorted_labels",
                                  "shuffle"])
def test_fit_options_bit_identical(case, dtype):
    config.set_floatx(dtype)
    x, y = data(classes=case in ("class_weight", "sparse_labels", "sorted_labels"))
    if case == "sorted_labels":  # the first two batches have the same labels (iris unshuffled)
        y = np.sort(y)
    compile_kw = {"optimizer": lambda: optimizers.Adam(0.01), "loss": "mse"}
    fit_kw: dict = {"shuffle": case == "shuffle"}
    layers_fn = dense_net
    if case in ("class_weight", "sparse_labels", "sorted_labels"):
        compile_kw["loss"] = "sparse_categorical_crossentropy"
        layers_fn = lambda: [L.Input((4,)), L.Dense(5, activation="relu"),  # noqa: E731
                             L.Dense(3, activation="softmax")]
    if case == "class_weight":
        fit_kw["class_weight"] = {0: 1.0, 1: 2.0, 2: 0.5}
    if case == "sample_weight":
        fit_kw["sample_weight"] = np.random.default_rng(3).uniform(0, 2, len(x))
    if case == "validation_split":
        fit_kw["validation_split"] = 0.25
    if case == "regularizers":
        layers_fn = lambda: [L.Input((4,)), L.Dense(5, activation="sigmoid",  # noqa: E731
                                                   kernel_regularizer="l2",
                                                   bias_regularizer="l1"),
                             L.Dense(3, kernel_regularizer="l1_l2")]
    if case in ("metrics", "sparse_labels"):
        compile_kw["metrics"] = (["accuracy", "sparse_categorical_crossentropy"]
                                 if case == "sparse_labels" else ["mae", "mse"])
    eager, captured, he, hc = twin_fits(layers_fn, compile_kw, fit_kw, x, y)
    assert_identical(eager, captured, he, hc)
    assert captured._jit_reason is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["conv2d", "conv1d", "activations", "reshape"])
def test_whitelisted_layers_bit_identical(kind, dtype):
    config.set_floatx(dtype)
    rng = np.random.default_rng(0)
    if kind == "conv2d":
        x = rng.standard_normal((10, 6, 6, 2))
        layers_fn = lambda: [L.Input((6, 6, 2)), L.Conv2D(3, 3, activation="relu"),  # noqa
                             L.MaxPooling2D(), L.Flatten(), L.Dense(2)]
    elif kind == "conv1d":
        x = rng.standard_normal((10, 8, 2))
        layers_fn = lambda: [L.Input((8, 2)), L.Conv1D(3, 3), L.AveragePooling1D(2),  # noqa
                             L.GlobalMaxPooling1D(), L.Dense(2)]
    elif kind == "activations":
        x = rng.standard_normal((10, 4))
        layers_fn = lambda: [L.Input((4,)), L.Dense(6), L.LeakyReLU(), L.Dense(6),  # noqa
                             L.ELU(), L.Dense(6, activation="gelu"), L.PReLU(),
                             L.Dense(2), L.Activation("softmax")]
    else:
        x = rng.standard_normal((10, 2, 3))
        layers_fn = lambda: [L.Input((2, 3)), L.Reshape((6,)),  # noqa: E731
                             L.Dense(4, activation="selu"), L.Dense(2, activation="sigmoid")]
    y = rng.uniform(0, 1, (10, 2))
    compile_kw = {"optimizer": lambda: optimizers.RMSprop(0.01), "loss": "mse"}
    eager, captured, he, hc = twin_fits(layers_fn, compile_kw, {"batch_size": 4}, x, y)
    assert_identical(eager, captured, he, hc)
    assert captured._jit_reason is None and replayed(captured) == 2


def test_crossentropy_from_logits_and_logged_metrics_bit_identical():
    x, y = data(classes=True)
    y = np.eye(3)[y]
    layers_fn = lambda: [L.Input((4,)), L.Dense(8, activation="selu"),  # noqa: E731
                         L.Dense(3, activation="softmax")]
    compile_kw = {"optimizer": "sgd", "loss": "categorical_crossentropy",
                  "metrics": ["accuracy", "categorical_crossentropy"]}
    eager, captured, he, hc = twin_fits(layers_fn, compile_kw, {"batch_size": 16}, x, y)
    assert_identical(eager, captured, he, hc)
    assert replayed(captured) == 2


def test_not_whitelisted_falls_back_and_stays_equal():
    """Dropout draws its mask outside the engine: the model trains eagerly, with the reason."""
    x, y = data()
    layers_fn = lambda: [L.Input((4,)), L.Dense(5), L.Dropout(0.3), L.Dense(3)]  # noqa: E731
    eager, captured, he, hc = twin_fits(layers_fn, {"optimizer": "adam", "loss": "mse"}, {},
                                        x, y)
    assert_identical(eager, captured, he, hc)
    assert captured._jit_reason == "layer Dropout is not known to be capturable"
    assert replayed(captured) == 0


def test_forced_capture_of_a_random_layer_is_refused():
    """jit_compile=True skips the whitelist; Dropout's mask is an array of the batch's length
    made outside the engine, which the capture refuses: the model goes on eagerly, still equal."""
    x, y = data()
    layers_fn = lambda: [L.Input((4,)), L.Dense(5), L.Dropout(0.3), L.Dense(3)]  # noqa: E731
    eager, captured, he, hc = twin_fits(layers_fn, {"optimizer": "adam", "loss": "mse"}, {},
                                        x, y, jit_compile=True)
    assert_identical(eager, captured, he, hc)
    assert replayed(captured) == 0
    assert captured._jit_reason == ("an op reads an array computed from the inputs outside the "
                                    "engine")


def test_reasons_for_eager():
    model = make(dense_net)
    model.compile(optimizer=optimizers.LossScaleOptimizer(optimizers.SGD()), loss="mse")
    assert fit_reason(model) == "optimizer LossScaleOptimizer is not known to be capturable"
    model.compile(optimizer="sgd", loss=lambda y, p: (p - y).abs().mean())
    model._resolve_compiled(np.zeros((2, 3), np.float32), "fit")
    assert fit_reason(model) == "the loss is not one of tinygrad_es.losses"

    class Custom(Sequential):
        def train_step(self, data):
            return super().train_step(data)

    custom = Custom(dense_net())
    custom.compile(optimizer="sgd", loss="mse")
    assert fit_reason(custom) == "train_step is overridden"


def test_compile_jit_compile_argument():
    model = make(dense_net)
    model.compile(optimizer="sgd", loss="mse")
    assert model.jit_compile == "auto" and model._jit_step is not None
    model.compile(optimizer="sgd", loss="mse", jit_compile=False)
    assert model.jit_compile is False and model._jit_step is None
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    assert model.jit_compile is False and model._jit_step is None
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(optimizer="sgd", loss="mse", jit_compile="yes")


def test_train_on_batch_and_callbacks_see_the_same_logs():
    x, y = data()
    seen = {False: [], "auto": []}
    for jc in seen:
        tg.random.seed(0)  # the same shuffles
        model = make(dense_net)
        model.compile(optimizer="adam", loss="mse", metrics=["mae"], jit_compile=jc)
        cb = tg.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs, jc=jc: seen[jc].append(dict(logs)))
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[cb])
        seen[jc].append(model.train_on_batch(x[:8], y[:8], return_dict=True))
        seen[jc].append(model.train_on_batch(x[:8], y[:8], return_dict=True))
    assert seen[False] == seen["auto"]


# ----- tinygrad_es.jit on a hand-written loop -----

def hand_loop(use_jit, steps=6, dtype="float64", wrap=Tensor.from_numpy):
    config.set_floatx(dtype)
    model = make(dense_net)
    opt = optimizers.Adam(0.05)
    weights = model.trainable_weights

    def step(x, y):
        for w in weights:
            w.grad = None
        pred = model(x, training=True)
        loss = (pred - wrap(y)).square().mean()
        loss.backward()
        opt.apply([w.grad for w in weights], weights)
        return loss, pred

    run = jit(step) if use_jit else step
    x, y = (a.astype(dtype) for a in data(n=8))  # floatx already: the model keeps the array
    losses = []
    for i in range(steps):
        rows = np.random.default_rng(i).permutation(8)
        loss, pred = run(x[rows], y[rows])
        losses.append((loss.data.copy(), pred.data.copy()))
    return losses, model.get_weights(), opt.variables, run


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("wrap", [Tensor.from_numpy, Tensor], ids=["from_numpy", "copy"])
def test_jit_hand_loop_bit_identical(dtype, wrap):
    """``Tensor(y)`` copies y: the capture sees a cast of an input and redoes it each call."""
    le, we, oe, _ = hand_loop(False, dtype=dtype, wrap=wrap)
    lj, wj, oj, run = hand_loop(True, dtype=dtype, wrap=wrap)
    assert run.jit_reason is None and all(e.verified for e in run.entries.values())
    for (a, p), (b, q) in zip(le, lj):
        assert np.array_equal(a, b) and np.array_equal(p, q)
    for a, b in zip(we + oe, wj + oj):
        assert np.array_equal(a, b)


def test_jit_recaptures_on_a_new_shape_and_reset():
    model = make(dense_net)
    opt = optimizers.SGD(0.1)
    weights = model.trainable_weights

    @jit
    def step(x, y):
        for w in weights:
            w.grad = None
        loss = (model(x) - Tensor.from_numpy(y)).square().mean()
        loss.backward()
        opt.apply([w.grad for w in weights], weights)
        return loss

    x, y = data(n=8)
    for n in (8, 8, 8, 5, 5, 5):
        step(x[:n].astype(np.float32), y[:n].astype(np.float32))
    assert len(step.entries) == 2 and all(e.verified for e in step.entries.values())
    step.reset()
    assert step.entries == {}


def test_jit_in_place_numpy_update_runs_eagerly_with_reason():
    """An update on w.data outside optimizer.apply cannot be replayed: fn stays eager."""
    def loop(use_jit):
        model = make(dense_net)
        weights = model.trainable_weights

        def step(x, y):
            for w in weights:
                w.grad = None
            loss = (model(x) - Tensor.from_numpy(y)).square().mean()
            loss.backward()
            for w in weights:
                w.data -= 0.1 * w.grad
            return loss

        run = jit(step) if use_jit else step
        x, y = data(n=8)
        out = [run(x.astype(np.float32), y.astype(np.float32)).data for _ in range(4)]
        return out, model.get_weights(), run

    le, we, _ = loop(False)
    lj, wj, run = loop(True)
    assert "outside optimizer.apply" in run.jit_reason
    assert all(np.array_equal(a, b) for a, b in zip(le + we, lj + wj))


def test_jit_value_dependent_branch_is_caught():
    """A Python branch on a value: the second call takes the other branch, so the
    verification disagrees and fn runs eagerly from then on."""
    def loop(use_jit):
        w = Tensor(np.array([1.0, -1.0]), requires_grad=True)

        def step(x):
            w.grad = None
            z = (w * Tensor.from_numpy(x)).sum()
            loss = z * 2.0 if z.item() > 0 else z * 3.0
            loss.backward()
            return loss

        run = jit(step) if use_jit else step
        grads = []
        for x in ([2.0, 1.0], [1.0, 2.0], [1.0, 2.0]):
            run(np.array(x))
            grads.append(w.grad.copy())
        return grads, run

    eager, _ = loop(False)
    captured, run = loop(True)
    assert run.jit_reason is not None and "differed" in run.jit_reason
    assert all(np.array_equal(a, b) for a, b in zip(eager, captured))


def test_setting_jit_compile_as_in_keras():
    """``model.jit_compile = False`` (Keras's settable property) switches capture off."""
    x, y = data()
    model = make(dense_net)
    model.compile(optimizer="sgd", loss="mse")
    model.jit_compile = False
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert model._jit_step is None
    model.jit_compile = True
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert replayed(model) == 2
    with pytest.raises(ValueError, match="jit_compile"):
        model.jit_compile = 1


def test_freezing_a_layer_between_fits_recaptures():
    """``layer.trainable = False`` between two fits: the capture is redone for the new weights,
    and the numbers stay the eager ones."""
    x, y = data()
    runs = []
    for jc in (False, "auto"):
        model = make(dense_net)
        model.compile(optimizer="adam", loss="mse", jit_compile=jc)
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        model.layers[0].trainable = False
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        runs.append((model, history.history))
    (eager, he), (captured, hc) = runs
    assert_identical(eager, captured, he, hc)
    assert replayed(captured) == 2
