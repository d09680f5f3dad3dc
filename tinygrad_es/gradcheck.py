"""Finite differences: the classroom method, kept as the check on backprop.

``numerical_grad`` nudges each entry by h and re-runs the function (one or two extra forward passes
per entry); ``gradcheck`` compares that against ``backward()`` in float64.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from tinygrad_es import config
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor

__all__ = ["GradcheckError", "numerical_grad", "gradcheck", "floatx_as"]


class GradcheckError(AssertionError):
    """Backprop and finite differences disagree; the message shows the worst entry."""


@contextlib.contextmanager
def floatx_as(dtype: Any) -> Iterator[None]:
    """``config.floatx()`` is ``dtype`` inside the block, and what it was after.

    Example:
        >>> with floatx_as("float64"):
        ...     Tensor(1.0).dtype
        dtype('float64')
    """
    previous = config.floatx()
    config.set_floatx(np.dtype(dtype).name)
    try:
        yield
    finally:
        config.set_floatx(previous)


def numerical_grad(fn: Callable[..., Any], x: Any, h: float = 1e-6,
                   method: str = "central", dtype: Any = "float64") -> np.ndarray:
    """d fn / d x by finite differences, for a scalar-valued ``fn`` of one array.

    The passes run in float64 whatever ``x``'s dtype or ``floatx``: ``fn`` receives a float64
    copy of ``x``, and ``floatx`` is float64 while it runs (so a ``Tensor(v)`` made inside is
    float64 too). In float32 a nudge of 1e-6 would be rounded away.

    Args:
        fn: maps an ndarray shaped like ``x`` to a number (or a one-element array/Tensor).
        x: the point; not modified.
        h: the nudge.
        method: ``"central"`` (f(x+h) - f(x-h)) / 2h, error O(h²), two passes per entry; or
            ``"forward"`` (f(x+h) - f(x)) / h, error O(h), one pass per entry (the course's).
        dtype: of the copy ``fn`` receives and of ``floatx`` meanwhile; ``"float32"`` shows the
            float32 trap (differences of nearly equal float32 losses cancel).

    Example:
        >>> numerical_grad(lambda v: (v ** 2).sum(), np.array([1.0, 3.0]))
        array([2., 6.])
        >>> round(float(numerical_grad(lambda v: Tensor(v).exp().sum(), np.float32(0.5))), 7)
        1.6487213
    """
    if method not in ("central", "forward"):
        raise ValueError(tr("method must be 'central' or 'forward', received {method!r}",
                            method=method))
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(tr("numerical_grad expects a float dtype, received {dtype!r}",
                            dtype=str(dtype)))
    x = np.array(x.data if isinstance(x, Tensor) else x, dtype=dtype)
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    with floatx_as(dtype):
        base = _scalar(fn(x)) if method == "forward" else None
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + h
            up = _scalar(fn(x))
            if method == "forward":
                gflat[i] = (up - base) / h
            else:
                flat[i] = orig - h
                gflat[i] = (up - _scalar(fn(x))) / (2 * h)
            flat[i] = orig
    return grad


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check ``backward()`` of ``fn`` against central differences, in float64.

    Non-scalar outputs are contracted with a fixed random upstream gradient, so every output entry
    matters. Returns True, or raises ``GradcheckError`` naming the worst entry.

    Example:
        >>> gradcheck(lambda a, b: (a * b).sigmoid(), np.random.randn(3, 2), np.random.randn(2))
        True
    """
    arrays = [np.array(t.data if isinstance(t, Tensor) else t, dtype=np.float64) for t in inputs]
    leaves = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    out = fn(*leaves)
    upstream = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    out.backward(upstream)

    for k, (arr, leaf) in enumerate(zip(arrays, leaves)):
        def scalar_fn(v: np.ndarray, k: int = k) -> float:
            args = [Tensor(v if j == k else a, dtype=np.float64) for j, a in enumerate(arrays)]
            return float(np.sum(fn(*args).data * upstream))

        numeric = numerical_grad(scalar_fn, arr, eps)
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(arr)
        err = np.abs(analytic - numeric)
        bad = ~(err <= atol + rtol * np.abs(numeric))  # a NaN or inf on either side fails too
        if bad.any():
            excess = np.where(np.isnan(err), np.inf, err - rtol * np.abs(numeric))
            worst = np.unravel_index(np.argmax(excess), arr.shape)
            raise GradcheckError(tr(
                "gradient of input {k} (shape {shape}) is wrong at index {index}: backprop "
                "{backprop:.10g}, finite differences {numeric:.10g} (|diff| {diff:.3g} > atol "
                "{atol} + rtol {rtol}·|numeric|); {bad} of {size} entries fail", k=k,
                shape=arr.shape, index=tuple(map(int, worst)), backprop=analytic[worst],
                numeric=numeric[worst], diff=err[worst], atol=atol, rtol=rtol,
                bad=int(bad.sum()), size=arr.size))
    return True


def _scalar(value: Any) -> float:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.size != 1:
        raise ValueError(tr("the function must return one number, it returned shape {shape}",
                            shape=data.shape))
    return float(data.reshape(()))
