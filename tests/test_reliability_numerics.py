"""Extreme inputs (issue 14): at float32's ±3e38 (and float64's ±1.7e308) ``sparse_plus`` and its
gradient, and sparse categorical crossentropy from logits and its gradient, are finite exactly
where real TensorFlow / Keras is finite, and agree with it there.

480 seeded cases per dtype: 96 inputs of ``sparse_plus``, 384 rows of logits (3 or 5 classes)
drawn from a pool of extremes, ordinary values and zeros, each with a random label.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx
from tinygrad_es import activations, losses
from tinygrad_es.tensor import Tensor

EXTREMES = {"float32": [3.4028235e38, 3e38, 1e38, 1.8e19, 1e10], "float64": [1.7976931348623157e308,
                                                                             1.5e308, 1e154, 1e20]}
ORDINARY = [0.0, 0.5, 1.0, 2.0, 1e-30]


def _pool(dtype):
    values = EXTREMES[dtype] + ORDINARY
    return np.array(values + [-v for v in values], dtype=dtype)


def _same_finiteness_and_close(ours, theirs, dtype, what):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype == np.dtype(dtype), what
    finite = np.isfinite(theirs)
    np.testing.assert_array_equal(np.isfinite(ours), finite, err_msg=f"{what}: finite where")
    np.testing.assert_array_equal(ours[~finite], theirs[~finite], err_msg=f"{what}: inf/nan")
    tol = PARITY_TOL[dtype]
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_plus_and_its_gradient_at_extreme_inputs(tf, keras, dtype):
    rng = np.random.default_rng(14)
    pool = _pool(dtype)
    x = np.concatenate([pool, rng.choice(pool, 96 - len(pool)) * rng.choice([1, 0.5], 96 -
                                                                            len(pool))])
    x = x.astype(dtype)
    upstream = rng.uniform(0.5, 2.0, size=x.shape).astype(dtype)
    with keras_floatx(keras, dtype):
        xt = tf.Variable(x)
        with tf.GradientTape() as tape:
            yt = keras.activations.sparse_plus(xt)
            total = tf.reduce_sum(yt * upstream)
        grad_tf = tape.gradient(total, xt).numpy()
        xs = Tensor(x, requires_grad=True)
        with np.errstate(over="ignore", invalid="ignore"):
            y = activations.sparse_plus(xs)
            (y * upstream).sum().backward()
    _same_finiteness_and_close(y.data, yt.numpy(), dtype, "sparse_plus")
    _same_finiteness_and_close(xs.grad, grad_tf, dtype, "sparse_plus gradient")
    assert np.isfinite(xs.grad).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("classes", [3, 5])
def test_sparse_crossentropy_from_logits_at_extreme_inputs(tf, keras, dtype, classes):
    rng = np.random.default_rng(classes)
    pool = _pool(dtype)
    z = rng.choice(pool, size=(192, classes)).astype(dtype)
    z[::4] = rng.uniform(-1, 1, size=(48, classes)) * pool[1]  # mixed large logits
    labels = rng.integers(0, classes, size=192)
    upstream = rng.uniform(0.5, 2.0, size=192).astype(dtype)
    with keras_floatx(keras, dtype):
        zt = tf.Variable(z)
        with tf.GradientTape() as tape:
            loss_tf = keras.losses.sparse_categorical_crossentropy(labels, zt, from_logits=True)
            total = tf.reduce_sum(loss_tf * upstream)
        grad_tf = tape.gradient(total, zt).numpy()
        zs = Tensor(z, requires_grad=True)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = losses.sparse_categorical_crossentropy(labels, zs, from_logits=True)
            (loss * upstream).sum().backward()
    _same_finiteness_and_close(loss.data, loss_tf.numpy(), dtype, "sparse CCE from logits")
    _same_finiteness_and_close(zs.grad, grad_tf, dtype, "its gradient")
    assert not np.isfinite(loss_tf.numpy()).all()  # the pool does reach the overflow cases


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cosine_similarity_on_all_zero_rows_has_keras_finite_gradient(tf, keras, dtype):
    rng = np.random.default_rng(7)
    p = np.maximum(rng.normal(size=(12, 4)), 0).astype(dtype)  # relu outputs
    p[::3] = 0.0  # all-zero rows
    p[1] = 1e-9  # below the norm's cap too
    y = rng.normal(size=(12, 4)).astype(dtype)
    upstream = rng.uniform(0.5, 2.0, size=12).astype(dtype)
    with keras_floatx(keras, dtype):
        pt = tf.Variable(p)
        with tf.GradientTape() as tape:
            loss_tf = keras.losses.cosine_similarity(y, pt)
            total = tf.reduce_sum(loss_tf * upstream)
        grad_tf = tape.gradient(total, pt).numpy()
        ps = Tensor(p, requires_grad=True)
        loss = losses.cosine_similarity(y, ps)
        (loss * upstream).sum().backward()
    assert np.isfinite(grad_tf).all()
    _same_finiteness_and_close(loss.data, loss_tf.numpy(), dtype, "cosine_similarity")
    # The gradient at the capped rows is cap * y_hat, about 1e7 in float32: compared relative.
    np.testing.assert_allclose(ps.grad, grad_tf, rtol=PARITY_TOL[dtype], atol=PARITY_TOL[dtype])
