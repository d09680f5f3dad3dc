"""``keras.models.clone_model`` and ``keras.utils.normalize`` against real Keras.

A clone has the original's layers (classes, names, configs, weight shapes) with weights made
afresh; after ``set_weights`` it computes what the original does. ``normalize`` divides by the
norm along an axis, a zero norm by 1.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_es
from tinygrad_es.models import clone_model

X = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")


def _sequential(K):
    return K.Sequential([K.Input((4,)), K.layers.Dense(3, activation="relu", name="hidden"),
                         K.layers.Dense(2, name="out")], name="seq")


def _functional(K):
    inputs = K.Input((4,), name="x")
    h = K.layers.Dense(3, activation="tanh", name="h")(inputs)
    out = K.layers.Concatenate(name="cat")([h, inputs])
    return K.Model(inputs, K.layers.Dense(1, name="y")(out), name="fun")


def _shape(model):
    return ([(type(layer).__name__, layer.name) for layer in model.layers],
            [tuple(w.shape) for w in model.get_weights()])


@pytest.mark.parametrize("make", [_sequential, _functional], ids=["sequential", "functional"])
def test_a_clone_is_the_same_architecture_with_new_weights_as_keras(keras, make):
    theirs, ours = make(keras), make(tinygrad_es)
    their_clone, our_clone = keras.models.clone_model(theirs), clone_model(ours)
    assert _shape(our_clone) == _shape(ours) and _shape(their_clone) == _shape(theirs)
    assert [la.name for la in our_clone.layers] == [la.name for la in their_clone.layers]
    assert our_clone.get_config() == ours.get_config()
    assert all(a is not b for a, b in zip(our_clone.weights, ours.weights))
    assert not all(np.array_equal(a, b) for a, b in zip(our_clone.get_weights(),
                                                         ours.get_weights()))   # fresh
    our_clone.set_weights(ours.get_weights())
    assert np.array_equal(our_clone.predict(X, verbose=0), ours.predict(X, verbose=0))


def test_clone_function_rebuilds_each_layer_of_a_sequential(keras):
    def wider(K):
        return lambda layer: (K.layers.Dense(layer.units + 1, name=layer.name)
                              if layer.name == "hidden" else
                              layer.__class__.from_config(layer.get_config()))

    theirs = keras.models.clone_model(_sequential(keras), clone_function=wider(keras))
    ours = clone_model(_sequential(tinygrad_es), clone_function=wider(tinygrad_es))
    assert _shape(ours) == _shape(theirs)
    with pytest.raises(ValueError, match="clone_function"):
        clone_model(_functional(tinygrad_es), clone_function=wider(tinygrad_es))


@pytest.mark.parametrize("axis, order", [(-1, 2), (1, 1), (-1, np.inf)])
def test_normalize_is_keras(keras, axis, order):
    x = np.concatenate([X, np.zeros((1, 4), "float32")])   # a zero row: divided by 1
    ours = tinygrad_es.utils.normalize(x, axis=axis, order=order)
    theirs = keras.utils.normalize(x, axis=axis, order=order)
    assert type(ours) is np.ndarray and ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)


def test_normalize_along_axis_0_divides_each_column_by_its_norm(keras):
    """Keras expands the norms at ``axis or -1``: axis=0 fails on this x (the NOTE in ours)."""
    with pytest.raises(ValueError):
        keras.utils.normalize(X, axis=0)
    ours = tinygrad_es.utils.normalize(X, axis=0)
    assert np.allclose(np.linalg.norm(ours, axis=0), 1, rtol=1e-6, atol=0)
    assert np.array_equal(ours, X / np.linalg.norm(X, axis=0)[None, :])
