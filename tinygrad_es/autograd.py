"""The machinery of reverse mode: ``Function``, the grad mode switch, unbroadcast and toposort.

A ``Function`` is one primitive: ``forward`` works on raw ndarrays and saves what ``backward``
needs; ``backward`` receives the gradient of the output (``grad_output``) and returns one gradient
per input, in order (``None`` for an input that needs none). The Tensor side lives in ``tensor.py``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from tinygrad_es.i18n import tr
_grad_enabled = True


class Function:
    """Base class of the primitives in ``functions.py``.

    ``parents`` are the input Tensors, ``needs_input_grad`` says which of them want a gradient.
    ``save_for_backward`` keeps arrays for ``backward``; after ``backward`` they are released (the
    graph keeps its shape for pictures, but a second backward through it is an error).
    """

    # The fields every op has are slots (read on the hot path of backward); a primitive's own
    # attributes (an axis, an exponent) go in the __dict__ that each subclass gets.
    __slots__ = ("parents", "needs_input_grad", "saved_tensors", "forward_kwargs")

    # Teaching metadata, declared by every primitive next to its forward and backward, and read by
    # viz.trace: ``elementwise`` when each output entry depends only on the same entry of each
    # input (the local derivative is then a number per entry); ``derivatives`` per input, the local
    # derivative ∂z/∂input (or, for other ops, the gradient the input receives) written with
    # {x} and {y} for the inputs' names, {z} for the output's, {g} for the upstream gradient and
    # {field} for the op's own scalar attributes (PowScalar's {p}). tests/test_viz_trace.py checks
    # that every primitive declares both.
    elementwise: bool = False
    derivatives: tuple[str, ...] = ()

    def __init__(self, parents: tuple, needs_input_grad: tuple):
        self.parents = parents
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple | None = ()
        self.forward_kwargs: dict[str, Any] = {}  # forward's keyword arguments (for replay)

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run this primitive on ``inputs`` and record it in the graph: how your own op is used.

        ``inputs`` are Tensors (arrays and numbers become constant Tensors); keyword arguments go
        to ``forward`` as they are. The engine does the rest as for its own ops: the graph (only
        when an input requires grad and recording is on), broadcasting undone on the gradients,
        and releasing the saved arrays after backward.

        Example:
            >>> from tinygrad_es import Tensor
            >>> class Cube(Function):
            ...     '''Cube: z = x³.  dz/dx = 3x².'''
            ...     elementwise, derivatives = True, ("3·{x}²",)
            ...     def forward(self, x):
            ...         self.save_for_backward(x)
            ...         return x ** 3
            ...     def backward(self, grad_output):
            ...         (x,) = self.saved_tensors
            ...         return grad_output * 3 * x ** 2
            >>> x = Tensor([1.0, 2.0], requires_grad=True)
            >>> Cube.apply(x).sum().backward(); x.grad
            array([ 3., 12.], dtype=float32)
        """
        from tinygrad_es.tensor import Tensor, _apply  # the engine's op runner

        tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in inputs]
        return _apply(cls, *tensors, **kwargs)

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        self.saved_tensors = arrays

    def forward(self, *args: np.ndarray, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> Any:
        raise NotImplementedError

    def replay(self) -> tuple[Function, np.ndarray]:
        """This op run again on its inputs' current data: ``(a fresh Function, its output)``.

        The fresh Function has its saved arrays even after ``backward()`` released this one's,
        so a trace can show the backward pass afterwards. Compare the output with the recorded
        one: they differ if an input changed since the forward pass (an optimizer step).

        Example:
            >>> from tinygrad_es import Tensor
            >>> x = Tensor([1.0, 2.0], requires_grad=True); z = x.sigmoid(); z.sum().backward()
            >>> fresh, out = z.grad_fn.replay()
            >>> z.grad_fn.released, fresh.released, bool((out == z.data).all())
            (True, False, True)
        """
        fresh = type(self)(self.parents, self.needs_input_grad)
        fresh.forward_kwargs = self.forward_kwargs
        out = fresh.forward(*[p.data for p in self.parents], **self.forward_kwargs)
        return fresh, np.asarray(out)

    def release(self) -> None:
        """Drop the saved arrays (what ``backward()`` does after each op, unless asked to retain
        the graph); a later ``backward`` of this op fails, a new ``forward`` saves again."""
        self.saved_tensors = None

    @property
    def released(self) -> bool:
        """True once backward has run through this op and dropped its saved arrays."""
        return self.saved_tensors is None

    @property
    def name(self) -> str:
        """The op's short name used in errors, traces and pictures (``"Mul"``, ``"Sigmoid"``)."""
        return type(self).__name__


# ----- grad mode -----

def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) that records no graph: for inference and weight updates.

    Example:
        >>> from tinygrad_es import Tensor
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __init__(self) -> None:
        self._prev: list[bool] = []  # a stack: a decorated function may re-enter (recursion)

    def __enter__(self) -> "no_grad":
        global _grad_enabled
        self._prev.append(_grad_enabled)
        _grad_enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._prev.pop()


# ----- graph helpers -----

def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    The engine applies this to every gradient before it reaches a parent (``Tensor.backward``), so
    no primitive has to remember broadcasting.

    Example:
        >>> unbroadcast(np.ones((4, 3)), (3,))
        array([4., 4., 4.])
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(grad.shape[extra:])
    if grad.shape != shape:
        raise RuntimeError(
            f"internal error: gradient of shape {grad.shape} for a tensor of shape {shape}")
    return grad


def toposort(root: Any) -> list:
    """Nodes that lead to ``root`` and need a gradient, every parent before its children.

    Iterative (an explicit stack), so a chain of 100,000 ops does not hit Python's recursion limit.
    A node goes into ``order`` once all its parents are in it (depth-first post-order).
    """
    order: list = []
    visited = {root}
    stack = [root]
    while stack:
        node = stack[-1]
        ctx = node._ctx
        if ctx is not None:
            for parent in ctx.parents:
                if parent.requires_grad and parent not in visited:
                    visited.add(parent)
                    stack.append(parent)
                    break
            else:
                order.append(stack.pop())
        else:
            order.append(stack.pop())
    return order


def op_error(fn_name: str, arrays: tuple, err: Exception) -> ValueError:
    """A ValueError naming the op and the shapes it received, in place of numpy's message."""
    shapes = [str(getattr(a, "shape", ())) for a in arrays]
    if len(arrays) == 1:
        return ValueError(tr("{op} received a tensor of shape {shape}: {err}", op=fn_name,
                             shape=shapes[0], err=err))
    listed = tr("{first} and {last}", first=", ".join(shapes[:-1]), last=shapes[-1])
    return ValueError(tr("{op} cannot combine shapes {shapes}: {reason}", op=fn_name,
                         shapes=listed, reason=err))

