"""2-D test functions for optimizers, written with Tensor ops so that backprop differentiates them.

Each takes a Tensor ``w`` whose last axis holds the two coordinates (``w[..., 0]``, ``w[..., 1]``)
and returns a Tensor of the leading shape: a scalar for one point of shape (2,) (what an optimizer
moves), a grid for shape (n, m, 2) (what a contour plot draws).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor

__all__ = ["course_surface", "cubic", "rosenbrock", "squares", "Surface", "SURFACES", "get",
           "PATHS", "RACE", "paths_window"]


def course_surface(w: Tensor) -> Tensor:
    """The course's surface (MATLAB's ``peaks``):
    3(1−w0)²e^(−w0²−(w1+1)²) − 10(w0/5 − w0³ − w1⁵)e^(−w0²−w1²) − ⅓e^(−(w0+1)²−w1²).

    Lowest point ≈ (0.2283, −1.6255), value ≈ −6.5511; the course starts at (−0.35, −0.67).

    Example:
        >>> float(course_surface(Tensor([0.0, 0.0])))     # 3/e - 1/(3e) = 0.981...
        0.9810...
    """
    w0, w1 = w[..., 0], w[..., 1]
    a = 3 * (1 - w0) ** 2 * (-(w0 ** 2) - (w1 + 1) ** 2).exp()
    b = 10 * (w0 / 5 - w0 ** 3 - w1 ** 5) * (-(w0 ** 2) - w1 ** 2).exp()
    c = (-((w0 + 1) ** 2) - w1 ** 2).exp() / 3
    return a - b - c


def cubic(w: Tensor) -> Tensor:
    """f = x³ − y³ + 3x² + 3y² − 9x: a local minimum −5 at (1, 0), saddles at (1, 2) and
    (−3, 0), a local maximum at (−3, 2); unbounded below (x → −∞).

    Example:
        >>> float(cubic(Tensor([1.0, 0.0])))
        -5.0
    """
    x, y = w[..., 0], w[..., 1]
    return x ** 3 - y ** 3 + 3 * x ** 2 + 3 * y ** 2 - 9 * x


def rosenbrock(w: Tensor, a: float = 1.0, b: float = 100.0) -> Tensor:
    """Rosenbrock's banana valley (a − x)² + b(y − x²)²: minimum 0 at (a, a²).

    Example:
        >>> float(rosenbrock(Tensor([1.0, 1.0])))
        0.0
    """
    x, y = w[..., 0], w[..., 1]
    return (a - x) ** 2 + b * (y - x ** 2) ** 2


def squares(w: Tensor) -> Tensor:
    """Σ wᵢ² over the last axis: x² for shape (1,), the round bowl x² + y² for shape (2,).

    Example:
        >>> float(squares(Tensor([3.0, 4.0])))
        25.0
    """
    return (w ** 2).sum(axis=-1)


@dataclass(frozen=True)
class Surface:
    """A test function with the view and the starting point its pictures use."""

    name: str
    fn: Callable[[Tensor], Tensor]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float]
    log: bool = False  # contour levels on log(1 + f − min f): for steep valleys
    formula: str = ""  # the pictures' title (matplotlib mathtext)
    variables: tuple[str, str] = ("$w_0$", "$w_1$")  # the axes' labels
    equal: bool = False  # draw with equal axis scales (a round bowl must look round)

    def __call__(self, w: Tensor) -> Tensor:
        return self.fn(w)


_XY = ("$x$", "$y$")
SURFACES = {
    "course": Surface("course", course_surface, (-3.0, 3.0), (-3.0, 3.0), (-0.35, -0.67),
                      (0.22827892, -1.62553496),
                      formula=r"$f = 3(1-w_0)^2 e^{-w_0^2-(w_1+1)^2} - 10(\frac{w_0}{5} - w_0^3 - "
                              r"w_1^5) e^{-w_0^2-w_1^2} - \frac{1}{3} e^{-(w_0+1)^2-w_1^2}$"),
    "cubic": Surface("cubic", cubic, (-1.0, 2.5), (-1.5, 3.0), (0.5, 0.5), (1.0, 0.0),
                     formula=r"$f = x^3 - y^3 + 3x^2 + 3y^2 - 9x$", variables=_XY),
    "rosenbrock": Surface("rosenbrock", rosenbrock, (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0),
                          (1.0, 1.0), log=True, formula=r"$f = (1 - x)^2 + 100(y - x^2)^2$",
                          variables=_XY),
    "squares": Surface("squares", squares, (-2.0, 2.0), (-2.0, 2.0), (1.5, 1.0), (0.0, 0.0),
                       formula=r"$f = x^2 + y^2$", variables=_XY, equal=True),
}

# The course's optimizer race: its eight optimizers (Adadelta at learning rate 1).
RACE = ("sgd", "adagrad", "rmsprop", "adadelta", "adam", "amsgrad", "adamax", "nadam")


def get(name: str) -> Surface:
    """A surface of :data:`SURFACES` by name.

    Example:
        >>> get("cubic").minimum
        (1.0, 0.0)
    """
    if name not in SURFACES:
        raise ValueError(tr("unknown surface {name!r}; expected one of {names}", name=name,
                            names=sorted(SURFACES)))
    return SURFACES[name]


# ----- the path pictures -----

# Per surface: (steps, learning rate per optimizer, by the course's names: course.OPTIMIZERS).
# Chosen so that each optimizer's character shows: at the others' 0.01 Adagrad and Adadelta barely
# move (Adadelta's paper uses 1.0), and on Rosenbrock's steep valley SGD diverges above ~0.003.
_RATES = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1, "rmsprop": 0.01,
          "adadelta": 1.0, "adam": 0.01, "amsgrad": 0.01, "adamax": 0.01, "nadam": 0.01}
PATHS: dict[str, tuple[int, dict[str, float]]] = {
    "course": (150, _RATES),
    "cubic": (150, _RATES),
    "squares": (150, _RATES),
    "rosenbrock": (1000, {"sgd": 0.002, "momentum": 0.002, "nesterov": 0.001, "adagrad": 1.0,
                          "rmsprop": 0.01, "adadelta": 3.0, "adam": 0.1, "amsgrad": 0.1,
                          "adamax": 1.0, "nadam": 0.1}),
}


def paths_window(surface: Any, paths: dict[str, np.ndarray],
                 margin: float = 0.15) -> tuple[tuple[float, float], tuple[float, float]]:
    """``(xlim, ylim)``: the box around every path and the surface's minimum, with a margin,
    inside the surface's own view (so that diverging paths do not zoom the picture out).

    Example:
        >>> from tinygrad_es.viz import surfaces
        >>> s = surfaces.get("course")
        >>> path = np.array([s.start, s.minimum], dtype=float)
        >>> xlim, ylim = paths_window(s, {"sgd": path})
        >>> bool(xlim[0] <= path[:, 0].min() and path[:, 0].max() <= xlim[1])
        True
    """
    points = np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in paths.values()]
                            + [np.array([surface.minimum], dtype=np.float64)])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = margin * float((high - low).max()) + 0.1
    (x0, x1), (y0, y1) = ((max(lo - pad, view[0]), min(hi + pad, view[1]))
                          for lo, hi, view in zip(low, high, (surface.xlim, surface.ylim)))
    return (x0, x1), (y0, y1)
