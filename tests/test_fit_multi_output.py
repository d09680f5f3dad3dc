"""Models with several inputs and outputs in the training loop: the same functional model
(a shared Dense trunk, a linear head and a sigmoid head; one or two inputs; outputs as a list or a
dict) built with Keras and with tinygrad_es, Keras's weights copied into ours.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx, max_abs_diff

import tinygrad_es
from tinygrad_es import optimizers

RNG = np.random.default_rng(3)
X = RNG.normal(size=(10, 3)).astype("float32")
Y_REG = RNG.normal(size=(10, 1)).astype("float32")
Y_CLS = (RNG.random((10, 1)) > 0.5).astype("float32")
SW = np.linspace(0.5, 2.0, 10).astype("float32")


def _functional(keras, as_dict=False, two_inputs=False):
    if two_inputs:
        left, right = keras.Input((2,), name="left"), keras.Input((1,), name="right")
        inputs = {"left": left, "right": right}
        h = keras.layers.Concatenate()([left, right])
    else:
        inputs = h = keras.Input((3,), name="inp")
    h = keras.layers.Dense(4, activation="tanh", name="trunk")(h)
    reg = keras.layers.Dense(1, name="reg")(h)
    cls = keras.layers.Dense(1, activation="sigmoid", name="cls")(h)
    return keras.Model(inputs, {"a": reg, "b": cls} if as_dict else [reg, cls])


def _pair(keras, compile_kw, **kw):
    km, om = _functional(keras, **kw), _functional(tinygrad_es, **kw)
    om.set_weights(km.get_weights())   # same order: trunk, reg, cls (kernel, bias each)
    km.compile(optimizer=keras.optimizers.SGD(0.1), **compile_kw)
    om.compile(optimizer=optimizers.SGD(0.1), **compile_kw)
    return km, om


def _same_history(kh, oh, tol):
    assert list(oh.history) == list(kh.history)
    for key in kh.history:
        assert max_abs_diff(oh.history[key], kh.history[key]) <= tol, key


LIST_COMPILE = {"loss": ["mse", "binary_crossentropy"], "loss_weights": [1.0, 0.5],
                "metrics": [["mae"], ["accuracy", "mse"]]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_outputs_history_keys_values_and_evaluate_order_match_keras(keras, dtype):
    """Keys loss, <out>_loss, <out>_<metric>, val_*; evaluate's list in Keras's order."""
    with keras_floatx(keras, dtype):
        km, om = _pair(keras, LIST_COMPILE)
        assert om.output_names == list(km.output_names) == ["reg", "cls"]
        x, ys = X.astype(dtype), [Y_REG.astype(dtype), Y_CLS.astype(dtype)]
        kw = {"epochs": 3, "batch_size": 4, "shuffle": False, "verbose": 0,
              "validation_data": (x, ys)}
        _same_history(km.fit(x, ys, **kw), om.fit(x, ys, **kw), PARITY_TOL[dtype] * 4)
        k_eval, o_eval = km.evaluate(x, ys, verbose=0), om.evaluate(x, ys, verbose=0)
        assert len(o_eval) == len(k_eval) == 6
        assert max_abs_diff(o_eval, k_eval) <= PARITY_TOL[dtype] * 4
        assert list(om.evaluate(x, ys, verbose=0, return_dict=True)) == list(
            km.evaluate(x, ys, verbose=0, return_dict=True))
        kp, op = km.predict(x, verbose=0), om.predict(x, batch_size=3, verbose=0)
        assert isinstance(op, list) and max_abs_diff(op, kp) <= PARITY_TOL[dtype] * 4


@pytest.mark.parametrize("compile_kw", [
    {"loss": {"reg": "mse", "cls": "binary_crossentropy"}, "metrics": {"cls": ["accuracy"],
                                                                      "reg": "mae"}},
    {"loss": "mse"},                                                   # one loss for both
    {"loss": ["mse", None], "metrics": [None, ["mae"]]},               # one output untrained
    {"loss": ["mse", "mse"], "metrics": [["mae"], ["mae"]], "weighted_metrics": [["mae"], []]},
], ids=["dicts", "one-loss", "none-loss", "weighted"])
def test_compile_forms_log_and_train_as_keras(keras, compile_kw):
    km, om = _pair(keras, compile_kw)
    ys = [Y_REG, Y_CLS]
    kw = {"epochs": 2, "batch_size": 5, "shuffle": False, "verbose": 0, "sample_weight": SW}
    _same_history(km.fit(X, ys, **kw), om.fit(X, ys, **kw), 4 * PARITY_TOL["float32"])
    assert max_abs_diff(om.evaluate(X, ys, verbose=0), km.evaluate(X, ys, verbose=0)) <= 1e-6


def test_dict_outputs_use_their_keys_and_sorted_order(keras):
    km, om = _pair(keras, {"loss": {"a": "mse", "b": "binary_crossentropy"},
                           "metrics": {"a": ["mae"]}}, as_dict=True)
    ys = {"a": Y_REG, "b": Y_CLS}
    kw = {"epochs": 2, "batch_size": 4, "shuffle": False, "verbose": 0}
    _same_history(km.fit(X, ys, **kw), om.fit(X, ys, **kw), 4 * PARITY_TOL["float32"])
    assert max_abs_diff(om.evaluate(X, ys, verbose=0), km.evaluate(X, ys, verbose=0)) <= 1e-6
    kp, op = km.predict(X, verbose=0), om.predict(X, verbose=0)
    assert sorted(op) == sorted(kp) and max_abs_diff(op["b"], kp["b"]) <= 1e-6


@pytest.mark.parametrize("as_list", [False, True])
def test_two_named_inputs_as_dict_or_list_match_keras(keras, as_list):
    km, om = _pair(keras, {"loss": ["mse", "binary_crossentropy"]}, two_inputs=True)
    x = {"left": X[:, :2], "right": X[:, 2:]}
    kw = {"epochs": 2, "batch_size": 4, "shuffle": False, "verbose": 0, "validation_split": 0.2}
    kh = km.fit(x, [Y_REG, Y_CLS], **kw)
    oh = om.fit([x["left"], x["right"]] if as_list else x, [Y_REG, Y_CLS], **kw)
    _same_history(kh, oh, 4 * PARITY_TOL["float32"])


def test_total_loss_adds_the_weighted_terms_in_keras_order(keras):
    """compute_loss = 1.0 * mse + 0.5 * bce, summed left to right (our arithmetic: bit-exact),
    and Keras's compute_loss on the same weights within the float32 tolerance."""
    from tinygrad_es import losses

    km, om = _pair(keras, LIST_COMPILE)
    om.evaluate(X, [Y_REG, Y_CLS], verbose=0)            # resolves the compiled losses
    reg, cls = om(X)
    terms = [losses.MeanSquaredError()(Y_REG, reg), losses.BinaryCrossentropy()(Y_CLS, cls)]
    expected = np.float32(terms[0].data) * np.float32(1.0) + np.float32(terms[1].data) * \
        np.float32(0.5)
    total = om.compute_loss(y=[Y_REG, Y_CLS], y_pred=[reg, cls])
    assert total.data == expected
    k_total = km.compute_loss(y=[Y_REG, Y_CLS], y_pred=km(X))
    assert abs(float(total.data) - float(k_total)) <= 1e-6


@pytest.mark.parametrize("compile_kw, message", [
    ({"loss": ["mse", "mse", "mse"]}, "has 3 entries but the model has 2 outputs"),
    ({"loss": {"reg": "mse", "zzz": "mse"}}, "Expected keys"),
    ({"loss": ["mse", "mse"], "loss_weights": {"cls": 2.0}}, "`loss_weights` must match"),
    ({"loss": "mse", "metrics": ["mae"]}, "Invalid `metrics`"),
])
def test_bad_per_output_arguments_fail_with_keras_words(compile_kw, message):
    model = _functional(tinygrad_es)
    with pytest.raises(ValueError, match=message):
        model.compile(optimizer="sgd", **compile_kw)
        model.fit(X, [Y_REG, Y_CLS], verbose=0)


def test_class_weight_with_two_outputs_is_refused_as_keras():
    model = _functional(tinygrad_es)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.data.copy() for w in model.trainable_weights]
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit(X, [Y_REG, Y_CLS], class_weight={0: 1.0, 1: 2.0}, verbose=0)
    assert all((w.data == b).all() for w, b in zip(model.trainable_weights, before))
