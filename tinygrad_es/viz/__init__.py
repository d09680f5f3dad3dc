"""Seeing backprop: graph pictures, the backward pass step by step (as text and as animations),
backprop against finite differences, and plots (loss curves, loss along a weight, optimizer paths
on 2-D surfaces, gradient norms per layer, the loss over two weights of a network).

Only numpy is needed to import this package; ``graphviz``, ``matplotlib``, ``grandalf`` and
Pillow are imported inside the functions that draw (``pip install 'tinygrad_es[viz]'``). Graph
pictures need no system program: without Graphviz's ``dot``, matplotlib draws them.
"""

from tinygrad_es.viz import plots, surfaces
from tinygrad_es.viz.finite_differences import (GradientComparison, compare_gradients,
                                                compare_model_gradients, model_loss_fn)
from tinygrad_es.viz.gradient_plots import plot_gradient_norms
from tinygrad_es.viz.animate import Animation, animate_backward, animate_forward
from tinygrad_es.viz.graph import (GraphPicture, draw_graph, draw_model, model_to_dot, render,
                                   to_dot)
from tinygrad_es.viz.trace import backward_steps, trace_backward
from tinygrad_es.viz.weight_surface import plot_weight_surface, weight_surface

__all__ = ["draw_graph", "to_dot", "draw_model", "model_to_dot", "render", "GraphPicture",
           "trace_backward", "backward_steps", "animate_backward", "animate_forward", "Animation",
           "compare_gradients", "compare_model_gradients", "model_loss_fn", "GradientComparison",
           "plot_gradient_norms", "weight_surface", "plot_weight_surface", "plots", "surfaces"]
