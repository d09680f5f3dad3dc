"""A verified :class:`~tinygrad_es.jit_program.Program` as one generated Python function.

``Program.run`` replays a step generically: it looks every input up in a list, checks at each op
whether the backward returned a tuple, whether a gradient is missing, whether it must be
unbroadcast, whether a node already has a gradient to add to, and which leaf gradients must be
copied. For a given program those answers never change (the same Function classes on arrays of
the same shapes and dtypes), so :func:`trace` runs the program once the generic way while writing
them down, and :func:`compile_step` writes the step as straight-line Python source: each op's
output a local variable, each call a bound method of the program's Functions, the decisions
already taken. The numpy calls, their order and their arguments are those of ``run``; only the
bookkeeping around them is gone, so the bits are the same (and fit verifies it: the generated
step runs on the verification batch and must agree with the eager step).

The leaves' gradients go straight into ``targets`` (the views of the buffers the optimizer's
packed segments read): the last addition of a leaf's gradient is written there with ``out=``
(``np.add(a, b, out=v)`` gives the bits of ``a + b``), any other is copied in (``np.copyto``: the
cast ``np.array(g, dtype)`` does), and each leaf's ``.grad`` is set to its view; a big weight's
gradient stays the array the backward made, which the optimizer reads in pieces. When the
arrays are big (``jit_program.FREE_EARLY_BYTES``), each value and gradient goes once nothing
further reads it, and each op's saved arrays once its backward is done, as the engine releases
them.

Example:
    >>> import numpy as np
    >>> from tinygrad_es import Sequential, layers, optimizers
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1, kernel_initializer="ones")])
    >>> model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> _ = model.fit(x, y, epochs=3, batch_size=4, verbose=0)   # capture, verify, replay
    >>> entry = next(iter(model._jit_step.entries.values())); entry.fast is not None
    True
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from tinygrad_es.autograd import unbroadcast

__all__ = ["trace", "compile_step"]


class Trace:
    """The decisions of one generic run of a program (each fixed for that program)."""

    def __init__(self) -> None:
        self.scalar_out: set = set()   # forward ops whose output was not an ndarray
        self.ran: set = set()          # backward entries whose node had a gradient
        self.tuple_out: set = set()    # backward entries that returned a tuple
        self.missing: set = set()      # (entry, k): that parent's gradient was None
        self.reshape: set = set()      # (entry, k): unbroadcast to the parent's shape
        self.adds: set = set()         # (entry, k): added to a gradient already there
        self.info: dict = {}           # node -> (dtype, shape) of its final gradient
        self.own: set = set()          # leaf nodes whose gradient is an array of their own
        self.root: Any = None          # np.ones_like of a 0-d root (None for another shape)


def trace(program: Any, inputs: tuple) -> Trace:
    """Run ``program`` as ``Program.run`` does and write down every decision it takes."""
    tr = Trace()
    for buffer, array in zip(program.buffers, inputs):
        np.copyto(buffer, array)
    for target, buffer, shape, dtype in program.casts:
        np.copyto(target, buffer.reshape(shape).astype(dtype))
    values = [t.data for t in program.leaves_read] + program.blank
    for n, (forward, get, n_args, kwargs, slot) in enumerate(program.forward):
        args = (get(values),) if n_args == 1 else get(values)
        out = forward(*args, **kwargs)
        if out.__class__ is not np.ndarray:
            tr.scalar_out.add(n)
            out = np.asarray(out)
        values[slot] = out
    root = program.value(values[len(program.leaves_read):], program.root)
    del values   # (what the backward reads, the ops saved)
    grads: list = [None] * program.n_nodes
    grads[0] = np.ones_like(root)
    if grads[0].ndim == 0:
        tr.root = grads[0].copy()
    handed = {id(grads[0])}
    for e, (i, backward, targets) in enumerate(program.backward):
        g = grads[i]
        if g is None:
            continue
        tr.ran.add(e)
        handed.add(id(g))
        parent_grads = backward(g)
        backward.__self__.release()   # nothing kept: as the engine releases them
        if parent_grads.__class__ is tuple:
            tr.tuple_out.add(e)
        else:
            parent_grads = (parent_grads,)
        for k, j, shape in targets:
            pg = parent_grads[k]
            if pg is None:
                tr.missing.add((e, k))
                continue
            if pg.shape != shape:
                tr.reshape.add((e, k))
                pg = unbroadcast(pg, shape)
            if grads[j] is not None:
                tr.adds.add((e, k))
                grads[j] = grads[j] + pg
            else:
                grads[j] = pg
    tr.info = {i: (g.dtype, g.shape) for i, g in enumerate(grads) if g is not None}
    for i, _ in program.leaf_plan:   # as Program.run decides which leaf gradients to copy
        g = grads[i]
        if g is not None and id(g) not in handed and g.flags.writeable and g.flags.c_contiguous:
            tr.own.add(i)
        if g is not None:
            handed.add(id(g))
    return tr


def compile_step(program: Any, tr: Trace, outputs: list, targets: list,
                 pieces: Any = None) -> Callable | None:
    """The program as one function ``step(*inputs) -> [output values]``, or None.

    The inputs must have the shapes and dtypes of ``program.buffers`` (fit's signature of a
    batch guarantees it): where the ops read an input only as it is, they read it directly.

    ``outputs``: the refs (op indices or leaves) whose values it returns; ``targets``: for each
    leaf of ``program.leaves``, the array its gradient is written into (None for a big weight's
    whose pieces the optimizer reads where they are: see ``pieces``). None when a leaf would
    receive no gradient or would add to a ``.grad`` it already has (fit zeroes them).
    ``pieces`` (optional): ``(grads, {leaf k: [(segment s, a, b)]})`` from ``Optimizer.bind``:
    a big leaf whose gradient is an array of its own, of the target's dtype and shape, is not
    copied: its ``.grad`` is that array and ``grads[s]`` its ``[a:b]`` (as ``apply`` slices it).
    """
    try:
        return _compile(program, tr, outputs, targets, pieces)
    except _NoFastStep:
        return None


def _compile(program: Any, tr: Trace, outputs: list, targets: list, pieces: Any) -> Any:
    env: dict = {"copyto": np.copyto, "add": np.add, "asarray": np.asarray,
                 "ndarray": np.ndarray, "ones_like": np.ones_like, "unbroadcast": unbroadcast}
    lines = [f"def step({', '.join(f'x{n}' for n in range(len(program.buffers)))}):"]
    direct = _read_as_given(program)
    for n, buffer in enumerate(program.buffers):
        env[f"B{n}"] = buffer
        if n not in direct.values():
            lines.append(f"    copyto(B{n}, x{n})")
    for n, (target, buffer, shape, dtype) in enumerate(program.casts):
        env[f"C{n}"], env[f"CB{n}"], env[f"CS{n}"], env[f"CD{n}"] = target, buffer, shape, dtype
        lines.append(f"    copyto(C{n}, CB{n}.reshape(CS{n}).astype(CD{n}))")
    n_read = len(program.leaves_read)
    for n, leaf in enumerate(program.leaves_read):
        env[f"L{n}"] = leaf
        lines.append(f"    v{n} = x{direct[n]}" if n in direct else f"    v{n} = L{n}.data")
    for n, (forward, get, n_args, kwargs, slot) in enumerate(program.forward):
        env[f"F{n}"] = forward
        picked = get(list(range(slot + 1)))
        args = [f"v{a}" for a in ((picked,) if n_args == 1 else picked)]
        if kwargs:
            env[f"K{n}"] = kwargs
            args.append(f"**K{n}")
        lines.append(f"    v{slot} = F{n}({', '.join(args)})")
        if n in tr.scalar_out:
            lines.append(f"    if v{slot}.__class__ is not ndarray: v{slot} = asarray(v{slot})")
    ref = lambda r: f"v{r + n_read}" if r.__class__ is int else _leaf_name(program, r)  # noqa: E731
    if tr.root is not None:   # a scalar loss: its gradient is a fresh copy of a 0-d one
        env["ONE"] = tr.root
        lines.append("    g0 = ONE.copy()")
    else:
        lines.append(f"    g0 = ones_like({ref(program.root)})")
    node_of_leaf = {i: k for k, (i, _) in enumerate(program.leaf_plan)}
    # a None target (a big weight's, from bind(gather=False)): the gradient stays an array of
    # its own, or, where the step must copy or add it, goes into a buffer of the step's own
    targets = list(targets)
    like = [leaf.data if t is None else t for t, leaf in zip(targets, program.leaves)]

    def target(k: int) -> np.ndarray:
        if targets[k] is None:
            targets[k] = np.empty_like(like[k])
        return targets[k]

    last_add: dict = {}   # leaf node -> the (entry, k) that adds to it last
    for e, (i, _, targets_) in enumerate(program.backward):
        if e in tr.ran:
            for k, j, _ in targets_:
                if (e, k) in tr.adds and j in node_of_leaf:
                    last_add[j] = (e, k)
    written: set = set()   # leaf nodes whose gradient is already in its target
    into = _written_by_backward(program, tr, node_of_leaf, targets)
    for e, (i, backward, targets_) in enumerate(program.backward):
        if e not in tr.ran:
            continue
        env[f"D{e}"] = backward
        if e in into:   # the op writes these leaves' gradients into their targets itself
            env[f"O{e}"] = into[e]
            written.update(j for k, j, _ in targets_ if into[e][k] is not None)
            lines.append(f"    p = D{e}(g{i}, out=O{e})")
        else:
            lines.append(f"    p = D{e}(g{i})")
        if program.lean:   # nothing kept for a next backward, as the engine releases them
            env[f"R{e}"] = backward.__self__.release
            lines.append(f"    R{e}()")
        for k, j, shape in targets_:
            if (e, k) in tr.missing:
                continue
            pg = f"p[{k}]" if e in tr.tuple_out else "p"
            if (e, k) in tr.reshape:
                env[f"S{e}_{k}"] = shape
                pg = f"unbroadcast({pg}, S{e}_{k})"
            if (e, k) not in tr.adds:
                lines.append(f"    g{j} = {pg}")
            elif last_add.get(j) == (e, k) and _fits(tr, j, like[node_of_leaf[j]]):
                lines.append(f"    add(g{j}, {pg}, out=T{node_of_leaf[j]})")
                written.add(j)
            else:
                lines.append(f"    g{j} = g{j} + {pg}")
    clear: list = []
    for k, ((i, fresh), leaf) in enumerate(zip(program.leaf_plan, program.leaves)):
        if i not in tr.info or not fresh:
            return None
        env[f"W{k}"] = leaf
        cuts = pieces[1].get(k) if pieces else None
        if cuts and i not in written and i in tr.own and _fits(tr, i, like[k]):
            env["G"] = pieces[0]
            # last step's gradient (its .grad and the update's pieces) goes before this one is
            # made, as the eager step sets .grad = None before its backward
            clear += [f"    W{k}.grad = None"] + [f"    G[{s}] = None" for s, _, _ in cuts]
            lines.append(f"    W{k}.grad = g{i}")
            lines.append(f"    r = g{i}.reshape(-1)")
            lines.extend(f"    G[{s}] = r[{a}:{b}]" for s, a, b in cuts)
            continue
        env[f"T{k}"] = target(k)
        if i not in written:
            lines.append(f"    copyto(T{k}, g{i})")
        lines.append(f"    W{k}.grad = T{k}")
        if cuts:   # (a program of another batch shape may have pointed them elsewhere)
            env["G"] = pieces[0]
            for s, a, b in cuts:
                env[f"P{s}"] = target(k).reshape(-1)[a:b]
                lines.append(f"    G[{s}] = P{s}")
    lines.append(f"    return [{', '.join(ref(r) if r is not None else 'None' for r in outputs)}]")
    if program.lean:
        leaves_read = {f"v{n}" for n in range(n_read)}   # (the weights' own arrays: kept)
        lines = lines[:1] + _free_dead(lines[1:], leaves_read)
    lines[1:1] = clear
    code = compile("\n".join(lines), "<tinygrad_es captured step>", "exec")
    exec(code, env)   # noqa: S102 (our own straight-line source, built above)
    step = env["step"]
    step.source = "\n".join(lines)
    return step


def _read_as_given(program: Any) -> dict:
    """``{leaf n: input m}`` for the input buffers that the ops read only as they are (through
    one leaf, no view of them elsewhere, no cast redone from them): those ops read the new batch
    itself, as the eager step does, and the copy into the buffer is skipped."""
    kwargs_arrays = [v for _, _, _, kwargs, _ in program.forward for v in kwargs.values()
                     if isinstance(v, np.ndarray)]
    cast_from = [buffer for _, buffer, _, _ in program.casts]
    direct: dict = {}
    for m, buffer in enumerate(program.buffers):
        readers = [n for n, leaf in enumerate(program.leaves_read)
                   if np.shares_memory(leaf.data, buffer)]
        if (len(readers) == 1 and program.leaves_read[readers[0]].data is buffer
                and not any(b is buffer for b in cast_from)
                and not any(np.shares_memory(a, buffer) for a in kwargs_arrays)):
            direct[readers[0]] = m
    return direct


def _written_by_backward(program: Any, tr: Trace, node_of_leaf: dict, targets: list) -> dict:
    """For each backward entry whose Function takes ``out=`` (``gradients_out``): the tuple of
    arrays it writes its inputs' gradients into, a leaf's target where that gradient is the
    leaf's whole gradient as it is (not added to another, not unbroadcast; same dtype and
    shape), else None (also for a big weight's None target: its gradient stays its own)."""
    given: dict = {}   # node -> how many gradients it receives
    for e, (_, _, targets_) in enumerate(program.backward):
        if e in tr.ran:
            for k, j, _ in targets_:
                if (e, k) not in tr.missing:
                    given[j] = given.get(j, 0) + 1
    into: dict = {}
    for e, (_, backward, targets_) in enumerate(program.backward):
        if e not in tr.ran or not getattr(backward.__self__, "gradients_out", False):
            continue
        out = [None] * len(backward.__self__.needs_input_grad)
        for k, j, _ in targets_:
            target = targets[node_of_leaf[j]] if j in node_of_leaf else None
            if (target is not None and j in tr.info and given.get(j) == 1
                    and (e, k) not in tr.missing and (e, k) not in tr.reshape
                    and _fits(tr, j, target)):
                out[k] = target
        if any(o is not None for o in out):
            into[e] = tuple(out)
    return into


def _free_dead(lines: list, keep: set) -> list:
    """``lines`` with each value and gradient (but those in ``keep``) deleted after the line
    that reads it last (the eager graph keeps them all until the step is done)."""
    last: dict = {}
    for n, line in enumerate(lines):
        for name in _LOCAL.findall(line):
            if name not in keep:
                last[name] = n
    dead: dict = {}
    for name, n in last.items():
        dead.setdefault(n, []).append(name)
    out = []
    for n, line in enumerate(lines[:-1]):
        out.append(line)
        if n in dead:
            out.append(f"    del {', '.join(dead[n])}")
    return out + lines[-1:]


_LOCAL = re.compile(r"\b[vg]\d+\b")   # the step's values (v) and node gradients (g)


def _fits(tr: Trace, node: int, target: np.ndarray) -> bool:
    """``add(a, b, out=target)`` gives the bits of ``a + b``: same dtype and shape throughout."""
    dtype, shape = tr.info[node]
    return dtype == target.dtype and shape == target.shape


def _leaf_name(program: Any, leaf: Any) -> str:
    for n, t in enumerate(program.leaves_read):
        if t is leaf:
            return f"v{n}"
    raise _NoFastStep("an output is a leaf the program does not read")


class _NoFastStep(Exception):
    """compile_step gives None: the generic replay stays (it reads such an output itself)."""
