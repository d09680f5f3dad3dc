"""``activity_regularizer`` against real Keras: the penalty on a layer's output, divided by the
batch size, added to the loss at each call (Keras 3's ``Layer.__call__``); in ``layer.losses``,
in ``fit``'s loss and weights, in the config and in ``.keras`` files both ways.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PARITY_TOL, Reg, keras_and_ours, keras_floatx, max_abs_diff
import tinygrad_es
from tinygrad_es import layers as L
from tinygrad_es.models import load_model

RNG = np.random.default_rng(5)
X = RNG.normal(size=(16, 4))
Y = RNG.normal(size=(16, 2))
DTYPES = ["float32", "float64"]
REGS = [Reg("L1", l1=0.02), Reg("L2", l2=0.05), Reg("L1L2", l1=0.01, l2=0.03)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reg", REGS, ids=lambda r: r.class_name)
def test_the_penalty_of_a_call_is_keras(keras, dtype, reg):
    with keras_floatx(keras, dtype):
        for name, make in (
                ("Dense", lambda K: K.layers.Dense(
                    3, activity_regularizer=reg.build(K.regularizers))),
                ("Conv1D", lambda K: K.layers.Conv1D(2, 2, activity_regularizer=reg.build(
                    K.regularizers)))):
            theirs, ours = make(keras), make(tinygrad_es)
            x = X if name == "Dense" else X[..., None]
            theirs(x[:2]), ours(x[:2])
            ours.set_weights(theirs.get_weights())
            theirs(x), ours(x)   # the losses of the last call only
            assert len(ours.losses) == len(theirs.losses) == 1
            diff = abs(float(ours.losses[0].data) - float(theirs.losses[0]))
            assert diff <= PARITY_TOL[dtype] * abs(float(theirs.losses[0])), (name, diff)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_activity_penalties_matches_keras(keras, dtype):
    spec = [(6, "tanh", {"activity_regularizer": Reg("L2", l2=0.05)}),
            (2, None, {"activity_regularizer": Reg("L1", l1=0.02)})]
    with keras_floatx(keras, dtype):
        km, om = keras_and_ours(keras, spec, 4)
        for model, K in ((km, keras), (om, tinygrad_es)):
            model.compile(optimizer=K.optimizers.SGD(0.05, momentum=0.9), loss="mse")
        kh = km.fit(X, Y, epochs=3, batch_size=5, shuffle=False, verbose=0).history["loss"]
        oh = om.fit(X, Y, epochs=3, batch_size=5, shuffle=False, verbose=0).history["loss"]
        loss_diff = max_abs_diff(oh, kh)
        weight_diff = max(max_abs_diff(a, b) for a, b in zip(om.get_weights(), km.get_weights()))
        print(f"\nPARITY activity_regularizer fit {dtype}: loss {loss_diff:.1e}, "
              f"weights {weight_diff:.1e}")
        assert loss_diff <= PARITY_TOL[dtype] and weight_diff <= PARITY_TOL[dtype]
        assert "activity regularizer" in om._jit_reason   # (fit trains such a model eagerly)


def test_config_and_keras_files_keep_it_both_ways(tmp_path, keras):
    ours = tinygrad_es.Sequential([L.Input((4,)), L.Dense(
        3, activity_regularizer=tinygrad_es.regularizers.L1L2(l1=0.01, l2=0.03))])
    again = L.Dense.from_config(ours.layers[0].get_config())
    original = ours.layers[0].activity_regularizer
    assert again.activity_regularizer.get_config() == original.get_config()
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    reg = theirs.layers[0].activity_regularizer
    assert type(reg).__name__ == "L1L2" and reg.get_config() == pytest.approx(
        {"l1": 0.01, "l2": 0.03})
    theirs.save(tmp_path / "theirs.keras")
    back = load_model(tmp_path / "theirs.keras")
    assert back.layers[0].activity_regularizer.get_config() == pytest.approx(
        {"l1": 0.01, "l2": 0.03})
    back(X[:3].astype("float32")), theirs(X[:3].astype("float32"))
    assert abs(float(back.losses[0].data) - float(theirs.losses[0])) <= 1e-6
