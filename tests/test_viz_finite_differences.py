"""Backprop against the course's forward differences and against central differences."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_es.i18n import tr
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
    central = re.escape(tr("central differences", lang="es"))
    assert re.search(rf"^{central}\s+6\s", es, re.M)
    assert tr("parameter", lang="es") in es and "float64" in en and "float32" not in en
    w32 = Tensor(0.3, requires_grad=True, name="w")
    text = compare_gradients(lambda: w32 * w32, w32).to_text()
    assert "finite differences evaluated in float64" in text and "the model in float32" in text
    assert re.search(r"^parameter\s+backprop float64\s.*\sbackprop float32$", text, re.M)
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


# ----- finite differences in float64 whatever the model's dtype -----

def _readme_neuron():
    """The README's neuron, y = tanh(w·x + b), in the default float32."""
    w = Tensor([2.0, -3.0], requires_grad=True, name="w")
    x = Tensor([1.0, 0.5], name="x")
    b = Tensor(1.0, requires_grad=True, name="b")
    return (lambda: ((w * x).sum() + b).tanh()), [w, b]


def _course_network():
    from tinygrad_es import course

    params = course.init_params(dtype="float32")
    x, y = (Tensor(a) for a in course.iris_data("float32"))
    return (lambda: course.loss(params, x, y)), [params[n] for n in course.PARAM_NAMES]


@pytest.mark.parametrize("build", [_readme_neuron, _course_network])
def test_float32_models_get_float64_finite_differences(build):
    loss_fn, params = build()
    arrays = [p.data for p in params]
    assert all(a.dtype == np.float32 for a in arrays)
    result = compare_gradients(loss_fn, params)              # the course's h = 3e-6
    assert (result.dtype, result.fd_dtype) == ("float32", "float64")
    for fe, ce in zip(result.forward_error, result.central_error):
        assert fe.max() <= 1e-6 and ce.max() <= 1e-9
        assert np.all(ce <= fe)                              # central never worse than forward
    # the errors are against backprop in float64; the float32 backprop is shown beside it
    loss = loss_fn()
    loss.backward()
    for p, bp, bp64 in zip(params, result.backprop, result.backprop64):
        np.testing.assert_array_equal(bp, p.grad)
        assert bp.dtype == np.float32 and bp64.dtype == np.float64
        np.testing.assert_allclose(bp, bp64, rtol=1e-6, atol=1e-7)
    assert [p.data for p in params] == arrays                # the very same arrays, untouched
    assert all(p.data is a for p, a in zip(params, arrays))
    header = str(result).splitlines()[1]
    assert header == ("finite differences evaluated in float64, errors against backprop in "
                      "float64; the model in float32")


def test_the_float32_trap_on_request():
    loss_fn, params = _course_network()
    right = compare_gradients(loss_fn, params)
    trap = compare_gradients(loss_fn, params, dtype="float32")
    assert trap.fd_dtype == "float32"
    zeros = sum(int(np.sum(f == 0)) for f in trap.forward)
    assert zeros >= 3                                        # the cancellation: exactly 0
    assert trap.max_forward_error > 1e3 * right.max_forward_error
    text = " ".join(trap.to_text().split())
    spacing = float(np.spacing(np.float32(trap.loss)))
    assert "the float32 trap: a nudge of h = 3e-06" in text
    assert f"in steps of {spacing:.2e}" in text
    assert f"{zeros} forward differences are exactly 0" in text
    assert "float32 trap" not in right.to_text()
    with pytest.raises(ValueError, match="dtype"):
        compare_gradients(loss_fn, params, dtype="int32")


def test_numerical_grad_is_float64_whatever_floatx():
    from tinygrad_es.gradcheck import numerical_grad

    x = np.array([0.3, -1.2], dtype=np.float32)
    exact = np.exp(x.astype(np.float64))
    fn = lambda v: Tensor(v).exp().sum()                     # noqa: E731  (a floatx Tensor)
    right = numerical_grad(fn, x, h=3e-6, method="forward")
    assert np.max(np.abs(right - exact)) < 1e-5
    trap = numerical_grad(fn, x, h=3e-6, method="forward", dtype="float32")
    assert np.max(np.abs(trap - exact)) > 1e-3
    from tinygrad_es import config
    assert config.floatx() == "float32"                      # put back
