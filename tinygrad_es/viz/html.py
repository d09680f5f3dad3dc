"""How the trace and the gradient table show in Jupyter: HTML tables, built from the same numbers
as their text.

``trace_backward`` returns a :class:`TraceText` (a ``str``, so ``print`` and comparisons work as
before) whose ``_repr_html_`` is a table with one row per local derivative; a
:class:`~tinygrad_es.viz.GradientComparison` shows as a table of the gradients by backprop and by
finite differences. The text stays the ``text/plain`` of both, so a terminal IPython, a notebook
converted to text and a doctest see the familiar lines.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

import numpy as np

from tinygrad_es.i18n import language, tr
from tinygrad_es.viz._common import display, expression, fmt

__all__ = ["TraceText", "html_table", "trace_html", "comparison_html"]

_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "text-align:left;vertical-align:top"


def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]],
               caption: str | None = None) -> str:
    """An HTML table: ``header`` cells, then ``rows``; a cell may be ``(text, rowspan)``.

    Example:
        >>> table = html_table(["a", "b"], [["1", "<2>"], [("3", 2), "4"]])
        >>> table.count("<tr>"), "&lt;2&gt;" in table, 'rowspan="2"' in table
        (3, True, True)
    """
    head = "".join(f'<th style="{_CELL}">{html.escape(str(h))}</th>' for h in header)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            text, span = cell if isinstance(cell, tuple) else (cell, 1)
            attr = f' rowspan="{span}"' if span > 1 else ""
            cells.append(f'<td{attr} style="{_CELL}">{html.escape(str(text))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    top = f"<caption style=\"text-align:left\">{html.escape(caption)}</caption>" if caption else ""
    return (f'<table border="1" style="{_STYLE}">{top}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _paragraphs(lines: Sequence[str]) -> str:
    return "".join(f"<p style=\"margin:4px 0\">{html.escape(line)}</p>" for line in lines if line)


# ----- the backward trace -----

class TraceText(str):
    """The text of ``trace_backward`` that shows as a table in Jupyter (``_repr_html_``).

    It is the ``str`` the trace always returned; ``.run`` is the
    :class:`~tinygrad_es.viz.trace.BackwardRun` it was printed from.

    Example:
        >>> from tinygrad_es import Tensor
        >>> from tinygrad_es.viz import trace_backward
        >>> w = Tensor(0.5, requires_grad=True, name="w"); text = trace_backward(w * 3.0)
        >>> isinstance(text, str), "<table" in text._repr_html_()
        (True, True)
    """

    run: Any
    lang: str
    digits: int

    def __new__(cls, text: str, run: Any, lang: str | None, digits: int) -> TraceText:
        self = super().__new__(cls, text)
        self.run, self.digits = run, digits
        self.lang = language() if lang is None else lang  # the text's language, for the table
        return self

    def _repr_html_(self) -> str:
        return trace_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def trace_html(trace: TraceText) -> str:
    """The trace as two HTML tables: the steps (one row per input of each op), then the
    gradients of the inputs; the title and the chain rule above them, as in the text."""
    from tinygrad_es.viz.trace import _num, _paren

    run, lang = trace.run, trace.lang
    num = lambda a: _num(a, trace.digits, lang)  # noqa: E731
    shown, root = run.names, run.names[id(run.root)]
    lines = str(trace).splitlines()
    rows = []
    for step in run.steps:
        node, name = step.node, shown[id(step.node)]
        span = max(len(step.contributions), 1)
        upstream = f"∂{root}/∂{name} = {num(step.upstream)}"
        if step.n_parts > 1:
            upstream += " " + tr("(sum of {n} contributions)", lang=lang, n=step.n_parts)
        first = [(step.number, span), (f"{expression(node, shown)} = {num(node.data)}", span),
                 (node.grad_fn.name, span), (upstream, span)]
        for k, c in enumerate(step.contributions or [None]):
            if c is None:
                rows.append(first + ["", "", ""])
                continue
            pname = display(c.parent, shown)
            if c.local is None:
                local = tr("(vector-Jacobian product: {formula})", lang=lang, formula=c.formula)
            else:
                local = f"∂{name}/∂{pname} = " + (c.formula if c.formula == num(c.local)
                                                   else f"{c.formula} = {num(c.local)}")
            how = (f"{num(step.upstream)} × {_paren(num(c.local))} = " if c.local is not None
                   and np.size(step.upstream) == 1 and np.size(c.local) == 1 else "")
            sent = f"∂{root}/∂{pname} = {how}{num(c.grad)}"
            if c.broadcast:
                sent += " " + tr("(summed over the broadcast axes to shape {shape})", lang=lang,
                                 shape=c.parent.data.shape)
            if c.parent.grad_fn is None:
                sent += "  " + tr("→ added to {name}.grad", lang=lang, name=pname)
            rows.append((first if k == 0 else []) + [pname, local, sent])
    header = [tr("step", lang=lang), tr("operation", lang=lang), "op",
              tr("upstream gradient", lang=lang), tr("input", lang=lang),
              tr("local derivative", lang=lang), tr("gradient sent to the input", lang=lang)]
    leaves = [[f"{shown[id(leaf)]}.grad", num(run.grads[id(leaf)])] for leaf in run.leaves]
    result = str(trace).rstrip().split("\n\n")[-1].splitlines()[0]  # the text's last heading
    return (_paragraphs(lines[:2]) + html_table(header, rows)
            + _paragraphs([result]) + html_table([tr("input", lang=lang), "grad"], leaves))


# ----- backprop against finite differences -----

def comparison_html(comparison: Any, lang: str | None = None) -> str:
    """A :class:`~tinygrad_es.viz.GradientComparison` as HTML: its title, the table of the
    gradients (one row per entry, at most ``max_entries`` per parameter), the table of the
    methods' passes and times, and its closing lines, with the columns of ``to_text``."""
    lang = language() if lang is None else lang
    text = comparison.to_text(lang).rstrip()
    reference = getattr(comparison, "reference", comparison.backprop)  # backprop in float64
    two = comparison.dtype != "float64"
    header = [tr("parameter", lang=lang), tr("backprop float64", lang=lang),
              tr("forward diff", lang=lang), tr("|fwd - bp|", lang=lang),
              tr("central diff", lang=lang), tr("|ctr - bp|", lang=lang)]
    if two:
        header.append(tr("backprop {dtype}", lang=lang, dtype=comparison.dtype))
    rows, notes = [], []
    for name, bp, ref, fd, cd, fe, ce in zip(comparison.names, comparison.backprop, reference,
                                             comparison.forward, comparison.central,
                                             comparison.forward_error, comparison.central_error):
        for k, idx in enumerate(np.ndindex(bp.shape)):
            if k == comparison.max_entries:
                notes.append(tr("{name}: {n} more entries, largest |fwd - bp| {fwd}, "
                                "|ctr - bp| {ctr}", lang=lang, name=name, n=bp.size - k,
                                fwd=_e(fe.max()), ctr=_e(ce.max())))
                break
            label = name if bp.ndim == 0 else f"{name}[{', '.join(map(str, idx))}]"
            row = [label, fmt(ref[idx], 8), fmt(fd[idx], 8), _e(fe[idx]), fmt(cd[idx], 8),
                   _e(ce[idx])]
            rows.append(row + ([fmt(bp[idx], 8)] if two else []))
    counts = {key: str(n) for key, n in comparison.passes.items()}
    counts["backprop"] += tr(" (+1 backward)", lang=lang)
    methods = [[tr(label, lang=lang), counts[key], f"{comparison.seconds[key] * 1e3:.2f} ms"]
               for label, key in (("backprop", "backprop"), ("forward differences", "forward"),
                                  ("central differences", "central"))]
    paragraphs = text.split("\n\n")
    return (_paragraphs(paragraphs[0].splitlines()) + html_table(header, rows)
            + _paragraphs(notes)
            + html_table([tr("method", lang=lang), tr("forward passes", lang=lang),
                          tr("time", lang=lang)], methods)
            + _paragraphs(paragraphs[-1].splitlines()))


def _e(x: Any) -> str:
    return f"{float(x):.2e}"
