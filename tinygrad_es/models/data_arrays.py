"""Arrays as fit/evaluate/predict take them: one array, or a list/tuple/dict of arrays.

``x``, ``y`` and ``sample_weight`` are each one array or a *structure* of arrays (a list or
tuple of arrays for several inputs/outputs, a dict for named ones). Every leaf becomes a floatx
ndarray with one row per sample, checked here once, before the first update, with an error that
says what was received. Dicts are walked in sorted key order, as Keras's ``tree`` does.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from tinygrad_es import config
from tinygrad_es.i18n import tr
from tinygrad_es.models.symbolic import adjust_input_rank
from tinygrad_es.tensor import Tensor


# ----- structures: one array, or a list/tuple/dict of them -----

def is_structure(value: Any) -> bool:
    """A dict, or a list/tuple whose items are all arrays, Tensors or structures.

    A list of numbers or of rows (``[[1, 2], [3, 4]]``) is one array, as before.

    Example:
        >>> is_structure([np.ones(3), np.ones(3)]), is_structure([[1, 2], [3, 4]])
        (True, False)
    """
    if isinstance(value, dict):
        return True
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, (np.ndarray, Tensor, dict)) or is_structure(v) for v in value))


def map_structure(fn: Callable, value: Any) -> Any:
    """``fn`` applied to every leaf (None stays None); lists, tuples and dicts keep their form."""
    if value is None:
        return None
    if isinstance(value, np.ndarray) or not is_structure(value):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_structure(fn, v) for k, v in value.items()}
    return type(value)(map_structure(fn, v) for v in value)


def flatten(value: Any) -> list:
    """The leaves in Keras's order (dicts by sorted key).

    Example:
        >>> [a.shape for a in flatten({"b": np.ones(2), "a": np.ones(3)})]
        [(3,), (2,)]
    """
    if value is None:
        return []
    if isinstance(value, np.ndarray) or not is_structure(value):
        return [value]
    items = [value[k] for k in sorted(value)] if isinstance(value, dict) else value
    return [leaf for item in items for leaf in flatten(item)]


def num_rows(value: Any) -> int:
    """The number of samples: the rows of the first leaf."""
    if isinstance(value, np.ndarray):
        return len(value)
    return len(flatten(value)[0])


def take(value: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of every leaf (views)."""
    if isinstance(value, np.ndarray):  # the common case first: one array
        return value[start:stop]
    return map_structure(lambda a: a[start:stop], value)


def take_rows(value: Any, order: np.ndarray) -> Any:
    """Rows in ``order`` of every leaf (copies), for shuffling."""
    if isinstance(value, np.ndarray):
        return value[order]
    return map_structure(lambda a: a[order], value)


def to_tensors(value: Any) -> Any:
    """Every leaf as a Tensor (no copy), the model's input."""
    if isinstance(value, np.ndarray):
        return Tensor.from_numpy(value)
    return map_structure(Tensor.from_numpy, value)


def check_cardinality(named: dict) -> None:
    """Keras's error when the leaves of x, y, sample_weight do not all have the same rows."""
    sizes = {name: [len(a) for a in flatten(v)] for name, v in named.items() if v is not None}
    if len({n for s in sizes.values() for n in s}) > 1:
        lines = "".join(f"'{name}' sizes: {', '.join(map(str, s))}\n" for name, s in sizes.items())
        raise ValueError(tr("Data cardinality is ambiguous. Make sure all arrays contain the same "
                            "number of samples.{lines}", lines=lines))


# ----- arrays: floatx, finite, one row per sample -----

def as_floatx(value: Any, name: str, where: str, finite: bool = True) -> np.ndarray:
    """``value`` as a floatx ndarray (no copy when it is one); NaN/inf raise when ``finite``."""
    if value is None:
        raise ValueError(tr("{where}() needs {name}, received None", where=where, name=name))
    if isinstance(value, Tensor):
        value = value.data
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ValueError(tr("{where}() expects {name} to be a rectangular array of numbers, "
                            "received {type}: {err}", where=where, name=name,
                            type=type(value).__name__, err=err)) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(tr("{where}() expects {name} to be numeric, received an array of dtype "
                           "{dtype} (e.g. {flat!r}); convert it to numbers first", where=where,
                           name=name, dtype=arr.dtype, flat=arr.flat[0]))
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(tr("{where}() expects {name} to have one row per sample, received a "
                            "scalar (shape {shape})", where=where, name=name, shape=arr.shape)
                         if arr.ndim == 0 else
                         tr("{where}() expects {name} to have one row per sample, received no "
                            "rows (shape {shape})", where=where, name=name, shape=arr.shape))
    arr = arr.astype(config.floatx(), copy=False)
    if finite:
        _check_finite(arr, name, where)
    return arr


def convert_targets(x: np.ndarray, y: Any, sample_weight: Any, class_weight: dict | None,
                    where: str) -> tuple:
    """(y, sample_weight) as checked floatx arrays with x's rows; class_weight becomes weights.

    NaN/inf in y are allowed, with one warning: Keras trains on them (the loss turns NaN and
    ``TerminateOnNaN`` stops the run), so a bad target is found where Keras finds it.
    """
    y = as_floatx(y, "y", where, finite=False)
    _warn_non_finite(y, "y", where)
    _check_lengths(x, y, where)
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError(tr("Arguments `sample_weight` and `class_weight` cannot be "
                                "specified at the same time. Received: "
                                "sample_weight={sample_weight}, class_weight={class_weight}",
                                sample_weight=sample_weight, class_weight=class_weight))
        sample_weight = class_weight_to_sample_weight(y, class_weight)
    elif sample_weight is not None:
        sample_weight = as_floatx(sample_weight, "sample_weight", where)
        _check_lengths(x, sample_weight, where, "sample_weight")
    return y, sample_weight


def match_input_shape(x: np.ndarray, input_shape: tuple | None, layers: list,
                      where: str) -> np.ndarray:
    """x reshaped as Keras does ((N,) -> (N, 1) for a 1-feature model, (N, 3, 1) -> (N, 3)), or
    a clear error."""
    if input_shape is None:
        return x
    expected = tuple(input_shape[1:])
    if x.shape[1:] == expected:
        return x
    adjusted = adjust_input_rank(x, tuple(input_shape))
    if adjusted.shape[1:] == expected:
        return adjusted
    layer = layers[0].name if layers else "the model's input"
    raise ValueError(tr("{where}(): layer '{layer}' expects input of shape {value} (features "
                        "{expected}), but x has shape {shape}", where=where, layer=layer,
                        value=tuple(input_shape), expected=expected, shape=x.shape))


def _check_finite(arr: np.ndarray, name: str, where: str) -> None:
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.flatnonzero(~finite.reshape(len(arr), -1).all(axis=1))[0])
        raise ValueError(tr("{where}() received NaN or inf in {name}: the first bad row is "
                            "{name}[{row}] = {arr!r}", where=where, name=name, row=row,
                            arr=arr[row]))


def _warn_non_finite(arr: np.ndarray, name: str, where: str) -> None:
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.flatnonzero(~finite.reshape(len(arr), -1).all(axis=1))[0])
        warnings.warn(f"{where}() received NaN or inf in {name} (the first bad row is {name}[{row}]"
                      f" = {arr[row]!r}); as in Keras, training goes on and the loss of the "
                      "batches with it is NaN or inf (TerminateOnNaN stops the run there)",
                      stacklevel=5)


def _check_lengths(x: np.ndarray, other: np.ndarray, where: str, name: str = "y") -> None:
    if len(x) != len(other):
        raise ValueError(tr("{where}() needs as many rows in {name} as in x: x has {n} rows "
                            "(shape {shape}) but {name} has {n2} (shape {shape2})", where=where,
                            name=name, n=len(x), shape=x.shape, n2=len(other), shape2=other.shape))


def class_weight_to_sample_weight(y: np.ndarray, class_weight: dict) -> np.ndarray:
    """Per-sample weights from ``{class: weight}``. Keras's rule: class = argmax of one-hot rows, else round(y); missing classes weigh 1."""
    if not isinstance(class_weight, dict):
        raise ValueError(tr("class_weight must be a dict {{class: weight}}, received {type}",
                            type=type(class_weight).__name__))
    labels = y
    if y.ndim > 1:
        labels = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    labels = np.round(labels).astype("int32")
    return np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=config.floatx())


# ----- structures of arrays: several inputs or outputs -----

def convert_inputs(x: Any, where: str, finite: bool = True) -> Any:
    """x (an array or a structure of arrays) as floatx arrays, every leaf checked."""
    if not is_structure(x):
        return as_floatx(x, "x", where, finite)
    return map_structure(lambda leaf: as_floatx(leaf, "x", where, finite), x)


def convert_all_targets(x: Any, y: Any, sample_weight: Any, class_weight: dict | None,
                        where: str) -> tuple:
    """(y, sample_weight) for x, y and sample_weight that may be structures.

    One sample_weight array with several outputs weighs every output (as Keras). With one array
    each this is :func:`convert_targets`.
    """
    if not (is_structure(x) or is_structure(y) or is_structure(sample_weight)):
        return convert_targets(x, y, sample_weight, class_weight, where)
    if y is None:
        raise ValueError(tr("{where}() needs {name}, received None", where=where, name="y"))
    y = map_structure(lambda leaf: _target(leaf, where), y)
    if class_weight is not None:
        if is_structure(y):
            raise ValueError(tr("`class_weight` is only supported for Models with a single "
                                "output."))
        if sample_weight is not None:
            return convert_targets(flatten(x)[0], y, sample_weight, class_weight, where)
        sample_weight = class_weight_to_sample_weight(y, class_weight)
    elif sample_weight is not None:
        sample_weight = map_structure(lambda leaf: as_floatx(leaf, "sample_weight", where),
                                      sample_weight)
    check_cardinality({"x": x, "y": y, "sample_weight": sample_weight})
    return y, sample_weight


def _target(y: Any, where: str) -> np.ndarray:
    y = as_floatx(y, "y", where, finite=False)
    _warn_non_finite(y, "y", where)
    return y
