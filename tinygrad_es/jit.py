"""``jit``: capture a training step of your own once, replay it as a flat program of numpy calls.

The first call with inputs of a given shape and dtype runs ``fn`` eagerly and records it: the
primitives of the forward pass in order (which earlier result or which leaf Tensor each one reads),
the backward pass of the one ``backward()`` call in the engine's order, and every
``optimizer.apply(grads, variables)``. The second call with that shape runs the recording *and*
``fn`` and checks that they agree bit for bit; later calls only replay the recording on the new
input arrays: no Tensor objects, no graph walk, no argument checks. Same numpy calls in the same
order on the same values: the same bits as the eager step. (tinygrad's ``TinyJit`` captures its
kernels the same way on a warm-up call; ``jax.jit`` traces abstract values instead.)

What is frozen at capture, as in JAX and TinyJit: Python control flow that depends on *values*
(``if loss.item() > 1: ...``, a Python float taken from a tensor) and numbers computed with numpy
outside the engine. Views of the inputs and copies or casts of them (``Tensor(x)``,
``y.astype(np.int64)``) follow each new batch; any other array of the batch's length made outside
the engine is refused. What cannot be replayed makes ``fn`` run eagerly, with ``jit_reason``
saying why: weights changed other than through ``optimizer.apply`` (in-place numpy updates on
``w.data``), more than one ``backward()``, return values other than Tensors, or a verification
that disagrees. Eager stays the teaching path: traces, graph pictures and gradcheck run eagerly.

Example:
    >>> import numpy as np
    >>> from tinygrad_es import Sequential, layers, optimizers, jit
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1, kernel_initializer="ones")])
    >>> opt, weights = optimizers.SGD(learning_rate=0.1), model.trainable_weights
    >>> @jit
    ... def step(x, y):
    ...     for w in weights:
    ...         w.grad = None
    ...     loss = (model(x) - y).square().mean()
    ...     loss.backward()
    ...     opt.apply([w.grad for w in weights], weights)
    ...     return loss
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> [round(float(step(x, y).data), 4) for _ in range(4)]  # capture, verify, replay, replay
    [4.0, 0.64, 0.1024, 0.0164]
    >>> step.jit_reason is None
    True
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from tinygrad_es.jit_program import _NotCapturable, build, recording, same
from tinygrad_es.tensor import Tensor

__all__ = ["jit"]


class jit:
    """Decorator: ``fn(*tensors_or_arrays)`` captured on its first call per input shape, replayed.

    ``fn`` does the forward pass, one ``loss.backward()`` and its updates with
    ``optimizer.apply(grads, variables)``, and returns Tensors (or nothing). Arguments: Tensors,
    ndarrays (both as inputs whose values change between calls; a Tensor that requires grad is
    taken as itself, like a weight) or hashable values (numbers, strings: a new value is a new
    capture). ``reset()`` forgets every capture; ``jit_reason`` says why the last new input
    shape runs eagerly (None when it is captured).
    """

    def __init__(self, fn: Callable):
        self.fn = fn
        self.entries: dict = {}
        self.jit_reason: str | None = None
        functools.update_wrapper(self, fn)

    def reset(self) -> None:
        """Forget every capture: the next call captures again (after changing the model)."""
        self.entries.clear()
        self.jit_reason = None

    def __get__(self, obj: Any, owner: Any = None) -> Any:  # a decorated method binds its self
        return self if obj is None else functools.partial(self.__call__, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            key = (tuple([_describe(a) for a in args]), tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            self.jit_reason = "an argument is neither a Tensor, an array nor hashable"
            return self.fn(*args, **kwargs)
        entry = self.entries.get(key)
        if entry is None:
            entry = _Capture()
            result = entry.capture(self.fn, args, kwargs)  # an error: no entry, capture again
            self.entries[key] = entry
            self.jit_reason = entry.reason
            return result
        if entry.program is None:
            return self.fn(*args, **kwargs)
        if not entry.verified:
            result = entry.verify(self.fn, args, kwargs)
            self.jit_reason = entry.reason
            return result
        return entry.replay(self.fn, args, kwargs)


def _describe(a: Any) -> Any:
    if isinstance(a, Tensor):
        if a.requires_grad:
            return ("weight", id(a))
        return ("tensor", a.data.shape, a.data.dtype.str)
    if isinstance(a, np.ndarray):
        return ("array", a.shape, a.dtype.str)
    return ("value", a)


def _is_input(a: Any) -> bool:
    return isinstance(a, np.ndarray) or (isinstance(a, Tensor) and not a.requires_grad)


def _inputs(args: tuple) -> tuple:
    return tuple([a.data if isinstance(a, Tensor) else a for a in args if _is_input(a)])


class _Capture:
    """One input signature: its program, the recorded updates and outputs, verified or not."""

    def __init__(self) -> None:
        self.program: Any = None
        self.verified = False
        self.reason: str | None = None
        self.applies: list = []  # (optimizer, grad refs (leaf index or None), variables)
        self.result: Any = None  # the return value, with op indices in place of Tensors

    def capture(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        # private copies of the inputs: each replay copies its new arrays into them
        call_args = []
        for a in args:
            if isinstance(a, np.ndarray):
                a = a.copy()
            elif _is_input(a):
                a = Tensor.from_numpy(a.data.copy())
            call_args.append(a)
        buffers = [a.data if isinstance(a, Tensor) else a for a in call_args if _is_input(a)]
        with recording() as tape:
            result = fn(*call_args, **kwargs)
        try:
            self.result = _outputs(result, tape)
            program = build(tape, buffers, keep=_refs(self.result))
            self.applies = _applies(tape, program)
            self.program = program
        except _NotCapturable as err:
            self.reason = str(err)
        return result

    def verify(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        values, grads = self.program.run(_inputs(args))
        result = fn(*args, **kwargs)
        program = self.program
        agree = all(same(g, leaf.grad) for g, leaf in zip(grads, program.leaves))
        agree = agree and _agree(self.result, result, program, values)
        if agree:
            self.verified = True
        else:
            self.program = None
            self.reason = ("a replay of the capture differed from the eager call (fn depends on "
                           "values computed outside the engine)")
        return result

    def replay(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        program = self.program
        values, grads = program.run(_inputs(args))
        leaves = program.leaves
        for leaf, g in zip(leaves, grads):
            leaf.grad = g
        for opt, refs, variables in self.applies:
            opt.apply([None if r is None else leaves[r].grad for r in refs], variables)
        return _rebuild(self.result, program, values)


def _applies(tape: Any, program: Any) -> list:
    """The recorded ``apply`` calls, each gradient as the index of the leaf whose .grad it is."""
    grad_of = {id(leaf.grad): k for k, leaf in enumerate(program.leaves)
               if leaf.grad is not None}
    updated = set()
    out = []
    for opt, grads, variables in tape.applies:
        refs = []
        for g in grads:
            g = g.data if isinstance(g, Tensor) else g
            if g is not None and id(g) not in grad_of:
                raise _NotCapturable("optimizer.apply received a gradient that is not the .grad "
                                     "of a leaf (computed outside the engine)")
            refs.append(None if g is None else grad_of[id(g)])
        out.append((opt, refs, None if variables is None else list(variables)))
        updated.update(id(v) for v in (variables if variables is not None else opt._variables))
    for t, data, copy in tape.snapshots:
        if id(t) not in updated and (t.data is not data or not same(t.data, copy)):
            raise _NotCapturable(f"fn changes {t.name or 'a weight'} outside optimizer.apply "
                                 "(an in-place numpy update cannot be replayed)")
    return out


def _outputs(result: Any, tape: Any) -> Any:
    if result is None:
        return None
    if isinstance(result, Tensor):
        return ("ref", tape.ref(result))
    if isinstance(result, (tuple, list)):
        return (type(result), [_outputs(r, tape) for r in result])
    raise _NotCapturable(f"fn returns a {type(result).__name__}: return Tensors (or nothing)")


def _refs(spec: Any) -> list:
    """The op indices a result spec reads."""
    if spec is None:
        return []
    kind, body = spec
    if kind == "ref":
        return [body] if body.__class__ is int else []
    return [r for s in body for r in _refs(s)]


def _rebuild(spec: Any, program: Any, values: list) -> Any:
    if spec is None:
        return None
    kind, body = spec
    if kind == "ref":
        return body if isinstance(body, Tensor) else Tensor.from_numpy(values[body])
    return kind([_rebuild(s, program, values) for s in body])


def _agree(spec: Any, result: Any, program: Any, values: list) -> bool:
    if spec is None:
        return result is None
    kind, body = spec
    if kind == "ref":
        return isinstance(result, Tensor) and same(program.value(values, body), result.data)
    return len(body) == len(result) and all(_agree(s, r, program, values)
                                            for s, r in zip(body, result))
