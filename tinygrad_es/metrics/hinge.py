"""Hinge metrics: hinge, squared hinge and categorical hinge, averaged over the samples seen.

As in Keras, each metric calls the loss function of the same name (``tinygrad_es.losses``), under
``no_grad``.
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.losses.hinge import categorical_hinge, hinge, squared_hinge
from tinygrad_es.metrics.base import MeanMetricWrapper

__all__ = ["CategoricalHinge", "Hinge", "SquaredHinge", "categorical_hinge", "hinge",
           "squared_hinge"]


class Hinge(MeanMetricWrapper):
    """Mean hinge loss.

    Example:
        >>> m = Hinge(); m.update_state([[1.0]], [[0.25]]); m.result()
        0.75
    """

    _direction = "down"

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(hinge, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(Hinge):
    """Mean squared hinge loss.

    Example:
        >>> m = SquaredHinge(); m.update_state([[1.0]], [[0.5]]); m.result()
        0.25
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        MeanMetricWrapper.__init__(self, squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(Hinge):
    """Mean categorical hinge loss.

    Example:
        >>> m = CategoricalHinge(); m.update_state([[0.0, 1.0]], [[0.25, 0.5]]); m.result()
        0.75
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        MeanMetricWrapper.__init__(self, categorical_hinge, name=name, dtype=dtype)
