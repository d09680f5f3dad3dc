"""Helpers shared by the graph picture and the backward trace: walking a graph, naming its nodes,
printing numbers and summarising arrays (a large array is never dumped: shape, mean and norm)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from tinygrad_es.tensor import Tensor
from tinygrad_es.i18n import tr

# Arrays with at most this many entries are printed in full; larger ones are summarised.
SMALL = 4

# How each op reads as an expression of its inputs ({0}, {1} are the input names).
EXPRESSIONS = {
    "Add": "{0} + {1}", "Sub": "{0} - {1}", "Mul": "{0} * {1}", "Div": "{0} / {1}",
    "Pow": "{0} ** {1}", "MatMul": "{0} @ {1}", "Neg": "-{0}", "Square": "{0}²",
}
# The short label of an op node in the picture (micrograd draws "+" and "*").
SYMBOLS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "**", "MatMul": "@",
           "Neg": "neg"}


def walk(root: Tensor) -> list[Tensor]:
    """Every tensor that leads to ``root`` (constants too), parents before children.

    Iterative, like the engine's ``toposort``, so deep graphs do not hit the recursion limit.
    """
    if not isinstance(root, Tensor):
        raise TypeError(tr("expected a Tensor, received {cls}", cls=type(root).__name__))
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node.grad_fn is not None:
            for parent in reversed(node.parents):
                if id(parent) not in visited:
                    stack.append((parent, False))
    return order


def resolve_names(nodes: list[Tensor], names: Mapping[Any, str] | None,
                  root: Tensor | None = None) -> dict[int, str]:
    """Display names by ``id``: ``names`` (keyed by Tensor or by ``.name``), then ``.name``, then
    ``t1, t2, ...`` in forward order for the unnamed tensors that need a gradient; the unnamed
    output of a trace is ``L``. Constants get no entry (they are shown by value)."""
    by_id: dict[int, str] = {}
    by_name: dict[str, str] = {}
    for key, value in (names or {}).items():
        if isinstance(key, Tensor):
            by_id[id(key)] = str(value)
        elif isinstance(key, str):
            by_name[key] = str(value)
        else:
            raise TypeError(tr("names keys must be Tensors or tensor names (str), received "
                               "{cls} {key!r}", cls=type(key).__name__, key=key))
    out: dict[int, str] = {}
    counter = 0
    for t in nodes:
        if id(t) in by_id:
            out[id(t)] = by_id[id(t)]
        elif t.name is not None and t.name in by_name:
            out[id(t)] = by_name[t.name]
        elif t.name:
            out[id(t)] = t.name
        elif t is root:
            out[id(t)] = "L"
        elif t.requires_grad or t.grad_fn is not None:
            counter += 1
            out[id(t)] = f"t{counter}"
    return out


def op_label(t: Tensor) -> str:
    """``"+"``, ``"*"``, ``"sigmoid"``, ``"sum(axis=0)"``, ``"**3"``: the op node's text."""
    ctx = t.grad_fn
    name = ctx.name
    if name in SYMBOLS:
        return SYMBOLS[name]
    if name == "PowScalar":
        return f"**{fmt(ctx.p)}"
    label = name.lower()
    axis = getattr(ctx, "axis", None)
    if axis is not None and name in ("Sum", "Mean", "Max", "Min", "Softmax", "LogSoftmax"):
        label += f"(axis={axis})"
    return label


def expression(t: Tensor, names: dict[int, str]) -> str:
    """``"t3 = t1 * w_52"``: the node written as its op applied to its inputs."""
    ctx = t.grad_fn
    args = [display(p, names) for p in ctx.parents]
    if ctx.name in EXPRESSIONS and len(args) == EXPRESSIONS[ctx.name].count("{"):
        rhs = EXPRESSIONS[ctx.name].format(*args)
    elif ctx.name == "PowScalar":
        rhs = f"{args[0]} ** {fmt(ctx.p)}"
    else:
        rhs = f"{op_label(t)}({', '.join(args)})"
    return f"{display(t, names)} = {rhs}"


def display(t: Tensor, names: dict[int, str]) -> str:
    """The tensor's name, or a constant's value (``2``, ``[1, 2]``, ``const(150, 1)``)."""
    if id(t) in names:
        return names[id(t)]
    if t.size <= SMALL:
        return values(t.data)
    return f"const{t.shape}"


def fmt(x: Any, digits: int = 6) -> str:
    """A number with ``digits`` significant digits, no trailing noise (``0.5``, ``-1.25e-07``)."""
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def values(a: np.ndarray, digits: int = 6) -> str:
    """A small array's numbers: ``0.5`` for one entry, ``[0.5, -1]`` otherwise (flattened)."""
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.reshape(()), digits)
    return "[" + ", ".join(fmt(v, digits) for v in a.reshape(-1)) + "]"


def summary(a: np.ndarray, digits: int = 4, lang: str | None = None) -> str:
    """A small array in full, a large one as ``mean m, norm n`` (never dumped), in ``lang``
    (default: the current language)."""
    a = np.asarray(a)
    if a.size <= SMALL:
        return values(a, digits)
    if a.size == 0:
        return tr("empty", lang=lang)
    return tr("mean {mean}, norm {norm}", lang=lang, mean=fmt(a.mean(), digits),
              norm=fmt(np.linalg.norm(a.astype(np.float64)), digits))


def shape_text(shape: tuple[int, ...]) -> str:
    """``"(3, 4)"``, ``"(3,)"``, or ``"scalar"`` for shape ()."""
    return tr("scalar") if shape == () else str(tuple(shape))
