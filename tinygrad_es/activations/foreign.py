"""Activations that are not ours: any callable from a Tensor to a Tensor of the same shape.

``activations.get(fn)`` wraps a callable it does not know in :func:`accept`, which decides on the
first call what ``fn`` is:

* it returns a Tensor (``lambda x: x * x.sigmoid()``, a ``ReLU()`` layer): it runs as is;
* it returns an ndarray (a function written with numpy, or numpy's own such as ``np.tanh``,
  which receives the array): its values are used, but no gradient can flow back through numpy,
  so ``backward`` raises an error that names the function;
* it comes from TensorFlow, Keras, PyTorch or JAX (told by its module, nothing is imported):
  a TypeError at the first call says which tinygrad_es activation to use instead.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from tinygrad_es import autograd
from tinygrad_es.tensor import Tensor

_FRAMEWORKS = {"tensorflow": "TensorFlow", "keras": "Keras", "tf_keras": "Keras",
               "torch": "PyTorch", "jax": "JAX"}


def framework_of(fn: Any) -> str | None:
    """The deep-learning framework ``fn`` belongs to, from its module name, else None.

    Example:
        >>> framework_of(np.tanh) is None
        True
    """
    module = getattr(fn, "__module__", None) or type(fn).__module__ or ""
    return _FRAMEWORKS.get(module.split(".")[0])


def describe(fn: Any) -> str:
    """``module.name`` of a function (or the class of a callable object), for messages."""
    name = (getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
            or type(fn).__name__)
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return f"{module}.{name}" if module else name


class NumpyActivation(autograd.Function):
    """A user function's ndarray output as a graph node: the forward is its values; there is no
    derivative (numpy recorded no graph), so backward raises, naming the function."""

    elementwise = False
    derivatives = ("none: {x} went through numpy, which records no graph",)

    def forward(self, x, out, fn_name):
        self.fn_name = fn_name
        return out

    def backward(self, grad_output):
        raise RuntimeError(
            f"Cannot backpropagate through the activation {self.fn_name}: it returned a numpy "
            "array, so tinygrad_es recorded no graph for it and has no derivative. Write it with "
            "Tensor operations (e.g. `lambda x: x.tanh()`) or use a built-in name (e.g. "
            "activation=\"tanh\") to train with it.")


def accept(fn: Callable, builtin_names: set[str]) -> Callable[[Tensor], Tensor]:
    """``fn`` wrapped so that its output is checked on every call (see the module docstring).

    ``builtin_names`` are this library's activation names, to suggest one for a foreign function.

    Example:
        >>> square = accept(lambda x: x * x, set())
        >>> square(Tensor([1.0, 3.0]))
        Tensor([1., 9.], dtype=float32)
    """
    framework = framework_of(fn)
    module = getattr(fn, "__module__", None) or type(fn).__module__ or ""
    on_arrays = module.split(".")[0] in ("numpy", "scipy")  # np.tanh: give it the ndarray

    @functools.wraps(fn)
    def activation(x: Tensor) -> Tensor:
        if framework is not None:
            raise TypeError(_foreign_message(fn, framework, builtin_names))
        out = fn(x.data) if on_arrays else fn(x)
        if not isinstance(out, Tensor):
            out = _from_numpy(fn, x, out)
        if out.shape != x.shape:
            raise ValueError(f"The activation {describe(fn)} must return a tensor of its input's "
                             f"shape {x.shape}, received shape {out.shape}")
        return out

    return activation


def _from_numpy(fn: Callable, x: Tensor, out: Any) -> Tensor:
    try:
        data = np.asarray(out, dtype=x.dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"The activation {describe(fn)} must return a Tensor or an array of "
                        f"numbers, received {type(out).__name__}: {err}") from None
    if data.shape != x.shape:
        raise ValueError(f"The activation {describe(fn)} must return a tensor of its input's "
                         f"shape {x.shape}, received shape {data.shape}")
    return NumpyActivation.apply(x, out=data, fn_name=describe(fn))


def _foreign_message(fn: Callable, framework: str, builtin_names: set[str]) -> str:
    name = getattr(fn, "__name__", None)
    instead = (f'activation="{name}"' if name in builtin_names
               else "an activation name such as activation=\"relu\", or a function written with "
                    "Tensor operations")
    return (f"The activation {describe(fn)} is a {framework} function: it works on {framework} "
            f"tensors, not on tinygrad_es Tensors, and would break the gradient. Use {instead}.")
