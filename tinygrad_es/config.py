"""Global settings, named as in ``keras.config``: the default float type and the fuzz factor; and
the language tinygrad_es speaks (``set_language``, from :mod:`tinygrad_es.i18n`)."""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_VALID_FLOATX = ("float16", "float32", "float64")


def floatx() -> str:
    """The default float type of new tensors and weights: ``"float32"`` unless changed.

    Example:
        >>> floatx()
        'float32'
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type (``"float16"``, ``"float32"`` or ``"float64"``).

    Unlike Keras there is no cached dtype policy: every tensor, layer, loss and optimizer created
    after this call uses the new type.

    Example:
        >>> set_floatx("float64"); floatx()
        'float64'
    """
    global _FLOATX
    name = np.dtype(value).name if not isinstance(value, str) else value
    if name not in _VALID_FLOATX:
        raise ValueError(f"set_floatx expects one of {_VALID_FLOATX}, received {value!r}")
    _FLOATX = name


def epsilon() -> float:
    """The fuzz factor added to denominators and used to clip probabilities: 1e-7 as in Keras."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon`."""
    global _EPSILON
    _EPSILON = float(value)


from tinygrad_es.i18n import language, set_language  # noqa: E402  (one switch, kept in i18n)
