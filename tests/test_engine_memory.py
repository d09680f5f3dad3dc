"""Graph lifetime and memory: deep graphs, released graphs, and a training loop that stays flat."""

from __future__ import annotations

import gc
import time
import tracemalloc
import weakref

import numpy as np
import pytest

from tinygrad_es.autograd import no_grad, toposort
from tinygrad_es.tensor import Tensor


def test_100k_node_chain():
    """Iterative toposort: no recursion limit (micrograd's recursive build dies near 1000)."""
    x = Tensor(1.0, requires_grad=True, dtype="float64")
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    assert len(toposort(y)) == 100_001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.00001 ** 100_000, rtol=1e-9)
    np.testing.assert_allclose(y.data, 1.00001 ** 100_000, rtol=1e-9)
    del y  # freeing a 100,000-deep chain must not overflow the C stack either


def test_wide_graph_sums_every_path():
    x = Tensor([1.0, 2.0], requires_grad=True)
    total = sum((x * float(k) for k in range(1, 1001)), start=Tensor(0.0))
    total.sum().backward()
    np.testing.assert_array_equal(x.grad, [500500.0, 500500.0])


def _graph_functions(root):
    return [node._ctx for node in toposort(root) if node._ctx is not None]


def test_graph_is_released_after_backward_and_a_second_backward_says_so():
    a = Tensor([1.0, 2.0], requires_grad=True)
    loss = (a.sigmoid() * a + a).sum()
    ctxs = _graph_functions(loss)
    assert any(c.saved_tensors for c in ctxs)
    loss.backward()
    assert all(c.released and c.saved_tensors is None for c in ctxs)
    assert loss.op == "Sum" and loss._ctx.parents  # the shape of the graph stays, for pictures
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        (loss * 2).backward()  # a new op on top of a released graph


def test_retain_graph_allows_a_second_backward():
    a = Tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    loss = (a * a).sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(a.grad, [4.0, 8.0])
    loss.backward()  # the last one may release
    np.testing.assert_array_equal(a.grad, [6.0, 12.0])
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_released_graph_is_freed_by_refcounting_alone():
    """No reference cycles: dropping the loss frees every intermediate without the collector."""
    gc.disable()
    try:
        w = Tensor(np.ones((3, 2)), requires_grad=True)
        hidden = (Tensor(np.ones((4, 3))) @ w).tanh()
        loss = hidden.sum()
        ref = weakref.ref(hidden)
        loss.backward()
        del hidden, loss
        assert ref() is None
        assert w.grad is not None
    finally:
        gc.enable()


def _mlp_step(params, x, y, lr):
    w1, b1, w2, b2 = params
    hidden = (x @ w1 + b1).relu()
    out = (hidden @ w2 + b2).sigmoid()
    loss = ((out - y) ** 2).mean()
    loss.backward()
    with no_grad():
        for p in params:
            p.data -= lr * p.grad
            p.zero_grad()
    return float(loss)


def test_10k_training_steps_keep_memory_flat():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(16, 4)))
    y = Tensor((rng.normal(size=(16, 1)) > 0).astype(np.float32))
    params = [Tensor(rng.normal(size=(4, 8)) * 0.5, requires_grad=True),
              Tensor(np.zeros(8), requires_grad=True),
              Tensor(rng.normal(size=(8, 1)) * 0.5, requires_grad=True),
              Tensor(np.zeros(1), requires_grad=True)]
    first = [_mlp_step(params, x, y, 0.5) for _ in range(200)][0]  # warm-up: caches, free lists
    gc.collect()
    tracemalloc.start()
    try:
        start = time.perf_counter()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):
            last = _mlp_step(params, x, y, 0.5)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        elapsed = time.perf_counter() - start
    finally:
        tracemalloc.stop()
    growth = after - before
    print(f"\n10,000 steps: memory growth {growth} bytes, {elapsed:.2f} s")
    assert growth < 1_000_000, f"memory grew by {growth} bytes over 10,000 steps"
    assert last < 0.5 * first  # it trained (so the loop did real work)
    assert all(p.grad is None and p.is_leaf for p in params)
