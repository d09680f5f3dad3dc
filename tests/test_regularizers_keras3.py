"""Keras 3's regularizers that Keras 2 lacked: OrthogonalRegularizer (value and gradient against
tf.GradientTape on Keras's own class) and the lower-case names, which are the classes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx

from tinygrad_es import regularizers
from tinygrad_es.tensor import Tensor

SHAPES = [(2, 2), (5, 3), (3, 7), (16, 16), (64, 10)]


def _weight(shape, dtype, seed):
    w = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    if shape == (5, 3):  # a zero row, a zero column and a row whose 1/norm is capped at 1/eps
        w[1], w[:, 2], w[3] = 0.0, 0.0, 1e-9
    return w


def _keras_penalty(tf, keras, factor, mode, w, dtype):
    ref = keras.regularizers.OrthogonalRegularizer(factor, mode)
    if dtype == "float64":
        # Keras 3.15 on TF cannot run this regularizer in float64 (its factor is a float32 tensor,
        # multiplied by a float64 sum: InvalidArgumentError). Hand Keras the factor it uses in
        # float32, f32(factor), as a float64 tensor: the rule of our L1/L2 (module docstring).
        ref.factor = tf.constant(np.float32(factor), tf.float64)
    v = tf.Variable(w)
    with tf.GradientTape() as tape:
        penalty = ref(v)
    return penalty.numpy(), tape.gradient(penalty, v).numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", SHAPES)
def test_orthogonal_regularizer_value_and_gradient_match_tf(tf, keras, dtype, mode, shape):
    w = _weight(shape, dtype, seed=sum(shape))
    with keras_floatx(keras, dtype):
        k_value, k_grad = _keras_penalty(tf, keras, 0.3, mode, w, dtype)
        x = Tensor(w, requires_grad=True)
        value = regularizers.OrthogonalRegularizer(0.3, mode)(x)
        value.backward()
    tol = PARITY_TOL[dtype]
    assert value.dtype == np.dtype(dtype) and value.shape == ()
    # Relative: the penalty and its gradient go through a matmul and sums, whose last bits
    # BLAS and TensorFlow decide in their own order (measured: value 1.3e-7 / 3.6e-16 relative,
    # gradient 6.1e-7 / 2.2e-15 of its largest entry, float32 / float64).
    assert abs(float(value.data) - float(k_value)) <= tol * abs(float(k_value)) + 1e-30
    assert np.isfinite(x.grad).all() and np.isfinite(k_grad).all()   # zero rows included
    assert np.abs(x.grad - k_grad).max() <= tol * np.abs(k_grad).max()


def test_orthogonal_rows_give_zero_and_equal_rows_give_the_factor(keras):
    w = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], np.float32)
    assert float(regularizers.OrthogonalRegularizer(0.5)(Tensor(w))) == 0.0
    same = np.ones((3, 4), np.float32)
    ours = float(regularizers.OrthogonalRegularizer(0.5)(Tensor(same)))
    ref = float(keras.regularizers.OrthogonalRegularizer(0.5)(same))
    # Equal rows: every |cosine| is 1, so the penalty is the factor itself.
    assert ours == pytest.approx(ref, rel=1e-6) and ours == pytest.approx(0.5, rel=1e-6)


def test_orthogonal_regularizer_config_errors_and_names(keras):
    for kwargs in ({}, {"factor": 0.1, "mode": "columns"}, {"factor": 2}):
        ours = regularizers.OrthogonalRegularizer(**kwargs)
        ref = keras.regularizers.OrthogonalRegularizer(**kwargs)
        assert ours.get_config() == ref.get_config()
        again = regularizers.deserialize(regularizers.serialize(ours))
        assert type(again) is regularizers.OrthogonalRegularizer
        assert again.get_config() == ours.get_config()
        k_serialized = keras.regularizers.serialize(ref)
        assert regularizers.deserialize(k_serialized).get_config() == ref.get_config()
    for name in ("OrthogonalRegularizer", "orthogonal_regularizer"):
        assert type(regularizers.get(name)).__name__ == type(keras.regularizers.get(name)).__name__
        assert regularizers.get(name).get_config() == keras.regularizers.get(name).get_config()
    with pytest.raises(ValueError, match="mode='diagonal'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="factor=-1"):
        regularizers.OrthogonalRegularizer(-1)
    with pytest.raises(ValueError, match=r"rank 2\. Received: inputs.shape=\(2, 2, 2\)"):
        regularizers.OrthogonalRegularizer()(Tensor(np.ones((2, 2, 2))))
    with pytest.raises(ValueError, match=r"at least 2 columns.*shape \(4, 1\)"):
        regularizers.OrthogonalRegularizer(mode="columns")(Tensor(np.ones((4, 1))))


def test_lower_case_names_are_the_classes_as_in_keras_3(keras):
    pairs = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2",
             "orthogonal_regularizer": "OrthogonalRegularizer"}
    for lower, upper in pairs.items():
        assert getattr(keras.regularizers, lower) is getattr(keras.regularizers, upper)
        assert getattr(regularizers, lower) is getattr(regularizers, upper)
    # Keras 3: l1_l2() is L1L2() (0.0 and 0.0). The string "l1_l2" keeps Keras 2's 0.01 here
    # (Keras 3 rejects that string; tests/test_initializers.py checks it).
    assert regularizers.l1_l2().get_config() == keras.regularizers.l1_l2().get_config()


def test_orthogonal_regularizer_in_fit_matches_keras(keras):
    """A Dense kernel with the penalty, trained by fit in both libraries from the same weights."""
    from tinygrad_es import layers, models, optimizers

    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    y = rng.standard_normal((16, 4)).astype(np.float32)
    reg = dict(factor=0.5, mode="columns")
    km = keras.Sequential([keras.Input((6,)), keras.layers.Dense(
        4, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(**reg))])
    om = models.Sequential([layers.Input((6,)), layers.Dense(
        4, kernel_regularizer=regularizers.OrthogonalRegularizer(**reg))])
    om.set_weights(km.get_weights())
    km.compile(keras.optimizers.SGD(0.1), "mse")
    om.compile(optimizers.SGD(0.1), "mse")
    kh = km.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0)
    oh = om.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0)
    # 20 steps through matmuls whose last bits BLAS and TF decide: measured 1.2e-7 (loss) and
    # 6.0e-8 (weights).
    assert np.abs(np.subtract(oh.history["loss"], kh.history["loss"])).max() <= 1e-6
    for a, b in zip(om.get_weights(), km.get_weights()):
        assert np.abs(a - b).max() <= 1e-6
    assert oh.history["loss"][-1] < oh.history["loss"][0]
