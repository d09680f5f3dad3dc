"""Losses that exist only once fit has run the model, and data without targets, against real Keras.

A model built inside ``fit`` (a Sequential without an input shape, a subclassed model never called
before) makes its regularized weights, and runs its ``add_loss``, during the first step: those
penalties are part of the loss from that first step on, as in Keras. A model whose loss is all
``add_loss`` trains and evaluates without ``y``; and a ``train_step`` receives ``x`` alone for
such data, as Keras packs it (a tuple only when the data came as one).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
import tinygrad_es

RNG = np.random.default_rng(3)
X = RNG.normal(size=(12, 3))
Y = RNG.normal(size=(12, 2))
KERNEL = RNG.uniform(-0.5, 0.5, (3, 2))
DTYPES = ["float32", "float64"]


def _kernel(shape, dtype=None):
    """The same first kernel in both libraries (an initializer is a callable in both)."""
    return np.asarray(KERNEL, dtype=dtype or "float32")


def _classes(K):
    class Squares(K.Model):
        """A Dense layer whose call adds the mean square of its output to the loss."""

        def __init__(self):
            super().__init__()
            self.dense = K.layers.Dense(2, kernel_initializer=_kernel)

        def call(self, x):
            y = self.dense(x)
            self.add_loss(K.ops.mean(K.ops.square(y)))
            return y

    return Squares


def _fits(keras, build, fit_kwargs, compile_kwargs):
    out = []
    for K in (keras, tinygrad_es):
        model = build(K)
        model.compile(optimizer=K.optimizers.SGD(0.1, momentum=0.9), **compile_kwargs)
        history = model.fit(X, epochs=3, batch_size=4, shuffle=False, verbose=0, **fit_kwargs)
        out.append((model, history.history["loss"]))
    return out


def _assert_same(keras_run, our_run, dtype, what):
    (ref, kl), (ours, ol) = keras_run, our_run
    loss_diff = max_abs_diff(ol, kl)
    weight_diff = max(max_abs_diff(a, b) for a, b in zip(ours.get_weights(), ref.get_weights()))
    print(f"\nPARITY {what} {dtype}: loss {loss_diff:.1e}, weights {weight_diff:.1e}")
    assert loss_diff <= PARITY_TOL[dtype] and weight_diff <= PARITY_TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_regularizer_of_a_model_built_by_fit_is_in_the_loss(keras, dtype):
    def build(K):   # no input shape: built by fit, its kernel and penalty made there
        return K.Sequential([K.layers.Dense(2, kernel_initializer=_kernel,
                                            kernel_regularizer=K.regularizers.L2(0.05))])

    with keras_floatx(keras, dtype):
        ref, ours = _fits(keras, build, {"y": Y}, {"loss": "mse"})
        _assert_same(ref, ours, dtype, "regularizer, built by fit")


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_loss_of_a_model_first_called_by_fit_is_in_the_loss(keras, dtype):
    with keras_floatx(keras, dtype):
        ref, ours = _fits(keras, lambda K: _classes(K)(), {"y": Y}, {"loss": "mse"})
        _assert_same(ref, ours, dtype, "add_loss, first call in fit")


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_loss_all_add_loss_trains_and_evaluates_without_y(keras, dtype):
    with keras_floatx(keras, dtype):
        ref, ours = _fits(keras, lambda K: _classes(K)(), {}, {})
        _assert_same(ref, ours, dtype, "add_loss only, no y")
        assert abs(ours[0].evaluate(X, verbose=0) - ref[0].evaluate(X, verbose=0)) <= \
            PARITY_TOL[dtype]


def test_without_a_loss_that_needs_it_y_is_still_required():
    model = tinygrad_es.Sequential([tinygrad_es.Input((3,)), tinygrad_es.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"fit\(\) needs y, received None"):
        model.fit(X, epochs=1, verbose=0)


def test_train_step_receives_the_data_packed_as_keras_packs_it(keras, tf):
    x = X.astype("float32")

    def record(K):
        seen = []

        class Recorder(K.Model):
            def __init__(self):
                super().__init__()
                self.dense = K.layers.Dense(1)

            def call(self, x):
                return self.dense(x)

            def train_step(self, data):
                seen.append("tuple" if isinstance(data, tuple) else "x")
                return {"loss": 0.0}

        model = Recorder()
        model.compile(optimizer="sgd", run_eagerly=True) if K is keras else \
            model.compile(optimizer="sgd")

        def one_tuple():
            yield (x,)

        for data in (dict(x=x), dict(x=x, y=Y), dict(x=tf.data.Dataset.from_tensor_slices(x)
                                                       .batch(12)),
                     dict(x=one_tuple(), steps_per_epoch=1)):
            model.fit(**data, epochs=1, batch_size=None if "steps_per_epoch" in data or
                      not isinstance(data["x"], np.ndarray) else 12, verbose=0)
        return seen

    assert record(tinygrad_es) == record(keras) == ["x", "tuple", "x", "tuple"]
