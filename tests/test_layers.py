"""Layers against real Keras given the same weights: forward values and gradients
(tf.GradientTape) in float32 and float64, regularization penalties, configs, names and errors."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import layers, regularizers
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import clear_session

DTYPES = ["float32", "float64"]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(7, 4)) * 2.0
UPSTREAM = RNG.normal(size=(7, 3))


def _weights(dtype: str, use_bias: bool = True) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    ws = [rng.normal(size=(4, 3)).astype(dtype)]
    return ws + [rng.normal(size=(3,)).astype(dtype)] if use_bias else ws


def _keras_forward_and_grads(tf, layer, x, upstream, weights):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt)
        loss = tf.reduce_sum(out * tf.constant(upstream, dtype=out.dtype))
    grads = tape.gradient(loss, [xt] + list(layer.trainable_weights))
    return out.numpy(), [g.numpy() for g in grads]


def _our_forward_and_grads(layer, x, upstream):
    xt = Tensor(x, requires_grad=True)
    out = layer(xt)
    (out * upstream).sum().backward()
    return out.data, [xt.grad] + [w.grad for w in layer.trainable_weights]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [None, "sigmoid", "relu", "softmax", "selu", "tanh", "elu"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_forward_and_gradients_match_keras(tf, keras, dtype, activation, use_bias):
    tol = PARITY_TOL[dtype]
    weights, x = _weights(dtype, use_bias), X.astype(dtype)
    with keras_floatx(keras, dtype):
        ref_layer = keras.layers.Dense(3, activation=activation, use_bias=use_bias)
        ref_layer.build((None, 4))
        ref_layer.set_weights(weights)
        ref_out, ref_grads = _keras_forward_and_grads(tf, ref_layer, x, UPSTREAM, weights)
        ours = layers.Dense(3, activation=activation, use_bias=use_bias)
        ours.build((None, 4))
        ours.set_weights(weights)
        out, grads = _our_forward_and_grads(ours, x, UPSTREAM)
    assert out.dtype == np.dtype(dtype) and ours.kernel.dtype == np.dtype(dtype)
    assert max_abs_diff(out, ref_out) <= tol
    assert len(grads) == len(ref_grads) == 2 + use_bias
    for g, r in zip(grads, ref_grads):
        assert max_abs_diff(g, r) <= tol * max(1.0, np.abs(r).max())


ACTIVATION_LAYERS = [
    ("ReLU", {}), ("ReLU", {"max_value": 1.0}), ("ReLU", {"negative_slope": 0.1}),
    ("ReLU", {"threshold": 0.5}), ("ReLU", {"max_value": 6.0, "negative_slope": 0.2}),
    ("ReLU", {"max_value": 2.0, "negative_slope": 0.3, "threshold": 0.4}),
    ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.05}), ("ELU", {}),
    ("ELU", {"alpha": 0.5}),
    ("Softmax", {}), ("Softmax", {"axis": 0}), ("Activation", {"activation": "softplus"}),
    ("Activation", {"activation": "gelu"}), ("Flatten", {}), ("Dropout", {"rate": 0.5}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls_name, kwargs", ACTIVATION_LAYERS)
def test_weightless_layers_match_keras(tf, keras, dtype, cls_name, kwargs):
    x = np.concatenate([X, [[0.0, 0.5, -0.5, 6.0]]]).astype(dtype)   # kinks included
    up = np.resize(UPSTREAM, x.shape)
    with keras_floatx(keras, dtype):
        ref_out, ref_grads = _keras_forward_and_grads(
            tf, getattr(keras.layers, cls_name)(**kwargs), x, up, [])
        out, grads = _our_forward_and_grads(getattr(layers, cls_name)(**kwargs), x, up)
    assert out.dtype == np.dtype(dtype)
    assert max_abs_diff(out, ref_out) <= PARITY_TOL[dtype]
    assert max_abs_diff(grads[0], ref_grads[0]) <= PARITY_TOL[dtype]


@pytest.mark.parametrize("ours, name", [(layers.Sigmoid, "sigmoid"), (layers.Tanh, "tanh"),
                                        (layers.SELU, "selu")])
def test_shorthand_activation_layers_equal_keras_activation(keras, ours, name):
    ref = keras.layers.Activation(name)(X.astype("float32")).numpy()
    assert max_abs_diff(ours()(X), ref) <= PARITY_TOL["float32"]
    config = ours().get_config()
    assert config["name"].startswith(name) and "activation" not in config


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_matches_keras(tf, keras, dtype):
    alpha = np.array([0.1, 0.5, -0.2, 2.0], dtype)
    x = X.astype(dtype)
    up = np.resize(UPSTREAM, x.shape)
    with keras_floatx(keras, dtype):
        ref = keras.layers.PReLU()
        ref.build((None, 4))
        ref.set_weights([alpha])
        ref_out, ref_grads = _keras_forward_and_grads(tf, ref, x, up, [alpha])
        ours = layers.PReLU()
        ours.build((None, 4))
        ours.set_weights([alpha])
        out, grads = _our_forward_and_grads(ours, x, up)
    assert max_abs_diff(out, ref_out) <= PARITY_TOL[dtype]
    for g, r in zip(grads, ref_grads):
        assert max_abs_diff(g, r) <= PARITY_TOL[dtype]


def test_dropout_trains_only_and_scales_as_keras(keras):
    x = np.ones((200, 50), np.float32)
    drop = layers.Dropout(0.3, seed=1)
    assert drop(x) .data is not None and np.array_equal(drop(x).data, x)   # inference: identity
    out = drop(x, training=True).data
    ref = keras.layers.Dropout(0.3, seed=1)(x, training=True).numpy()
    assert set(np.unique(out)) == set(np.unique(ref))                     # {0, 1/(1-0.3)}
    assert abs((out == 0).mean() - 0.3) < 0.02
    again = layers.Dropout(0.3, seed=1)(x, training=True).data
    assert np.array_equal(out, again)                                     # seeded: repeats
    assert not np.array_equal(out, drop(x, training=True).data)           # fresh mask per call
    rows = layers.Dropout(0.5, noise_shape=(None, 1), seed=0)(x, training=True).data
    assert all(len(np.unique(r)) == 1 for r in rows)                      # whole rows dropped
    assert np.array_equal(layers.Dropout(1.0)(x, training=True).data, np.zeros_like(x))
    with pytest.raises(ValueError, match="rate=1.5"):
        layers.Dropout(1.5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel_reg, bias_reg", [("l2", None), ("l1", "l2"),
                                                  (regularizers.L1L2(0.01, 0.02), "l1")])
def test_regularization_penalties_match_keras(tf, keras, dtype, kernel_reg, bias_reg):
    weights = _weights(dtype)
    keras_kernel_reg = (kernel_reg if isinstance(kernel_reg, str) else
                        keras.regularizers.L1L2(0.01, 0.02))
    with keras_floatx(keras, dtype):
        ref = keras.layers.Dense(3, kernel_regularizer=keras_kernel_reg, bias_regularizer=bias_reg)
        ref.build((None, 4))
        ref.set_weights(weights)
        with tf.GradientTape() as tape:
            ref_losses = ref.losses
            ref_total = tf.add_n(ref_losses)
        ref_grads = tape.gradient(ref_total, ref.trainable_weights)
        ours = layers.Dense(3, kernel_regularizer=kernel_reg, bias_regularizer=bias_reg)
        ours.build((None, 4))
        ours.set_weights(weights)
        losses = ours.losses
    assert len(losses) == len(ref_losses)
    for ours_loss, ref_loss in zip(losses, ref_losses):
        assert ours_loss.dtype == np.dtype(dtype)
        assert max_abs_diff(ours_loss.data, ref_loss.numpy()) <= PARITY_TOL[dtype]
    total = losses[0]
    for extra in losses[1:]:
        total = total + extra
    total.backward()
    for w, r in zip(ours.trainable_weights, ref_grads):
        if r is None:  # no penalty on this weight
            assert w.grad is None
        else:
            assert max_abs_diff(w.grad, r.numpy()) <= PARITY_TOL[dtype]


def test_frozen_layers_have_no_penalty_as_in_keras(keras):
    ref = keras.layers.Dense(2, kernel_regularizer="l2", trainable=False)
    ref.build((None, 3))
    ours = layers.Dense(2, kernel_regularizer="l2", trainable=False)
    ours.build((None, 3))
    assert len(ours.losses) == len(ref.losses) == 0
    ours.trainable = True
    assert len(ours.losses) == 1 and ours.losses[0].requires_grad


def test_configs_match_keras(keras):
    ours = layers.Dense(5, activation="relu", use_bias=False, kernel_initializer="he_normal",
                        kernel_regularizer="l2", name="d")
    ref = keras.layers.Dense(5, activation="relu", use_bias=False,
                             kernel_initializer="he_normal", kernel_regularizer="l2", name="d")
    ours_cfg, ref_cfg = ours.get_config(), ref.get_config()
    assert set(ours_cfg) <= set(ref_cfg)
    for key in ("name", "trainable", "units", "activation", "use_bias", "bias_regularizer"):
        assert ours_cfg[key] == ref_cfg[key], key
    for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer"):
        assert ours_cfg[key]["class_name"] == ref_cfg[key]["class_name"]
        assert ours_cfg[key]["config"] == ref_cfg[key]["config"]
    assert ours_cfg["dtype"] == ref_cfg["dtype"]["config"]["name"]
    # A Keras layer config builds the same layer here.
    from_keras = layers.Dense.from_config(ref_cfg)
    assert from_keras.get_config() == ours_cfg
    for cls_name, kwargs in ACTIVATION_LAYERS + [("PReLU", {})]:
        ref_cfg = getattr(keras.layers, cls_name)(**kwargs).get_config()
        ours_cfg = getattr(layers, cls_name).from_config(ref_cfg).get_config()
        assert _plain({k: v for k, v in ref_cfg.items() if k in ours_cfg}) == _plain(ours_cfg)


def _plain(config):
    """A config without the parts that name the library (module paths, DTypePolicy wrapper)."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return config["config"]["name"]
        return {k: _plain(v) for k, v in config.items() if k != "module"}
    return config


def test_automatic_names_follow_keras(keras):
    clear_session()
    keras.utils.clear_session()
    ours = [layers.Dense(1), layers.Dense(1), layers.ReLU(), layers.LeakyReLU(), layers.PReLU(),
            layers.Dense(1, name="mine"), layers.Dense(1), layers.InputLayer(shape=(2,))]
    ref = [keras.layers.Dense(1), keras.layers.Dense(1), keras.layers.ReLU(),
           keras.layers.LeakyReLU(), keras.layers.PReLU(), keras.layers.Dense(1, name="mine"),
           keras.layers.Dense(1), keras.layers.InputLayer(shape=(2,))]
    assert [layer.name for layer in ours] == [layer.name for layer in ref]


def test_weights_are_named_tensors_that_require_grad():
    dense = layers.Dense(3, name="hidden")
    assert dense.weights == [] and not dense.built
    y = dense(np.ones((2, 4)))
    assert dense.built and y.shape == (2, 3) and y.requires_grad
    assert [w.name for w in dense.weights] == ["hidden/kernel", "hidden/bias"]
    assert all(w.requires_grad for w in dense.weights)
    assert dense.count_params() == 15 and dense.output_shape == (None, 3)
    assert dense(np.ones((2, 4), np.float64)).dtype == np.float32      # inputs cast, as Keras
    assert dense([[1, 2, 3, 4]]).dtype == np.float32
    dense.trainable = False
    assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2
    assert not any(w.requires_grad for w in dense.weights)


def test_layer_errors_say_what_was_received():
    with pytest.raises(ValueError, match="units=0"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="units=2.5"):
        layers.Dense(2.5)
    with pytest.raises(ValueError, match="Unknown activation 'sigmoyd'.*sigmoid"):
        layers.Dense(2, activation="sigmoyd")
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Dense"):
        layers.Dense(2, unit=3)
    dense = layers.Dense(2, name="dense_x")
    dense.build((None, 4))
    with pytest.raises(ValueError, match=r"Dense layer 'dense_x' expects 4 input features, "
                                         r"received input of shape \(10, 3\)"):
        dense(np.ones((10, 3)))
    with pytest.raises(ValueError, match="layer 'dense_x' with a weight list of length 1, but the "
                                         r"layer was expecting 2 weights, of shapes \[\(4, 2\), "):
        dense.set_weights([np.ones((4, 2))])
    with pytest.raises(ValueError, match=r"'dense_x/bias' has shape \(2,\), but set_weights "
                                         r"received shape \(3,\)"):
        dense.set_weights([np.ones((4, 2)), np.ones(3)])
    with pytest.raises(ValueError, match="isn't built"):
        layers.Dense(2).count_params()
    with pytest.raises(ValueError, match="numeric input"):
        dense([["a", "b", "c", "d"]])
    with pytest.raises(ValueError, match="max_value=-1"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="Unknown layer class 'Dens'.*Dense"):
        layers.deserialize({"class_name": "Dens", "config": {}})
    with pytest.raises(ValueError, match="constraint"):
        layers.Dense(2, kernel_constraint="non_neg")


def test_set_weights_is_all_or_nothing():
    dense = layers.Dense(2)
    dense.build((None, 3))
    before = dense.get_weights()
    with pytest.raises(ValueError):
        dense.set_weights([np.zeros((3, 2)), np.zeros(5)])
    assert all(np.array_equal(a, b) for a, b in zip(before, dense.get_weights()))
