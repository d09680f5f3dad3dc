"""The backward trace: its numbers are the tensors' real gradients, in English and Spanish."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import micrograd_expression

from tinygrad_es.tensor import Tensor
from tinygrad_es.viz.trace import trace_backward

WORDS = {"en": ("Step", "upstream gradient", "local derivative", "to"),
         "es": ("Paso", "gradiente que llega", "derivada local", "hacia")}


def _course_like():
    """Two course-style neurons (names w_2, b_2, w_52, b_5), w_2 also in an L2 penalty."""
    x = Tensor(1.5, name="x", dtype="float64")
    y = Tensor(0.4, name="y", dtype="float64")
    p = {n: Tensor(v, requires_grad=True, name=n, dtype="float64")
         for n, v in (("w_2", 0.3), ("b_2", -0.1), ("w_52", 0.7), ("b_5", 0.2))}
    h = (x * p["w_2"] + p["b_2"]).sigmoid()
    out = (h * p["w_52"] + p["b_5"]).sigmoid()
    return (y - out).abs() + 0.5 * p["w_2"] ** 2, p


def _result_grads(text: str) -> dict[str, str]:
    tail = text.split(":\n")[-1]
    return {m[1]: m[2] for m in re.finditer(r"^\s+(\S+)\.grad\s+= (\S+)", tail, re.M)}


def _upstreams(text: str, word: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(rf"{word}\s+∂L/∂(\S+) = (\S+)", text)}


def _printed(value) -> str:
    """How the trace prints a number: 6 significant digits."""
    return f"{float(value):.6g}"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_classic_expression_numbers_are_the_real_grads(lang):
    L, t = micrograd_expression()
    text = trace_backward(L, lang=lang)
    assert all(v.grad is None for v in t.values())  # the trace changes no .grad
    L.backward()
    step, upstream, local, to = WORDS[lang]
    assert len(re.findall(rf"^\[{step} \d+\]", text, re.M)) == 3  # three ops
    grads = _result_grads(text)
    assert set(grads) == {"a", "b", "c", "f"}
    for name, value in grads.items():
        assert value == _printed(t[name].grad)
    ups = _upstreams(text, upstream)
    assert ups.pop("L") == "1"
    assert set(ups) == {"d", "e"}
    for name, value in ups.items():  # intermediates keep .grad after backward
        assert value == _printed(t[name].grad)
    # the ops and their local derivatives, in the tensors' names
    assert "L = d * f = -8" in text and "e = a * b = -6" in text
    assert f"{local:<20} ∂e/∂a = b = -3" in text
    assert f"{to + ' a':<20} ∂L/∂a = -2 × (-3) = 6" in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_course_network_trace(lang):
    loss, p = _course_like()
    text = trace_backward(loss, lang=lang)
    loss.backward()
    grads = _result_grads(text)
    assert list(grads) == ["w_2", "b_2", "w_52", "b_5"]
    for name, value in grads.items():
        assert value == _printed(p[name].grad)
    # w_2 reaches the loss by two paths: the trace adds them up
    parts = re.search(
        r"w_2\.grad\s+= \S+\s+\((?:sum of|suma de) 2 (?:paths|caminos): (\S+) \+ (\S+)\)", text)
    assert parts and float(parts[1]) + float(parts[2]) == pytest.approx(float(p["w_2"].grad), 1e-5)
    # the sigmoid's local derivative is printed with its value s(1 - s)
    s = 1 / (1 + np.exp(-(1.5 * 0.3 - 0.1)))
    m = re.search(r"∂t3/∂t2 = σ\(t2\)·\(1-σ\(t2\)\) = t3·\(1-t3\) = (\S+)", text)
    assert m and m[1] == _printed(s * (1 - s))
    assert ("added to w_52.grad" if lang == "en" else "se suma a w_52.grad") in text


def test_arrays_are_summarised_and_match():
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(50, 2)), name="x", dtype="float64")
    W = Tensor(rng.normal(size=(2, 3)), requires_grad=True, name="W", dtype="float64")
    b = Tensor(np.zeros(3), requires_grad=True, name="b", dtype="float64")
    loss = ((x @ W + b).tanh() ** 2).mean()
    text = trace_backward(loss, names={W: "W1"})
    loss.backward()
    assert max(len(line) for line in text.splitlines()) < 160
    assert "(vector-Jacobian product: xᵀ @ ∂L/∂t1)" in text  # and none for x: it needs no grad
    assert "summed over the broadcast axes to shape (3,)" in text
    grads = dict(re.findall(r"^\s+(\S+)\.grad\s+= (.+)$", text.split(":\n")[-1], re.M))
    assert set(grads) == {"W1", "b"}
    w_grad = W.grad.reshape(-1)
    assert grads["W1"].startswith(f"mean {w_grad.mean():.6g}, norm {np.linalg.norm(w_grad):.6g}")
    assert grads["b"].startswith("[" + ", ".join(f"{g:.6g}" for g in b.grad) + "]")


def test_works_before_and_after_backward():
    """After backward() freed the saved arrays, the trace replays the ops: the same text."""
    L, _ = micrograd_expression()
    before = trace_backward(L)
    L.backward()
    assert trace_backward(L) == before
    L2, t = micrograd_expression()
    L2.backward(retain_graph=True)
    assert _result_grads(trace_backward(L2))["a"] == _printed(t["a"].grad)


def test_bad_arguments():
    L, _ = micrograd_expression()
    with pytest.raises(ValueError, match="lang"):
        trace_backward(L, lang="fr")
    with pytest.raises(ValueError, match="requires_grad"):
        trace_backward(Tensor(1.0))
    v = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match="scalar"):
        trace_backward(v)
    text = trace_backward(v, grad=[1.0, 3.0])
    assert "[2, 6]" in text  # the gradient reaching the leaf: 2 * [1, 3]


def test_every_primitive_declares_its_teaching_metadata():
    """A new primitive is added in one place: its class says how the trace writes it."""
    import inspect

    from tinygrad_es import functions, functions_conv
    from tinygrad_es.autograd import Function

    def declared_in(module):
        return [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, Function) and cls is not Function
                and cls.__module__ == module.__name__]

    assert len(declared_in(functions)) >= 40 and len(declared_in(functions_conv)) >= 5
    primitives = declared_in(functions) + declared_in(functions_conv)
    for cls in primitives:
        assert "elementwise" in vars(cls) and "derivatives" in vars(cls), cls.__name__
        assert isinstance(cls.elementwise, bool), cls.__name__
        formulas = cls.derivatives if isinstance(cls.derivatives, tuple) else None
        if formulas is not None:  # a property (Gelu's two forms) is checked in the trace tests
            assert formulas and all(isinstance(f, str) for f in formulas), cls.__name__
