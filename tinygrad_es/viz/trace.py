"""The backward pass printed step by step, in English or Spanish.

For every op, from the output back to the inputs (reverse topological order), the trace shows the
op, its local derivative (the formula, and its value for elementwise ops), the upstream gradient
that reached it, and what it sends to each input: upstream × local, the chain rule. The numbers
are the engine's own (each op's ``backward`` is called exactly as ``Tensor.backward`` calls it), so
the trace agrees with ``.grad`` to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from tinygrad_es.autograd import toposort, unbroadcast
from tinygrad_es.i18n import LANGUAGES, tr
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import display, expression, fmt, resolve_names, summary, walk
from tinygrad_es.viz.html import TraceText

__all__ = ["trace_backward", "backward_steps", "BackwardRun", "Step", "Contribution"]

def _text(lang: str | None = None) -> dict[str, str]:
    """The trace's words in ``lang`` (default: the current language), from the catalogue."""
    check_lang(lang)
    return {
        "title": tr("Backward pass of {root} = {value}, step by step from the output to the "
                    "inputs.", lang),
        "rule": tr("Chain rule: gradient reaching an input = upstream gradient × local "
                   "derivative.", lang),
        "start": tr("start: ∂{root}/∂{root} = {seed}", lang),
        "step": tr("Step", lang),
        "upstream": tr("upstream gradient", lang),
        "local": tr("local derivative", lang),
        "to": tr("to", lang),
        "sum_of": tr("(sum of {n} contributions)", lang),
        "vjp": tr("(vector-Jacobian product: {formula})", lang),
        "broadcast": tr("(summed over the broadcast axes to shape {shape})", lang),
        "param": tr("→ added to {name}.grad", lang),
        "result": tr("Gradients of the inputs (what backward() adds to .grad):", lang),
        "parts": tr("(sum of {n} paths: {parts})", lang),
        "entrywise": tr("entrywise", lang),
    }


def check_lang(lang: str | None) -> None:
    """A ``lang=`` argument: ``None`` (the current language, see ``set_language``), en or es."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(tr("lang must be 'en' or 'es', received {lang!r}", lang=lang))


def trace_backward(tensor: Tensor, lang: str | None = None, names: Mapping[Any, str] | None = None,
                   grad: Any = None, digits: int = 6) -> str:
    """The backward pass of ``tensor`` as text, one step per op, without changing any ``.grad``.

    Call it before or after ``backward()`` (the same text: after it, each op whose saved values
    backward freed is run again on its inputs), but before an optimizer changes the weights.
    Tensors are called by ``.name`` (name your parameters ``w_2``, ``b_5`` as the course does),
    by ``names``, or ``t1, t2, ...``; an unnamed output is ``L``. In Jupyter the result (a
    ``str``) shows as a table, one row per local derivative.

    Args:
        tensor: the output, usually a scalar loss.
        lang: ``"en"`` or ``"es"`` (Spanish); default: the current language (``set_language``).
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
    text = _text(lang)
    run = backward_steps(tensor, names=names, grad=grad, caller="trace_backward")
    shown, root = run.names, run.names[id(tensor)]
    num = lambda a: _num(a, digits, lang)  # noqa: E731
    lines = [text["title"].format(root=root, value=num(tensor.data)), text["rule"], "",
             text["start"].format(root=root, seed=num(run.seed)), ""]
    for step in run.steps:
        node, ctx, name = step.node, step.node.grad_fn, shown[id(step.node)]
        lines.append(f"[{text['step']} {step.number}] {expression(node, shown)} = "
                     f"{num(node.data)}    ({ctx.name})")
        extra = " " + text["sum_of"].format(n=step.n_parts) if step.n_parts > 1 else ""
        lines.append(f"    {text['upstream']:<20} ∂{root}/∂{name} = {num(step.upstream)}{extra}")
        for c in step.contributions:
            pname = display(c.parent, shown)
            if c.local is not None:
                shown_value = (c.formula if c.formula == num(c.local)
                               else f"{c.formula} = {num(c.local)}")
                lines.append(f"    {text['local']:<20} ∂{name}/∂{pname} = {shown_value}"
                             + ("" if np.size(c.local) == 1 else f"  ({text['entrywise']})"))
            else:
                lines.append(f"    {text['local']:<20} " + text["vjp"].format(formula=c.formula))
            how = (f"{num(step.upstream)} × {_paren(num(c.local))} = " if c.local is not None
                   and np.size(step.upstream) == 1 and np.size(c.local) == 1 else "")
            line = f"    {text['to'] + ' ' + pname:<20} ∂{root}/∂{pname} = {how}{num(c.grad)}"
            if c.broadcast:
                line += " " + text["broadcast"].format(shape=c.parent.data.shape)
            if c.parent.grad_fn is None:
                line += "  " + text["param"].format(name=pname)
            lines.append(line)
        lines.append("")

    lines.append(text["result"])
    width = max((len(shown[id(leaf)]) for leaf in run.leaves), default=0)
    for leaf in run.leaves:
        leaf_name = shown[id(leaf)]
        line = f"    {leaf_name + '.grad':<{width + 5}} = {num(run.grads[id(leaf)])}"
        leaf_parts = run.parts[id(leaf)]
        if len(leaf_parts) > 1 and all(np.size(p) == 1 for p in leaf_parts):
            joined = " + ".join(num(p) for p in leaf_parts)
            line += "  " + text["parts"].format(n=len(leaf_parts), parts=joined)
        lines.append(line)
    return TraceText("\n".join(lines) + "\n", run, lang, digits)  # a str; a table in Jupyter


# ----- the steps, shared by the trace and the animation -----

@dataclass
class Contribution:
    """What one op sends to one of its inputs: the chain rule's upstream × local."""

    parent: Tensor
    index: int                 # which input of the op
    formula: str               # the local derivative (or the VJP) in the tensors' names
    local: np.ndarray | None   # its value (elementwise ops; one number when constant)
    grad: np.ndarray           # what reaches the parent (summed over broadcast axes)
    broadcast: bool            # whether that sum over broadcast axes happened
    total: np.ndarray          # the parent's gradient so far, this contribution included


@dataclass
class Step:
    """One op of the backward pass, from the output back to the inputs."""

    number: int
    node: Tensor               # the op's output
    upstream: np.ndarray       # ∂root/∂node, every path from the output added up
    n_parts: int               # how many paths added up to it
    contributions: list[Contribution]


@dataclass
class BackwardRun:
    """The whole backward pass: the steps, the names, and the gradients the inputs end with."""

    root: Tensor
    names: dict[int, str]
    seed: np.ndarray
    steps: list[Step]
    grads: dict[int, np.ndarray]
    parts: dict[int, list[np.ndarray]]
    leaves: list[Tensor]       # the inputs that got a gradient, in the forward pass's order


def backward_steps(tensor: Tensor, names: Mapping[Any, str] | None = None, grad: Any = None,
                   caller: str = "backward_steps") -> BackwardRun:
    """Run the backward pass op by op, as ``Tensor.backward`` does, without touching ``.grad``.

    Each op's ``backward`` is called exactly as the engine calls it, so the numbers are the
    engine's to the last bit. ``trace_backward`` prints the steps; ``animate_backward`` draws them.

    Example:
        >>> a = Tensor(3.0, requires_grad=True, name="a")
        >>> run = backward_steps((a + a) * 2)
        >>> [len(s.contributions) for s in run.steps], float(run.grads[id(a)])
        ([1, 2], 4.0)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(tr("{caller} expects a Tensor, received {type}", caller=caller,
                           type=type(tensor).__name__))
    if not tensor.requires_grad:
        raise ValueError(tr("{caller}: this tensor does not require grad, so there is no "
                            "backward pass; create the inputs with requires_grad=True",
                            caller=caller))
    order = toposort(tensor)
    # After backward() released the saved arrays, each op is replayed on its recorded inputs.
    ops = {id(node): _with_saved_values(node, caller) for node in order
           if node.grad_fn is not None}
    seed = _seed(tensor, grad)
    shown = resolve_names(walk(tensor), names, root=tensor)
    root = shown[id(tensor)]
    grads: dict[int, np.ndarray] = {id(tensor): seed}
    parts: dict[int, list[np.ndarray]] = {id(tensor): [seed]}
    leaves: list[Tensor] = []
    steps: list[Step] = []
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = ops.get(id(node))
        if ctx is None:
            leaves.append(node)
            grads[id(node)] = g
            continue
        name = shown[id(node)]
        parent_grads = ctx.backward(g)
        if not isinstance(parent_grads, tuple):
            parent_grads = (parent_grads,)
        locals_ = _local_values(ctx, node)
        contributions = []
        for k, (parent, pg) in enumerate(zip(ctx.parents, parent_grads)):
            if pg is None or not parent.requires_grad:
                continue
            formula = _formula(ctx, k, shown, node, g_name=f"∂{root}/∂{name}")
            reached = unbroadcast(pg, parent.data.shape) if pg.shape != parent.data.shape else pg
            key = id(parent)
            grads[key] = reached if key not in grads else grads[key] + reached
            parts.setdefault(key, []).append(reached)
            contributions.append(Contribution(parent, k, formula,
                                              None if locals_ is None else locals_[k],
                                              reached, reached is not pg, grads[key]))
        steps.append(Step(len(steps) + 1, node, g, len(parts.get(id(node), ())), contributions))
    reached_leaves = {id(leaf) for leaf in leaves}
    leaves = [t for t in walk(tensor) if id(t) in reached_leaves]  # as the forward pass meets them
    return BackwardRun(tensor, shown, seed, steps, grads, parts, leaves)


def _with_saved_values(node: Tensor, caller: str) -> Any:
    """The op that made ``node``, with the arrays its backward needs: the op itself, or, once
    ``backward()`` released them, the op run again on the same inputs (``Function.replay``)."""
    op = node.grad_fn
    if not op.released:
        return op
    fresh, out = op.replay()
    # The same numpy calls on the same input arrays give the same bits; a difference means an
    # input changed since the forward pass (an optimizer step), and the trace would be wrong.
    if out.shape != node.data.shape or not np.array_equal(out, node.data, equal_nan=True):
        raise RuntimeError(tr(
            "{caller}: the inputs of {op} changed after the forward pass (an optimizer step?), so "
            "its backward pass can no longer be shown; compute the loss again and trace that",
            caller=caller, op=op.name))
    return fresh


def _seed(tensor: Tensor, grad: Any) -> np.ndarray:
    if grad is None:
        if tensor.size != 1:
            raise ValueError(tr("trace_backward without grad= needs a scalar output, received "
                                "shape {shape}; reduce it (.sum(), .mean()) or pass grad=",
                                shape=tensor.shape))
        return np.ones_like(tensor.data)
    seed = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=tensor.dtype)
    if seed.shape != tensor.shape:
        raise ValueError(tr("trace_backward received grad of shape {grad} for an output of "
                            "shape {shape}; they must match", grad=seed.shape, shape=tensor.shape))
    return seed


def _local_values(ctx: Any, node: Tensor) -> list[np.ndarray] | None:
    """∂z/∂(each input) entrywise, from the op's own backward with an upstream of ones."""
    if not ctx.elementwise:
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
    """Input ``k``'s local derivative (or vector-Jacobian product) as the primitive writes it
    (``Function.derivatives``), in the tensors' names and with the op's own scalar attributes."""
    parents = ctx.parents
    formulas = ctx.derivatives
    if not formulas:
        raise TypeError(f"{ctx.name} declares no `derivatives` (see autograd.Function): a "
                        "primitive says how the trace writes its local derivative")
    fields = {key: fmt(value) for key, value in vars(ctx).items()
              if isinstance(value, (int, float, np.number)) and not isinstance(value, bool)}
    return formulas[min(k, len(formulas) - 1)].format(
        **fields, x=display(parents[0], shown),
        y=display(parents[1], shown) if len(parents) > 1 else "", z=display(node, shown),
        g=g_name)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _num(a: Any, digits: int, lang: str | None = None) -> str:
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.reshape(()), digits)
    return f"{summary(a, digits, lang)}  {tr('shape', lang=lang)} {tuple(a.shape)}"
