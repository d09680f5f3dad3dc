"""pad_sequences and split_dataset against Keras's own outputs."""

from __future__ import annotations

import random

import numpy as np
import pytest

import tinygrad_es as ours
from tinygrad_es.utils import pad_sequences, split_dataset

SEQS = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10]]


@pytest.mark.parametrize("kw", [
    {}, {"maxlen": 3}, {"padding": "post"}, {"truncating": "post", "maxlen": 2},
    {"padding": "post", "truncating": "pre", "maxlen": 4, "value": -1},
    {"dtype": "float32", "value": 0.5},
])
def test_pad_sequences_matches_keras(keras, kw):
    expected = keras.utils.pad_sequences(SEQS, **kw)
    got = pad_sequences(SEQS, **kw)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    legacy = ours.preprocessing.sequence.pad_sequences(SEQS, **kw)
    assert np.array_equal(legacy, keras.preprocessing.sequence.pad_sequences(SEQS, **kw))


def test_pad_sequences_of_vectors_and_strings_match_keras(keras):
    vectors = [np.ones((2, 3)), np.arange(9.0).reshape(3, 3)]
    assert np.array_equal(pad_sequences(vectors, dtype="float32"),
                          keras.utils.pad_sequences(vectors, dtype="float32"))
    words = [["a", "bb"], ["ccc"]]
    assert np.array_equal(pad_sequences(words, dtype=object, value=""),
                          keras.utils.pad_sequences(words, dtype=object, value=""))


@pytest.mark.parametrize("kw", [{"padding": "middle"}, {"truncating": "x"},
                                {"value": "pad"}])
def test_pad_sequences_refuses_what_keras_refuses(keras, kw):
    with pytest.raises(ValueError) as k_err:
        keras.utils.pad_sequences(SEQS, **kw)
    with pytest.raises(ValueError) as o_err:
        pad_sequences(SEQS, **kw)
    assert str(o_err.value) == str(k_err.value)
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([[1], 2])


def _keras_split(keras, data, **kw):
    left, right = keras.utils.split_dataset(data, **kw)
    return [np.stack([np.asarray(t) for t in side.as_numpy_iterator()]) if not isinstance(
        data, tuple) else tuple(np.stack(c) for c in zip(*side.as_numpy_iterator()))
        for side in (left, right)]


@pytest.mark.parametrize("kw", [
    {"left_size": 0.6}, {"right_size": 3}, {"left_size": 4, "right_size": 3},
    {"left_size": 0.5, "shuffle": True, "seed": 7}, {"right_size": 0.25, "shuffle": True,
                                                     "seed": 1},
])
def test_split_dataset_takes_the_rows_keras_takes(keras, kw):
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) * 10
    k_left, k_right = _keras_split(keras, (x, y), **kw)
    o_left, o_right = split_dataset((x, y), **kw)
    for ours_side, keras_side in ((o_left, k_left), (o_right, k_right)):
        assert isinstance(ours_side, tuple) and len(ours_side) == 2
        assert all(np.array_equal(a, b) for a, b in zip(ours_side, keras_side))
    k_left, _ = _keras_split(keras, x, **kw)
    o_left, _ = split_dataset(x, **kw)
    assert isinstance(o_left, np.ndarray) and np.array_equal(o_left, k_left)


def test_split_dataset_shuffle_uses_pythons_seeded_random_as_keras(keras):
    random.seed(0)
    a = split_dataset(np.arange(8), left_size=4, shuffle=True)
    random.seed(0)
    b = split_dataset(np.arange(8), left_size=4, shuffle=True)
    assert np.array_equal(a[0], b[0]) and sorted(np.concatenate(a)) == list(range(8))


@pytest.mark.parametrize("kw", [{}, {"left_size": 0, "right_size": 0}, {"left_size": 1.5},
                                {"left_size": 0.7, "right_size": 0.5},
                                {"left_size": 6, "right_size": 6}, {"left_size": "half"}])
def test_split_dataset_refuses_what_keras_refuses(keras, kw):
    x = np.arange(10.0)
    with pytest.raises((ValueError, TypeError)) as k_err:
        keras.utils.split_dataset(x, **kw)
    with pytest.raises(type(k_err.value)) as o_err:
        split_dataset(x, **kw)
    assert str(o_err.value).split(".")[0] == str(k_err.value).split(".")[0]


def test_split_halves_train_a_model():
    (x_train, y_train), (x_val, y_val) = split_dataset(
        (np.linspace(-1, 1, 20)[:, None], np.linspace(-1, 1, 20)[:, None] * 2), left_size=0.8)
    model = ours.Sequential([ours.layers.Dense(1)])
    model.compile(optimizer=ours.optimizers.SGD(0.5), loss="mse")
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=20, verbose=0)
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
