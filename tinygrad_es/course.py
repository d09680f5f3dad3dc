"""The course's network, written with raw Tensors and named as the course names its weights.

One input x (petal length), three sigmoid hidden units (nodes 2, 3, 4), one sigmoid output (node 5):

    y_hat = s(w_52·s(w_2·x + b_2) + w_53·s(w_3·x + b_3) + w_54·s(w_4·x + b_4) + b_5)
    loss  = mean |y - y_hat|

on iris rows 0-98 (setosa = 0, versicolor = 1). The course trained it by finite differences: nudge
each of the 10 weights by h = 3e-6 and re-run the network, 11 forward passes per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tinygrad_es.datasets import load_iris
from tinygrad_es.gradcheck import numerical_grad
from tinygrad_es.tensor import Tensor

PARAM_NAMES = ("w_2", "b_2", "w_3", "b_3", "w_4", "b_4", "w_52", "w_53", "w_54", "b_5")


def iris_data(dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """x = petal length of iris rows 0-98, shape (99, 1); y = their species (0/1), shape (99, 1).

    Example:
        >>> x, y = iris_data(); x.shape, y[:2, 0]
        ((99, 1), array([0., 0.]))
    """
    iris = load_iris()
    return (iris.data[0:99, 2:3].astype(dtype), iris.target[0:99, None].astype(dtype))


def init_params(seed: int = 0, dtype: str = "float64") -> dict[str, Tensor]:
    """The 10 weights, drawn uniformly from [-1, 1] with a fixed seed, as named Tensors."""
    values = np.random.default_rng(seed).uniform(-1, 1, size=len(PARAM_NAMES))
    return {n: Tensor(v, requires_grad=True, dtype=dtype, name=n) for n, v in zip(PARAM_NAMES, values)}


def forward(p: dict[str, Tensor], x: Tensor) -> Tensor:
    """y_hat for every row of x, built node by node as the course draws it."""
    h2 = (p["w_2"] * x + p["b_2"]).sigmoid()
    h3 = (p["w_3"] * x + p["b_3"]).sigmoid()
    h4 = (p["w_4"] * x + p["b_4"]).sigmoid()
    return (p["w_52"] * h2 + p["w_53"] * h3 + p["w_54"] * h4 + p["b_5"]).sigmoid()


def loss(p: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
    """Mean absolute error, the course's loss."""
    return (y - forward(p, x)).abs().mean()


@dataclass
class GradientComparison:
    """Backprop against the course's forward differences, per parameter."""

    names: tuple[str, ...]
    backprop: np.ndarray
    finite: np.ndarray
    h: float
    backprop_passes: int
    finite_passes: int
    backprop_seconds: float
    finite_seconds: float

    def to_text(self) -> str:
        lines = [f"{'param':>6} {'backprop':>14} {'finite diff':>14} {'|difference|':>13}"]
        for n, b, f in zip(self.names, self.backprop, self.finite):
            lines.append(f"{n:>6} {b:>14.8f} {f:>14.8f} {abs(b - f):>13.2e}")
        lines.append(
            f"backprop: {self.backprop_passes} forward + 1 backward pass, "
            f"{self.backprop_seconds * 1e3:.2f} ms; finite differences (h={self.h:g}): "
            f"{self.finite_passes} forward passes, {self.finite_seconds * 1e3:.2f} ms")
        return "\n".join(lines)


def compare_gradients(seed: int = 0, h: float = 3e-6) -> GradientComparison:
    """The 10 gradients by one backward pass and by forward differences, in float64.

    Example:
        >>> cmp = compare_gradients(); float(abs(cmp.backprop - cmp.finite).max()) < 1e-4
        True
    """
    x, y = iris_data()
    xt, yt = Tensor(x, dtype="float64"), Tensor(y, dtype="float64")
    params = init_params(seed)

    start = time.perf_counter()
    loss(params, xt, yt).backward()
    backprop = np.array([params[n].grad for n in PARAM_NAMES], dtype=np.float64)
    backprop_seconds = time.perf_counter() - start

    flat = np.array([params[n].data for n in PARAM_NAMES], dtype=np.float64)

    def loss_of(values: np.ndarray) -> float:
        named = {n: Tensor(v, dtype="float64") for n, v in zip(PARAM_NAMES, values)}
        return float(loss(named, xt, yt).data)

    start = time.perf_counter()
    finite = numerical_grad(loss_of, flat, h=h, method="forward")
    finite_seconds = time.perf_counter() - start
    return GradientComparison(PARAM_NAMES, backprop, finite, h, 1, len(flat) + 1,
                              backprop_seconds, finite_seconds)
