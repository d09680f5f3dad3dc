"""``keras.backend``: the settings and helpers tutorials reach through it (``floatx``,
``epsilon``, ``clear_session``, ``image_data_format``, ``backend()``).

The settings live in :mod:`tinygrad_es.config` (one home); this module gives them Keras's second
address. ``backend()`` is ``"numpy"``: tinygrad_es computes every op with numpy (see
``config.backend``).

Example:
    >>> from tinygrad_es import backend as K
    >>> K.backend(), K.floatx(), K.epsilon(), K.image_data_format()
    ('numpy', 'float32', 1e-07, 'channels_last')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.config import (  # noqa: F401  (re-exported under Keras's names)
    backend, epsilon, floatx, image_data_format, set_epsilon, set_floatx, set_image_data_format)
from tinygrad_es.ops.core import result_type as _result_type
from tinygrad_es.utils import naming

__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
           "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
           "set_floatx", "set_image_data_format", "standardize_dtype"]


def clear_session(free_memory: bool = True) -> None:
    """Restart the automatic names (``dense``, ``adam``, ...), as ``keras.backend.clear_session``.

    ``free_memory`` is accepted for Keras's signature; there is no graph or device memory to free.

    Example:
        >>> from tinygrad_es.optimizers import Adam
        >>> clear_session(); Adam().name
        'adam'
    """
    from tinygrad_es.utils import clear_session as _clear

    _clear()


def get_uid(prefix: str = "") -> int:
    """1 for a new ``prefix``, then 2, 3, ... (Keras's per-prefix counter, reset by
    :func:`clear_session`).

    Example:
        >>> clear_session(); get_uid("block"), get_uid("block")
        (1, 2)
    """
    # the shared naming counter hands out 0, 1, ... per name; Keras's get_uid starts at 1
    name = naming.unique_name(f"get_uid:{prefix}")
    return 1 if name == f"get_uid:{prefix}" else int(name.rsplit("_", 1)[1]) + 1


def standardize_dtype(dtype: Any) -> str:
    """A dtype's canonical name (``np.float32`` -> ``"float32"``); None is floatx.

    Example:
        >>> standardize_dtype(np.float64), standardize_dtype(None)
        ('float64', 'float32')
    """
    if dtype is None:
        return floatx()
    if hasattr(dtype, "as_numpy_dtype"):  # a TensorFlow dtype
        dtype = dtype.as_numpy_dtype
    if isinstance(dtype, str) and dtype in ("float", "int"):  # numpy's widths are not Keras's
        raise ValueError(f"standardize_dtype received the ambiguous dtype {dtype!r}; name the "
                         "width, e.g. 'float32' or 'int32'")
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"standardize_dtype received {dtype!r}, which is not a dtype") from None


def is_float_dtype(dtype: Any) -> bool:
    """True for float16/32/64."""
    return np.dtype(standardize_dtype(dtype)).kind == "f"


def is_int_dtype(dtype: Any) -> bool:
    """True for signed and unsigned integer dtypes."""
    return np.dtype(standardize_dtype(dtype)).kind in "iu"


def is_keras_tensor(x: Any) -> bool:
    """False: tinygrad_es has no symbolic tensors here (every Tensor holds numbers)."""
    return False


def result_type(*dtypes: Any) -> str:
    """The dtype Keras gives an op on values of these dtypes (``ops.core.result_type``).

    Example:
        >>> result_type("int64", "float32")
        'float32'
    """
    if not dtypes:
        return floatx()
    return _result_type(*[np.zeros((), standardize_dtype(d)) for d in dtypes]).name
