"""BatchNormalization and LayerNormalization against real Keras: forward in training and
inference mode and gradients (input and every weight, penalties included) from the same
weights; BatchNormalization's moving statistics after several training calls; configs, errors;
a short ``fit`` of a Sequential with BatchNormalization; gradcheck of the composite backward.

Run with ``-s`` to see the worst differences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import layers
from tinygrad_es import optimizers as our_optimizers
from tinygrad_es.gradcheck import floatx_as, gradcheck
from tinygrad_es.layers.normalization import _moments, _normalize
from tinygrad_es.models import Sequential
from tinygrad_es.tensor import Tensor

DTYPES = ["float32", "float64"]

# name: (the layer built from a `layers` module, the input shape of one batch)
CASES = {
    "batchnorm dense": (lambda L: L.BatchNormalization(), (6, 4)),
    "batchnorm image momentum regularized": (
        lambda L: L.BatchNormalization(momentum=0.9, epsilon=1e-2, gamma_regularizer="l2",
                                       beta_initializer="ones"), (3, 4, 5, 2)),
    "batchnorm axis 1 no scale": (lambda L: L.BatchNormalization(axis=1, scale=False),
                                  (4, 3, 5)),
    "batchnorm no center": (lambda L: L.BatchNormalization(center=False,
                                                           moving_variance_initializer="zeros"),
                            (5, 3)),
    "layernorm": (lambda L: L.LayerNormalization(), (4, 6)),
    "layernorm axes 1 2 regularized": (
        lambda L: L.LayerNormalization(axis=[1, 2], epsilon=1e-5, beta_regularizer="l1"),
        (3, 4, 5)),
    "layernorm axis 1 of 3": (lambda L: L.LayerNormalization(axis=1, center=False), (3, 4, 2)),
    "layernorm rms_scaling": (lambda L: L.LayerNormalization(rms_scaling=True), (4, 5)),
}


def _build(module, build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rms_scaling's deprecation warning, in both
        return build(module)


def _pair(keras, build, input_shape, rng):
    """The layer in Keras and here, both built; random weights (moving ones too) in both."""
    ref, ours = _build(keras.layers, build), _build(layers, build)
    ref.build(input_shape)
    ours.build((None,) + tuple(input_shape[1:]))
    dtype = ref.weights[0].dtype
    weights = [rng.uniform(0.5, 1.5, size=w.shape).astype(dtype) for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)
    return ours, ref


def _compare(got_want, tol, label):
    worst = []
    for name, got, want in got_want:
        # NOTE: reductions summed in another order than TF's Eigen: the budget is the tolerance
        # relative to the largest value (as tests/test_layers_conv.py).
        scale = max(1.0, float(np.abs(want).max()))
        diff = max_abs_diff(got, want)
        worst.append(f"{name} {diff:.1e}")
        assert diff <= tol * scale, (label, name, diff, scale)
    print(f"\nPARITY {label}: " + ", ".join(worst))


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_forward_and_gradients_match_keras(tf, keras, dtype, case, training):
    build, shape = CASES[case]
    rng = np.random.default_rng(0)
    with keras_floatx(keras, dtype):
        ours, ref = _pair(keras, build, shape, rng)
        x = rng.normal(1.0, 2.0, size=shape).astype(dtype)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            ref_out = ref(xt, training=training)
            up = rng.uniform(0.5, 1.5, size=ref_out.shape).astype(dtype)
            ref_loss = tf.reduce_sum(ref_out * up) + sum(ref.losses)
        ref_grads = tape.gradient(ref_loss, [xt] + list(ref.trainable_weights))
        leaf = Tensor(x, requires_grad=True, dtype=dtype)
        out = ours(leaf, training=training)
        loss = (out * up).sum()
        for penalty in ours.losses:
            loss = loss + penalty
        loss.backward()
    assert len(ours.losses) == len(ref.losses) and len(ours.weights) == len(ref.weights)
    assert [w.name.split("/")[-1] for w in ours.weights] == [w.name for w in ref.weights]
    assert out.dtype == np.dtype(dtype) and out.shape == tuple(ref_out.shape)
    assert (tuple(ours.compute_output_shape((None,) + shape[1:])) ==
            tuple(ref.compute_output_shape((None,) + shape[1:])))
    pairs = [("out", out.data, ref_out.numpy()), ("dx", leaf.grad, ref_grads[0].numpy())]
    pairs += [(w.name, w.grad, g.numpy()) for w, g in zip(ours.trainable_weights, ref_grads[1:])]
    pairs += [(f"{w.name} after", a, b) for w, a, b in zip(ours.weights, ours.get_weights(),
                                                           ref.get_weights())]  # moving stats
    _compare(pairs, PARITY_TOL[dtype], f"{case} {dtype} training={training}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_moving_statistics_after_several_training_calls_match_keras(tf, keras, dtype):
    """Five training calls on different batches, one inference call in between (no update), and
    a frozen layer (trainable=False: inference mode, no update), as Keras."""
    rng = np.random.default_rng(1)
    with keras_floatx(keras, dtype):
        ours, ref = _pair(keras, lambda L: L.BatchNormalization(momentum=0.8), (5, 3), rng)
        for step in range(5):
            x = rng.normal(step, 1.0 + step, size=(5, 3)).astype(dtype)
            ref(x, training=True)
            ours(x, training=True)
            if step == 2:
                _compare([("inference", ours(x).data, ref(x).numpy())], PARITY_TOL[dtype],
                         f"batchnorm between updates {dtype}")
        ours.trainable = ref.trainable = False
        frozen = [ours(x, training=True).data, ref(x, training=True).numpy()]
    _compare([(w.name, a, b) for w, a, b in zip(ours.weights, ours.get_weights(),
                                                ref.get_weights())]
             + [("frozen out", *frozen)], PARITY_TOL[dtype], f"moving statistics {dtype}")
    assert ours.trainable_weights == [] and len(ours.non_trainable_weights) == 4


def _net(L, Input):
    return [Input((4,)), L.Dense(6, activation="relu"), L.BatchNormalization(momentum=0.9),
            L.Dense(5), L.LayerNormalization(), L.Dense(1, activation="sigmoid")]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_batchnorm_matches_keras(keras, dtype):
    """Dense-BN-Dense-LN-Dense on 48 rows, batch 16, 3 epochs (9 updates), Adam, shuffle=False:
    losses per epoch, weights and moving statistics; then predict (inference mode)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(48, 4))
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(float)
    with keras_floatx(keras, dtype):
        km = keras.Sequential(_net(keras.layers, keras.Input))
        om = Sequential(_net(layers, layers.Input))
        om.set_weights(km.get_weights())
        km.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
        om.compile(optimizer=our_optimizers.Adam(0.01), loss="binary_crossentropy")
        kh = km.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        oh = om.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        predictions = (om.predict(x, verbose=0), km.predict(x, verbose=0))
    tol = PARITY_TOL[dtype]
    history = max_abs_diff(oh.history["loss"], kh.history["loss"])
    weights = max(max_abs_diff(a, b) for a, b in zip(om.get_weights(), km.get_weights()))
    predict = max_abs_diff(*predictions)
    print(f"\nPARITY fit batchnorm {dtype}: loss {history:.1e}, weights {weights:.1e}, "
          f"predict {predict:.1e}")
    assert len(om.get_weights()) == len(km.get_weights())
    assert history <= tol and weights <= tol and predict <= tol


# ----- configs and errors -----

@pytest.mark.parametrize("case", list(CASES))
def test_config_round_trips_and_reads_keras_configs(keras, case):
    build, shape = CASES[case]
    ours, ref = _build(layers, build), _build(keras.layers, build)
    ours.build((None,) + shape[1:])
    ref.build((None,) + shape[1:])
    config = ours.get_config()
    again = _build(type(ours), lambda cls: cls.from_config(config))
    assert again.get_config() == config
    mine = _build(layers, lambda L: L.deserialize({"class_name": type(ours).__name__,
                                                   "config": config}))
    assert type(mine) is type(ours)
    ref_config = ref.get_config()
    from_keras = _build(type(ours), lambda cls: cls.from_config(ref_config))
    from_keras.build((None,) + shape[1:])
    for key, value in from_keras.get_config().items():
        if key in ("dtype", "name") or key.endswith(("initializer", "regularizer")):
            continue
        assert value == ref_config[key], (case, key)
    assert set(from_keras.get_config()) <= set(ref_config)


def test_rms_scaling_warns_as_keras():
    with pytest.warns(UserWarning, match="`rms_scaling=True`, which is deprecated"):
        layers.LayerNormalization(rms_scaling=True)


def test_errors_name_the_layer_and_what_was_received():
    with pytest.raises(ValueError, match=r"Axis 2 is out of bounds for input shape \(None, 3\)"):
        layers.BatchNormalization(axis=2).build((None, 3))
    with pytest.raises(ValueError, match=r"Axis -3 is out of bounds"):
        layers.LayerNormalization(axis=-3)(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"BatchNormalization: `axis` must be an int"):
        layers.BatchNormalization(axis=[1, 2])
    with pytest.raises(TypeError, match=r"Expected an int or a list/tuple of ints"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match=r"renorm=True .* is not supported"):
        layers.BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match=r"`gamma_constraint` is not supported"):
        layers.LayerNormalization(gamma_constraint="non_neg")
    bn = layers.BatchNormalization(name="bn")
    bn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"BatchNormalization layer 'bn' was built for inputs "
                                         r"shaped \(None, 3\), received input of shape \(2, 4\)"):
        bn(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"needs a known size along axis 1"):
        layers.LayerNormalization(axis=1).build((None, None, 3))


# ----- gradcheck of the composite (float64, central differences) -----

@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), data=st.data())
def test_normalization_backward_gradchecks(shape, data):
    rank = len(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, rank - 1), min_size=1))))
    param_shape = tuple(n if d not in axes else 1 for d, n in enumerate(shape))
    rng = np.random.default_rng(len(shape))
    x = rng.normal(size=shape)
    gamma, beta = rng.uniform(0.5, 1.5, param_shape), rng.normal(size=param_shape)

    def fn(x, gamma, beta):
        return _normalize(x, *_moments(x, axes), 1e-3, gamma, beta)

    assert gradcheck(fn, x, gamma, beta, atol=1e-6, rtol=1e-5)


def test_layers_gradcheck_in_training_mode():
    rng = np.random.default_rng(3)
    with floatx_as("float64"):
        bn, ln = layers.BatchNormalization(), layers.LayerNormalization(axis=[1, 2])
        for layer, shape in ((bn, (4, 3)), (ln, (2, 3, 2))):
            layer.build((None,) + shape[1:])
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in layer.weights])
            assert gradcheck(lambda x, layer=layer: layer(x, training=True),
                             rng.normal(size=shape), atol=1e-6, rtol=1e-5)
