"""The machinery of ``jit``: record a step's primitives once, replay them as a flat program.

A training step of a small network spends most of its time on bookkeeping around a few dozen numpy
calls: Tensor objects, the topological sort, dictionaries of gradients, argument checks. Those are
the same at every step with inputs of the same shape, so, as tinygrad's ``TinyJit`` and
``jax.jit`` do, we do them once:

1. **capture** (the first call with a given signature: shapes and dtypes of the inputs): the step
   runs eagerly, exactly as without ``jit``, while the engine writes down every primitive it runs
   (the ``Function`` class, its keyword arguments, which earlier result or which leaf Tensor each
   input is) and, from the graph, the backward pass in the engine's order: which gradients each
   op hands to which node, where they are unbroadcast and how they are accumulated;
2. **verify** (the second call with that signature): the program runs on the new inputs *and*
   the step runs eagerly again; their loss, outputs and gradients must be equal bit for bit, or the
   step stays eager for that signature (``jit_reason`` says why);
3. **replay** (every later call): the program alone, on the new input arrays copied into the
   captured input buffers (so views of them, ``y[..., None]``, follow; a cast of an input that
   an op reads, the sparse losses' ``y.astype(np.int64)``, is redone); no Tensor is made, no
   graph walked, no argument checked; ops whose output nothing reads are skipped. (fit goes one
   step further: jit_codegen.py writes a verified program as straight-line Python.)

The same numpy calls in the same order on the same values give the same bits, so a replayed step
gives exactly the eager step's numbers (tests/test_jit.py compares them with ``array_equal``).

What is frozen at capture, as in JAX and TinyJit: Python control flow that depends on *values*
(an ``if`` on a tensor's contents, a Python float taken from a tensor) and numbers computed in
numpy outside the engine. An array of the batch's length made outside the engine that is not a
view or a cast of an input is refused at capture (Dropout's mask); the verification call catches
most of the rest; what is left is the documented limit. Eager stays the teaching path: traces,
graph pictures and gradcheck never use this module.
"""

from __future__ import annotations

import contextlib
from operator import itemgetter
from typing import Any, Callable

import numpy as np

from tinygrad_es.autograd import toposort, unbroadcast
from tinygrad_es.tensor import Tensor, set_op_runner

__all__ = ["Program", "recording", "build"]

_eager_apply: Any = None  # the engine's op runner, while a capture has it replaced

#: A program one of whose ops makes an array of at least this many bytes lets each op's saved
#: arrays go once its backward is done (the generated step, each value and gradient too): for
#: smaller ones, freeing early costs more time than the memory is worth.
FREE_EARLY_BYTES = 1 << 16
_eager_backward = Tensor.backward


# ----- recording: the engine's op runner and backward, wrapped while a capture runs -----

class _Tape:
    """What one captured call did: the primitives in order, the backward roots, the apply calls."""

    def __init__(self, snapshots: bool = True) -> None:
        self.ops: list[tuple] = []      # (program Function, input refs, kwargs)
        self.op_of_ctx: dict = {}       # id(eager Function) -> op index
        self.op_of_data: dict = {}      # id(output array) -> op index (outputs without a graph)
        self.keep: list = []            # keeps the recorded objects alive, so ids stay unique
        self.roots: list[tuple] = []    # (root Tensor, leaf grad states) per backward() call
        self.applies: list[tuple] = []  # (optimizer, grads as passed, variables) per apply()
        # (leaf, its data, a copy) of each weight read; None when the caller does not check them
        self.snapshots: list[tuple] | None = [] if snapshots else None
        self.seen: set = set()
        self.problem: str | None = None

    def ref(self, t: Tensor) -> Any:
        """The op index that made ``t``, or ``t`` itself (a leaf, read at replay time)."""
        if t.grad_fn is not None:
            index = self.op_of_ctx.get(id(t.grad_fn))
            if index is not None:
                return index
        index = self.op_of_data.get(id(t.data))
        return t if index is None else index


_TAPE: _Tape | None = None


def _recording_apply(fn: type, *tensors: Tensor, **kwargs: Any) -> Tensor:
    out = _eager_apply(fn, *tensors, **kwargs)  # the real op: same numbers, same graph
    tape = _TAPE
    refs = tuple([tape.ref(t) for t in tensors])
    if tape.snapshots is not None:
        for t in tensors:
            if t.requires_grad and t.grad_fn is None and id(t) not in tape.seen:
                tape.seen.add(id(t))  # so jit can tell whether fn changed it outside apply
                tape.snapshots.append((t, t.data, t.data.copy()))
    replayed = fn((), tuple([t.requires_grad for t in tensors]))
    if kwargs:
        replayed.forward_kwargs = kwargs
    index = len(tape.ops)
    tape.ops.append((replayed, refs, kwargs))
    tape.op_of_data[id(out.data)] = index
    if out.grad_fn is not None:
        tape.op_of_ctx[id(out.grad_fn)] = index
    tape.keep.append(out)
    return out


def _recording_backward(self: Tensor, grad: Any = None, retain_graph: bool = False) -> None:
    tape = _TAPE
    if grad is not None:
        tape.problem = "backward() received an explicit `grad`"
    if self.requires_grad:
        leaves = [n for n in toposort(self) if n.grad_fn is None]
        tape.roots.append((self, [(leaf, leaf.grad is None) for leaf in leaves]))
    _eager_backward(self, grad, retain_graph)


@contextlib.contextmanager
def recording(snapshots: bool = True):
    """Run the block eagerly while writing down its primitives, backward calls and updates.

    ``snapshots``: copy each weight the block reads (``tape.snapshots``), so that ``jit`` can
    tell whether the function changed one outside ``optimizer.apply``. fit's step, whose
    updates all go through ``_apply_update``, passes False: a copy of every weight is a whole
    model's worth of memory at the capture.
    """
    global _TAPE, _eager_apply
    from tinygrad_es.optimizers.base import Optimizer

    if _TAPE is not None:
        raise RuntimeError("a jit capture is already running (captures do not nest)")
    tape = _Tape(snapshots)
    patched = [(c, vars(c)["apply"]) for c in _with_subclasses(Optimizer) if "apply" in vars(c)]
    depth = [0]

    def watch(original: Callable) -> Callable:
        def apply(opt, grads, variables=None):
            if depth[0] == 0:
                tape.applies.append((opt, list(grads), variables))
            depth[0] += 1
            try:
                return original(opt, grads, variables)
            finally:
                depth[0] -= 1
        return apply

    _TAPE = tape
    _eager_apply = set_op_runner(_recording_apply)
    Tensor.backward = _recording_backward
    for cls, original in patched:
        cls.apply = watch(original)
    try:
        yield tape
    finally:
        for cls, original in patched:
            cls.apply = original
        Tensor.backward = _eager_backward
        set_op_runner(None)
        _TAPE = None


def _with_subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(c.__subclasses__())
    return out


# ----- the program -----

class Program:
    """A captured step: the forward primitives in order, then the backward plan of one root.

    ``run()`` replays both on the current contents of the input buffers and the leaves' data and
    returns ``(values, leaf_grads)``: the output of each op that ``keep`` named at build (None
    for the others) and the gradient each leaf of the plan would receive (``leaves``), without
    touching any ``.grad``. The outputs nothing asked for go once the forward is done, and (if
    the arrays are big: :data:`FREE_EARLY_BYTES`), as in the eager backward, each op's saved
    arrays once its backward is.
    """

    def __init__(self, tape: _Tape, buffers: list[np.ndarray], known: Any = (),
                 keep: Any = ()):
        self.ops = tape.ops
        self.buffers = buffers
        self.casts = _input_casts(tape, buffers, {id(t) for t in known})
        # every value the ops read lives in one list: first the leaves' data (read at each run:
        # the optimizer updates the weights), then each op's output in order
        leaves_read: list[Tensor] = []
        where: dict = {}
        for _, refs, _ in tape.ops:
            for r in refs:
                if r.__class__ is not int and id(r) not in where:
                    where[id(r)] = len(leaves_read)
                    leaves_read.append(r)
        n_read = len(leaves_read)
        self.leaves_read = leaves_read
        root, leaf_states = tape.roots[0]
        nodes = list(reversed(toposort(root)))
        position = {id(n): i for i, n in enumerate(nodes)}
        fresh = dict(leaf_states)  # leaf -> its .grad was None when backward ran
        self.root = tape.ref(root)
        self.n_nodes = len(nodes)
        self.lean = any(n.data.nbytes >= FREE_EARLY_BYTES for n in nodes if n.grad_fn is not None)
        self.leaves: list[Tensor] = []      # the leaves that receive a gradient, in plan order
        self.leaf_plan: list[tuple] = []    # (node, its .grad was None at capture)
        self.backward: list[tuple] = []     # (node, op's backward, [(input k, node j, shape)])
        needed = [r for r in (self.root, *keep) if r.__class__ is int]
        self.kept = sorted(set(needed))   # the outputs run() returns
        for i, node in enumerate(nodes):
            if node.grad_fn is None:
                self.leaf_plan.append((i, fresh[node]))
                self.leaves.append(node)
                continue
            index = tape.op_of_ctx.get(id(node.grad_fn))
            if index is None:
                raise _NotCapturable("an op of the graph was not recorded")
            targets = tuple([(k, position[id(p)], p.data.shape)
                             for k, p in enumerate(node.grad_fn.parents) if p.requires_grad])
            self.backward.append((i, self.ops[index][0].backward, targets))
            needed.append(index)
        # an op whose output nothing needs (a softmax output when no metric reads it) is skipped
        live: set = set()
        while needed:
            index = needed.pop()
            if index not in live:
                live.add(index)
                needed.extend(r for r in tape.ops[index][1] if r.__class__ is int)
        slot = lambda r: r + n_read if r.__class__ is int else where[id(r)]  # noqa: E731
        self.forward = [(fn.forward, itemgetter(*[slot(r) for r in refs]), len(refs), kwargs,
                         n_read + index)
                        for index, (fn, refs, kwargs) in enumerate(tape.ops) if index in live]
        self.blank = [None] * len(tape.ops)

    def run(self, inputs: tuple = ()) -> tuple[list, list]:
        n_read = len(self.leaves_read)
        for buffer, array in zip(self.buffers, inputs):
            np.copyto(buffer, array)
        for target, buffer, shape, dtype in self.casts:  # e.g. sparse labels as int64
            np.copyto(target, buffer.reshape(shape).astype(dtype))
        values = [t.data for t in self.leaves_read] + self.blank
        for forward, get, n_args, kwargs, slot in self.forward:
            if n_args == 1:
                out = forward(get(values), **kwargs) if kwargs else forward(get(values))
            else:
                out = forward(*get(values), **kwargs) if kwargs else forward(*get(values))
            if out.__class__ is not np.ndarray:
                out = np.asarray(out)
            values[slot] = out
        root = values[self.root + n_read] if self.root.__class__ is int else self.root.data
        outputs = self.blank.copy()   # the others go now (a pre-activation nothing else reads)
        for index in self.kept:
            outputs[index] = values[index + n_read]
        del values
        grads: list = [None] * self.n_nodes
        grads[0] = g = np.ones_like(root)
        handed, lean = {id(g)}, self.lean
        for i, backward, targets in self.backward:
            g = grads[i]
            if g is None:
                continue
            handed.add(id(g))
            parent_grads = backward(g)
            if lean:   # nothing kept for a next backward, as the engine releases them
                backward.__self__.release()
            if parent_grads.__class__ is not tuple:
                parent_grads = (parent_grads,)
            for k, j, shape in targets:
                pg = parent_grads[k]
                if pg is None:
                    continue
                if pg.shape != shape:
                    pg = unbroadcast(pg, shape)
                prev = grads[j]
                grads[j] = pg if prev is None else prev + pg
        # the leaves last (their gradients are complete once every op is done): the engine's
        # rules for .grad, without setting it; a gradient also seen elsewhere is copied
        leaf_grads: list = []
        for (i, fresh), leaf in zip(self.leaf_plan, self.leaves):
            g = grads[i]
            if g is not None:
                dtype = leaf.data.dtype
                if not fresh and leaf.grad is not None:
                    g = (leaf.grad + g).astype(dtype, copy=False)
                elif id(g) in handed or g.dtype != dtype or not g.flags.writeable:
                    g = np.array(g, dtype=dtype)
                handed.add(id(g))
            leaf_grads.append(g)
        return outputs, leaf_grads

    def value(self, values: list, ref: Any) -> np.ndarray:
        return values[ref] if ref.__class__ is int else ref.data


class _NotCapturable(Exception):
    """The step cannot be replayed; the message says why (it then runs eagerly)."""


def build(tape: _Tape, buffers: list[np.ndarray], known: Any = (), keep: Any = ()) -> Program:
    """The program of a finished capture, or ``_NotCapturable`` with the reason.

    ``known``: Tensors made before the capture (a model's weights, frozen ones too), which the
    program reads as they are at each run. ``keep``: the refs (``tape.ref``) of the outputs the
    caller reads besides the gradients (the only ones ``run()`` returns); ops that none of them
    needs are not replayed.
    """
    if tape.problem:
        raise _NotCapturable(tape.problem)
    if len(tape.roots) != 1:
        raise _NotCapturable(f"the step called backward() {len(tape.roots)} times (expected once)")
    if not tape.ops:
        raise _NotCapturable("the step ran no op")
    return Program(tape, buffers, known, keep)


def _input_casts(tape: _Tape, buffers: list[np.ndarray], known: set) -> list[tuple]:
    """The constants the ops read that were computed from the inputs outside the engine.

    A view of an input buffer (``np.asarray(y)``, ``y[..., None]``) sees each new batch by
    itself. An array of the batch's length that is not a view is a copy made from the inputs
    (the sparse losses' ``y.astype(np.int64)``): if it is the cast of an input buffer (reshaped),
    the replay redoes that cast into it; otherwise the step cannot be replayed.
    """
    rows = buffers[0].shape[0] if buffers and buffers[0].ndim else None
    constants = [r.data for _, refs, _ in tape.ops for r in refs
                 if r.__class__ is not int and not r.requires_grad and id(r) not in known]
    constants += [v for _, _, kwargs in tape.ops for v in kwargs.values()
                  if isinstance(v, np.ndarray)]
    casts, seen = [], set()
    for c in constants:
        if id(c) in seen or c.ndim == 0 or c.shape[0] != rows or id(c) in tape.op_of_data:
            continue
        seen.add(id(c))
        if any(np.shares_memory(c, b) for b in buffers):
            continue
        for b in buffers:
            if b.size == c.size and np.array_equal(b.reshape(c.shape).astype(c.dtype), c):
                casts.append((c, b, c.shape, c.dtype))
                break
        else:
            raise _NotCapturable("an op reads an array computed from the inputs outside the "
                                 "engine")
    return casts


def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equal arrays (NaNs in the same places count as equal)."""
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    # equal_nan copies both arrays through boolean masks (three gradients' worth of
    # temporaries for a big weight): only arrays that differ somewhere pay for it
    return np.array_equal(a, b) or (a.dtype.kind in "fc" and np.array_equal(a, b, equal_nan=True))
