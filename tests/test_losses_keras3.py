"""The Keras 3 losses added for issue 8: CTC, Circle and CategoricalGeneralizedCrossEntropy.

Each is checked against real Keras in the test: values over several shapes, configurations,
reductions and sample weights in float32 and float64; gradients against central differences
(float64, ``tinygrad_es.gradcheck``) and against ``tf.GradientTape``; the compile strings; and one
``model.fit`` + ``model.evaluate`` per loss from the same weights as a Keras model.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx, max_abs_diff

from tinygrad_es import layers as L
from tinygrad_es import losses
from tinygrad_es import optimizers
from tinygrad_es.gradcheck import gradcheck
from tinygrad_es.models.sequential import Sequential
from tinygrad_es.tensor import Tensor

DTYPES = ["float32", "float64"]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]


def _close(ours, theirs, tol: float, where: str) -> float:
    """Assert |ours - theirs| <= tol * max(1, |theirs|) elementwise; return the worst abs diff."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} != Keras {theirs.shape}"
    bound = tol * np.maximum(1.0, np.abs(theirs))
    assert np.all(np.abs(ours - theirs) <= bound), f"{where}: {ours} vs Keras {theirs}"
    return max_abs_diff(ours, theirs)


# ----- data -----

def _ctc_data(rng, n, steps, classes, max_len, dtype):
    logits = rng.normal(0, 2, (n, steps, classes)).astype(dtype)
    labels = rng.integers(1, classes, (n, max_len))
    for b in range(n):  # varied lengths (0-padded), with a repeated label (needs a blank)
        labels[b, rng.integers(0, max_len + 1):] = 0
    if max_len >= 2:
        labels[0, :2] = labels[0, 0]
    return labels, logits


def _embeddings(rng, n, dim, dtype):
    e = rng.normal(size=(n, dim))
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(dtype)


CTC_SHAPES = [(3, 6, 4, 3), (2, 1, 3, 1), (4, 10, 5, 4), (2, 5, 3, 1), (1, 8, 6, 5)]


# ----- CTC -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CTC_SHAPES, ids=[str(s) for s in CTC_SHAPES])
def test_ctc_matches_keras(keras, dtype, shape):
    rng = np.random.default_rng(sum(shape))
    labels, logits = _ctc_data(rng, *shape, dtype)
    sw = rng.uniform(0.2, 2.0, shape[0]).astype(dtype)
    with keras_floatx(keras, dtype):
        per_sample = keras.losses.ctc(labels, logits).numpy()
        # NOTE: Keras's TF backend computes CTC in float32 even in float64 mode (tf.nn.ctc_loss
        # rejects float64), so in float64 only float32 agreement (1e-6 relative) is possible.
        _close(losses.ctc(labels, Tensor(logits)).data, per_sample, PARITY_TOL["float32"],
               f"ctc {shape}")
        for reduction in REDUCTIONS:
            for weights in (None, sw):
                theirs = keras.losses.CTC(reduction=reduction)(labels, logits,
                                                               sample_weight=weights)
                ours = losses.CTC(reduction=reduction)(labels, Tensor(logits),
                                                       sample_weight=weights)
                assert ours.dtype == dtype
                _close(ours.data, theirs, PARITY_TOL["float32"], f"CTC {reduction} {shape}")


def test_ctc_gradient_matches_central_differences_and_tf(tf, keras):
    rng = np.random.default_rng(1)
    labels, logits = _ctc_data(rng, 3, 7, 4, 3, "float64")
    assert gradcheck(lambda z: losses.ctc(labels, z), logits, atol=1e-6, rtol=1e-5)
    z = Tensor(logits.astype("float32"), requires_grad=True)
    losses.CTC()(labels, z).backward()
    zt = tf.Variable(logits.astype("float32"))
    with tf.GradientTape() as tape:
        value = keras.losses.CTC()(labels, zt)
    # float32 on both sides, different summation orders: 1e-6 absolute on gradients ~0.1
    _close(z.grad, tape.gradient(value, zt).numpy(), 1e-6, "CTC gradient")


def test_ctc_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"y_true \(targets\).*received y_true.shape=\(4,\)"):
        losses.ctc(np.ones(4), Tensor(np.zeros((4, 3, 2))))
    with pytest.raises(ValueError, match=r"y_pred \(logits\).*y_pred.shape=\(4, 3\)"):
        losses.ctc(np.ones((4, 2)), Tensor(np.zeros((4, 3))))


# ----- Circle -----

CIRCLE_CONFIGS = [{}, {"gamma": 10.0, "margin": 0.25}, {"remove_diagonal": False}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CIRCLE_CONFIGS, ids=["default", "gamma10", "diagonal"])
def test_circle_matches_keras(keras, dtype, config):
    rng = np.random.default_rng(2)
    for n, dim, classes in [(8, 5, 3), (6, 3, 2), (10, 4, 5)]:
        e = _embeddings(rng, n, dim, dtype)
        y = rng.integers(0, classes, n)
        y[-1] = classes + 3  # a singleton: no positive pair, loss 0, masked out of the mean
        sw = rng.uniform(0.2, 2.0, n).astype(dtype)
        with keras_floatx(keras, dtype):
            for reduction in REDUCTIONS:
                for labels in (y, y[:, None]):
                    for weights in (None, sw):
                        theirs = keras.losses.Circle(reduction=reduction, **config)(
                            labels, e, sample_weight=weights)
                        ours = losses.Circle(reduction=reduction, **config)(
                            labels, Tensor(e), sample_weight=weights)
                        _close(ours.data, theirs, PARITY_TOL[dtype], f"Circle {reduction}")


def test_circle_function_with_reference_embeddings(keras):
    rng = np.random.default_rng(3)
    with keras_floatx(keras, "float64"):
        e, ref = _embeddings(rng, 5, 4, "float64"), _embeddings(rng, 7, 4, "float64")
        y, ref_y = rng.integers(0, 3, 5), rng.integers(0, 3, 7)
        for kwargs in ({}, {"remove_diagonal": False, "gamma": 20.0}):
            theirs = keras.losses.circle(y, e, ref_labels=ref_y, ref_embeddings=ref, **kwargs)
            ours = losses.circle(y, Tensor(e), ref_labels=ref_y, ref_embeddings=ref, **kwargs)
            _close(ours.data, theirs, PARITY_TOL["float64"], f"circle refs {kwargs}")


def test_circle_gradient_matches_central_differences_and_tf(tf, keras):
    rng = np.random.default_rng(4)
    e = _embeddings(rng, 6, 3, "float64")
    y = np.array([0, 0, 1, 1, 2, 2])
    assert gradcheck(lambda t: losses.Circle(gamma=8.0, dtype="float64")(y, t), e, atol=1e-6,
                     rtol=1e-5)
    with keras_floatx(keras, "float64"):
        for config in CIRCLE_CONFIGS:
            t = Tensor(e, requires_grad=True)
            losses.Circle(**config)(y, t).backward()
            et = tf.Variable(e)
            with tf.GradientTape() as tape:
                value = keras.losses.Circle(**config)(y, et)
            _close(t.grad, tape.gradient(value, et).numpy(), PARITY_TOL["float64"],
                   f"Circle gradient {config}")


# ----- generalized cross entropy -----

@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_generalized_cross_entropy_matches_keras(keras, tf, dtype):
    rng = np.random.default_rng(5)
    with keras_floatx(keras, dtype):
        for n, classes in [(6, 4), (3, 2), (9, 7)]:
            p = rng.dirichlet(np.ones(classes), n).astype(dtype)
            y = rng.integers(0, classes, n)
            sw = rng.uniform(0.2, 2.0, n).astype(dtype)
            for q in (0.5, 0.3, 0.9):
                for reduction in REDUCTIONS:
                    theirs = keras.losses.CategoricalGeneralizedCrossEntropy(
                        q=q, reduction=reduction)(y, p, sample_weight=sw)
                    ours = losses.CategoricalGeneralizedCrossEntropy(
                        q=q, reduction=reduction)(y, Tensor(p), sample_weight=sw)
                    _close(ours.data, theirs, PARITY_TOL[dtype], f"GCE q={q} {reduction}")
            t = Tensor(p, requires_grad=True)
            losses.CategoricalGeneralizedCrossEntropy(q=0.3)(y, t).backward()
            pt = tf.Variable(p)
            with tf.GradientTape() as tape:
                value = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3)(y, pt)
            _close(t.grad, tape.gradient(value, pt).numpy(), PARITY_TOL[dtype], "GCE gradient")
    p = rng.dirichlet(np.ones(3), 4)
    assert gradcheck(lambda t: losses.categorical_generalized_cross_entropy(
        np.array([0, 2, 1, 1]), t, q=0.4), p)
    with pytest.raises(ValueError, match=r"q in the interval \(0, 1\), received q=1.5"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


# ----- names, configs, strings -----

@pytest.mark.parametrize("cls_name,kwargs", [
    ("CTC", {}), ("Circle", {}),
    ("Circle", {"gamma": 5.0, "margin": 0.1, "remove_diagonal": False}),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2})])
def test_configs_and_strings_match_keras(keras, cls_name, kwargs):
    ours, theirs = getattr(losses, cls_name)(**kwargs), getattr(keras.losses, cls_name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    again = losses.deserialize(losses.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_get_accepts_the_strings_keras_accepts(keras):
    for name in ("ctc", "CTC", "circle", "Circle", "categorical_generalized_cross_entropy",
                 "CategoricalGeneralizedCrossEntropy"):
        try:
            keras.losses.get(name)
            accepted = True
        except ValueError:
            accepted = False
        if accepted:
            assert losses.get(name).name == {"CTC": "ctc", "Circle": "circle"}.get(name, name)
        else:
            with pytest.raises(ValueError, match=f"Unknown loss {name!r}"):
                losses.get(name)
    assert losses.get("CTC").get_config() == keras.losses.get("CTC").get_config()


# ----- through model.fit / model.evaluate -----

def _fit_both(keras, dtype, input_shape, units, activation, loss_name, x, y, epochs=3,
              batch_size=4, lr=0.05, **loss_kwargs):
    """Fit a Keras and a tinygrad_es Dense model from the same weights; compare everything."""
    rng = np.random.default_rng(11)
    with keras_floatx(keras, dtype):
        km = keras.Sequential([keras.Input(input_shape),
                               keras.layers.Dense(units, activation=activation)])
        om = Sequential([L.Input(input_shape), L.Dense(units, activation=activation)])
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32").astype(dtype)
                   for w in km.get_weights()]
        km.set_weights(weights)
        om.set_weights(weights)
        km.compile(optimizer=keras.optimizers.SGD(lr),
                   loss=getattr(keras.losses, loss_name)(**loss_kwargs))
        om.compile(optimizer=optimizers.SGD(lr), loss=getattr(losses, loss_name)(**loss_kwargs))
        kh = km.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
        oh = om.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
        k_eval = km.evaluate(x, y, batch_size=batch_size, verbose=0)
        o_eval = om.evaluate(x, y, batch_size=batch_size, verbose=0)
        km_weights = km.get_weights()
    return kh.history, oh.history, km_weights, om.get_weights(), k_eval, o_eval


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_circle_and_gce_matches_keras(keras, dtype):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(10, 3)).astype(dtype)
    y = rng.integers(0, 3, 10).astype(dtype)
    tol = PARITY_TOL[dtype]
    # raw (not unit-norm) embeddings: a small gamma keeps the Circle run finite
    for units, activation, loss_name, kwargs in [
            (4, None, "Circle", {"gamma": 2.0, "lr": 0.005}),
            (3, "softmax", "CategoricalGeneralizedCrossEntropy", {})]:
        kh, oh, kw, ow, k_eval, o_eval = _fit_both(keras, dtype, (3,), units, activation,
                                                   loss_name, x, y, **kwargs)
        assert np.all(np.isfinite(oh["loss"])) and np.ptp(oh["loss"]) > 0  # it trains
        assert list(oh) == list(kh) == ["loss"]
        _close(oh["loss"], kh["loss"], tol, f"{loss_name} history")
        for a, b in zip(ow, kw):
            _close(a, b, 10 * tol, f"{loss_name} weights")  # 3 epochs of float rounding
        _close(o_eval, k_eval, tol, f"{loss_name} evaluate")


def test_fit_with_ctc_matches_keras(keras):
    # float32 only: Keras's CTC runs in float32 even in float64 mode (see test_ctc_matches_keras)
    rng = np.random.default_rng(13)
    x = rng.normal(size=(6, 5, 2)).astype("float32")
    y = rng.integers(1, 4, (6, 3)).astype("float32")
    y[::2, 2] = 0
    kh, oh, kw, ow, k_eval, o_eval = _fit_both(keras, "float32", (5, 2), 4, None, "CTC", x, y,
                                               epochs=2, batch_size=3)
    _close(oh["loss"], kh["loss"], 1e-6, "CTC history")
    for a, b in zip(ow, kw):
        _close(a, b, 1e-5, "CTC weights")
    _close(o_eval, k_eval, 1e-6, "CTC evaluate")
