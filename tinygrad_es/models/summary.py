"""``model.summary()``: Keras's table (drawn by rich there), rendered here with plain strings.

Keras sizes the table to ``min(88, terminal columns - 4)`` characters (76 on an 80-column terminal),
splits it at ``positions`` (0.45, 0.80, 1.0) and lets rich shrink the three columns evenly to fit
the borders: widths 33, 24 and 15 at 76. Long cells wrap at spaces; a word longer than its column
is cut with "…". The totals count bytes by dtype; once the optimizer has state, its variables are
counted too (``Optimizer params``), as in Keras.

A functional model lists every operation (its InputLayers and tensor ops too). Unless its graph
is a plain chain, the table gets Keras's fourth column, "Connected to" (``layer[node][tensor]``
of each input), 108 characters wide by default, split at (0.3, 0.56, 0.74, 1.0).
"""

from __future__ import annotations

import shutil
import textwrap
from typing import Any, Sequence

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor

__all__ = ["summary_text"]

Shape = tuple[int | None, ...]


def _bytes(weights: Sequence[Any]) -> float:
    return float(sum(np.asarray(w.data if isinstance(w, Tensor) else w).nbytes for w in weights))


def _readable(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _column_widths(line_length: int, positions: Sequence[float]) -> list[int]:
    """rich's widths (padding included) for fixed-width columns in a table ``line_length`` wide."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width + 2)
        current += width
    excess = sum(widths) - (line_length - len(widths) - 1)
    ratios = len(widths)
    for i, width in enumerate(widths):  # rich's ratio_reduce with equal ratios
        cut = min(width, round(excess / ratios)) if excess > 0 else 0
        widths[i] = width - cut
        excess, ratios = excess - cut, ratios - 1
    return widths


def _cell_lines(text: str, width: int) -> list[str]:
    """Word-wrap to ``width``; a word longer than that is cut with an ellipsis (rich's default)."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    return [line if len(line) <= width else line[:width - 1] + "…" for line in lines]


def _shape_text(shape: Shape | None) -> str:
    return "?" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def _output_text(layer: Any) -> str:
    """Keras's format_layer_shape: the outputs of the layer's last node, else its output_shape."""
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes:
        shapes = [_shape_text(t.shape) for t in nodes[-1].output_tensors]
        return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"
    return _shape_text(layer.output_shape if layer.built else None)


def _is_chain(model: Any) -> bool:
    """Keras's test for the 3-column table: one node per depth, one input each, none shared."""
    by_depth = getattr(model, "_nodes_by_depth", None)
    if by_depth is None:
        return True
    nodes = []
    for group in by_depth.values():
        if len(group) > 1 or (len(group) == 1 and len(group[0].input_tensors) > 1):
            return False
        nodes += group
    ids = {id(n) for n in nodes}
    return all(sum(id(n) in ids for n in op._inbound_nodes) <= 1 for op in model.operations)


def _connections(layer: Any, model: Any) -> str:
    names = [f"{t._keras_history.operation.name}[{t._keras_history.node_index}]"
             f"[{t._keras_history.tensor_index}]"
             for node in layer._inbound_nodes if id(node) in model._node_ids
             for t in node.input_tensors]
    return ", ".join(names) or "-"


def summary_text(model: Any, line_length: int | None = None,
                 positions: Sequence[float] | None = None) -> str:
    """The text of ``model.summary()``: title, table and parameter totals, ending in a newline.

    Example:
        >>> from tinygrad_es.models import Sequential
        >>> summary_text(Sequential(name="empty")).splitlines()[0]
        'Model: "empty"'
    """
    chain = _is_chain(model)
    if line_length is None:
        line_length = min(88 if chain else 108, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(line_length, positions or ((0.45, 0.80, 1.0) if chain
                                                       else (0.3, 0.56, 0.74, 1.0)))
    aligns = ("<", "<", ">", "<")
    header = [tr("Layer (type)"), tr("Output Shape"), tr("Param #")]
    if not chain:
        header.append(tr("Connected to"))

    def row(cells: Sequence[str], bar: str) -> list[str]:
        wrapped = [_cell_lines(c, w - 2) for c, w in zip(cells, widths)]
        height = max(len(lines) for lines in wrapped)
        out = []
        for k in range(height):
            parts = [f" {(lines[k] if k < len(lines) else ''):{a}{w - 2}} "
                     for lines, w, a in zip(wrapped, widths, aligns)]
            out.append(bar + bar.join(parts) + bar)
        return out

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * w for w in widths) + right

    lines = [tr('Model: "{name}"', name=model.name), rule("┏", "━", "┳", "┓")]
    lines += row(header, "┃")
    lines.append(rule("┡", "━", "╇", "┩"))
    for i, layer in enumerate(getattr(model, "operations", None) or model.layers):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        if not hasattr(layer, "built"):  # a tensor operation (x + y): no weights
            params, kind = "0", layer.class_name
        else:
            params = f"{layer.count_params():,}" if layer.built else tr("0 (unbuilt)")
            kind = type(layer).__name__
        cells = [f"{layer.name} ({kind})", _output_text(layer), params]
        if not chain:
            cells.append(_connections(layer, model))
        lines += row(cells, "│")
    lines.append(rule("└", "─", "┴", "┘"))
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    counts = [sum(w.size for w in trainable), sum(w.size for w in frozen)]
    sizes = [_bytes(trainable), _bytes(frozen)]
    opt = getattr(model, "optimizer", None)
    opt_vars = (list(getattr(opt, "variables", None) or [])
                if getattr(model, "compiled", False) and getattr(opt, "built", False) else None)
    total, total_size = sum(counts), sum(sizes)
    if opt_vars is not None:
        total += sum(np.asarray(v).size for v in opt_vars)
        total_size += _bytes(opt_vars)
    lines.append(" " + tr("Total params: {n:,} ({size})", n=total, size=_readable(total_size)))
    lines.append(" " + tr("Trainable params: {n:,} ({size})", n=counts[0],
                          size=_readable(sizes[0])))
    lines.append(" " + tr("Non-trainable params: {n:,} ({size})", n=counts[1],
                          size=_readable(sizes[1])))
    if opt_vars is not None:
        n_opt = sum(np.asarray(v).size for v in opt_vars)
        lines.append(" " + tr("Optimizer params: {n:,} ({size})", n=n_opt,
                              size=_readable(_bytes(opt_vars))))
    return "\n".join(lines) + "\n"
