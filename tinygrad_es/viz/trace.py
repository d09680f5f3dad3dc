"""The backward pass printed step by step, in English or Spanish.

For every op, from the output back to the inputs (reverse topological order), the trace shows the
op, its local derivative (the formula, and its value for elementwise ops), the upstream gradient
that reached it, and what it sends to each input: upstream × local, the chain rule. The numbers
are the engine's own (each op's ``backward`` is called exactly as ``Tensor.backward`` calls it), so
the trace agrees with ``.grad`` to the last bit.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from tinygrad_es.autograd import toposort, unbroadcast
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import display, expression, fmt, resolve_names, summary, walk

__all__ = ["trace_backward"]

# Ops whose output entry depends only on the same entry of each input: their local derivative
# is a number per entry, which the trace prints (ops like MatMul or Softmax have a Jacobian).
_ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Pow", "PowScalar", "Square", "Neg", "Exp", "Log", "Sqrt", "Abs",
    "Clip", "Relu", "Relu6", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Softplus", "Softsign",
    "Silu", "Gelu", "Maximum", "Minimum", "Where", "Sum", "Mean", "BroadcastTo",
}

# Local derivatives ∂z/∂(input k), with {x}, {y} the input names and {z} the output's.
_FORMULAS = {
    "Add": ("1", "1"), "Sub": ("1", "-1"), "Mul": ("{y}", "{x}"), "Div": ("1/{y}", "-{x}/{y}²"),
    "Pow": ("{y}·{x}^({y}-1)", "{z}·ln({x})"), "Square": ("2·{x}",), "Neg": ("-1",),
    "Exp": ("e^{x} = {z}",), "Log": ("1/{x}",), "Sqrt": ("1/(2·√{x}) = 0.5/{z}",),
    "Abs": ("sign({x})",), "Sigmoid": ("σ({x})·(1-σ({x})) = {z}·(1-{z})",),
    "Tanh": ("1-tanh²({x}) = 1-{z}²",), "Relu": ("1 if {x} > 0 else 0",),
    "Sum": ("1",), "Mean": ("1/n",), "BroadcastTo": ("1",),
    "Maximum": ("1 if {x} >= {y} else 0", "1 if {x} < {y} else 0"),
    "Minimum": ("1 if {x} <= {y} else 0", "1 if {x} > {y} else 0"),
    "Where": ("", "1 where {x} else 0", "0 where {x} else 1"),  # inputs: cond, x, y
}

_TEXT = {
    "en": {
        "title": "Backward pass of {root} = {value}, step by step from the output to the inputs.",
        "rule": "Chain rule: gradient reaching an input = upstream gradient × local derivative.",
        "start": "start: ∂{root}/∂{root} = {seed}",
        "step": "Step",
        "upstream": "upstream gradient",
        "local": "local derivative",
        "to": "to",
        "sum_of": "(sum of {n} contributions)",
        "vjp": "(vector-Jacobian product: {formula})",
        "broadcast": "(summed over the broadcast axes to shape {shape})",
        "param": "→ added to {name}.grad",
        "result": "Gradients of the inputs (what backward() adds to .grad):",
        "parts": "(sum of {n} paths: {parts})",
        "entrywise": "entrywise",
    },
    "es": {
        "title": "Retropropagación (backward) de {root} = {value}, paso a paso desde la salida "
                 "hasta las entradas.",
        "rule": "Regla de la cadena: gradiente que llega a una entrada = gradiente que viene de "
                "arriba × derivada local.",
        "start": "inicio: ∂{root}/∂{root} = {seed}",
        "step": "Paso",
        "upstream": "gradiente que llega",
        "local": "derivada local",
        "to": "hacia",
        "sum_of": "(suma de {n} contribuciones)",
        "vjp": "(producto vector-jacobiano: {formula})",
        "broadcast": "(sumado sobre los ejes difundidos por broadcasting, forma {shape})",
        "param": "→ se suma a {name}.grad",
        "result": "Gradientes de las entradas (lo que backward() suma a .grad):",
        "parts": "(suma de {n} caminos: {parts})",
        "entrywise": "elemento a elemento",
    },
}

_VJP = {"MatMul": ("{g} @ {y}ᵀ", "{x}ᵀ @ {g}"),
        "Softmax": ("{z} ⊙ ({g} - Σ {g}⊙{z})",), "LogSoftmax": ("{g} - softmax({x})·Σ {g}",)}


def trace_backward(tensor: Tensor, lang: str = "en", names: Mapping[Any, str] | None = None,
                   grad: Any = None, digits: int = 6) -> str:
    """The backward pass of ``tensor`` as text, one step per op, without changing any ``.grad``.

    Call it before ``backward()`` (or after ``backward(retain_graph=True)``): the ops' saved
    values are needed. Tensors are called by ``.name`` (name your parameters ``w_2``, ``b_5`` as
    the course does), by ``names``, or ``t1, t2, ...``; an unnamed output is ``L``.

    Args:
        tensor: the output, usually a scalar loss.
        lang: ``"en"`` or ``"es"`` (Spanish).
        names: display names keyed by Tensor or by ``.name``.
        grad: the upstream gradient for a non-scalar output (as ``backward(grad)``).
        digits: significant digits of the printed numbers.

    Example:
        >>> w = Tensor(0.5, requires_grad=True, name="w_2"); x = Tensor(2.0, name="x")
        >>> L = (w * x).sigmoid()
        >>> print(trace_backward(L, lang="es"))      # doctest: +ELLIPSIS
        Retropropagación ...
            w_2.grad = 0.393224
        <BLANKLINE>
        >>> L.backward(); round(float(w.grad), 6)   # backward() agrees with the trace
        0.393224
    """
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'en' or 'es', received {lang!r}")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"trace_backward expects a Tensor, received {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise ValueError("trace_backward: this tensor does not require grad, so there is no "
                         "backward pass; create the inputs with requires_grad=True")
    text = _TEXT[lang]
    order = toposort(tensor)
    for node in order:
        if node._ctx is not None and node._ctx.released:
            raise RuntimeError(
                f"trace_backward needs the values the ops saved, but backward() already freed them "
                f"(at {node._ctx.name}). Call trace_backward before backward(), or call "
                "backward(retain_graph=True).")
    seed = _seed(tensor, grad)
    shown = resolve_names(walk(tensor), names, root=tensor)
    root = shown[id(tensor)]
    num = lambda a: _num(a, digits)  # noqa: E731
    lines = [text["title"].format(root=root, value=num(tensor.data)), text["rule"], "",
             text["start"].format(root=root, seed=num(seed)), ""]

    grads: dict[int, np.ndarray] = {id(tensor): seed}
    parts: dict[int, list[np.ndarray]] = {id(tensor): [seed]}
    leaves: list[Tensor] = []
    step = 0
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        if ctx is None:
            leaves.append(node)
            grads[id(node)] = g
            continue
        step += 1
        name = shown[id(node)]
        lines.append(f"[{text['step']} {step}] {expression(node, shown)} = {num(node.data)}"
                     f"    ({ctx.name})")
        n_parts = len(parts.get(id(node), ()))
        extra = " " + text["sum_of"].format(n=n_parts) if n_parts > 1 else ""
        lines.append(f"    {text['upstream']:<20} ∂{root}/∂{name} = {num(g)}{extra}")

        parent_grads = ctx.backward(g)
        if not isinstance(parent_grads, tuple):
            parent_grads = (parent_grads,)
        locals_ = _local_values(ctx, node)
        for k, (parent, pg) in enumerate(zip(ctx.parents, parent_grads)):
            if pg is None or not parent.requires_grad:
                continue
            pname = display(parent, shown)
            formula = _formula(ctx, k, shown, node, g_name=f"∂{root}/∂{name}")
            if locals_ is not None:
                value = locals_[k]
                generic = formula.startswith("dz/dx")  # from the primitive's docstring
                shown_value = ("" if formula == num(value) else num(value) if generic
                               else f"{formula} = {num(value)}")
                lines.append(f"    {text['local']:<20} ∂{name}/∂{pname} = {shown_value or formula}"
                             + ("" if np.size(value) == 1 else f"  ({text['entrywise']})"))
                if generic:
                    lines.append(f"    {'':<20} {formula}")
            else:
                lines.append(f"    {text['local']:<20} " + text["vjp"].format(formula=formula))
            reached = unbroadcast(pg, parent.data.shape) if pg.shape != parent.data.shape else pg
            how = (f"{num(g)} × {_paren(num(locals_[k]))} = " if locals_ is not None
                   and np.size(g) == 1 and np.size(locals_[k]) == 1 else "")
            line = f"    {text['to'] + ' ' + pname:<20} ∂{root}/∂{pname} = {how}{num(reached)}"
            if reached is not pg:
                line += " " + text["broadcast"].format(shape=parent.data.shape)
            if parent._ctx is None:
                line += "  " + text["param"].format(name=pname)
            lines.append(line)
            key = id(parent)
            grads[key] = reached if key not in grads else grads[key] + reached
            parts.setdefault(key, []).append(reached)
        lines.append("")

    lines.append(text["result"])
    reached_leaves = {id(leaf) for leaf in leaves}
    leaves = [t for t in walk(tensor) if id(t) in reached_leaves]  # as the forward pass meets them
    width = max((len(shown[id(leaf)]) for leaf in leaves), default=0)
    for leaf in leaves:
        leaf_name = shown[id(leaf)]
        line = f"    {leaf_name + '.grad':<{width + 5}} = {num(grads[id(leaf)])}"
        leaf_parts = parts[id(leaf)]
        if len(leaf_parts) > 1 and all(np.size(p) == 1 for p in leaf_parts):
            joined = " + ".join(num(p) for p in leaf_parts)
            line += "  " + text["parts"].format(n=len(leaf_parts), parts=joined)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _seed(tensor: Tensor, grad: Any) -> np.ndarray:
    if grad is None:
        if tensor.size != 1:
            raise ValueError(f"trace_backward without grad= needs a scalar output, received shape "
                             f"{tensor.shape}; reduce it (.sum(), .mean()) or pass grad=")
        return np.ones_like(tensor.data)
    seed = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=tensor.dtype)
    if seed.shape != tensor.shape:
        raise ValueError(f"trace_backward received grad of shape {seed.shape} for an output of "
                         f"shape {tensor.shape}; they must match")
    return seed


def _local_values(ctx: Any, node: Tensor) -> list[np.ndarray] | None:
    """∂z/∂(each input) entrywise, from the op's own backward with an upstream of ones."""
    if ctx.name not in _ELEMENTWISE:
        return None
    out = ctx.backward(np.ones_like(node.data))
    out = out if isinstance(out, tuple) else (out,)
    values = []
    for value in out:
        if value is None:
            values.append(None)
            continue
        value = np.asarray(value)
        # A constant local derivative (1, -1, 1/n) is shown once, not once per entry.
        flat = value.reshape(-1)
        values.append(flat[0] if flat.size and np.all(flat == flat[0]) else value)
    return values


def _formula(ctx: Any, k: int, shown: dict[int, str], node: Tensor, g_name: str) -> str:
    """The local derivative (or vector-Jacobian product) of input ``k``, in the tensors' names."""
    parents = ctx.parents
    x = display(parents[0], shown)
    y = display(parents[1], shown) if len(parents) > 1 else ""
    z = display(node, shown)
    if ctx.name == "PowScalar":
        return f"{fmt(ctx.p)}·{x}^{fmt(ctx.p - 1)}"
    if ctx.name == "Mean":
        return f"1/{ctx.n}"
    table = _FORMULAS.get(ctx.name) or _VJP.get(ctx.name)
    if table is not None and k < len(table):
        return table[k].format(x=x, y=y, z=z, g=g_name)
    doc = (type(ctx).__doc__ or ctx.name).strip().splitlines()[0]
    # "Selu: z = ... .  dz/dx = ...": the derivative part of the primitive's docstring.
    derivative = doc.split(".  ", 1)[-1].rstrip(".")
    return f"{derivative}, x = {x}, z = {z}"


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _num(a: Any, digits: int) -> str:
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.reshape(()), digits)
    return f"{summary(a, digits)}  shape {tuple(a.shape)}"
