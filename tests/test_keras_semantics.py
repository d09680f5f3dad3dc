"""Keras semantics of issue 8, section 3, each checked against real Keras in the same test.

Metrics from logits through fit/evaluate, custom layers written the Keras way, the optimizer's
learning rate and step count as Keras code uses them, Keras's error types, NaN targets with
TerminateOnNaN, clear_session and the automatic names, and activations that are not ours.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx, max_abs_diff, ulp_distance

import tinygrad_es
from tinygrad_es import callbacks as C
from tinygrad_es import layers as L
from tinygrad_es import losses as our_losses
from tinygrad_es import metrics as our_metrics
from tinygrad_es import optimizers as O
from tinygrad_es.models.sequential import Sequential
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import clear_session

DTYPES = ["float32", "float64"]


def _same_model(keras, units, activation, weights, n_in):
    """A one-Dense model in each library with the same weights (floatx of the caller)."""
    km = keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(units, activation=activation)])
    om = Sequential([L.Input((n_in,)), L.Dense(units, activation=activation)])
    km.set_weights(weights)
    om.set_weights(weights)
    return km, om


# ----- 1. metrics computed from the logits of the output activation -----

def _saturated(dtype):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (12, 3)).astype(dtype)
    kernel = np.array([[40.0, -35.0, 30.0], [-30.0, 45.0, -20.0], [25.0, -20.0, 50.0]], dtype)
    return x, kernel, rng


CASES = {  # output activation, units, loss, labels, our metrics, Keras's metrics
    "binary": ("sigmoid", 1, "mse",
               lambda x, rng: (x[:, :1] < 0).astype(x.dtype),   # the opposite of the prediction
               lambda: ["binary_crossentropy", our_metrics.BinaryCrossentropy(name="bce"),
                        our_losses.binary_focal_crossentropy],
               lambda k: ["binary_crossentropy", k.metrics.BinaryCrossentropy(name="bce"),
                          k.losses.binary_focal_crossentropy]),
    "categorical": ("softmax", 3, "mse",
                    lambda x, rng: np.eye(3, dtype=x.dtype)[np.argmin(x, axis=1)],
                    lambda: ["categorical_crossentropy",
                             our_metrics.CategoricalCrossentropy(name="cce")],
                    lambda k: ["categorical_crossentropy",
                               k.metrics.CategoricalCrossentropy(name="cce")]),
    "sparse": ("softmax", 3, "sparse_categorical_crossentropy",
               lambda x, rng: np.argmin(x, axis=1).astype(x.dtype),
               lambda: ["sparse_categorical_crossentropy",
                        our_metrics.SparseCategoricalCrossentropy(name="scce")],
               lambda k: ["sparse_categorical_crossentropy",
                          k.metrics.SparseCategoricalCrossentropy(name="scce")]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_fit_and_evaluate_log_crossentropy_metrics_from_logits(keras, case, dtype):
    """Saturated outputs: the clipped-probability formula would log far less than Keras does."""
    activation, units, loss, labels, ours_m, keras_m = CASES[case]
    with keras_floatx(keras, dtype):
        x, kernel, rng = _saturated(dtype)
        y = labels(x, rng)
        weights = [kernel[:, :units], np.zeros(units, dtype)]
        km, om = _same_model(keras, units, activation, weights, 3)
        km.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss, metrics=keras_m(keras))
        om.compile(optimizer=O.SGD(0.01), loss=loss, metrics=ours_m())
        kh = km.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
        oh = om.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
        k_eval = km.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
        o_eval = om.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    assert list(oh) == list(kh) and sorted(o_eval) == sorted(k_eval)
    # Saturated: above -log(epsilon), the most the clipped-probability formula can give.
    clipped_max = -np.log(keras.config.epsilon())
    assert min(kh[k][0] for k in kh if k != "loss") > clipped_max
    for k in kh:   # measured: at most 2 ulp of values ~25-60
        assert max_abs_diff(oh[k], kh[k]) <= PARITY_TOL[dtype], (k, oh[k], kh[k])
        assert abs(o_eval[k] - k_eval[k]) <= PARITY_TOL[dtype], (k, o_eval[k], k_eval[k])


# ----- 2. custom layers written the Keras way -----

def _linear_layer_class(layers_module):
    """The same class body, as a Keras user writes it, on each library's Layer."""

    class Linear(layers_module.Layer):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, inputs):
            return inputs @ self.w + self.b

    return Linear


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_keras_style_custom_layer_runs_and_trains_as_in_keras(keras, dtype):
    rng = np.random.default_rng(1)
    with keras_floatx(keras, dtype):
        x = rng.normal(size=(16, 4)).astype(dtype)
        y = rng.normal(size=(16, 1)).astype(dtype)
        keras.utils.clear_session()
        clear_session()
        k_layer, o_layer = _linear_layer_class(keras.layers)(3), _linear_layer_class(L)(3)
        km = keras.Sequential([keras.Input((4,)), k_layer, keras.layers.Dense(1)])
        om = Sequential([L.Input((4,)), o_layer, L.Dense(1)])
        om.set_weights(km.get_weights())
        # Keras: w.name "variable", "variable_1" (the shared automatic names); ours are
        # "<layer>/<name>".
        assert ([w.name for w in o_layer.weights] ==
                [f"{k_layer.name}/{w.name}" for w in k_layer.weights] ==
                ["linear/variable", "linear/variable_1"])
        assert (max_abs_diff(om.predict(x, verbose=0), km.predict(x, verbose=0)) <=
                PARITY_TOL[dtype])  # BLAS matmuls decide the last bits (measured 3.7e-9 in float32)
        km.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        om.compile(optimizer=O.SGD(0.05), loss="mse")
        kh = km.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
        oh = om.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    assert max_abs_diff(oh["loss"], kh["loss"]) <= PARITY_TOL[dtype]
    for ours, theirs in zip(om.get_weights(), km.get_weights()):
        assert max_abs_diff(ours, theirs) <= PARITY_TOL[dtype]


def test_call_gets_training_and_mask_only_when_it_takes_them(keras):
    seen = []

    class Both(L.Layer):
        def call(self, inputs, mask=None, training=None):
            seen.append((training, mask))
            return inputs

    class Keywords(L.Layer):
        def call(self, inputs, **kwargs):
            seen.append(tuple(sorted(kwargs)))
            return inputs

    Both()(np.ones((1, 2)), training=True, mask="m")
    Both()(np.ones((1, 2)))
    Keywords()(np.ones((1, 2)), training=True)
    assert seen == [(True, "m"), (False, None), ("training",)]


# ----- 3. the learning rate and the step count as Keras code uses them -----

@pytest.mark.parametrize("dtype", DTYPES)
def test_learning_rate_reads_like_keras_variable(keras, dtype):
    with keras_floatx(keras, dtype):
        k_opt, o_opt = keras.optimizers.Adam(0.001), O.Adam(0.001)
        k_lr, o_lr = k_opt.learning_rate, o_opt.learning_rate
        assert float(o_lr) == float(k_lr)
        assert o_lr.numpy() == k_lr.numpy() and o_lr.numpy().dtype == k_lr.numpy().dtype
        assert o_lr.dtype == k_lr.dtype == dtype
        assert float(o_lr.value) == float(k_lr.value.numpy())
        assert np.asarray(o_lr).dtype == np.asarray(k_lr).dtype
        assert np.asarray(o_lr) == np.asarray(k_lr)
        o_np, k_np = tinygrad_es.ops.convert_to_numpy(o_lr), keras.ops.convert_to_numpy(k_lr)
        assert o_np.dtype == k_np.dtype and o_np == k_np
        # Arithmetic is one IEEE operation in the variable's dtype in both: bit for bit.
        for fn in (lambda v: v * 2, lambda v: 2 * v, lambda v: v + 1, lambda v: 1 - v,
                   lambda v: v / 3, lambda v: 3 / v, lambda v: -v, abs):
            assert float(fn(o_lr)) == float(fn(k_lr))
        exact = k_lr.numpy()   # a numpy scalar: Keras compares it in the variable's dtype
        for fn in (lambda v: v > 0.0005, lambda v: v < 0.0005, lambda v: v == exact,
                   lambda v: v >= exact, lambda v: v < exact, lambda v: v > 0,
                   lambda v: v != exact * 2, lambda v: v != 1):
            assert bool(fn(o_lr)) == bool(fn(k_lr))
        assert float(o_lr % 2.0**-12) == float(k_lr % 2.0**-12)
        # The one difference, kept on purpose: Keras rounds a Python float to float32 before a
        # comparison, so in float64 mode its lr == 0.001 is False; ours compares exactly.
        assert bool(o_lr == 0.001) and bool(k_lr == 0.001) == (dtype == "float32")
        # pow: TensorFlow's and numpy's powf may differ in the last bit.
        assert ulp_distance(np.asarray(o_lr ** 2), np.asarray(k_lr ** 2).astype(dtype)) <= 1
        # assign (returns the new value) and assignment write into the same Variable.
        assert float(o_lr.assign(0.25)) == float(k_lr.assign(0.25).numpy())
        assert float(o_opt.learning_rate) == float(k_opt.learning_rate)
        k_opt.learning_rate, o_opt.learning_rate = 0.01, 0.01
        assert (o_opt.learning_rate is o_lr) == (k_opt.learning_rate is k_lr) == True  # noqa: E712
        assert float(o_lr) == float(k_lr)
        for bad in (bool, hash):
            with pytest.raises(TypeError):
                bad(k_lr)
            with pytest.raises(TypeError):
                bad(o_lr)


@pytest.mark.parametrize("dtype", DTYPES)
def test_iterations_and_learning_rate_after_fit_match_keras(keras, dtype):
    rng = np.random.default_rng(2)
    with keras_floatx(keras, dtype):
        x = rng.normal(size=(10, 2)).astype(dtype)
        y = rng.normal(size=(10, 1)).astype(dtype)
        weights = [rng.normal(size=(2, 1)).astype(dtype), np.zeros(1, dtype)]
        runs = []
        for model, opts in zip(_same_model(keras, 1, None, weights, 2), (keras.optimizers, O)):
            model.compile(optimizer=opts.SGD(0.1), loss="mse")
            iterations = model.optimizer.iterations   # held across fit, as a callback would
            model.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
            runs.append((int(iterations), iterations.numpy(), int(model.optimizer.iterations),
                         float(model.optimizer.learning_rate)))
    (k_int, k_np, k_now, k_lr), (o_int, o_np, o_now, o_lr) = runs
    assert (o_int, o_now, o_lr) == (k_int, k_now, k_lr) == (8, 8, k_lr)
    assert o_np == k_np and o_np.dtype == k_np.dtype == np.int64
    assert repr(O.SGD(0.1, name="sgd").iterations) == repr(
        keras.optimizers.SGD(0.1, name="sgd").iterations)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_scheduled_learning_rate_is_its_read_only_value_as_keras(keras, dtype):
    with keras_floatx(keras, dtype):
        results = []
        for opts in (keras.optimizers, O):
            opt = opts.SGD(opts.schedules.ExponentialDecay(0.1, 4, 0.5))
            w = ([keras.Variable(np.ones(2, dtype))] if opts is keras.optimizers else
                 [Tensor(np.ones(2, dtype), requires_grad=True)])
            for _ in range(3):
                opt.apply([np.ones(2, dtype)], w)
            lr = opt.learning_rate
            assert not hasattr(lr, "assign") or opts is O
            with pytest.raises(AttributeError):   # Keras: a tensor has no assign
                lr.assign(0.5)
            with pytest.raises(TypeError):
                opt.learning_rate = 0.5
            results.append((float(lr), np.asarray(lr).dtype))
        callable_rates = [opts.SGD(lambda: 0.3).learning_rate for opts in (keras.optimizers, O)]
    assert results[0] == results[1]
    assert callable_rates == [0.3, 0.3]


def test_learning_rate_survives_callbacks_saving_and_state(keras, tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 2)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    weights = [rng.normal(size=(2, 1)).astype("float32"), np.zeros(1, "float32")]
    km, om = _same_model(keras, 1, None, weights, 2)
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    om.compile(optimizer=O.SGD(0.1), loss="mse")
    schedule = lambda epoch, lr: lr * 0.5  # noqa: E731
    kh = km.fit(x, y, epochs=3, verbose=0, shuffle=False,
                callbacks=[keras.callbacks.LearningRateScheduler(schedule)]).history
    oh = om.fit(x, y, epochs=3, verbose=0, shuffle=False,
                callbacks=[C.LearningRateScheduler(schedule)]).history
    assert oh["learning_rate"] == kh["learning_rate"]
    assert float(om.optimizer.learning_rate) == float(km.optimizer.learning_rate)
    om.save(tmp_path / "m.keras")
    loaded = tinygrad_es.models.load_model(tmp_path / "m.keras")
    assert float(loaded.optimizer.learning_rate) == float(om.optimizer.learning_rate)
    assert int(loaded.optimizer.iterations) == int(om.optimizer.iterations)


# ----- 4. errors of Keras's type -----

@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_using_an_uncompiled_model_is_keras_value_error(keras, method):
    x, y = np.ones((2, 3), "float32"), np.ones((2, 1), "float32")
    km = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    om = Sequential([L.Input((3,)), L.Dense(1)])
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    with pytest.raises(ValueError) as k_err:
        getattr(km, method)(x, y, **kwargs)
    with pytest.raises(ValueError) as o_err:
        getattr(om, method)(x, y, **kwargs)
    assert str(o_err.value).startswith(str(k_err.value))
    assert f"`{method}()`" in str(o_err.value)


@pytest.mark.parametrize("op, a, b, words", [
    ("matmul", (3, 4), (5, 2), "MatMul cannot combine shapes (3, 4) and (5, 2): the last axis "
                               "of the first (4) must equal the second-to-last axis of the "
                               "second (5)"),
    ("matmul", (2, 3, 4), (3, 4, 5), "MatMul cannot combine shapes (2, 3, 4) and (3, 4, 5): "
                                     "the batch axes (2,) and (3,) do not broadcast"),
    ("add", (3,), (4,), "Add cannot combine shapes (3,) and (4,): axis -1 has sizes 3 and 4"),
    ("multiply", (2, 3), (4, 1), "Mul cannot combine shapes (2, 3) and (4, 1): axis -2 has "
                                 "sizes 2 and 4"),
])
def test_shape_errors_name_the_op_and_both_shapes_in_our_words(tf, op, a, b, words):
    x, y = np.ones(a, "float32"), np.ones(b, "float32")
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):  # TensorFlow refuses too
        getattr(tf, "linalg" if op == "matmul" else "math").__dict__[op](x, y)
    with pytest.raises(ValueError) as err:
        {"matmul": Tensor.matmul, "add": Tensor.add, "multiply": Tensor.mul}[op](
            Tensor(x), Tensor(y))
    message = str(err.value)
    assert message.startswith(words)
    assert "gufunc" not in message and "could not be broadcast" not in message


# ----- 5. NaN / inf in the targets -----

def _batch_recorder(callbacks_module):
    class Batches(callbacks_module.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_train_batch_end(self, batch, logs=None):
            self.seen.append((batch, float(logs["loss"])))
    return Batches()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_nan_target_trains_and_terminate_on_nan_stops_as_keras(keras, dtype, bad):
    rng = np.random.default_rng(4)
    with keras_floatx(keras, dtype):
        x = rng.normal(size=(12, 2)).astype(dtype)
        y = rng.normal(size=(12, 1)).astype(dtype)
        y[7, 0] = bad    # epoch 0, batch 2 (batch_size 3)
        weights = [rng.normal(size=(2, 1)).astype(dtype), np.zeros(1, dtype)]
        km, om = _same_model(keras, 1, None, weights, 2)
        km.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        om.compile(optimizer=O.SGD(0.01), loss="mse")
        k_rec, o_rec = _batch_recorder(keras.callbacks), _batch_recorder(C)
        kh = km.fit(x, y, batch_size=3, epochs=3, shuffle=False, verbose=0,
                    callbacks=[keras.callbacks.TerminateOnNaN(), k_rec])
        with (pytest.warns(UserWarning, match=r"NaN or inf in y \(the first bad row is y\[7\]"),
              np.errstate(invalid="ignore", over="ignore")):   # numpy's own NaN/inf warnings
            oh = om.fit(x, y, batch_size=3, epochs=3, shuffle=False, verbose=0,
                        callbacks=[C.TerminateOnNaN(), o_rec])
    assert [b for b, _ in o_rec.seen] == [b for b, _ in k_rec.seen] == [0, 1, 2]
    assert oh.epoch == kh.epoch
    np.testing.assert_allclose(np.asarray(oh.history["loss"], np.float64),
                               np.asarray(kh.history["loss"], np.float64),
                               rtol=PARITY_TOL[dtype], equal_nan=True)
    np.testing.assert_allclose([v for _, v in o_rec.seen], [v for _, v in k_rec.seen],
                               rtol=PARITY_TOL[dtype], equal_nan=True)
    assert int(om.optimizer.iterations) == int(km.optimizer.iterations)


def test_nan_in_x_is_still_a_clear_error():
    om = Sequential([L.Input((2,)), L.Dense(1)])
    om.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf in x: the first bad row is x\[2\]"):
        om.fit(x, np.ones((4, 1)), verbose=0)


# ----- 6. clear_session resets every automatic name -----

def _construct_all(layers, metrics, losses, opts, model):
    class MyLoss(losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    class MyMetric(metrics.Metric):
        def update_state(self, *args, **kwargs):
            pass

        def result(self):
            return 0.0

    objects = [opts.Adam(), opts.Adam(), opts.RMSprop(), opts.SGD(), layers.Dense(2),
               layers.Dense(2), layers.LeakyReLU(), layers.Dense(1, name="adam"), opts.Adam(),
               metrics.AUC(), metrics.AUC(), metrics.Precision(), metrics.Mean(),
               metrics.MeanSquaredError(), losses.MeanSquaredError(), MyLoss(), MyLoss(),
               MyMetric(), model(), model()]
    return [o.name for o in objects]


def test_clear_session_resets_every_automatic_name_as_keras(keras):
    k_args = (keras.layers, keras.metrics, keras.losses, keras.optimizers, keras.Sequential)
    o_args = (L, our_metrics, our_losses, O, Sequential)
    keras.utils.clear_session()
    clear_session()
    first_k, first_o = _construct_all(*k_args), _construct_all(*o_args)
    again_k, again_o = _construct_all(*k_args), _construct_all(*o_args)
    keras.utils.clear_session()
    clear_session()
    reset_k, reset_o = _construct_all(*k_args), _construct_all(*o_args)
    assert first_o == first_k and again_o == again_k and reset_o == reset_k
    assert first_o[:3] == ["adam", "adam_1", "rm_sprop"] and again_o[0] == "adam_3"
    assert reset_o == first_o
    keras.utils.clear_session()
    clear_session()
    assert O.Adam().name == "adam" and L.Dense(2).name == "dense"


# ----- 7. activations that are not ours -----

def test_a_tensor_callable_activation_runs_as_in_keras(keras):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 3)).astype("float32")
    weights = [rng.normal(size=(3, 2)).astype("float32"), np.zeros(2, "float32")]

    def half_square(v):   # only operators: works on Keras tensors and on our Tensors
        return v * v * 0.5

    km, om = _same_model(keras, 2, half_square, weights, 3)
    assert max_abs_diff(om.predict(x, verbose=0), km.predict(x, verbose=0)) <= 1e-5  # BLAS


def test_a_numpy_activation_gives_its_values_and_a_clear_error_at_backward(keras):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(6, 3)).astype("float32")
    weights = [rng.normal(size=(3, 2)).astype("float32"), np.zeros(2, "float32")]

    def numpy_tanh(v):
        return np.tanh(np.asarray(v))

    km = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh")])
    km.set_weights(weights)
    for fn, name in ((numpy_tanh, "numpy_tanh"), (np.tanh, "numpy.tanh")):
        om = Sequential([L.Input((3,)), L.Dense(2, activation=fn)])
        om.set_weights(weights)
        assert max_abs_diff(om.predict(x, verbose=0), km.predict(x, verbose=0)) <= 1e-6
        om.compile(optimizer="sgd", loss="mse")
        with pytest.raises(RuntimeError, match=f"Cannot backpropagate through the activation "
                                               f".*{name}.*Tensor operations"):
            om.fit(x, np.zeros((6, 2)), verbose=0)


def test_an_activation_that_changes_the_shape_is_refused():
    with pytest.raises(ValueError, match=r"must return a tensor of its input's shape \(2, 4\), "
                                         r"received shape \(2, 1\)"):
        L.Dense(4, activation=lambda v: v.sum(axis=-1, keepdims=True))(np.ones((2, 3)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_scale_factor_scales_the_loss_in_fit_as_keras(keras, dtype):
    """Keras multiplies the loss by ``loss_scale_factor`` before backward and divides the
    gradients by it; with only the division the steps are 64 times too small."""
    from conftest import keras_and_ours

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    with keras_floatx(keras, dtype):
        km, om = keras_and_ours(keras, [(4, "tanh"), (1, None)], 3)
        km.compile(keras.optimizers.SGD(0.05, loss_scale_factor=64.0), "mse")
        om.compile(O.SGD(0.05, loss_scale_factor=64.0), "mse")
        kh = km.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        oh = om.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    tol = PARITY_TOL[dtype]
    assert max_abs_diff(oh.history["loss"], kh.history["loss"]) <= tol
    assert max(max_abs_diff(a, b) for a, b in zip(om.get_weights(), km.get_weights())) <= tol
