"""The stateful metric base classes: ``Metric``, ``Mean``, ``Sum`` and ``MeanMetricWrapper``.

Metrics need no gradient, so they work on plain ndarrays: a ``Tensor`` argument is read through its
``.data``. Accumulators are numpy scalars of the metric's dtype (``floatx()`` when the metric is
created), exactly like Keras's float variables, and ``result()`` returns a Python float.

The reduction is Keras's ``reduce_to_samplewise_values`` (in ``keras/src/metrics/
reduction_metrics.py``): per-element values are averaged over every axis after the first, and with
sample weights the epoch value is ``sum(w * m) / sum(w)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_es import config
from tinygrad_es.autograd import no_grad
from tinygrad_es.losses.loss import squeeze_or_expand_to_same_rank
from tinygrad_es.metrics.variable import MetricVariable, pythonify
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils import naming

# The automatic names (``precision``, ``precision_1``, ...) are utils/naming.py's, shared by every
# family; re-exported here for the metric registry.
to_snake_case = naming.to_snake_case
auto_name = naming.auto_name


def as_array(x: Any, dtype: Any = None) -> np.ndarray:
    """The ndarray behind ``x`` (a Tensor's ``.data``, an ndarray, a list or a number).

    Example:
        >>> as_array(Tensor([1.0, 2.0]))
        array([1., 2.], dtype=float32)
    """
    if isinstance(x, Tensor):
        x = x.data
    return np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)


def compute_dtype(y_pred: np.ndarray) -> np.dtype:
    """The dtype Keras computes a metric function in: the prediction's float type, else floatx.

    Example:
        >>> compute_dtype(np.zeros(2, "float64")), compute_dtype(np.zeros(2, "int64"))
        (dtype('float64'), dtype('float32'))
    """
    return y_pred.dtype if y_pred.dtype.kind == "f" else np.dtype(config.floatx())


def reduce_to_samplewise(values: np.ndarray, sample_weight: Any, reduce_fn: Callable,
                         dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """Keras's ``reduce_to_samplewise_values``: per-sample values (and weights) in ``dtype``.

    Values are multiplied by the weights, then averaged (``reduce_fn``) over all axes after the
    first; weights of rank > 1 are reduced the same way.

    Example:
        >>> v, w = reduce_to_samplewise(np.ones((2, 3)), np.array([1.0, 2.0]), np.mean,
        ...                             np.dtype("float64"))
        >>> v, w
        (array([1., 2.]), array([1., 2.]))
    """
    values = np.asarray(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = as_array(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim = sample_weight.ndim
        if values.ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, values.ndim)))
        try:
            sample_weight = np.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {sample_weight.shape} does not broadcast to "
                             f"the metric values of shape {values.shape}") from None
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


# ----- base class -----

class Metric:
    """A stateful metric: ``update_state`` every batch, ``result()`` at any time, ``reset_state``.

    Subclasses implement ``reset_state`` (which creates the accumulators; call it at the end of
    ``__init__``), ``update_state`` and ``result``. ``_direction`` is ``"up"`` (higher is
    better), ``"down"``, or ``None`` when Keras does not say (then ``EarlyStopping(mode="auto")``
    cannot decide, as in Keras).

    Args:
        name: The name logged in ``history.history``; ``None`` gives a unique snake_case name.
        dtype: The accumulator dtype; default ``floatx()`` at construction.

    Example:
        >>> m = Mean(); m.update_state([1.0, 2.0]); m.update_state([6.0]); m.result()
        3.0
    """

    _direction: str | None = None

    def __init__(self, dtype: Any = None, name: str | None = None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = np.dtype(dtype or config.floatx())

    @property
    def dtype(self) -> str:
        """The accumulator dtype as a string (``"float32"``/``"float64"``), as Keras reports it."""
        return self._dtype.name

    @property
    def variables(self) -> list[MetricVariable]:
        """The state made by :meth:`add_variable`, in creation order (Keras's ``variables``)."""
        return list(self.__dict__.get("_variables", ()))

    def add_variable(self, shape: Any, initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> MetricVariable:
        """Create a state variable as Keras custom metrics do, in ``__init__`` or on first data.

        Args:
            shape: its shape (``()`` for a scalar).
            initializer: a name (``"zeros"``), an initializer or a ``fn(shape, dtype)``.
            dtype: default the metric's dtype.
            aggregation: ``"sum"`` (default), ``"mean"``, ``"none"`` or ``"only_first_replica"``.
            name: the variable's name.

        Example:
            >>> class Total(Metric):
            ...     def __init__(self, name="total", **kwargs):
            ...         super().__init__(name=name, **kwargs)
            ...         self.total = self.add_variable(shape=(), initializer="zeros", name="total")
            ...     def update_state(self, values, sample_weight=None):
            ...         self.total.assign(self.total + np.sum(values))
            ...     def result(self):
            ...         return self.total
            >>> m = Total(); m.update_state([1.0, 2.5])
            >>> float(m.result()), [v.name for v in m.variables]
            (3.5, ['total'])
        """
        from tinygrad_es import initializers

        dtype = np.dtype(dtype or self._dtype)
        shape = tuple(int(d) for d in np.atleast_1d(shape)) if np.ndim(shape) else (
            () if shape in ((), None) else (int(shape),))
        value = initializers.get(initializer)(shape, dtype=dtype)
        variable = MetricVariable(np.asarray(value, dtype=dtype), dtype,
                                  name=name or "variable", aggregation=aggregation)
        self.__dict__.setdefault("_variables", []).append(variable)
        return variable

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate the statistics of one batch."""
        raise NotImplementedError

    def result(self) -> float:
        """The metric value over everything seen since the last ``reset_state``."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget all accumulated batches (called at the start of every epoch).

        The default, as Keras's, sets every :meth:`add_variable` variable to zeros.
        """
        for variable in self.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        self.update_state(*args, **kwargs)
        return pythonify(self.result())

    def get_config(self) -> dict:
        """The constructor arguments, JSON-able (Keras's keys)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, cfg: dict) -> Metric:
        """Rebuild a metric from ``get_config()``."""
        return cls(**cfg)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


# ----- reductions -----

def _divide_no_nan(a: Any, b: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.zeros_like(a), a / np.where(b == 0, 1, b))


class Sum(Metric):
    """The (weighted) sum of the values passed to ``update_state(values, sample_weight=None)``.

    Example:
        >>> m = Sum(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]); m.result()
        4.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self.total = self._dtype.type(0)

    def update_state(self, values: Any,  # type: ignore[override]
                     sample_weight: Any = None) -> None:
        values, _ = reduce_to_samplewise(as_array(values), sample_weight, np.sum, self._dtype)
        self.total = self._dtype.type(self.total + np.sum(values, dtype=self._dtype))

    def result(self) -> float:
        return float(self.total)


class Mean(Metric):
    """The (weighted) mean ``sum(w * v) / sum(w)`` of the values passed to ``update_state``.

    Values of shape ``(N, ...)`` are first averaged per sample; without weights every sample counts
    once, a scalar counts once.

    Example:
        >>> m = Mean(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]); m.result()
        2.0
    """

    def __init__(self, name: str | None = "mean", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self.total = self._dtype.type(0)
        self.count = self._dtype.type(0)

    def update_state(self, values: Any,  # type: ignore[override]
                     sample_weight: Any = None) -> None:
        values, sample_weight = reduce_to_samplewise(as_array(values), sample_weight, np.mean,
                                                     self._dtype)
        self.total = self._dtype.type(self.total + np.sum(values, dtype=self._dtype))
        if sample_weight is not None:
            n = np.sum(sample_weight, dtype=self._dtype)
        else:
            n = values.shape[0] if values.ndim >= 1 else 1
        self.count = self._dtype.type(self.count + self._dtype.type(n))

    def result(self) -> float:
        return float(_divide_no_nan(self.total, self.count))


def _is_loss_function(fn: Any) -> bool:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return module.startswith("tinygrad_es.losses")


class MeanMetricWrapper(Mean):
    """Turn a per-sample function ``fn(y_true, y_pred, **kwargs)`` into a ``Mean`` metric.

    Library metric functions receive ndarrays; any other callable (a user function, a
    ``tinygrad_es.losses`` function or ``Loss``) receives the arguments as given and runs under
    ``no_grad``; a Tensor result is read through ``.data``.

    Args:
        fn: The function; it returns one value per sample (or a scalar, which counts once).
        name: The logged name; default ``"mean_metric_wrapper"`` (unique per process).
        dtype: The accumulator dtype.
        **kwargs: Passed on to ``fn``.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: abs(t - p), name="l1")
        >>> m.update_state(np.array([1.0, 2.0]), np.array([2.0, 2.0])); m.result()
        0.5
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        self._numpy_fn = getattr(fn, "__module__", "").startswith("tinygrad_es.metrics")
        if _is_loss_function(fn):
            self._direction = "down"

    def update_state(self, y_true: Any, y_pred: Any,  # type: ignore[override]
                     sample_weight: Any = None) -> None:
        if self._numpy_fn:
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        else:
            with no_grad():
                values = as_array(self._fn(y_true, y_pred, **self._fn_kwargs))
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        fn_name = getattr(self._fn, "__name__", type(self._fn).__name__)
        return {"name": self.name, "dtype": self.dtype, "fn": fn_name, **self._fn_kwargs}
