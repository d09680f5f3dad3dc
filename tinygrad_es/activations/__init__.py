"""Activation functions: every name ``keras.activations.get`` accepts, on public ``Tensor`` ops.

Each function takes a Tensor (or anything ``Tensor()`` accepts) and returns a Tensor with its
graph, so gradients are TensorFlow's, kinks included (keras-semantics.md sections 3 and 9).
``sigmoid`` and ``softmax`` return a Tensor that also carries its input, like Keras's
``_keras_logits``: ``logits_of(t)`` gives it back, and the crossentropy losses then compute from
the logits (no clipping), as Keras does, even under ``no_grad()``.

Example:
    >>> from tinygrad_es import activations
    >>> activations.get("relu")(Tensor([-1.0, 2.0]))
    Tensor([0., 2.], dtype=float32)
"""

from __future__ import annotations

from typing import Callable

from tinygrad_es.activations.common import (
    elu, exponential, gelu, hard_sigmoid, hard_silu, hard_swish, leaky_relu, linear, log_softmax,
    logits_of, mish, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh)
from tinygrad_es.activations import foreign, tf_functions
from tinygrad_es.activations.extra import (
    celu, glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid,
    sparsemax, squareplus, tanh_shrink, threshold)
from tinygrad_es.tensor import Tensor
from tinygrad_es.utils.registry import unknown

Activation = Callable[..., Tensor]

# ----- registry -----

_ACTIVATIONS: dict[str, Activation] = {fn.__name__: fn for fn in (
    linear, sigmoid, softmax, log_softmax, tanh, relu, relu6, leaky_relu, elu, selu, softplus,
    softsign, silu, gelu, hard_sigmoid, hard_silu, exponential, mish, celu, glu, hard_tanh,
    hard_shrink, soft_shrink, tanh_shrink, log_sigmoid, sparse_plus, sparse_sigmoid, squareplus,
    threshold, sparsemax)}
_ALIASES = {"swish": silu, "hard_swish": hard_silu}


def get(identifier: str | Callable | dict | None) -> Activation:
    """The activation function for a name, a callable, a serialized dict, or None (linear).

    A callable of this library is returned as is; a TensorFlow or Keras function
    (``tf.nn.relu``, ``tf.math.tanh``, ``keras.activations.relu``, ...) is replaced by ours
    that computes the same (``activations/tf_functions.py``; TensorFlow is not imported); any
    other callable (a function on Tensors, a numpy function) is wrapped by ``foreign.accept``,
    which checks what it returns and explains what cannot work (``activations/foreign.py``).

    Raises:
        ValueError: unknown name (the message lists the valid ones and the closest match), or
            a TensorFlow/Keras function with no counterpart here.

    Example:
        >>> get("swish") is silu and get(None) is linear
        True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
        saved = tf_functions.from_saved_name(identifier)  # Keras's dict for tf.nn.softmax
        if saved is not None:
            return saved
    if isinstance(identifier, str):
        fn = _ACTIVATIONS.get(identifier) or _ALIASES.get(identifier)
        if fn is None:
            raise unknown("activation", identifier, [*_ACTIVATIONS, *_ALIASES])
        return fn
    if callable(identifier):
        module = getattr(identifier, "__module__", None) or type(identifier).__module__ or ""
        if module.split(".")[0] == "tinygrad_es":
            return identifier
        ours = tf_functions.lookup(identifier, {**_ACTIVATIONS, **_ALIASES})
        if ours is not None:
            return ours
        return foreign.accept(identifier, set(_ACTIVATIONS) | set(_ALIASES))
    raise ValueError(f"Could not interpret activation identifier {identifier!r}: expected None, "
                     "a name (str), a callable or a serialized dict")


def serialize(activation: Callable) -> str | dict:
    """The name Keras saves for a built-in activation (aliases give the canonical name); for
    the stand-in of a TensorFlow function, what Keras saves for that function.

    Raises:
        ValueError: for a function that is not one of this module's activations.

    Example:
        >>> serialize(get("swish"))
        'silu'
    """
    name = getattr(activation, "__name__", None)
    if _ACTIVATIONS.get(name) is activation:
        return name
    saved = tf_functions.serialized_name(activation, _ACTIVATIONS)
    if saved is not None:
        return saved
    raise ValueError(f"Cannot serialize activation {activation!r}: only the built-in activations "
                     f"have names ({', '.join(sorted(_ACTIVATIONS))})")


def deserialize(name: str | dict) -> Activation:
    """The inverse of :func:`serialize` (same as :func:`get`).

    Example:
        >>> deserialize("relu") is relu
        True
    """
    return get(name)


__all__ = ["get", "serialize", "deserialize", "logits_of", *_ACTIVATIONS, *_ALIASES]
