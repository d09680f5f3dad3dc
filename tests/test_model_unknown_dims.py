"""Inputs with unknown dimensions besides the batch (``keras.Input(shape=(None,))``: sequences of
any length), as Keras's functional guide uses them: the symbolic shapes say None where Keras does,
and the model runs on data of any length with Keras's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, keras_floatx, max_abs_diff
import tinygrad_es
from tinygrad_es.models.symbolic import KerasTensor


def _sequence_model(K):
    tokens = K.Input(shape=(None,), name="tokens")
    extra = K.Input(shape=(3,), name="extra")
    x = K.layers.Embedding(20, 4)(tokens)
    x = K.layers.Dense(5, activation="tanh")(x)              # per time step
    pooled = K.layers.GlobalAveragePooling1D()(x)
    out = K.layers.Dense(2)(K.layers.concatenate([pooled, extra]))
    return K.Model([tokens, extra], out), x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unknown_sequence_length_as_keras(keras, dtype):
    with keras_floatx(keras, dtype):
        keras.backend.clear_session()
        tinygrad_es.backend.clear_session()
        ref, ref_steps = _sequence_model(keras)
        ours, our_steps = _sequence_model(tinygrad_es)
        assert isinstance(our_steps, KerasTensor)
        assert tuple(our_steps.shape) == tuple(ref_steps.shape) == (None, None, 5)
        assert ours.output_shape == tuple(ref.output_shape)
        ours.set_weights(ref.get_weights())
        rng = np.random.default_rng(0)
        for length in (1, 7, 12):                              # one model, any length
            data = [rng.integers(0, 20, size=(6, length)), rng.normal(size=(6, 3)).astype(dtype)]
            got = ours.predict(data, verbose=0)
            want = np.asarray(ref.predict(data, verbose=0))
            assert max_abs_diff(got, want) <= PARITY_TOL[dtype], length


def test_unknown_dimension_is_accepted_only_where_keras_does():
    assert tinygrad_es.Input(shape=(None, 3)).shape == (None, None, 3)
    with pytest.raises(ValueError, match="positive integers"):
        tinygrad_es.Input(shape=(0,))
    with pytest.raises(ValueError, match="positive integers"):
        tinygrad_es.Input(shape=("a",))
