"""Graph pictures: node/edge counts and labels, rendering with and without Graphviz."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import micrograd_expression, require_dot

from tinygrad_es.tensor import Tensor
from tinygrad_es.viz.graph import (
    GraphvizMissing,
    draw_graph,
    draw_model,
    model_to_dot,
    render,
    to_dot,
)


def _parse(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """Nodes {id: attrs} and edges of Graphviz source (ours or the graphviz package's)."""
    nodes, edges = {}, []
    for line in source.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(\w+) -> (\w+)", line):
            edges.append((m[1], m[2]))
        elif (m := re.fullmatch(r"(\w+) \[(.*)\]", line)) and m[1] not in ("graph", "node"):
            attrs = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', m[2]))
            nodes[m[1]] = {k: v.strip('"') for k, v in attrs.items()}
    return nodes, edges


def _net_131(rng):
    x = Tensor(rng.normal(size=(150, 1)), name="x")
    y = Tensor(rng.uniform(size=(150, 1)), name="y")
    W1 = Tensor(rng.normal(size=(1, 3)), requires_grad=True, name="W1")
    b1 = Tensor(np.zeros(3), requires_grad=True, name="b1")
    W2 = Tensor(rng.normal(size=(3, 1)), requires_grad=True, name="W2")
    b2 = Tensor(np.zeros(1), requires_grad=True, name="b2")
    out = ((x @ W1 + b1).sigmoid() @ W2 + b2).sigmoid()
    return (y - out).abs().mean(), dict(x=x, y=y, W1=W1, b1=b1, W2=W2, b2=b2)


def test_micrograd_classic_counts_and_labels():
    L, t = micrograd_expression()
    L.backward()
    nodes, edges = _parse(to_dot(L))
    values = {k: v for k, v in nodes.items() if v["shape"] == "record"}
    ops = {k: v for k, v in nodes.items() if v["shape"] == "ellipse"}
    assert len(values) == 7 and len(ops) == 3 and len(edges) == 9
    assert sorted(v["label"] for v in ops.values()) == ["*", "*", "+"]
    labels = {v["label"] for v in values.values()}
    for name, tensor in t.items():
        expected = (f"{{ {name} | scalar | data {float(tensor.data):.4g} | "
                    f"grad {float(tensor.grad):.4g} }}")
        assert expected in labels
    # every op node has its inputs in and exactly one output out
    for op in ops:
        assert sum(1 for _, head in edges if head == op) == 2
        assert sum(1 for tail, _ in edges if tail == op) == 1
    assert 'rankdir="LR"' in to_dot(L)


def test_draw_graph_matches_to_dot():
    pytest.importorskip("graphviz")
    L, _ = micrograd_expression()
    dot = draw_graph(L, rankdir="TB", show_grad=False).digraph  # what draw_graph returned before
    assert type(dot).__name__ == "Digraph"
    ours, theirs = _parse(to_dot(L, rankdir="TB", show_grad=False)), _parse(dot.source)
    assert ours[1] == theirs[1]
    labels = {k: v["label"] for k, v in ours[0].items()}
    assert labels == {k: v["label"] for k, v in theirs[0].items()}
    assert "rankdir=TB" in dot.source
    assert all("grad" not in v["label"] for v in theirs[0].values())


def test_network_131_counts_and_summaries():
    L, t = _net_131(np.random.default_rng(0))
    L.backward()
    nodes, edges = _parse(to_dot(L))
    values = [v for v in nodes.values() if v["shape"] == "record"]
    ops = [v["label"] for v in nodes.values() if v["shape"] == "ellipse"]
    # 6 leaves + 9 op results; ops: @ + sigmoid @ + sigmoid - abs mean
    assert len(values) == 15 and len(edges) == 23
    assert sorted(ops) == sorted(["@", "+", "sigmoid", "@", "+", "sigmoid", "-", "abs", "mean"])
    x_label = next(v["label"] for v in values if v["label"].startswith("{ {x |"))
    x = t["x"].data
    assert f"mean {x.mean():.4g}, norm {np.linalg.norm(x):.4g}" in x_label
    assert len(x_label) < 120  # summarised, never the 150 numbers
    w1_label = next(v["label"] for v in values if v["label"].startswith("{ {W1 |"))
    assert "(1, 3)" in w1_label
    assert ", ".join(f"{g:.4g}" for g in t["W1"].grad.reshape(-1)) in w1_label
    # constants are drawn, but marked as needing no gradient
    assert "no grad" in x_label


def test_reused_tensor_has_two_edges_and_constants_are_shown():
    a = Tensor(3.0, requires_grad=True, name="a")
    b = (a + a) * 2
    nodes, edges = _parse(to_dot(b))
    a_id = next(k for k, v in nodes.items() if v["label"].startswith("{ a |"))
    assert sum(1 for tail, _ in edges if tail == a_id) == 2
    assert any(v["label"].startswith("{ const | scalar | data 2 |") for v in nodes.values())
    assert any("grad None" in v["label"] for v in nodes.values())  # before backward


def test_names_override_and_escaping():
    w = Tensor([1.0, 2.0], requires_grad=True, name="dense/kernel")
    z = Tensor(1.0, requires_grad=True, name="a|b{c}")
    L = (w * 2).sum() + z
    nodes, _ = _parse(to_dot(L, names={"dense/kernel": "W", L: "loss"}))
    labels = [v["label"] for v in nodes.values()]
    assert any(lbl.startswith("{ {W | (2,)} | {data [1, 2] |") for lbl in labels)
    assert any(lbl.startswith("{ {loss |") for lbl in labels)
    assert any(lbl.startswith(r"{ {a\|b\{c\} |") for lbl in labels)


def test_bad_arguments():
    L, _ = micrograd_expression()
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(L, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        to_dot(L, max_nodes=3)
    with pytest.raises(TypeError, match="Tensor"):
        to_dot(np.ones(3))


def test_to_dot_needs_no_graphviz_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now raises ImportError
    L, _ = micrograd_expression()
    assert to_dot(L).startswith("digraph {")
    picture = draw_graph(L)  # drawn by dot or matplotlib: the graphviz package is not needed
    assert picture.source == to_dot(L)
    with pytest.raises(ImportError, match="pip install graphviz"):
        picture.digraph


def test_import_needs_numpy_only():
    code = ("import sys, tinygrad_es, tinygrad_es.viz, tinygrad_es.viz.plots; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'graphviz', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout.strip() == "[]"


def test_render_png(tmp_path):
    require_dot()
    L, _ = micrograd_expression()
    out = render(L, tmp_path / "sub" / "graph.png")
    assert out == tmp_path / "sub" / "graph.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "sub" / "graph.dot").read_text().startswith("digraph {")
    svg = render(to_dot(L), tmp_path / "g", format="svg")
    assert "<svg" in svg.read_text()


def test_render_without_dot_keeps_the_dot_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # nor matplotlib to stand in
    L, _ = micrograd_expression()
    with pytest.warns(GraphvizMissing) as record:
        out = render(L, tmp_path / "graph")
    assert out == tmp_path / "graph.dot" and out.read_text() == to_dot(L)
    message = str(record[0].message)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "Nor could matplotlib draw it" in message
    assert not (tmp_path / "graph.png").exists()


def test_draw_model_131():
    from tinygrad_es.layers import Dense
    from tinygrad_es.models.sequential import Sequential

    model = Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])
    model.build((None, 1))
    nodes, edges = _parse(model_to_dot(model))
    assert list(nodes) == ["input", "layer0", "layer1"]
    assert edges == [("input", "layer0"), ("layer0", "layer1")]
    assert nodes["input"]["label"] == "{ input | (None, 1) }"
    first, second = model.layers
    assert nodes["layer0"]["label"] == (f"{{ {first.name} | Dense (sigmoid) | output (None, 3) | "
                                        f"params {first.count_params()} }}")
    assert nodes["layer1"]["label"].endswith(
        f"output (None, 1) | params {second.count_params()} }}")
    assert f"{model.count_params()} parameters" in model_to_dot(model)
    pytest.importorskip("graphviz")
    assert _parse(draw_model(model).digraph.source)[1] == edges
