"""Seeing backprop: graph pictures, the backward pass step by step, backprop against finite
differences, and plots (loss curves, loss along a weight, optimizer paths on 2-D surfaces).

Only numpy is needed to import this package; ``graphviz`` and ``matplotlib`` are imported inside
the functions that draw (``pip install 'tinygrad_es[viz]'``).
"""

from tinygrad_es.viz import plots, surfaces
from tinygrad_es.viz.finite_differences import (GradientComparison, compare_gradients,
                                      compare_model_gradients, model_loss_fn)
from tinygrad_es.viz.graph import draw_graph, draw_model, model_to_dot, render, to_dot
from tinygrad_es.viz.trace import trace_backward

__all__ = ["draw_graph", "to_dot", "draw_model", "model_to_dot", "render", "trace_backward",
           "compare_gradients", "compare_model_gradients", "model_loss_fn", "GradientComparison",
           "plots", "surfaces"]
