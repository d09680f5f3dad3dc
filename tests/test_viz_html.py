"""The backward trace after ``backward()``, and how the trace and the gradient table display in
Jupyter (HTML tables, and their text as the plain view)."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from tinygrad_es import Sequential, Tensor, course, layers, losses
from tinygrad_es.optimizers import SGD
from tinygrad_es.viz import compare_gradients, trace_backward
from tinygrad_es.viz.html import TraceText


def neuron():
    x1, x2 = Tensor(2.0, name="x1"), Tensor(0.0, name="x2")
    w1 = Tensor(-3.0, requires_grad=True, name="w1")
    w2 = Tensor(1.0, requires_grad=True, name="w2")
    b = Tensor(6.8813735870195432, requires_grad=True, name="b")
    return (x1 * w1 + x2 * w2 + b).tanh(), [w1, w2, b]


def course_network():
    x, y = course.iris_data()
    params = course.init_params()
    loss = course.loss(params, Tensor(x, dtype="float64"), Tensor(y, dtype="float64"))
    return loss, list(params.values())


def many_ops():
    """Ops whose forward takes keyword arguments (axis, keepdims, index, bounds, exponent),
    broadcasting, matmul and a fused crossentropy: what a replay must reproduce."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    b = Tensor(rng.normal(size=(4,)), requires_grad=True, name="b")
    x = Tensor(rng.normal(size=(5, 3)), name="x")
    z = (x @ w + b).clip(-1.0, 1.5)
    parts = [z.softmax(axis=-1).max(axis=0).sum(), (z[1:3] ** 3).mean(), z.relu().min(),
             losses.SparseCategoricalCrossentropy(from_logits=True)(np.arange(5) % 4, z)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total, [w, b]


def keras_model():
    model = Sequential([layers.Dense(4, activation="selu"), layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(1).normal(size=(6, 2)).astype("float32")
    loss = losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 0, 1, 2]), model(x))
    return loss, list(model.trainable_weights)


GRAPHS = [neuron, course_network, many_ops, keras_model]


@pytest.mark.parametrize("build", GRAPHS, ids=[g.__name__ for g in GRAPHS])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_trace_after_backward_is_the_trace_before(build, lang):
    loss, params = build()
    before = trace_backward(loss, lang=lang, digits=17)   # every bit of every number shown
    loss.backward()
    after = trace_backward(loss, lang=lang, digits=17)
    assert after == before
    # and backward() left in .grad exactly what the trace computed (the engine's own numbers)
    grads = {p.name: p.grad for p in params}
    run = after.run
    for leaf in run.leaves:
        if leaf.name in grads:
            np.testing.assert_array_equal(run.grads[id(leaf)], grads[leaf.name])


def test_trace_after_backward_leaves_the_graph_released():
    loss, _ = neuron()
    loss.backward()
    trace_backward(loss)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()          # the trace replayed copies; the graph's own saved arrays stay freed


def test_trace_after_retain_graph_is_the_same():
    loss, _ = course_network()
    before = trace_backward(loss)
    loss.backward(retain_graph=True)
    assert trace_backward(loss) == before


def test_trace_after_an_optimizer_step_says_the_inputs_changed():
    loss, params = course_network()
    loss.backward()
    SGD(learning_rate=0.1).apply([p.grad for p in params], params)
    with pytest.raises(RuntimeError, match=r"trace_backward: the inputs of \w+ changed"):
        trace_backward(loss)


# ----- Jupyter displays -----

def _cells(table_html: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table_html)]


@pytest.mark.parametrize("build", [neuron, many_ops], ids=["neuron", "many_ops"])
def test_trace_shows_as_an_html_table_of_the_same_numbers(build):
    loss, params = build()
    text = trace_backward(loss, lang="es")
    assert isinstance(text, TraceText) and isinstance(text, str)
    page = text._repr_html_()
    cells = _cells(page)
    run = text.run
    rows = page.count("<tr>") - 2                     # minus the two header rows
    assert rows == sum(len(s.contributions) for s in run.steps) + len(run.leaves)
    # every "gradient sent" and every leaf gradient of the text appears in a cell
    for line in text.splitlines():
        if line.startswith("    hacia "):
            sent = line.split("∂", 1)[1]
            assert any(sent.split("  →")[0] in c for c in cells), line
    for line in text.split("\n\n")[-1].splitlines()[1:]:
        name, value = (s.strip() for s in line.split(" = ", 1))
        assert [name, value.split("  (")[0]] in [cells[k:k + 2] for k in range(len(cells))]


def test_trace_plain_view_is_the_text():
    pretty = pytest.importorskip("IPython.lib.pretty")
    loss, _ = neuron()
    text = trace_backward(loss)
    assert pretty.pretty(text) == str(text)


def test_gradient_table_shows_as_html_with_the_text_numbers():
    loss, params = course_network()
    x, y = course.iris_data()
    xt, yt = Tensor(x, dtype="float64"), Tensor(y, dtype="float64")
    named = dict(zip(course.PARAM_NAMES, params))
    result = compare_gradients(lambda: course.loss(named, xt, yt), params)
    page, text = result._repr_html_(), result.to_text()
    cells = _cells(page)
    for line in text.splitlines():
        first = line.split("  ")[0]
        if first in course.PARAM_NAMES:                 # a row of the text's table
            values = line.split()[1:]
            k = cells.index(first)
            assert cells[k + 1:k + 1 + len(values)] == values, line
    assert html.escape(text.splitlines()[0]) in page
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert pretty.pretty(result) == text
