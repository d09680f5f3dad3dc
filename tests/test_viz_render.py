"""Graph pictures without Graphviz: the matplotlib renderer (layout, boxes, text, arrows) and the
``GraphPicture`` that ``draw_graph`` returns, with ``dot`` on PATH and with it hidden."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest
from conftest import micrograd_expression

pytest.importorskip("matplotlib")
pytest.importorskip("grandalf")

from tinygrad_es import course  # noqa: E402
from tinygrad_es.tensor import Tensor  # noqa: E402
from tinygrad_es.viz import graph  # noqa: E402
from tinygrad_es.viz._common import walk  # noqa: E402
from tinygrad_es.viz.draw_mpl import (  # noqa: E402
    OP_PT, PAD, TEXT_PT, _edge_path, figure, place, scene_of, text_width)
from tinygrad_es.viz.graph import GraphPicture, draw_graph, draw_model, render, to_dot  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


# ----- graphs to draw -----

def _course_loss():
    x, y = course.iris_data()
    loss = course.loss(course.init_params(0), Tensor(x, dtype="float64", name="x"),
                       Tensor(y, dtype="float64", name="y"))
    loss.name = "L"
    loss.backward()
    return loss


def _mlp_loss():
    rng = np.random.default_rng(0)
    x, y = Tensor(rng.normal(size=(32, 4)), name="x"), Tensor(rng.normal(size=(32, 1)), name="y")
    W1 = Tensor(rng.normal(size=(4, 8)), requires_grad=True, name="W1")
    b1 = Tensor(np.zeros(8), requires_grad=True, name="b1")
    W2 = Tensor(rng.normal(size=(8, 1)), requires_grad=True, name="W2")
    b2 = Tensor(np.zeros(1), requires_grad=True, name="b2")
    loss = (((x @ W1 + b1).relu() @ W2 + b2) - y).square().mean()
    loss.backward()
    return loss


def _scalar_mlp_loss():
    """micrograd's MLP(2, [4, 4, 1]) on one sample, every weight a scalar: about 100 tensors."""
    rng = np.random.default_rng(1)
    act = [Tensor(2.0, name="x0"), Tensor(-1.0, name="x1")]
    for layer, width in enumerate([4, 4, 1]):
        out = []
        for j in range(width):
            s = Tensor(0.0, requires_grad=True, name=f"b{layer}{j}")
            for i, a in enumerate(act):
                s = s + Tensor(rng.uniform(-1, 1), requires_grad=True, name=f"w{layer}{j}{i}") * a
            out.append(s.tanh() if layer < 2 else s)
        act = out
    loss = (act[0] - 1.0).square()
    loss.backward()
    return loss


GRAPHS = {"micrograd": (lambda: micrograd_expression()[0], "LR"),
          "course": (_course_loss, "TB"), "mlp": (_mlp_loss, "LR"),
          "hundred": (_scalar_mlp_loss, "TB")}


def _scene(name):
    make, rankdir = GRAPHS[name]
    tensor = make()
    if name == "micrograd":
        tensor.backward()
    spec = graph._tensor_spec(tensor, rankdir, True, True, None, 2000)
    return tensor, spec, scene_of(spec)


def _boxes(placement):
    return {n: (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            for n, ((x, y), (w, h)) in ((n, (placement.centre[n], placement.size[n]))
                                        for n in placement.centre)}


def _crossings(scene, placement) -> int:
    """Pairs of edges that cross (each edge as the polyline through its curve's end points)."""
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def cross(s, t):
        (p1, p2), (p3, p4) = s, t
        return (orient(p1, p2, p3) * orient(p1, p2, p4) < 0
                and orient(p3, p4, p1) * orient(p3, p4, p2) < 0)

    lines = []
    for k, edge in enumerate(scene.edges):
        verts = _edge_path(scene, placement, k, edge)
        points = [verts[0]] + verts[3::3]
        lines.append(list(zip(points, points[1:])))
    return sum(any(cross(s, t) for s in lines[i] for t in lines[j])
               for i, j in itertools.combinations(range(len(lines)), 2))


# ----- the layout -----

@pytest.mark.parametrize("name", list(GRAPHS))
def test_layout_no_overlap_edges_run_forward_text_fits(name):
    tensor, spec, scene = _scene(name)
    placement = place(scene)
    boxes = _boxes(placement)
    assert set(boxes) == set(scene.nodes) and len(scene.nodes) == len(spec[1])
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        overlap = min(ba[2], bb[2]) - max(ba[0], bb[0]), min(ba[3], bb[3]) - max(ba[1], bb[1])
        assert min(overlap) <= 0, f"{a} and {b} overlap in {name}"
    axis = 1 if scene.rankdir == "TB" else 0
    for tail, head in scene.edges:  # every arrow points down the ranks (inputs first)
        assert boxes[tail][axis + 2] < boxes[head][axis], (tail, head)
    for nid, node in scene.nodes.items():  # every text inside its cell
        w, h = placement.size[nid]
        if node.kind == "op":
            assert text_width(node.rows[0][0], OP_PT) < w
            continue
        for row in node.rows:
            assert sum(text_width(c, TEXT_PT) + 2 * PAD for c in row) <= w + 1e-6
    # the picture's extent holds every box
    assert all(b[0] >= -1e-6 and b[2] <= placement.width + 1e-6 for b in boxes.values())


def test_layers_by_depth_and_few_crossings():
    for name in ("micrograd", "course", "hundred"):
        _, _, scene = _scene(name)
        reduced = _crossings(scene, place(scene))
        unordered = _crossings(scene, place(scene, sweeps=0))
        assert reduced <= unordered and reduced <= 0.6 * unordered + 1, (name, reduced, unordered)
        if name != "hundred":  # a fully connected layer crosses itself; these need not
            assert reduced <= 1, name
    # an op sits one layer after its last input: depth order along the ranks
    tensor, _, scene = _scene("micrograd")
    placement = place(scene)
    x = {n: placement.centre[n][0] for n in scene.nodes}
    ids = {t.name: f"n{k}" for k, t in enumerate(walk(tensor))}
    ops = [n for n, node in scene.nodes.items() if node.kind == "op"]
    assert sorted(ops, key=x.get) == [ids[n] + "_op" for n in "edL"]  # e = a*b, d = e+c, L = d*f
    e_op, d_op, L_op = (x[ids[n] + "_op"] for n in "edL")
    # each input in the layer just before the op that uses it (not all in the first layer)
    assert x[ids["a"]] == x[ids["b"]] < e_op < x[ids["c"]] < d_op < x[ids["f"]] < L_op


def test_pictures_show_every_label(tmp_path):
    tensor, spec, scene = _scene("micrograd")
    fig = figure(scene)
    texts = {t.get_text() for t in fig.axes[0].texts}
    cells = {c for node in scene.nodes.values() for row in node.rows for c in row}
    assert cells <= texts
    a = next(t for t in walk(tensor) if t.name == "a")
    assert f"grad {float(a.grad):.4g}" in texts and "data 2" in texts
    # the scene's cells are the dot record's fields, unescaped
    for nid, attrs in spec[1]:
        if attrs["_kind"] != "op":
            fields = [c for row in attrs["_rows"] for c in row]
            assert attrs["label"] == "{ " + " | ".join(fields) + " }"


def test_big_arrays_are_summarised_in_the_picture():
    tensor, _, scene = _scene("course")
    x = next(t for t in walk(tensor) if t.name == "x")
    cells = [c for node in scene.nodes.values() for row in node.rows for c in row]
    assert f"data mean {x.data.mean():.4g}, norm {np.linalg.norm(x.data):.4g}" in cells
    assert max(map(len, cells)) < 60


# ----- GraphPicture, with and without dot -----

def test_draw_graph_displays_and_saves_either_way(tmp_path, graphviz_dot):
    L, _ = micrograd_expression()
    L.backward()
    picture = draw_graph(L)
    assert isinstance(picture, GraphPicture)
    assert picture.engine == ("graphviz" if graphviz_dot else "matplotlib")
    bundle = picture._repr_mimebundle_()
    assert list(bundle) == (["image/svg+xml"] if graphviz_dot else ["image/png"])
    assert picture._repr_png_().startswith(PNG) and "<svg" in picture._repr_svg_()
    out = picture.save(tmp_path / "g.png")
    assert out == tmp_path / "g.png" and out.read_bytes().startswith(PNG)
    assert "<svg" in picture.save(tmp_path / "g.svg").read_text()
    assert picture.save(tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert picture.save(tmp_path / "g.dot").read_text() == to_dot(L) == picture.source
    # graphviz.Digraph's render call keeps working, with either engine
    assert picture.render("h", directory=tmp_path) == str(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes().startswith(PNG)
    assert (tmp_path / "h").read_text() == to_dot(L)


def test_render_draws_with_matplotlib_without_dot(tmp_path, graphviz_dot):
    L, _ = micrograd_expression()
    L.backward()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no GraphvizMissing: a picture is drawn either way
        out = render(L, tmp_path / "sub" / "graph.png")
        model = course.build_model()
        model_out = render(draw_model(model), tmp_path / "model")
    assert out == tmp_path / "sub" / "graph.png" and out.read_bytes().startswith(PNG)
    assert (tmp_path / "sub" / "graph.dot").read_text() == to_dot(L)
    assert model_out.read_bytes().startswith(PNG)
    if not graphviz_dot:  # Graphviz text alone needs dot: the .dot and how to install it
        with pytest.warns(graph.GraphvizMissing, match="apt-get install graphviz"):
            assert render(to_dot(L), tmp_path / "text").suffix == ".dot"


def test_engine_choice_and_errors(tmp_path, monkeypatch):
    L, _ = micrograd_expression()
    assert draw_graph(L, engine="matplotlib").engine == "matplotlib"
    with pytest.raises(ValueError, match="engine must be one of"):
        draw_graph(L, engine="tikz")
    with pytest.raises(ValueError, match="format must be one of"):
        draw_graph(L, engine="matplotlib").pipe("gif")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None
    with pytest.raises(RuntimeError, match="engine='graphviz' needs Graphviz's `dot`"):
        draw_graph(L, engine="graphviz").save(tmp_path / "g.png")


def test_without_grandalf_the_error_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "grandalf.layouts", None)
    L, _ = micrograd_expression()
    with pytest.raises(ImportError, match="pip install grandalf"):
        draw_graph(L, engine="matplotlib").pipe("png")
