"""Initializers: how a layer fills its weights when it is built (Keras's names, formulas, configs).

``init(shape, dtype=None) -> ndarray``. As in Keras, the classes are in ``initializer.py`` (the
base class), ``constant_initializers.py`` (Constant, Zeros, Ones, Identity) and
``random_initializers.py`` (seeds, fans, Glorot / He / LeCun, Orthogonal), plus ``stft.py``
(the STFT kernel); this file is the registry that ``Dense(kernel_initializer="he_normal")`` looks
names up in. As in Keras, the snake_case names (``glorot_uniform``, ``zeros``, ...) and the
``*Initializer`` names are the classes themselves, under a second name.
"""

from __future__ import annotations

from typing import Any, Callable

from tinygrad_es.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from tinygrad_es.initializers.initializer import Initializer
from tinygrad_es.initializers.random_initializers import (
    GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
    RandomInitializer, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    compute_fans)
from tinygrad_es.initializers.stft import STFT
from tinygrad_es.utils.registry import deserialize_object, lookup, serialize_object

__all__ = ["Initializer", "Constant", "Zeros", "Ones", "Identity", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
           "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "STFT", "get", "serialize",
           "deserialize", "compute_fans", "RandomInitializer",
           "IdentityInitializer", "OrthogonalInitializer", "STFTInitializer", "constant", "zeros",
           "ones", "identity", "random_normal", "random_uniform", "truncated_normal",
           "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
           "lecun_uniform", "lecun_normal", "orthogonal", "stft"]


# ----- lookup by name -----

_CLASSES = (Constant, Zeros, Ones, Identity, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
            LecunNormal, Orthogonal, STFT)

# ----- Keras's second names: the same classes -----

IdentityInitializer = identity = Identity
OrthogonalInitializer = orthogonal = Orthogonal
STFTInitializer = stft = STFT
constant, zeros, ones = Constant, Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal

# Keras accepts the class name and its snake_case form, plus a few aliases.
INITIALIZERS: dict[str, type[Initializer]] = {
    **{cls.__name__: cls for cls in _CLASSES},
    "constant": Constant, "zeros": Zeros, "ones": Ones, "identity": Identity,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
    "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "normal": RandomNormal, "uniform": RandomUniform, "one": Ones,
    "zero": Zeros, "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
    "stft": STFT, "STFTInitializer": STFT,
}


def serialize(initializer: Initializer | None) -> dict[str, Any] | None:
    """The initializer as a JSON-able dict ``{"class_name", "config", ...}`` (Keras's layout).

    Example:
        >>> serialize(Zeros())["class_name"]
        'Zeros'
    """
    if initializer is None:
        return None
    if not isinstance(initializer, Initializer):
        raise ValueError(f"cannot serialize initializer {initializer!r}: only Initializer "
                         "objects are saved (plain functions are not)")
    return serialize_object(initializer, "tinygrad_es.initializers")


def deserialize(config: dict[str, Any] | str) -> Initializer:
    """Rebuild an initializer from ``serialize``'s dict (or a Keras one) or a name.

    Example:
        >>> deserialize({"class_name": "Constant", "config": {"value": 2.0}}).value
        2.0
    """
    if isinstance(config, str):
        return lookup(INITIALIZERS, config, "initializer")()
    return deserialize_object(config, INITIALIZERS, "initializer")


def get(identifier: Any) -> Initializer | Callable | None:
    """Resolve a name, a dict, a class, an instance or a ``fn(shape, dtype)`` to an initializer.

    Example:
        >>> get("glorot_uniform")
        GlorotUniform(seed=None, input_axes=None, output_axes=None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}; expected a name "
                     f"such as 'glorot_uniform', an Initializer or a function (shape, dtype)")
