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


_IMAGE_DATA_FORMAT = "channels_last"
_VALID_IMAGE_DATA_FORMATS = ("channels_last", "channels_first")


def image_data_format() -> str:
    """Where image layers expect the channels: ``"channels_last"`` (Keras's default) unless set.

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default of :func:`image_data_format`: ``"channels_last"`` or ``"channels_first"``."""
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in _VALID_IMAGE_DATA_FORMATS:
        raise ValueError(f"set_image_data_format expects one of {_VALID_IMAGE_DATA_FORMATS}, "
                         f"received {data_format!r}")
    _IMAGE_DATA_FORMAT = value


def backend() -> str:
    """The name of the backend: ``"numpy"``, since every op here is computed by numpy.

    A program that asks ``keras.backend.backend() == "tensorflow"`` before calling TensorFlow on a
    tensor would be wrong to get "tensorflow" here; "numpy" is also a backend Keras itself knows.

    Example:
        >>> backend()
        'numpy'
    """
    return "numpy"


from tinygrad_es.i18n import language, set_language  # noqa: E402  (one switch, kept in i18n)
