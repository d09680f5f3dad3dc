"""Lesson 11 (issue 11 §3): a user's own op with a wrong backward is caught by gradcheck (its report
in the chosen language), the fixed one passes, and the trace shows it with its formula."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import lesson11_your_own_op as lesson11  # noqa: E402

from tinygrad_es import Tensor  # noqa: E402
from tinygrad_es.gradcheck import GradcheckError, gradcheck, numerical_grad  # noqa: E402
from tinygrad_es.i18n import language, tr  # noqa: E402

X = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
MESSAGE = ("gradient of input {k} (shape {shape}) is wrong at index {index}: backprop "
           "{backprop:.10g}, finite differences {numeric:.10g} (|diff| {diff:.3g} > atol "
           "{atol} + rtol {rtol}·|numeric|); {bad} of {size} entries fail")  # gradcheck's


def test_the_wrong_backward_fails_gradcheck_and_the_fixed_one_passes():
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: lesson11.MySigmoidWrong.apply(t), X)
    assert gradcheck(lambda t: lesson11.MySigmoid.apply(t), X) is True
    # the fixed backward is the engine's own sigmoid's, and central differences agree
    mine, ours = (Tensor(X, requires_grad=True, dtype="float64") for _ in range(2))
    lesson11.MySigmoid.apply(mine).sum().backward()
    ours.sigmoid().sum().backward()
    np.testing.assert_array_equal(mine.grad, ours.grad)
    numeric = numerical_grad(lambda v: lesson11.MySigmoid.apply(Tensor(v)).sum(), X)
    np.testing.assert_allclose(mine.grad, numeric, rtol=1e-8, atol=1e-10)
    # and the wrong one returns s, not s(1 - s)
    wrong = Tensor(X, requires_grad=True, dtype="float64")
    lesson11.MySigmoidWrong.apply(wrong).sum().backward()
    np.testing.assert_array_equal(wrong.grad, Tensor(X, dtype="float64").sigmoid().data)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_lesson11_reports_in_the_chosen_language(lang, capsys):
    before = language()
    result = lesson11.main(lang=lang)
    assert language() == before                      # the language is put back
    assert result["fixed"] is None
    report = result["wrong"]
    # the report names the worst entry: recompute it from the engine and finite differences
    t = Tensor(X, requires_grad=True, dtype="float64")
    upstream = np.random.default_rng(0).uniform(0.5, 1.5, size=X.shape)  # gradcheck's seed 0
    lesson11.MySigmoidWrong.apply(t).backward(upstream)
    numeric = numerical_grad(lambda v: float(np.sum(
        lesson11.MySigmoidWrong.apply(Tensor(v)).data * upstream)), X)
    err = np.abs(t.grad - numeric)
    worst = int(np.argmax(err - 1e-3 * np.abs(numeric)))
    fields = dict(k=0, shape=X.shape, index=(worst,), backprop=t.grad[worst],
                  numeric=numeric[worst], diff=err[worst], atol=1e-05, rtol=0.001,
                  bad=int(np.sum(err > 1e-5 + 1e-3 * np.abs(numeric))), size=X.size)
    assert report == tr(MESSAGE, lang=lang, **fields)
    assert report in capsys.readouterr().out
    if lang == "es":                                 # translated, not the English text
        assert report != tr(MESSAGE, lang="en", **fields)


def test_the_trace_shows_my_op_with_its_formula():
    trace = lesson11.traced(lesson11.MySigmoid, [-1.0, 0.5], lang="en")
    s = 1 / (1 + np.exp(-np.array([-1.0, 0.5])))
    local = s * (1 - s)
    x = Tensor([-1.0, 0.5], requires_grad=True, dtype="float64")
    lesson11.MySigmoid.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad, local)
    assert "(MySigmoid)" in trace
    line = next(row for row in trace.splitlines() if "∂s/∂x" in row)
    assert "s·(1-s)" in line                         # the class's declared formula, in names
    assert f"{local[0]:.6g}" in line and f"{local[1]:.6g}" in line
    assert f"x.grad = [{local[0]:.6g}, {local[1]:.6g}]" in trace
    wrong = lesson11.traced(lesson11.MySigmoidWrong, [-1.0, 0.5], lang="es")
    assert "(MySigmoidWrong)" in wrong and "∂s/∂x = s = " in wrong
