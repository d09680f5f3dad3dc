"""Backprop against the course's forward differences and against central differences."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_es.tensor import Tensor
from tinygrad_es.viz.finite_differences import compare_gradients, compare_model_gradients


def _small_net(rng, dtype="float64"):
    x = Tensor(rng.normal(size=(8, 3)), dtype=dtype)
    W = Tensor(rng.normal(size=(3, 2)), requires_grad=True, dtype=dtype, name="W")
    b = Tensor(rng.normal(size=2), requires_grad=True, dtype=dtype, name="b")
    return (lambda: ((x @ W + b).tanh() ** 2).mean()), [W, b]


def test_backprop_equals_central_differences_float64():
    loss_fn, params = _small_net(np.random.default_rng(0))
    result = compare_gradients(loss_fn, params)
    loss = loss_fn()
    loss.backward()
    for p, bp, central in zip(params, result.backprop, result.central):
        np.testing.assert_array_equal(bp, p.grad)  # the backprop column is backward()'s .grad
        assert np.max(np.abs(central - bp)) < 1e-6
    assert result.max_central_error < 1e-6
    assert result.loss == float(loss.data)
    n = sum(p.size for p in params)
    assert result.passes == {"backprop": 1, "forward": 1 + n, "central": 2 * n}
    assert set(result.seconds) == {"backprop", "forward", "central"}
    assert all(s >= 0 for s in result.seconds.values())


def test_forward_difference_error_is_order_h():
    # f = Σ w³: the forward difference is 3w² + 3wh + h², so its error is 3hw + h² (O(h)).
    w = Tensor([0.5, -1.0, 2.0], requires_grad=True, dtype="float64", name="w")
    errors = {}
    for h in (3e-6, 1.5e-6):
        result = compare_gradients(lambda: (w ** 3).sum(), [w], h=h)
        predicted = np.abs(3 * h * w.data + h * h)
        np.testing.assert_allclose(result.forward_error[0], predicted, rtol=1e-3)
        errors[h] = result.max_forward_error
    assert errors[3e-6] / errors[1.5e-6] == pytest.approx(2.0, rel=1e-3)
    np.testing.assert_allclose(result.backprop[0], 3 * w.data ** 2, rtol=0, atol=0)


def test_weights_and_existing_grads_are_left_alone():
    loss_fn, params = _small_net(np.random.default_rng(1))
    before = [p.data.copy() for p in params]
    params[0].grad = np.full(params[0].shape, 7.0)
    compare_gradients(loss_fn, params)
    for p, old in zip(params, before):
        np.testing.assert_array_equal(p.data, old)
    np.testing.assert_array_equal(params[0].grad, np.full(params[0].shape, 7.0))
    assert params[1].grad is None


def test_table_text_en_and_es():
    w = Tensor(0.3, requires_grad=True, dtype="float64", name="w_2")
    b = Tensor([0.1, -0.2], requires_grad=True, dtype="float64", name="b_5")
    result = compare_gradients(lambda: (w * b).sigmoid().sum(), [w, b])
    en, es = str(result), result.to_text("es")
    row = re.search(r"^w_2\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", en, re.M)
    assert row is not None
    assert float(row[1]) == pytest.approx(float(result.backprop[0]), rel=1e-7)
    assert float(row[2]) == pytest.approx(float(result.forward[0]), rel=1e-7)
    assert float(row[3]) == pytest.approx(float(result.forward_error[0]), rel=1e-2)
    assert float(row[4]) == pytest.approx(float(result.central[0]), rel=1e-7)
    assert re.search(r"^b_5\[1\]\s", en, re.M)
    assert re.search(r"^forward differences\s+4\s", en, re.M)  # 1 + 3 entries
    assert re.search(r"^diferencias centradas\s+6\s", es, re.M)
    assert "parámetro" in es and "float64" in en and "float32" not in en
    w32 = Tensor(0.3, requires_grad=True, name="w")
    assert "set_floatx('float64')" in compare_gradients(lambda: w32 * w32, w32).to_text()
    with pytest.raises(ValueError, match="lang"):
        result.to_text("de")


def test_long_parameters_are_cut_with_a_summary():
    W = Tensor(np.linspace(-1, 1, 30).reshape(5, 6), requires_grad=True, dtype="float64",
               name="dense/kernel")
    result = compare_gradients(lambda: (W.tanh() ** 2).sum(), W)
    text = result.to_text()
    assert len(re.findall(r"^dense/kernel\[", text, re.M)) == result.max_entries
    assert f"dense/kernel: {30 - result.max_entries} more entries" in text


def test_bad_arguments():
    with pytest.raises(TypeError, match="requires_grad"):
        compare_gradients(lambda: Tensor(1.0), [Tensor(1.0)])
    w = Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="one-element Tensor"):
        compare_gradients(lambda: w * Tensor([1.0, 2.0]), [w])
    with pytest.raises(ValueError, match="positive h"):
        compare_gradients(lambda: w * w, [w], h=0)


def test_model_helper_float64():
    from tinygrad_es import config
    from tinygrad_es.layers import Dense
    from tinygrad_es.models.sequential import Sequential

    config.set_floatx("float64")
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 1)), rng.uniform(size=(12, 1))
    model = Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])
    result = compare_model_gradients(model, x, y, loss="mse")
    assert result.names == [w.name for w in model.trainable_weights]
    assert result.max_central_error < 1e-6
    assert result.passes["forward"] == 1 + model.count_params()
    # the backprop column is the gradient of the loss the model computes
    from tinygrad_es.losses import MeanSquaredError

    loss = MeanSquaredError()(y, model(x))
    loss.backward()
    for w, bp in zip(model.trainable_weights, result.backprop):
        np.testing.assert_allclose(bp, w.grad, rtol=0, atol=1e-15)
