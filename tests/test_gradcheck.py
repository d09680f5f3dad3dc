"""``gradcheck`` and ``numerical_grad``: the public tools a learner uses to check backprop."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_es.autograd import Function
from tinygrad_es.gradcheck import GradcheckError, gradcheck, numerical_grad
from tinygrad_es.tensor import Tensor, _apply


class WrongAtOne(Function):
    """Square with a backward that is off by +1 at flat index 1 only."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad_output):
        grad = grad_output * 2 * self.saved_tensors[0]
        grad.reshape(-1)[1] += 1.0
        return grad


class ForgetsSecondInput(Function):
    """Mul whose backward gives the second input no gradient."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad_output):
        return grad_output * self.saved_tensors[1], None


class NanBackward(Function):
    """Identity whose backward returns NaN."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad_output):
        return grad_output * np.nan


def test_passes_on_correct_functions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    assert gradcheck(lambda x, y: (x * y).sigmoid(), a, b) is True
    assert gradcheck(lambda x: (x @ x.T).sum(), a) is True  # scalar output
    assert gradcheck(lambda x: x.tanh(), Tensor(a, dtype="float32")) is True  # float32 Tensor in
    assert gradcheck(lambda x, y: x ** y, np.abs(a) + 0.5, b)


def test_reports_the_worst_entry_with_both_values():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda t: _apply(WrongAtOne, t), x)
    msg = str(err.value)
    assert isinstance(err.value, AssertionError)
    assert "gradient of input 0 (shape (2, 2)) is wrong at index (0, 1)" in msg
    assert "1 of 4 entries fail" in msg
    found = re.search(r"backprop (\S+), finite differences (\S+)", msg)
    backprop, numeric = map(float, found.groups())
    upstream = np.random.default_rng(0).uniform(0.5, 1.5, size=(2, 2))  # gradcheck's seed=0
    np.testing.assert_allclose(backprop, upstream[0, 1] * 4.0 + 1.0, rtol=1e-9)
    np.testing.assert_allclose(numeric, upstream[0, 1] * 4.0, rtol=1e-6)


def test_names_the_input_whose_gradient_is_missing():
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\).*3 of 3 entries fail"):
        gradcheck(lambda a, b: _apply(ForgetsSecondInput, a, b), np.ones(3), np.ones(3))


def test_nan_gradient_fails():
    with pytest.raises(GradcheckError, match="backprop nan"):
        gradcheck(lambda t: _apply(NanBackward, t), np.ones(2))


def test_tolerances_are_respected():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    assert gradcheck(lambda t: _apply(WrongAtOne, t), x, atol=1.5)  # the +1 is within atol


def test_inputs_are_not_modified():
    x = np.array([1.0, 2.0])
    gradcheck(lambda t: t.exp(), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize("method, order", [("central", 2), ("forward", 1)])
def test_numerical_grad_accuracy_and_order(method, order):
    x = np.array([0.3, -1.2, 2.0])
    errors = []
    for h in (1e-2, 5e-3):
        g = numerical_grad(lambda v: np.exp(v).sum(), x, h, method=method)
        errors.append(np.max(np.abs(g - np.exp(x))))
    assert errors[0] / errors[1] == pytest.approx(2.0 ** order, rel=0.05)  # error O(h^order)
    leading = (h / 2 * np.exp(x)) if method == "forward" else (h * h / 6 * np.exp(x))
    np.testing.assert_allclose(g - np.exp(x), leading, rtol=0.02)


def test_numerical_grad_counts_and_arguments():
    calls = []

    def fn(v):
        calls.append(1)
        return Tensor((v ** 2).sum(), dtype="float64")

    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(numerical_grad(fn, x), 2 * x, atol=1e-6)
    assert len(calls) == 12  # central: two passes per entry
    calls.clear()
    np.testing.assert_allclose(numerical_grad(fn, Tensor(x), 3e-6, "forward"), 2 * x, atol=1e-4)
    assert len(calls) == 7  # forward: one per entry plus the base point (the course's count)
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="method must be 'central' or 'forward', received 'back'"):
        numerical_grad(fn, x, method="back")
    with pytest.raises(ValueError, match=r"one number.*shape \(2, 3\)"):
        numerical_grad(lambda v: v * 2, x)
