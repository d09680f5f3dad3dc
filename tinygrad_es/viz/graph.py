"""Pictures of the computation graph, in the style of micrograd's ``draw_dot``.

Every tensor is a record ``{ name | shape | data | grad }``; every op is a small ellipse between
its inputs and its output, left to right. Large arrays are summarised (mean and norm), never
dumped. ``to_dot`` writes the Graphviz text with no dependency; ``draw_graph`` returns a
:class:`GraphPicture` (shown inline in Jupyter, ``.save("g.png")``), drawn by Graphviz's ``dot``
program where it is installed and by matplotlib (``draw_mpl.py``, laid out by grandalf) where it
is not; ``render`` writes the ``.dot`` file and the picture.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any, Mapping

from tinygrad_es.i18n import N_, tr
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import op_label, resolve_names, shape_text, summary, walk
from tinygrad_es.viz.picture import GraphPicture

__all__ = ["draw_graph", "to_dot", "draw_model", "model_to_dot", "render", "GraphvizMissing",
           "GraphPicture"]

_RANKDIRS = ("LR", "TB", "RL", "BT")
_GRAPH_ATTR = {"fontname": "Helvetica", "fontsize": "11"}
_PARAM_STYLE = {"style": "filled", "fillcolor": "#dbe9f6"}
_CONST_STYLE = {"color": "gray55", "fontcolor": "gray35"}
_OP_STYLE = {"shape": "ellipse", "fontsize": "10", "width": "0.3", "height": "0.3",
             "margin": "0.03,0.02"}
_INSTALL = N_("Install Graphviz's `dot` program to render it: `apt-get install graphviz` "
              "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`; "
              "then `dot -T{fmt} {dot} -o {out}` renders this file.")

Spec = tuple[dict[str, str], list[tuple[str, dict[str, str]]], list[tuple[str, str]]]


class GraphvizMissing(UserWarning):
    """Warned by ``render`` when nothing could draw the picture: Graphviz's ``dot`` is not
    installed and matplotlib could not stand in (the .dot is still written)."""


# ----- the graph of a tensor -----

def to_dot(tensor: Tensor, rankdir: str = "LR", show_data: bool = True, show_grad: bool = True,
           names: Mapping[Any, str] | None = None, max_nodes: int = 2000) -> str:
    """The Graphviz source of the graph that computed ``tensor``; needs no package.

    Args:
        tensor: the output (usually the loss).
        rankdir: ``"LR"`` (left to right, as micrograd) or ``"TB"``, ``"RL"``, ``"BT"``.
        show_data: show each tensor's values (small arrays in full, large ones as mean and norm).
        show_grad: show each tensor's ``.grad`` (``None`` before ``backward()``).
        names: display names, keyed by Tensor or by ``.name`` (``{"dense/kernel": "W1"}``);
            unnamed tensors are called ``t1, t2, ...`` as in ``trace_backward``.
        max_nodes: refuse graphs with more tensors than this (the picture would be unreadable).

    Example:
        >>> a = Tensor(2.0, requires_grad=True, name="a")
        >>> print(to_dot(a * 3).splitlines()[0])
        digraph {
    """
    return _dot_source(_tensor_spec(tensor, rankdir, show_data, show_grad, names, max_nodes))


def draw_graph(tensor: Tensor, rankdir: str = "LR", show_data: bool = True,
               show_grad: bool = True, names: Mapping[Any, str] | None = None,
               max_nodes: int = 2000, engine: str = "auto") -> GraphPicture:
    """The graph that computed ``tensor``, as a picture (micrograd's ``draw_dot``).

    Arguments as in :func:`to_dot`; ``engine`` is ``"auto"`` (Graphviz's ``dot`` where it is
    installed, else matplotlib), ``"graphviz"`` or ``"matplotlib"``. The picture displays itself
    in a notebook and ``.save("g.png")`` writes it; ``.digraph`` is the ``graphviz.Digraph`` this
    function returned in earlier versions.

    Example:
        >>> a = Tensor(2.0, requires_grad=True, name="a")
        >>> b = Tensor(-3.0, requires_grad=True, name="b")
        >>> L = a * b; L.backward()
        >>> picture = draw_graph(L)
        >>> picture.save("graph.png")    # Graphviz or matplotlib draws it  # doctest: +SKIP
        PosixPath('graph.png')
    """
    spec = _tensor_spec(tensor, rankdir, show_data, show_grad, names, max_nodes)
    return GraphPicture(spec, engine)


def _tensor_spec(root: Tensor, rankdir: str, show_data: bool, show_grad: bool,
                 names: Mapping[Any, str] | None, max_nodes: int) -> Spec:
    if rankdir not in _RANKDIRS:
        raise ValueError(tr("rankdir must be one of {valid}, received {rankdir!r}",
                            valid=_RANKDIRS, rankdir=rankdir))
    nodes_in_order = walk(root)
    if len(nodes_in_order) > max_nodes:
        raise ValueError(tr(
            "the graph has {n} tensors, more than max_nodes={max_nodes}; a picture this big is "
            "unreadable: draw a smaller expression (one sample, one layer) or pass a larger "
            "max_nodes", n=len(nodes_in_order), max_nodes=max_nodes))
    shown = resolve_names(nodes_in_order, names, root=root)
    ids = {id(t): f"n{k}" for k, t in enumerate(nodes_in_order)}
    # micrograd's one row of fields for scalar graphs; name/shape over data/grad once arrays
    # make the fields long (half as wide; rankdir="TB" stacks all four instead).
    two_rows = any(t.size > 1 for t in nodes_in_order)
    nodes: list[tuple[str, dict[str, str]]] = []
    edges: list[tuple[str, str]] = []
    for t in nodes_in_order:
        nid = ids[id(t)]
        fields = [shown.get(id(t), "const"), shape_text(t.shape)]
        if show_data:
            fields.append("data " + summary(t.data))
        if show_grad:
            if t.grad is not None:
                fields.append("grad " + summary(t.grad))
            else:
                fields.append("grad None" if t.requires_grad else tr("no grad"))
        attrs = {"label": _record(fields, two_rows), "shape": "record",
                 "_rows": _rows(fields, two_rows, rankdir), "_kind": "value"}
        if t.grad_fn is None:
            attrs.update(_PARAM_STYLE if t.requires_grad else _CONST_STYLE)
            attrs["_kind"] = "param" if t.requires_grad else "const"
        nodes.append((nid, attrs))
        if t.grad_fn is not None:
            op_id = nid + "_op"
            nodes.append((op_id, {"label": op_label(t), **_OP_STYLE, "_rows": [[op_label(t)]],
                                  "_kind": "op"}))
            edges.extend((ids[id(p)], op_id) for p in t.parents)
            edges.append((op_id, nid))
    return {"rankdir": rankdir, **_GRAPH_ATTR}, nodes, edges


# ----- the layers of a model -----

def model_to_dot(model: Any, rankdir: str = "TB") -> str:
    """The Graphviz source of :func:`draw_model`'s picture; needs no package.

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(3, activation="sigmoid"), layers.Dense(1)])
        >>> model.build((None, 1))
        >>> print(model_to_dot(model).splitlines()[0])
        digraph {
    """
    return _dot_source(_model_spec(model, rankdir))


def draw_model(model: Any, rankdir: str = "TB", engine: str = "auto") -> GraphPicture:
    """A layer-level picture of a model: one box per layer with its name, type (and activation),
    output shape and number of parameters, the input on top. Returns a :class:`GraphPicture`
    (``.digraph`` is the ``graphviz.Digraph``).

    Args:
        model: a ``Sequential`` (anything with ``.layers``); built, or the shapes show ``?``.
        rankdir: ``"TB"`` (top to bottom, as Keras's ``plot_model``) or ``"LR"``.
        engine: ``"auto"``, ``"graphviz"`` or ``"matplotlib"`` (as in :func:`draw_graph`).

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(3, activation="sigmoid"), layers.Dense(1)])
        >>> model.build((None, 1))
        >>> render(draw_model(model), "model")  # doctest: +SKIP
        PosixPath('model.png')
    """
    return GraphPicture(_model_spec(model, rankdir), engine)


def _model_spec(model: Any, rankdir: str) -> Spec:
    if rankdir not in _RANKDIRS:
        raise ValueError(tr("rankdir must be one of {valid}, received {rankdir!r}",
                            valid=_RANKDIRS, rankdir=rankdir))
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(tr("draw_model expects a model with .layers (a Sequential), received "
                           "{type}", type=type(model).__name__))
    shape = getattr(model, "input_shape", None)
    stack = rankdir in ("TB", "BT")  # Graphviz stacks a record's fields across the ranks
    first = [tr("input"), _shape_or_unknown(shape)]
    nodes = [("input", {"label": "{ " + _escape_record(first[0]) + " | "
                        + _escape_record(_shape_or_unknown(shape)) + " }",
                        "shape": "record", **_CONST_STYLE,
                        "_rows": [[f] for f in first] if stack else [first], "_kind": "const"})]
    edges: list[tuple[str, str]] = []
    total = 0
    previous = "input"
    for k, layer in enumerate(layers):
        shape = _output_shape(layer, shape)
        params = _count_params(layer)
        total += params if isinstance(params, int) else 0
        kind = type(layer).__name__
        activation = _activation_name(layer)
        if activation:
            kind += f" ({activation})"
        fields = [getattr(layer, "name", f"layer_{k}"), kind,
                  tr("output {shape}", shape=_shape_or_unknown(shape)),
                  tr("params {n}", n=params)]
        nid = f"layer{k}"
        nodes.append((nid, {"label": _record(fields), "shape": "record",
                            **(_PARAM_STYLE if params else {}),
                            "_rows": [[f] for f in fields] if stack else [fields],
                            "_kind": "param" if params else "layer"}))
        edges.append((previous, nid))
        previous = nid
    title = tr("{name}: {total} parameters", name=getattr(model, "name", type(model).__name__),
               total=total)
    graph = {"rankdir": rankdir, "label": _escape_quote(title), "labelloc": "b", **_GRAPH_ATTR}
    return graph, nodes, edges


def _output_shape(layer: Any, shape: Any) -> Any:
    if shape is None:
        return None
    try:
        return tuple(layer.compute_output_shape(tuple(shape)))
    except Exception:  # a layer that cannot say (unbuilt, unknown input): show "?"
        return None


def _count_params(layer: Any) -> int | str:
    try:
        return int(layer.count_params())
    except Exception:  # Keras raises for unbuilt layers; so may ours
        return "?"


def _activation_name(layer: Any) -> str | None:
    try:
        act = layer.get_config().get("activation")
    except Exception:
        return None
    return act if isinstance(act, str) and act != "linear" else None


def _shape_or_unknown(shape: Any) -> str:
    return "?" if shape is None else str(tuple(shape))


# ----- rendering -----

def render(graph: Any, path: str | Path, format: str = "png") -> Path:
    """Write ``path.dot`` and the picture ``path.<format>``: drawn by Graphviz's ``dot`` program
    where it is installed, else (for a Tensor, a model or a :class:`GraphPicture`) by matplotlib.

    Args:
        graph: a Tensor (drawn with the defaults of :func:`to_dot`), a model (``.layers``), a
            :class:`GraphPicture`, a ``graphviz.Digraph``/``Source`` or Graphviz source text.
        path: the output file, with or without the extension (``"out/graph"``, ``"out/graph.png"``).
        format: ``"png"``, ``"svg"``, ``"pdf"`` (with ``dot``: anything ``dot -T`` knows).

    Returns:
        The rendered file; or, when neither can draw it (Graphviz source text without ``dot``, or
        no matplotlib/grandalf), the ``.dot`` file, with a ``GraphvizMissing`` warning that says
        what to install.

    Example:
        >>> from tinygrad_es import Tensor
        >>> loss = (Tensor(2.0, requires_grad=True, name="w") * 3.0).tanh()
        >>> render(loss, "out/loss_graph")  # doctest: +SKIP
        PosixPath('out/loss_graph.png')
    """
    spec = _spec_of(graph)
    source = _dot_source(spec) if spec is not None else _source_of(graph)
    path = Path(path)
    if path.suffix in (f".{format}", ".dot"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    dot_file = path.with_name(path.name + ".dot")
    out_file = path.with_name(path.name + f".{format}")
    dot_file.write_text(source, encoding="utf-8")
    program = shutil.which("dot")
    if program is None and spec is not None and format in ("png", "svg", "pdf"):
        try:
            return GraphPicture(spec, "matplotlib").save(out_file)
        except ImportError as err:
            missing = " " + tr("Nor could matplotlib draw it ({err}; pip install "
                               "'tinygrad_es[viz]').", err=err)
    else:
        missing = ""
    if program is None:
        warnings.warn(tr("Graphviz's `dot` program was not found, so only {dot} was written.",
                         dot=dot_file) + f"{missing} "
                      + tr(_INSTALL, fmt=format, dot=dot_file, out=out_file),
                      GraphvizMissing, stacklevel=2)
        return dot_file
    done = subprocess.run([program, f"-T{format}", str(dot_file), "-o", str(out_file)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(tr("`dot -T{fmt}` failed on {dot} (exit {code}): {stderr}", fmt=format,
                              dot=dot_file, code=done.returncode, stderr=done.stderr.strip()))
    return out_file


def _spec_of(graph: Any) -> Spec | None:
    """The spec behind what ``render`` received, when it has one (not for Graphviz text)."""
    if isinstance(graph, GraphPicture):
        return graph._spec
    if isinstance(graph, Tensor):
        return _tensor_spec(graph, "LR", True, True, None, 2000)
    if not isinstance(graph, str) and not hasattr(graph, "source") and hasattr(graph, "layers"):
        return _model_spec(graph, "TB")
    return None


def _source_of(graph: Any) -> str:
    if isinstance(graph, Tensor):
        return to_dot(graph)
    if isinstance(graph, str):
        if "graph" not in graph:
            raise ValueError(tr("render received a string that is not Graphviz source; pass a "
                                "Tensor, a model, a graphviz.Digraph or {example} text",
                                example="'digraph { ... }'"))
        return graph
    if isinstance(getattr(graph, "source", None), str):
        return graph.source
    if hasattr(graph, "layers"):
        return model_to_dot(graph)
    raise TypeError(tr("render expects a Tensor, a model, a graphviz.Digraph or Graphviz source, "
                       "received {type}", type=type(graph).__name__))


# ----- writing Graphviz -----

def _digraph(spec: Spec) -> Any:
    try:
        import graphviz
    except ImportError as err:
        raise ImportError(tr(
            "draw_graph/draw_model need the Python package graphviz (pip install graphviz, or "
            "pip install 'tinygrad_es[viz]'); to_dot()/model_to_dot() need nothing and "
            "render() writes a .dot file from them ({err})", err=err)) from None
    graph_attr, nodes, edges = spec
    dot = graphviz.Digraph(graph_attr=graph_attr, node_attr=dict(_GRAPH_ATTR))
    for nid, attrs in nodes:
        dot.node(nid, **_public(attrs))
    for tail, head in edges:
        dot.edge(tail, head)
    return dot


def _dot_source(spec: Spec) -> str:
    graph_attr, nodes, edges = spec
    lines = ["digraph {", f"\tgraph [{_attrs(graph_attr)}]", f"\tnode [{_attrs(_GRAPH_ATTR)}]"]
    lines += [f"\t{nid} [{_attrs(attrs)}]" for nid, attrs in nodes]
    lines += [f"\t{tail} -> {head}" for tail, head in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _attrs(attrs: dict[str, Any]) -> str:
    return " ".join(f'{key}="{value}"' for key, value in _public(attrs).items())


def _public(attrs: dict[str, Any]) -> dict[str, str]:
    """Graphviz's attributes only (``_rows`` and ``_kind`` are the matplotlib renderer's)."""
    return {key: value for key, value in attrs.items() if not key.startswith("_")}


def _rows(fields: list[str], two_rows: bool, rankdir: str) -> list[list[str]]:
    """The record's cells as Graphviz lays ``_record`` out: one row (``LR``) or one column
    (``TB``); with ``two_rows``, name and shape over data and grad (``TB``), or name over shape
    beside data over grad (``LR``)."""
    across = rankdir in ("TB", "BT")
    if not two_rows or len(fields) <= 2:
        return [[f] for f in fields] if across else [fields]
    if across:
        return [fields[:2], fields[2:]]
    return [[fields[0], fields[2]], [fields[1], fields[3] if len(fields) > 3 else ""]]


def _record(fields: list[str], two_rows: bool = False) -> str:
    """``{ a | b | c | d }``; with ``two_rows`` ``{ {a | b} | {c | d} }`` (pairs stacked)."""
    cells = [_escape_record(f) for f in fields]
    if two_rows and len(cells) > 2:
        return "{ {" + " | ".join(cells[:2]) + "} | {" + " | ".join(cells[2:]) + "} }"
    return "{ " + " | ".join(cells) + " }"


def _escape_record(text: str) -> str:
    """Escape the characters that structure a record label, and quotes."""
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return _escape_quote(text)


def _escape_quote(text: str) -> str:
    return text.replace('"', '\\"')
