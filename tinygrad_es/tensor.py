"""``Tensor``: an ndarray that records how it was computed, and ``backward()`` by the chain rule.

Every op calls one ``Function`` from ``functions.py`` through ``_apply``; when any input requires a
gradient the result keeps that Function (``_ctx``) and through it its parents. ``backward()`` walks
that graph from the output back to the leaves, in reverse topological order, and accumulates
``.grad`` on every node (leaves keep accumulating across calls, like PyTorch, until ``zero_grad``).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from tinygrad_es import autograd, config
from tinygrad_es import functions as F
from tinygrad_es.autograd import no_grad, op_error, toposort, unbroadcast
from tinygrad_es.i18n import tr

__all__ = ["Tensor", "no_grad", "concatenate", "stack", "where", "maximum", "minimum"]

Axis = int | tuple[int, ...] | None


class Tensor:
    """An n-dimensional array with a gradient.

    Args:
        data: numbers, nested lists or an ndarray; copied. Converted to ``dtype``.
        requires_grad: record the ops on this tensor so ``backward()`` can reach it.
        dtype: numpy dtype; defaults to ``config.floatx()`` (float32, as in Keras).
        name: shown in graph pictures and backward traces (``"w_2"``).

    Example:
        >>> w = Tensor([2.0, -1.0], requires_grad=True, name="w")
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> w.grad
        array([ 4., -2.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"Tensor received dtype={dtype!r}, which is not a numpy dtype "
                                "(expected e.g. 'float32' or np.float64)") from None
        try:
            arr = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"Tensor expects numeric data, received {_describe(data)}: {err}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Tensor expects numeric data, received {_describe(data)} "
                            f"(numpy dtype {arr.dtype})")
        if dtype is None:
            arr = arr.astype(config.floatx(), copy=False)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"only float tensors can require a gradient, received dtype {arr.dtype}")
        self.data: np.ndarray = arr
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: autograd.Function | None = None
        self.name = name

    @classmethod
    def _make(cls, data: np.ndarray, ctx: autograd.Function | None, requires_grad: bool) -> Tensor:
        """The fast constructor used by ops (engine only: outside it, use ``from_numpy``)."""
        t = object.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx, t.name = data, None, requires_grad, ctx, None
        return t

    @classmethod
    def from_numpy(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf Tensor over ``array`` itself: no copy, no conversion, no checks (the fast path).

        For arrays already of the dtype wanted (e.g. a batch already in floatx); ``Tensor(data)``
        is the checked constructor that copies and converts. Changes to ``array`` show in the
        Tensor, as with PyTorch's ``torch.from_numpy``.

        Example:
            >>> a = np.zeros(2, dtype=np.float32); t = Tensor.from_numpy(a)
            >>> a[0] = 5.0; t.data
            array([5., 0.], dtype=float32)
        """
        t = object.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx, t.name = array, None, requires_grad, None, None
        return t

    # ----- properties -----

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> Tensor:
        return self.transpose()

    @property
    def op(self) -> str | None:
        """Name of the op that made this tensor (``"Mul"``), or None for a leaf."""
        return None if self._ctx is None else self._ctx.name

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    # ----- the graph, read-only (what viz walks) -----

    @property
    def grad_fn(self) -> autograd.Function | None:
        """The ``Function`` that made this tensor (PyTorch's name), or None for a leaf.

        Recorded only when an input required a gradient outside ``no_grad()``. Its public side:
        ``name``, ``parents``, ``needs_input_grad``, ``released`` and the op's own fields.

        Example:
            >>> a = Tensor(2.0, requires_grad=True); (a * a).grad_fn.name, a.grad_fn
            ('Mul', None)
        """
        return self._ctx

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (``grad_fn.parents``); ``()`` for a leaf.

        Example:
            >>> a = Tensor(2.0, requires_grad=True); b = a + 1.0
            >>> b.parents[0] is a, a.parents
            (True, ())
        """
        return () if self._ctx is None else self._ctx.parents

    # ----- sigmoid/softmax outputs that remember their logits -----

    @property
    def logits(self) -> Tensor | None:
        """The logits this output carries (set by :meth:`with_logits`), else None."""
        return None

    def with_logits(self, logits: Tensor) -> Tensor:
        """This tensor (same data, same graph node) as one that carries the ``logits`` it came from.

        Keras's ``_keras_logits``: ``activations.sigmoid``/``softmax`` return
        ``x.sigmoid().with_logits(x)``, and the crossentropy losses and metrics then compute from
        ``.logits``. Use the result in place of this tensor; any op on it drops the logits.

        Example:
            >>> z = Tensor([0.0, 2.0]); p = z.sigmoid().with_logits(z)
            >>> p.logits is z, (p * 1.0).logits
            (True, None)
        """
        if not isinstance(logits, Tensor) or logits.shape != self.shape:
            got = logits.shape if isinstance(logits, Tensor) else _describe(logits)
            raise ValueError(f"with_logits expects a Tensor of this tensor's shape {self.shape}, "
                             f"received {got}")
        t = object.__new__(_WithLogits)
        t.data, t.grad, t.requires_grad, t._ctx = self.data, None, self.requires_grad, self._ctx
        t.name, t._logits = self.name, logits
        return t

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The single number of a one-element tensor."""
        if self.data.size != 1:
            raise ValueError(tr("item() needs a tensor with one element, received shape {shape}",
                                shape=self.shape))
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", precision=6,
                               threshold=50, edgeitems=3)
        extra = f", dtype={self.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        if self.op is not None:
            extra += f", op={self.op}"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    # ----- autograd -----

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate: add d(self)/d(node) to ``.grad`` of every node that leads here.

        Args:
            grad: the upstream gradient, same shape as self; may be omitted for a scalar (1.0).
            retain_graph: keep the saved arrays so backward can run through this graph again.

        Example:
            >>> a = Tensor(3.0, requires_grad=True); b = a + a; c = b + b
            >>> c.backward(); a.grad
            array(4., dtype=float32)
        """
        if not self.requires_grad:
            raise RuntimeError(tr(
                "backward() called on a tensor that does not require grad: create the inputs "
                "with requires_grad=True, and do not compute them inside no_grad()"))
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(tr(
                    "backward() without `grad` needs a scalar (one element), but this tensor has "
                    "shape {shape}; reduce it first (e.g. .sum() or .mean()) or pass grad=",
                    shape=self.shape))
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(tr("backward() received grad of shape {grad} for a tensor of "
                                    "shape {shape}; they must match", grad=grad.shape,
                                    shape=self.shape))
        grads = {self: grad}  # tensors hash by identity
        handed = {id(grad)}  # arrays already visible as some .grad (or the caller's): not reusable
        for node in reversed(toposort(self)):
            g = grads.pop(node, None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:  # a leaf: accumulate, never assign; its own array, aliased by no one
                if node.grad is not None:
                    node.grad = (node.grad + g).astype(node.data.dtype, copy=False)
                elif id(g) in handed or g.dtype != node.data.dtype or not g.flags.writeable:
                    node.grad = np.array(g, dtype=node.data.dtype)  # copy only what is shared
                else:
                    node.grad = g
                handed.add(id(node.grad))
                continue
            if ctx.saved_tensors is None:
                raise RuntimeError(tr(
                    "Trying to backward through the graph a second time (at {op}): its saved "
                    "values were freed after the first backward. Pass retain_graph=True to the "
                    "first backward() if you need to backpropagate twice.", op=ctx.name))
            node.grad = g
            handed.add(id(g))
            parent_grads = ctx.backward(g)
            if not isinstance(parent_grads, tuple):
                parent_grads = (parent_grads,)
            for parent, pg in zip(ctx.parents, parent_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.data.shape:
                    pg = unbroadcast(pg, parent.data.shape)
                prev = grads.get(parent)
                grads[parent] = pg if prev is None else prev + pg
            if not retain_graph:
                ctx.release()  # drop the saved arrays (Function.released)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, requires no gradient)."""
        return Tensor._make(self.data, None, False)

    # ----- binary arithmetic -----

    def _lift(self, other: Any) -> Tensor:
        """A Python number or array as a constant tensor of this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.number, np.ndarray, list, tuple, bool)):
            try:
                return Tensor._make(np.asarray(other, dtype=self.data.dtype), None, False)
            except (TypeError, ValueError):
                pass
        raise TypeError(tr("cannot combine a Tensor with {value}; expected a Tensor, a number or "
                           "a numeric array", value=_describe(other)))

    def add(self, other: Any) -> Tensor:
        return _apply(F.Add, self, self._lift(other))

    def sub(self, other: Any) -> Tensor:
        return _apply(F.Sub, self, self._lift(other))

    def mul(self, other: Any) -> Tensor:
        return _apply(F.Mul, self, self._lift(other))

    def div(self, other: Any) -> Tensor:
        return _apply(F.Div, self, self._lift(other))

    def pow(self, exponent: Any) -> Tensor:
        """x ** p. A number p gets no gradient; a Tensor p does (z·ln x)."""
        if isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, bool):
            if exponent == 2:
                return _apply(F.Square, self)
            return _apply(F.PowScalar, self, p=exponent)
        return _apply(F.Pow, self, self._lift(exponent))

    def matmul(self, other: Any) -> Tensor:
        other = self._lift(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError(tr("MatMul needs tensors with at least 1 dimension, received shapes "
                                "{a} and {b}", a=self.shape, b=other.shape))
        return _apply(F.MatMul, self, other)

    def linear(self, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """``self @ weight + bias`` as one op: a Dense layer's affine map (weight is (in, out)).

        Example:
            >>> Tensor([[1.0, 2.0]]).linear(Tensor([[1.0], [1.0]]), Tensor([0.5]))
            Tensor([[3.5]], dtype=float32)
        """
        if bias is None:
            return self.matmul(weight)
        xs, ws, bs = self.data.shape, weight.data.shape, bias.data.shape
        if len(xs) < 1 or len(ws) != 2 or xs[-1] != ws[0] or bs not in ((ws[1],), (1,), ()):
            raise ValueError(tr("Linear cannot combine shapes {x} @ {w} + {b}: expected "
                                "(..., n) @ (n, m) + (m,)", x=xs, w=ws, b=bs))
        return _apply(F.Linear, self, weight, bias)

    def maximum(self, other: Any) -> Tensor:
        return _apply(F.Maximum, self, self._lift(other))

    def minimum(self, other: Any) -> Tensor:
        return _apply(F.Minimum, self, self._lift(other))

    def __add__(self, other): return self.add(other)
    def __radd__(self, other): return self._lift(other).add(self)
    def __sub__(self, other): return self.sub(other)
    def __rsub__(self, other): return self._lift(other).sub(self)
    def __mul__(self, other): return self.mul(other)
    def __rmul__(self, other): return self._lift(other).mul(self)
    def __truediv__(self, other): return self.div(other)
    def __rtruediv__(self, other): return self._lift(other).div(self)
    def __pow__(self, other): return self.pow(other)
    def __rpow__(self, other): return self._lift(other).pow(self)
    def __matmul__(self, other): return self.matmul(other)
    def __rmatmul__(self, other): return self._lift(other).matmul(self)
    def __neg__(self): return self.neg()

    # ----- comparisons (no gradient) -----

    def _compare(self, other: Any, op: Any) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._make(op(self.data, other_data), None, False)
        except ValueError as err:
            raise _shape_error(op.__name__, (self.data, np.asarray(other_data)), err) from None

    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)
    def __eq__(self, other): return self._compare(other, np.equal)  # type: ignore[override]
    def __ne__(self, other): return self._compare(other, np.not_equal)  # type: ignore[override]

    def sign(self) -> Tensor:
        """-1, 0 or 1 elementwise; no gradient (its derivative is 0 everywhere)."""
        return Tensor._make(np.sign(self.data), None, False)

    # ----- unary math -----

    def neg(self) -> Tensor: return _apply(F.Neg, self)
    def exp(self) -> Tensor: return _apply(F.Exp, self)
    def log(self) -> Tensor: return _apply(F.Log, self)
    def sqrt(self) -> Tensor: return _apply(F.Sqrt, self)
    def square(self) -> Tensor: return _apply(F.Square, self)
    def abs(self) -> Tensor: return _apply(F.Abs, self)

    def clip(self, min_value: float, max_value: float) -> Tensor:
        """Clamp to [min_value, max_value]; the gradient is 1 on the closed interval (as TF)."""
        if min_value > max_value:
            raise ValueError(f"clip received min_value={min_value} > max_value={max_value}")
        return _apply(F.Clip, self, lo=min_value, hi=max_value)

    # ----- activations -----

    def relu(self) -> Tensor: return _apply(F.Relu, self)
    def relu6(self) -> Tensor: return _apply(F.Relu6, self)
    def sigmoid(self) -> Tensor: return _apply(F.Sigmoid, self)
    def tanh(self) -> Tensor: return _apply(F.Tanh, self)
    def selu(self) -> Tensor: return _apply(F.Selu, self)
    def softplus(self) -> Tensor: return _apply(F.Softplus, self)
    def softsign(self) -> Tensor: return _apply(F.Softsign, self)
    def silu(self) -> Tensor: return _apply(F.Silu, self)
    swish = silu

    def leaky_relu(self, negative_slope: float = 0.2) -> Tensor:
        """x if x > 0 else negative_slope·x (Keras's function default 0.2)."""
        return _apply(F.LeakyRelu, self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return _apply(F.Elu, self, alpha=alpha)

    def gelu(self, approximate: bool = False) -> Tensor:
        """Exact GELU by default (as Keras's activation); ``approximate=True`` is the tanh form."""
        return _apply(F.Gelu, self, approximate=bool(approximate))

    def softmax(self, axis: int = -1) -> Tensor:
        return _apply(F.Softmax, self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _apply(F.LogSoftmax, self, axis=axis)

    def softmax_cross_entropy(self, labels: Any) -> Tensor:
        """Cross-entropy of softmax(self) against target rows ``labels`` (last axis), per row.

        One op, as TF's ``softmax_cross_entropy_with_logits``: Σⱼ yⱼ(logsumexp(z) - zⱼ).

        Example:
            >>> Tensor([[0.0, 0.0]]).softmax_cross_entropy(np.array([[0.0, 1.0]]))
            Tensor([0.693147], dtype=float32)
        """
        labels = self._lift(labels)
        if labels.shape != self.shape:
            raise ValueError(f"SoftmaxCrossEntropy expects labels of the logits' shape "
                             f"{self.shape}, received {labels.shape}")
        return _apply(F.SoftmaxCrossEntropy, self, labels)

    def sparse_softmax_cross_entropy(self, labels: Any) -> Tensor:
        """Cross-entropy of softmax(self) against integer class ``labels`` (one per row).

        One op, as TF's ``sparse_softmax_cross_entropy_with_logits``: logsumexp(z) - z[label].

        Example:
            >>> Tensor([[0.0, 0.0]]).sparse_softmax_cross_entropy(np.array([1]))
            Tensor([0.693147], dtype=float32)
        """
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu" or labels.shape != self.shape[:-1]:
            raise ValueError(f"SparseSoftmaxCrossEntropy expects integer labels of shape "
                             f"{self.shape[:-1]}, received {labels.dtype} labels of shape "
                             f"{labels.shape}")
        return _apply(F.SparseSoftmaxCrossEntropy, self, labels=labels)

    # ----- reductions -----

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _apply(F.Sum, self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _apply(F.Mean, self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _apply(F.Max, self, axis=_axis(axis), keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _apply(F.Min, self, axis=_axis(axis), keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Population variance mean((x - mean x)²), as ``tf.math.reduce_variance``."""
        deviation = self - self.mean(axis=axis, keepdims=True)
        return deviation.square().mean(axis=axis, keepdims=keepdims)

    def std(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Population standard deviation √var, as ``tf.math.reduce_std``."""
        return self.var(axis=axis, keepdims=keepdims).sqrt()

    # ----- movement -----

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _apply(F.Reshape, self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _apply(F.Transpose, self, axes=axes or None)

    def expand_dims(self, axis: int) -> Tensor:
        try:
            shape = np.expand_dims(self.data, axis).shape
        except ValueError as err:  # numpy's AxisError
            raise ValueError(f"expand_dims(axis={axis}) on shape {self.shape}: {err}") from None
        return self.reshape(shape)

    def squeeze(self, axis: Axis = None) -> Tensor:
        try:
            shape = np.squeeze(self.data, axis=axis).shape
        except ValueError as err:
            raise ValueError(f"squeeze(axis={axis}) on shape {self.shape}: {err}") from None
        return self.reshape(shape)

    def flatten(self, start_dim: int = 0) -> Tensor:
        """Merge the axes from ``start_dim`` on into one (``start_dim=1`` keeps the batch axis)."""
        if not -max(self.ndim, 1) <= start_dim < max(self.ndim, 1):
            raise ValueError(f"flatten(start_dim={start_dim}) on shape {self.shape}: start_dim "
                             f"must be an axis of the tensor")
        return self.reshape(self.shape[:start_dim] + (-1,))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _apply(F.BroadcastTo, self, shape=tuple(shape))

    def __getitem__(self, idx: Any) -> Tensor:
        return _apply(F.GetItem, self, idx=_index(idx))


# ----- module-level ops -----

def concatenate(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    Example:
        >>> concatenate([Tensor([1.0]), Tensor([2.0, 3.0])]).shape
        (3,)
    """
    return _apply(F.Concatenate, *_tensors(tensors, "concatenate"), axis=axis)


def stack(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis.

    Example:
        >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).shape
        (2, 2)
    """
    return _apply(F.Stack, *_tensors(tensors, "stack"), axis=axis)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y``; the gradient follows the chosen branch.

    Example:
        >>> where(Tensor([1.0, -1.0]) > 0, Tensor([1.0, 2.0]), 0.0)
        Tensor([1., 0.], dtype=float32)
    """
    anchor = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else Tensor(x)
    cond = condition if isinstance(condition, Tensor) else Tensor._make(
        np.asarray(condition, dtype=bool), None, False)
    return _apply(F.Where, cond, anchor._lift(x), anchor._lift(y))


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise max; a tie sends the gradient to ``x`` (TensorFlow's rule)."""
    return (x if isinstance(x, Tensor) else Tensor(x)).maximum(y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise min; a tie sends the gradient to ``x`` (TensorFlow's rule)."""
    return (x if isinstance(x, Tensor) else Tensor(x)).minimum(y)


# ----- internals -----

class _WithLogits(Tensor):
    """A Tensor that also holds the pre-activation it was computed from (``Tensor.with_logits``)."""

    __slots__ = ("_logits",)

    @property
    def logits(self) -> Tensor | None:
        return self._logits


def _apply(fn: type[autograd.Function], *tensors: Tensor, **kwargs: Any) -> Tensor:
    """Run ``fn`` forward on the tensors' data and, if any needs a gradient, record it."""
    needs = tuple([t.requires_grad for t in tensors])
    ctx = fn(tensors, needs)
    if kwargs:
        ctx.forward_kwargs = kwargs  # Function.replay runs forward again with them
    try:
        out = ctx.forward(*[t.data for t in tensors], **kwargs)
    except ValueError as err:
        raise _shape_error(fn.__name__, tuple(t.data for t in tensors), err) from None
    except IndexError as err:
        raise IndexError(f"{fn.__name__}: {err} (tensor shape {tensors[0].shape})") from None
    if out.__class__ is not np.ndarray:  # numpy returns scalars for 0-d results; keep ndarrays
        out = np.asarray(out)
    if autograd._grad_enabled and True in needs:
        return Tensor._make(out, ctx, True)
    return Tensor._make(out, None, False)


_engine_apply = _apply


def set_op_runner(runner: Any = None) -> Any:
    """Make every op run through ``runner`` (None: the engine's own ``_apply``); returns the
    previous one. ``jit`` records a capture this way: the eager path pays nothing for it."""
    global _apply
    previous, _apply = _apply, _engine_apply if runner is None else runner
    return previous


def _shape_error(op: str, arrays: tuple, err: Exception) -> ValueError:
    """The op, every shape and why they do not fit, in our words (not numpy's gufunc text)."""
    shapes = [tuple(np.shape(a)) for a in arrays]
    reason = None
    if op == "MatMul" and len(shapes) == 2:
        reason = _matmul_mismatch(*shapes)
    elif len(shapes) >= 2 and op not in ("Concatenate", "Stack"):  # elementwise: broadcasting
        reason = _broadcast_mismatch(shapes)
    if reason is None:
        return op_error(op, arrays, err)
    listed = tr("{first} and {last}", first=", ".join(str(s) for s in shapes[:-1]),
                last=shapes[-1])
    return ValueError(tr("{op} cannot combine shapes {shapes}: {reason}", op=op, shapes=listed,
                         reason=reason))


def _broadcast_mismatch(shapes: list[tuple]) -> str | None:
    for k in range(1, max(len(s) for s in shapes) + 1):
        sizes = list(dict.fromkeys(s[-k] for s in shapes if len(s) >= k and s[-k] != 1))
        if len(sizes) > 1:
            return tr("axis {axis} has sizes {sizes}, which do not broadcast (aligned from the "
                      "right, each axis must be equal or 1)", axis=-k,
                      sizes=tr("{first} and {last}", first=", ".join(map(str, sizes[:-1])),
                               last=sizes[-1]))
    return None


def _matmul_mismatch(a: tuple, b: tuple) -> str | None:
    inner_b, which = (b[-2], "second-to-last") if len(b) > 1 else (b[0], "only")
    if a[-1] != inner_b:
        return (tr("the last axis of the first ({n}) must equal the second-to-last axis of the "
                   "second ({m})", n=a[-1], m=inner_b) if which == "second-to-last" else
                tr("the last axis of the first ({n}) must equal the only axis of the second ({m})",
                   n=a[-1], m=inner_b))
    if _broadcast_mismatch([a[:-2], b[:-2]]):
        return tr("the batch axes {a} and {b} do not broadcast", a=a[:-2], b=b[:-2])
    return None


def _axis(axis: Axis) -> Axis:
    return tuple(axis) if isinstance(axis, list) else axis


def _index(idx: Any) -> Any:
    """Tensors and lists inside an index become integer/bool ndarrays."""
    if isinstance(idx, tuple):
        return tuple(_index(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.data if idx.dtype.kind == "b" else idx.data.astype(np.intp)
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def _tensors(tensors: Iterable[Any], op: str) -> list[Tensor]:
    out = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not out:
        raise ValueError(f"{op} needs at least one tensor, received none")
    return out


def _describe(value: Any) -> str:
    """``"str 'abc'"``: the type and a short repr of a value, for error messages."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"
