"""Lesson 9: the computation graph and the backward pass, step by step, in English and Spanish.

Two computations:

1. micrograd's neuron, o = tanh(x1·w1 + x2·w2 + b) with x1 = 2, x2 = 0, w1 = −3, w2 = 1,
   b = 6.8813735870195432 (so that n = 0.8814 and o = 0.7071): every number fits in the picture;
2. the course's network on iris rows 0-98, its weights named as the course names them (w_2, b_2,
   ..., w_52, b_5): arrays of 99 rows are summarised by their mean and norm.

For each: ``trace_backward`` prints the backward pass before it runs (each op, its local
derivative, the gradient that reaches each input: the chain rule), then ``backward()`` fills
``.grad`` — the same numbers the trace printed — and ``draw_graph``/``render`` draw the graph with
data and gradients (PNG with Graphviz's ``dot``; without it, the ``.dot`` file and how to install).

Run:  python examples/lesson9_graph_and_trace.py --out pictures/
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from tinygrad_es import Tensor, course
from tinygrad_es.viz import draw_graph, render, trace_backward
from tinygrad_es.viz.graph import GraphvizMissing
from tinygrad_es.i18n import argparse_speaks, tr


def neuron() -> tuple[Tensor, dict[str, Tensor]]:
    """micrograd's example neuron; returns the output and its named inputs."""
    inputs = {"x1": Tensor(2.0, name="x1"), "x2": Tensor(0.0, name="x2"),
              "w1": Tensor(-3.0, requires_grad=True, name="w1"),
              "w2": Tensor(1.0, requires_grad=True, name="w2"),
              "b": Tensor(6.8813735870195432, requires_grad=True, name="b")}
    n = inputs["x1"] * inputs["w1"] + inputs["x2"] * inputs["w2"] + inputs["b"]
    n.name = "n"
    o = n.tanh()
    o.name = "o"
    return o, inputs


def course_loss(seed: int | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """The course's MAE on iris rows 0-98 at :func:`course.init_params` ``(seed)`` (None: the
    course's starting weights)."""
    x, y = course.iris_data()
    params = course.init_params(seed)
    loss = course.loss(params, Tensor(x, dtype="float64", name="x"),
                       Tensor(y, dtype="float64", name="y"))
    loss.name = "L"
    return loss, params


def draw(tensor: Tensor, path: Path, rankdir: str = "LR") -> Path:
    """Render the graph (Graphviz's ``dot`` where installed, else matplotlib); with neither,
    keep the ``.dot`` file and say so."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizMissing)
        out = render(draw_graph(tensor, rankdir=rankdir), path)
    for warning in caught:
        print(tr("note: {message}", message=warning.message))
    return out


def main(out_dir: str | Path = "lesson9_output", quick: bool = False) -> dict:
    """Write the traces (``lesson9_<name>_trace_<lang>.txt``) and graphs (``lesson9_<name>_graph``).

    ``quick`` changes nothing (this lesson is fast).

    Returns:
        ``{"traces": {(name, lang): text}, "grads": {name: {param: grad}}, "pictures": [...],
        "texts": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    traces, grads, pictures, texts = {}, {}, [], []
    for name, build, rankdir in (("neuron", neuron, "LR"), ("course", course_loss, "TB")):
        out, params = build()
        for lang in ("en", "es"):
            traces[(name, lang)] = trace_backward(out, lang=lang)
            texts.append(out_dir / f"lesson9_{name}_trace_{lang}.txt")
            texts[-1].write_text(traces[(name, lang)], encoding="utf-8")
        out.backward()
        grads[name] = {k: float(p.grad) for k, p in params.items() if p.requires_grad}
        pictures.append(draw(out, out_dir / f"lesson9_{name}_graph", rankdir))
    print(traces[("neuron", "en")])
    course_trace = traces[("course", "es")].splitlines()
    print("\n".join(course_trace[:11] + ["    ..."] + course_trace[-11:]))
    for path in pictures + texts:
        print(tr("wrote {path}", path=path))
    return {"traces": traces, "grads": grads, "pictures": pictures, "texts": texts}


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 9: the computation graph and "
                           "the backward pass, step by step"))
        parser.add_argument("--out", default="lesson9_output", help=tr("folder for the pictures"))
        parser.add_argument("--quick", action="store_true", help=tr("no difference (already fast)"))
        args = parser.parse_args()
    main(args.out, quick=args.quick)
