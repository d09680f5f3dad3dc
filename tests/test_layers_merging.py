"""Merge layers against real Keras: values and gradients (float32 and float64), broadcasting and
ranks lined up as Keras does, the function forms, configs, and Keras's shape errors."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
from tinygrad_es import layers
from tinygrad_es.tensor import Tensor

NAMES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
DTYPES = ["float32", "float64"]
RNG = np.random.default_rng(2)


def _inputs(name, shapes=((3, 4), (3, 4), (3, 4))):
    n = 2 if name == "Subtract" else len(shapes)
    return [RNG.normal(size=s) for s in shapes[:n]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_keras(keras, tf, name, dtype):
    with keras_floatx(keras, dtype):
        arrays = [a.astype(dtype) for a in _inputs(name)]
        upstream = None
        ref_layer, ours_layer = getattr(keras.layers, name)(), getattr(layers, name)()
        variables = [tf.Variable(a) for a in arrays]
        with tf.GradientTape() as tape:
            want = ref_layer(variables)
            upstream = RNG.normal(size=want.shape).astype(dtype)
            total = tf.reduce_sum(want * upstream)
        want_grads = tape.gradient(total, variables)
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        got = ours_layer(tensors)
        (got * Tensor(upstream)).sum().backward()
        assert got.dtype == np.dtype(dtype)
        assert max_abs_diff(got.data, want.numpy()) <= PARITY_TOL[dtype]
        for t, g in zip(tensors, want_grads):
            assert max_abs_diff(t.grad, g.numpy()) <= PARITY_TOL[dtype]


@pytest.mark.parametrize("name", ["Add", "Multiply", "Maximum"])
def test_broadcasting_and_different_ranks_as_keras(keras, name):
    for shapes in [((3, 4), (3, 1)), ((3, 4), (3, 2, 4)), ((3, 1, 4), (3, 5, 1))]:
        arrays = [RNG.normal(size=s).astype("float32") for s in shapes]
        want = getattr(keras.layers, name)()(arrays)
        got = getattr(layers, name)()(arrays)
        assert got.shape == tuple(want.shape)
        assert max_abs_diff(got.data, want.numpy()) <= PARITY_TOL["float32"]


def test_concatenate_axis_and_symbolic_shapes(keras):
    a, b = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4))
    want = keras.layers.Concatenate(axis=1)([a, b])
    got = layers.Concatenate(axis=1)([a, b])
    assert max_abs_diff(got.data, want.numpy()) <= PARITY_TOL["float32"]
    ka, kb = keras.Input((3, 4)), keras.Input((5, 4))
    oa, ob = layers.Input((3, 4)), layers.Input((5, 4))
    assert layers.concatenate([oa, ob], axis=1).shape == tuple(
        keras.layers.concatenate([ka, kb], axis=1).shape)
    assert layers.add([oa, oa]).shape == tuple(keras.layers.add([ka, ka]).shape)


def test_function_forms_are_the_layers(keras):
    arrays = _inputs("Add")
    for fn in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"):
        args = arrays[:2] if fn == "subtract" else arrays
        want = getattr(keras.layers, fn)(args)
        got = getattr(layers, fn)(args)
        assert max_abs_diff(got.data, want.numpy()) <= PARITY_TOL["float32"], fn


@pytest.mark.parametrize("name", NAMES)
def test_config_matches_keras_and_round_trips(keras, name):
    kwargs = {"axis": 1} if name == "Concatenate" else {}
    ref = getattr(keras.layers, name)(name="m", **kwargs)
    ours = getattr(layers, name)(name="m", **kwargs)
    want = {k: v for k, v in ref.get_config().items() if k != "dtype"}
    got = {k: v for k, v in ours.get_config().items() if k != "dtype"}
    assert got == want
    ours([np.ones((2, 3)), np.ones((2, 3))])
    again = layers.deserialize(layers.serialize(ours))
    assert type(again) is type(ours) and again.built and again.get_config() == ours.get_config()
    assert layers.LAYERS[name] is type(ours)


def test_shape_errors_say_what_keras_says(keras):
    cases = [
        (lambda L: L.Add()([np.ones((2, 3)), np.ones((2, 4))]), "Inputs have incompatible shapes"),
        (lambda L: L.Subtract()([np.ones((2, 3))] * 3), "exactly 2 inputs"),
        (lambda L: L.Concatenate()([np.ones((2, 3, 1)), np.ones((2, 4, 1))]),
         "requires inputs with matching shapes except for the concatenation axis"),
        (lambda L: L.Add().build((None, 3)), "should be called on a list of inputs"),
    ]
    for make, message in cases:
        for lib in (keras.layers, layers):
            with pytest.raises(ValueError, match=message):
                make(lib)
