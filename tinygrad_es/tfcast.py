"""TensorFlow's float32-constant rule, in one place (keras-semantics.md section 8.2).

TensorFlow turns a Python ``float`` into a *float32* tensor before anything else happens to it, so
``ops.cast(0.9, "float64")`` is ``float64(float32(0.9)) = 0.8999999761581421``, not ``0.9``. Every
Keras constant written as a Python float (an optimizer's ``beta_1``, the ``eps`` of a loss, GELU's
``0.044715``, a regularizer's ``l2``) is therefore rounded to float32 even in float64 mode.
:func:`tf_constant` does that rounding; the engine, the losses, metrics, optimizers, schedules and
regularizers all call it, each call site with a one-line ``# NOTE:``.

Only a Python ``float`` goes through float32: an ``int`` is exact, and a numpy scalar or array keeps
its own precision (TensorFlow converts those with their dtype), before the cast to ``dtype``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CACHE: dict = {}  # (value, dtype) -> numpy scalar: optimizers ask for the same few every step


def tf_constant(value: Any, dtype: Any) -> Any:
    """``value`` as TensorFlow's ``ops.cast(value, dtype)`` makes it: a numpy scalar of ``dtype``.

    Args:
        value: a Python number, a numpy scalar or array, or anything with a ``.data`` array (a
            Tensor or a Variable).
        dtype: the target dtype (``np.dtype``, a numpy type or its name).

    Example:
        >>> float(tf_constant(0.9, "float64")), float(tf_constant(0.9, "float32"))
        (0.8999999761581421, 0.8999999761581421)
        >>> float(tf_constant(np.float64(0.9), "float64")), float(tf_constant(3, "float64"))
        (0.9, 3.0)
    """
    if type(value) is float:
        key = (value, dtype)
        cached = _CACHE.get(key) if value else None  # 0.0 == -0.0: never share their entry
        if cached is None:
            if len(_CACHE) > 4096:  # a callable learning rate gives a new float per step
                _CACHE.clear()
            cached = _CACHE[key] = np.dtype(dtype).type(np.float32(value))
        return cached
    if isinstance(value, (int, np.generic)):
        return (dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)).type(value)
    data = value if isinstance(value, np.ndarray) else getattr(value, "data", value)
    return np.asarray(data).astype(dtype)[()]
