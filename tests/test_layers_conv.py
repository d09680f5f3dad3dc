"""Convolution, pooling and reshaping layers against real Keras: forward and gradients (of the
input and of every weight, penalties included) from the same weights, output shapes, configs,
errors, and ``fit`` of a small digits convnet from the same initial weights.

Run with ``-s`` to see the worst differences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import layers
from tinygrad_es import optimizers as our_optimizers
from tinygrad_es.datasets import load_digits
from tinygrad_es.models import Sequential
from tinygrad_es.tensor import Tensor

DTYPES = ["float32", "float64"]

# name: (the layer built from a `layers` module, the input shape of one batch)
CASES = {
    "conv2d relu": (lambda L: L.Conv2D(4, 3, activation="relu"), (2, 8, 8, 3)),
    "conv2d same strides regularized": (
        lambda L: L.Conv2D(5, (2, 3), strides=(2, 1), padding="same", kernel_regularizer="l2",
                           bias_regularizer="l1", bias_initializer="ones"), (2, 7, 8, 3)),
    "conv2d dilated no bias": (
        lambda L: L.Conv2D(3, 3, dilation_rate=2, padding="same", use_bias=False,
                           activation="tanh"), (2, 9, 9, 2)),
    "conv1d causal dilated": (
        lambda L: L.Conv1D(4, 3, padding="causal", dilation_rate=2, bias_initializer="ones"),
        (3, 10, 2)),
    "conv1d same strided": (lambda L: L.Conv1D(4, 5, strides=2, padding="same",
                                               activation="sigmoid"), (3, 11, 2)),
    "conv2d_transpose same": (lambda L: L.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                          bias_initializer="ones"), (2, 4, 4, 5)),
    "conv2d_transpose valid output_padding": (
        lambda L: L.Conv2DTranspose(2, (2, 3), strides=(2, 1), output_padding=(1, 0),
                                    activation="relu"), (2, 3, 4, 3)),
    "conv2d_transpose strides > kernel": (lambda L: L.Conv2DTranspose(2, 2, strides=3),
                                          (1, 3, 3, 2)),
    "conv2d_transpose dilated": (lambda L: L.Conv2DTranspose(2, 3, dilation_rate=2,
                                                             padding="same"), (2, 5, 5, 3)),
    "max_pooling2d": (lambda L: L.MaxPooling2D(), (2, 8, 7, 3)),
    "max_pooling2d same overlapping": (lambda L: L.MaxPooling2D(3, 2, "same"), (2, 7, 8, 3)),
    "average_pooling2d same": (lambda L: L.AveragePooling2D((2, 3), padding="same"),
                               (2, 7, 8, 3)),
    "average_pooling2d overlapping": (lambda L: L.AveragePooling2D(3, 1), (2, 6, 6, 2)),
    "max_pooling1d same": (lambda L: L.MaxPooling1D(3, 2, "same"), (3, 10, 2)),
    "average_pooling1d": (lambda L: L.AveragePooling1D(2), (3, 9, 2)),
    "global_max_pooling2d": (lambda L: L.GlobalMaxPooling2D(), (2, 5, 4, 3)),
    "global_average_pooling2d keepdims": (lambda L: L.GlobalAveragePooling2D(keepdims=True),
                                          (2, 5, 4, 3)),
    "global_max_pooling1d": (lambda L: L.GlobalMaxPooling1D(), (3, 6, 2)),
    "global_average_pooling1d": (lambda L: L.GlobalAveragePooling1D(), (3, 6, 2)),
    "reshape": (lambda L: L.Reshape((4, -1)), (2, 4, 6)),
    "zero_padding2d": (lambda L: L.ZeroPadding2D(((1, 2), (0, 3))), (2, 3, 4, 2)),
    "up_sampling2d": (lambda L: L.UpSampling2D((2, 3)), (2, 3, 4, 2)),
}


def _pair(keras, build, input_shape):
    """The layer in Keras and here, both built; Keras's initial weights copied into ours."""
    ref, ours = build(keras.layers), build(layers)
    ref.build(input_shape)
    ours.build((None,) + tuple(input_shape[1:]))
    ours.set_weights(ref.get_weights())
    return ours, ref


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_forward_and_gradients_match_keras(tf, keras, dtype, case):
    build, shape = CASES[case]
    if case == "conv2d_transpose dilated" and dtype == "float64":
        pytest.skip("TF 2.21's float64 Conv2DBackpropInput on CPU refuses dilation > 1 (float32 "
                    "runs through oneDNN); ours is gradchecked in float64 in tests/test_conv.py")
    rng = np.random.default_rng(0)
    with keras_floatx(keras, dtype):
        ours, ref = _pair(keras, build, shape)
        x = rng.normal(size=shape).astype(dtype)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            ref_out = ref(xt)
            up = rng.uniform(0.5, 1.5, size=ref_out.shape).astype(dtype)
            ref_loss = tf.reduce_sum(ref_out * up) + sum(ref.losses)
        ref_grads = tape.gradient(ref_loss, [xt] + list(ref.trainable_weights))
        leaf = Tensor(x, requires_grad=True, dtype=dtype)
        out = ours(leaf)
        loss = (out * up).sum()
        for penalty in ours.losses:
            loss = loss + penalty
        loss.backward()
    assert len(ours.losses) == len(ref.losses)
    assert out.dtype == np.dtype(dtype) and out.shape == tuple(ref_out.shape)
    assert (tuple(ours.compute_output_shape((None,) + shape[1:])) ==
            tuple(ref.compute_output_shape((None,) + shape[1:])))
    tol = PARITY_TOL[dtype]
    worst = []
    for name, got, want in [("out", out.data, ref_out.numpy()),
                            ("dx", leaf.grad, ref_grads[0].numpy())] + [
            (w.name, w.grad, g.numpy()) for w, g in zip(ours.trainable_weights, ref_grads[1:])]:
        # NOTE: sums of products in another order than TF's oneDNN/Eigen: the budget is the
        # tolerance relative to the largest value (as tests/test_sequential.py).
        scale = max(1.0, float(np.abs(want).max()))
        diff = max_abs_diff(got, want)
        worst.append(f"{name} {diff:.1e} (rel {diff / scale:.1e})")
        assert diff <= tol * scale, (case, name, diff, scale)
    print(f"\nPARITY {case:<40} {dtype}: " + ", ".join(worst))


SHAPE_CASES = [
    (lambda L: L.Conv2D(2, 3), (None, 9, 10, 3)),
    (lambda L: L.Conv2D(2, 3, strides=2), (None, 9, 10, 3)),
    (lambda L: L.Conv2D(2, (3, 1), strides=(3, 2), padding="same"), (None, 10, 7, 1)),
    (lambda L: L.Conv2D(2, 3, dilation_rate=(2, 3), padding="valid"), (None, 12, 12, 1)),
    (lambda L: L.Conv2D(2, 3, padding="same"), (None, None, None, 4)),
    (lambda L: L.Conv1D(2, 4, padding="causal"), (None, 9, 3)),
    (lambda L: L.Conv1D(2, 4, strides=3), (None, 20, 3)),
    (lambda L: L.Conv2DTranspose(4, 3), (None, 5, 6, 2)),
    (lambda L: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1),
     (None, 5, 6, 2)),
    (lambda L: L.Conv2DTranspose(4, 4, strides=(3, 2), padding="same", output_padding=(2, 1)),
     (None, 5, 6, 2)),
    (lambda L: L.Conv2DTranspose(4, 2, strides=3), (None, None, 6, 2)),
    (lambda L: L.MaxPooling2D(), (None, 7, 9, 2)),
    (lambda L: L.MaxPooling2D(3, 2, "same"), (None, 7, 9, 2)),
    (lambda L: L.AveragePooling2D((1, 3), (2, 2)), (None, 7, 9, 2)),
    (lambda L: L.MaxPooling1D(4, padding="same"), (None, 9, 2)),
    (lambda L: L.GlobalAveragePooling2D(), (None, None, None, 5)),
    (lambda L: L.GlobalMaxPooling1D(keepdims=True), (None, 7, 5)),
    (lambda L: L.Reshape((-1, 2)), (None, 3, 4)),
    (lambda L: L.Reshape((3, 2, 2)), (None, 12)),
    (lambda L: L.ZeroPadding2D(2), (None, 3, None, 1)),
    (lambda L: L.ZeroPadding2D((1, 2)), (None, 3, 4, 1)),
    (lambda L: L.UpSampling2D(3), (None, 3, None, 1)),
]


@pytest.mark.parametrize("index", range(len(SHAPE_CASES)))
def test_output_shapes_match_keras(keras, index):
    build, shape = SHAPE_CASES[index]
    ours, ref = build(layers), build(keras.layers)
    assert tuple(ours.compute_output_shape(shape)) == tuple(ref.compute_output_shape(shape))


@pytest.mark.parametrize("case", list(CASES))
def test_config_round_trips_and_reads_keras_configs(keras, case):
    build, shape = CASES[case]
    ours, ref = build(layers), build(keras.layers)
    config = ours.get_config()
    again = type(ours).from_config(config)
    assert again.get_config() == config
    mine = layers.deserialize({"class_name": type(ours).__name__, "config": config})
    assert type(mine) is type(ours)
    ref_config = ref.get_config()
    from_keras = type(ours).from_config(ref_config)
    for key, value in from_keras.get_config().items():
        if key in ("dtype", "name") or key.endswith(("initializer", "regularizer")):
            continue
        want = ref_config[key]
        assert (tuple(value) if isinstance(value, (list, tuple)) else value) == (
            tuple(want) if isinstance(want, (list, tuple)) else want), (case, key)
    assert set(from_keras.get_config()) <= set(ref_config)


def test_digits_convnet_summary_shapes_and_params_match_keras(keras):
    def build(L):
        return [L.Conv2D(8, 3, activation="relu", name="c1"), L.MaxPooling2D(name="p1"),
                L.Flatten(name="f"), L.Dense(10, activation="softmax", name="out")]
    ours = Sequential([layers.Input((8, 8, 1))] + build(layers), name="digits_cnn")
    ref = keras.Sequential([keras.Input((8, 8, 1))] + build(keras.layers), name="digits_cnn")
    got, want = [], []
    ours.summary(print_fn=got.append)
    ref.summary(print_fn=want.append)
    assert got == want


def test_errors_name_the_layer_and_what_was_received():
    with pytest.raises(ValueError, match=r"Conv2D: `kernel_size` must be a positive integer or a "
                                         r"tuple of 2 positive integers, received "
                                         r"kernel_size=\(3, 0\)"):
        layers.Conv2D(2, (3, 0))
    with pytest.raises(ValueError, match=r"Conv2D: `filters` must be a positive integer, "
                                         r"received filters=0"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match=r"Conv2D: `padding` must be one of \('valid', 'same'\), "
                                         r"received padding='causal'"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"strides > 1 together with dilation_rate > 1"):
        layers.Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"only data_format='channels_last'"):
        layers.MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"only groups=1"):
        layers.Conv2D(4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2D layer 'c' expects inputs shaped \(batch, size, "
                                         r"size, channels\).*received shape \(None, 8, 8\)"):
        layers.Conv2D(2, 3, name="c").build((None, 8, 8))
    with pytest.raises(ValueError, match=r"input shape \(None, 2, 2, 1\) is too small for "
                                         r"kernel_size \(3, 3\)"):
        layers.Conv2D(2, 3).build((None, 2, 2, 1))
    conv = layers.Conv2D(2, 3, name="c2")
    conv(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"Conv2D layer 'c2' expects inputs with 4 axes and 3 "
                                         r"channels, received input of shape \(1, 5, 5, 2\)"):
        conv(np.zeros((1, 5, 5, 2)))
    with pytest.raises(ValueError, match=r"Reshape layer 'r' cannot reshape input of shape "
                                         r"\(None, 6\) to \(4,\): each sample has 6 values"):
        layers.Reshape((4,), name="r")(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"only interpolation='nearest'"):
        layers.UpSampling2D(interpolation="bilinear")


# ----- fit: the digits convnet from the same weights as Keras -----

def _digits_convnet(module, Input):
    return [Input((8, 8, 1)), module.Conv2D(6, 3, activation="relu"),
            module.MaxPooling2D(), module.Conv2D(8, 2, padding="same", activation="relu"),
            module.GlobalAveragePooling2D(), module.Dense(10, activation="softmax")]


OPTIMIZERS = {"momentum": lambda opt: opt.SGD(0.05, momentum=0.9),
              "adam": lambda opt: opt.Adam(0.01)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_fit_digits_convnet_matches_keras(keras, dtype, optimizer):
    """Conv-pool-conv-global-dense on the first 192 digits (x / 16), batch 32, 2 epochs = 12
    updates (TF eager is slow); shuffle=False; Keras's initial weights."""
    digits = load_digits()
    x = (digits.data[:192] / 16.0).reshape(-1, 8, 8, 1)
    y = digits.target[:192]
    with keras_floatx(keras, dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km = keras.Sequential(_digits_convnet(keras.layers, keras.Input))
        om = Sequential(_digits_convnet(layers, layers.Input))
        om.set_weights(km.get_weights())
        compile_kw = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
        km.compile(optimizer=OPTIMIZERS[optimizer](keras.optimizers), **compile_kw)
        om.compile(optimizer=OPTIMIZERS[optimizer](our_optimizers), **compile_kw)
        kh = km.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
        oh = om.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    assert list(oh.history) == list(kh.history)
    tol = PARITY_TOL[dtype]
    history = max(max_abs_diff(oh.history[k], kh.history[k]) for k in kh.history)
    weights = max(max_abs_diff(a, b) for a, b in zip(om.get_weights(), km.get_weights()))
    print(f"\nPARITY fit digits convnet {optimizer} {dtype}: worst history diff {history:.1e}, "
          f"worst weight diff {weights:.1e}")
    assert history <= tol and weights <= tol
