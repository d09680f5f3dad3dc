"""``model.summary()``: Keras's table (drawn by rich there), rendered here with plain strings.

Keras sizes the table to ``min(88, terminal columns - 4)`` characters (76 on an 80-column terminal),
splits it at ``positions`` (0.45, 0.80, 1.0) and lets rich shrink the three columns evenly to fit
the borders: widths 33, 24 and 15 at 76. Long cells wrap at spaces; a word longer than its column
is cut with "…". The totals count bytes by dtype; once the optimizer has state, its variables are
counted too (``Optimizer params``), as in Keras.
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


def summary_text(model: Any, line_length: int | None = None,
                 positions: Sequence[float] | None = None) -> str:
    """The text of ``model.summary()``: title, table and parameter totals, ending in a newline.

    Example:
        >>> from tinygrad_es.models import Sequential
        >>> summary_text(Sequential(name="empty")).splitlines()[0]
        'Model: "empty"'
    """
    if line_length is None:
        line_length = min(88, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(line_length, positions or (0.45, 0.80, 1.0))
    aligns = ("<", "<", ">")

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
    lines += row((tr("Layer (type)"), tr("Output Shape"), tr("Param #")), "┃")
    lines.append(rule("┡", "━", "╇", "┩"))
    for i, layer in enumerate(model.layers):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        params = f"{layer.count_params():,}" if layer.built else tr("0 (unbuilt)")
        shape = layer.output_shape if layer.built else None
        lines += row((f"{layer.name} ({type(layer).__name__})", _shape_text(shape), params), "│")
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
