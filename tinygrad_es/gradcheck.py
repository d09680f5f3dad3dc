"""Finite differences: the classroom method, kept as the check on backprop.

``numerical_grad`` nudges each entry by h and re-runs the function (one or two extra forward passes
per entry); ``gradcheck`` compares that against ``backward()`` in float64.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_es.tensor import Tensor


class GradcheckError(AssertionError):
    """Backprop and finite differences disagree; the message shows the worst entry."""


def numerical_grad(fn: Callable[..., Any], x: Any, h: float = 1e-6,
                   method: str = "central") -> np.ndarray:
    """d fn / d x by finite differences, for a scalar-valued ``fn`` of one array.

    Args:
        fn: maps an ndarray shaped like ``x`` to a number (or a one-element array/Tensor). It
            receives float64; keep it there (``Tensor(v, dtype="float64")``): a float32 Tensor
            would round away a nudge of 1e-6.
        x: the point; not modified.
        h: the nudge.
        method: ``"central"`` (f(x+h) - f(x-h)) / 2h, error O(h²), two passes per entry; or
            ``"forward"`` (f(x+h) - f(x)) / h, error O(h), one pass per entry (the course's).

    Example:
        >>> numerical_grad(lambda v: (v ** 2).sum(), np.array([1.0, 3.0]))
        array([2., 6.])
    """
    if method not in ("central", "forward"):
        raise ValueError(f"method must be 'central' or 'forward', received {method!r}")
    x = np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
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
            raise GradcheckError(
                f"gradient of input {k} (shape {arr.shape}) is wrong at index "
                f"{tuple(map(int, worst))}: "
                f"backprop {analytic[worst]:.10g}, finite differences {numeric[worst]:.10g} "
                f"(|diff| {err[worst]:.3g} > atol {atol} + rtol {rtol}·|numeric|); "
                f"{int(bad.sum())} of {arr.size} entries fail")
    return True


def _scalar(value: Any) -> float:
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.size != 1:
        raise ValueError(f"the function must return one number, it returned shape {data.shape}")
    return float(data.reshape(()))
