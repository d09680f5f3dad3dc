"""Flat parameter buffers: one contiguous array per dtype, updated in a few large calls.

An optimizer whose update is elementwise (SGD with or without (Nesterov) momentum, Adam, AdamW,
AMSGrad, Adamax, Nadam, Adagrad, RMSprop, Adadelta, Lion, Ftrl) does not care how the numbers are
grouped: ``m <- b*m + (1-b)*g`` on one long array gives, element for element, the same bits as on
each variable separately. So at ``build`` it lays out, per dtype:

* the **weights**: one buffer, and ``variable.data`` of each Tensor becomes a view into it (the
  values copied first);
* the **state**: one buffer per slot name (``momentum``, ``velocity``, ...);
  ``optimizer.variables``, ``slots(w)`` and ``get_state()`` still list the per-variable arrays in
  Keras's order, as views.

Each dtype's buffers are cut into **segments** of at most :data:`SEGMENT_SIZE` numbers: the small
variables packed together (their gradients copied into a small buffer each step), a big one cut
into pieces (its gradient sliced where it is, no copy). ``update_step`` then runs once per
segment, which for a small network is once in all (4 variables of iris 4-8-3: one call instead of
four); the temporaries of one call stay at most a segment (in the CPU's cache; on a
784-1024-1024-10 MLP a step peaks lower than per variable). The whole gradient buffer of a dtype
is made only when a step that writes its gradients there asks for it
(:meth:`Optimizer.flat_gradients`); the packed segments then gather there, and gradients written
straight into its views are not copied at all. (fit's captured step does without it: it writes
into the packed segments' buffers and keeps a big gradient as its own array.)

The scalars ``update_step`` computes from the learning rate and the step (Adam's ``alpha``, the
betas through float32, ...) are computed, as per variable, in the variable's dtype: the same
numbers whatever the grouping. Nadam's shared ``u_product`` is still updated once per step, first.

What it means for your code. From the first update on, ``w.data`` is a view into the flat
buffer and the optimizer updates it **in place**, as Keras updates its variables in place
(``variable.assign``). Holding the Tensor ``w`` (or re-reading ``w.data``) sees every update.
An array read *before* that (``old = w.data`` before the first ``fit``) is no longer the
weight: it keeps its old values and writing to it changes nothing. Writing into ``w.data``
(``w.data[...] = x``, ``set_weights``, ``load_weights``) reaches the buffer. Rebinding it
(``w.data = new_array``) is allowed: the next update copies ``new_array``'s values into the buffer
and points ``w.data`` at the buffer again (a different shape or dtype makes that variable's
optimizer fall back to the per-variable path for good).

Where the per-variable structure matters (each bit for bit as before):

* ``clipnorm``, ``global_clipnorm`` and ``clipvalue`` clip per variable exactly as before
  (``clipping.py``: the global norm summed in Keras's order); the update after them is flat;
* ``weight_decay`` with :meth:`~Optimizer.exclude_from_weight_decay` decays the chosen views one by
  one (without exclusions: per segment); the update after it is flat;
* ``use_ema`` averages per segment (elementwise too); ``finalize_variable_values`` per variable;
* ``gradient_accumulation_steps``, Lamb, Adafactor, Muon and ScheduleFreeAdamW do not use flat
  buffers at all; a wrapper (LossScaleOptimizer, MultiOptimizer) leaves it to its inner ones;
* a step where some gradient is ``None`` (or the variables are a subset of the built ones, or in
  another order) runs per variable on the same views.

A custom optimizer opts in with ``_elementwise_update = True`` in its class body, when its
``update_step`` is elementwise and its per-variable state all comes from
``add_optimizer_variables`` (a subclass that overrides ``update_step`` or ``build`` without
saying so is not trusted, and runs per variable).

``opt.update_path`` says which path the last update took (``"flat"`` or ``"per_variable"``);
``Optimizer.flat_buffers = False`` (the class, or one optimizer before its first ``apply``) turns
flat buffers off. A captured training step can write gradients straight into the buffer
(:meth:`~Optimizer.flat_gradients`) and run :meth:`~Optimizer.apply_flat`.

Example:
    >>> import numpy as np
    >>> from tinygrad_es.optimizers import Adam
    >>> from tinygrad_es.tensor import Tensor
    >>> a = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    >>> b = Tensor(np.zeros(3, np.float32), requires_grad=True)
    >>> opt = Adam(0.1)
    >>> opt.apply([np.ones((2, 2), np.float32), np.ones(3, np.float32)], [a, b])
    >>> opt.update_path, a.data.base is b.data.base, a.data.base.shape
    ('flat', True, (7,))
    >>> flat = opt.flat_gradients("float32"); flat.array.shape, flat.views[1].shape
    ((7,), (3,))
"""

from __future__ import annotations

from operator import attrgetter, is_
from typing import NamedTuple, Sequence

import numpy as np

from tinygrad_es.i18n import tr
from tinygrad_es.tfcast import tf_constant

__all__ = ["FlatBuffer", "FlatBuffers", "FlatStorage", "SlotList", "uses_flat_buffers",
           "SEGMENT_SIZE"]

#: Numbers per ``update_step`` call: small variables are packed up to it, big ones cut in pieces.
#: 2**18 (1 MiB of float32) measured fastest for SGD, Nesterov and Adam on a 2-core EPYC: long
#: enough for numpy's loops, short enough for the temporaries to stay in cache.
SEGMENT_SIZE = 1 << 18


class FlatBuffer(NamedTuple):
    """One dtype's flat gradient buffer: ``array`` (1-D), and ``views[i]``, the gradient of
    ``variables[i]`` (its shape, a view into ``array``)."""

    array: np.ndarray
    variables: list
    views: list


class FlatKey:
    """The index ``update_step`` gets for one segment of a flat buffer (see :class:`SlotList`)."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"FlatKey({self.dtype.name})"


class FlatVariable:
    """What ``update_step`` is given in place of a model variable: ``.data`` is one segment of
    the flat weights."""

    __slots__ = ("data", "name")

    def __init__(self, data: np.ndarray):
        self.data = data
        self.name = f"flat_{data.dtype.name}"


class SlotList(list):
    """The per-variable state arrays of one slot (``opt.momentums``), views into flat buffers.

    It is a plain list of views, except that ``slots[key]`` with a :class:`FlatKey` gives that
    segment of the flat buffer: so ``update_step`` runs unchanged on a flat segment.
    """

    __slots__ = ("flat",)

    def __getitem__(self, i):
        if i.__class__ is FlatKey:
            return self.flat[i]
        return list.__getitem__(self, i)


_data = attrgetter("data")


def _defines(cls: type, method: str) -> type | None:
    for klass in cls.__mro__:
        if method in klass.__dict__:
            return klass
    return None


def uses_flat_buffers(optimizer, variables: Sequence) -> bool:
    """Whether ``optimizer`` builds flat buffers for ``variables``.

    Its ``build`` and ``update_step`` must come from a class that declares its update elementwise
    (``_elementwise_update = True`` in its own body: a subclass with its own ``update_step`` is
    not trusted); no gradient accumulation; the variables distinct Tensors of float dtypes.
    """
    if not getattr(optimizer, "flat_buffers", False) or optimizer.gradient_accumulation_steps:
        return False
    cls = type(optimizer)
    for method in ("build", "update_step", "_update_variables"):
        owner = _defines(cls, method)
        trusted = owner is not None and owner.__dict__.get("_elementwise_update", False)
        base = owner is not None and owner.__module__ == __name__.replace("flat", "base")
        if not trusted and not (method == "_update_variables" and base):
            return False
    if not variables or len({id(v) for v in variables}) != len(variables):
        return False
    for v in variables:
        data = getattr(v, "data", None)
        if type(data) is not np.ndarray or data.dtype.kind != "f":
            return False
    return True


class Segment:
    """One ``update_step`` call's share of a flat buffer: several whole small variables packed
    together (``piece`` None; their gradients are copied into ``grad``), or a piece
    ``[start, stop)`` of one big variable (its gradient is sliced, not copied)."""

    __slots__ = ("key", "stand_in", "start", "stop", "members", "piece", "grad", "grad_views")

    def __init__(self, dtype: np.dtype, start: int, stop: int, members: list, piece=None):
        self.key = FlatKey(dtype)
        self.start, self.stop, self.members, self.piece = start, stop, members, piece
        self.stand_in: FlatVariable | None = None
        self.grad: np.ndarray | None = None
        self.grad_views: list[np.ndarray] = []


class FlatStorage:
    """The flat buffers of one optimizer: weights, gradients and, per slot name, the state.

    Built for the optimizer's variables (in order); groups them by dtype in order of first
    appearance, and cuts each dtype's buffer into :class:`Segment` s of at most
    ``segment_size`` numbers: the temporaries of one ``update_step`` stay small (in cache),
    and a big variable's gradient is used where it is, without a copy. The whole gradient
    buffer of a dtype exists only once asked for (:meth:`grad_buffer`).
    ``adopt()``, at the first update, rebinds each ``variable.data`` to its view of the weights.
    """

    def __init__(self, variables: Sequence, segment_size: int = SEGMENT_SIZE):
        self.variables = list(variables)
        self.ids = [id(v) for v in self.variables]
        self.dtypes: list[np.dtype] = []
        self.offsets: list[tuple[np.dtype, int, int]] = []   # per variable: dtype, start, stop
        sizes: dict[np.dtype, int] = {}
        for v in self.variables:
            dtype, size = v.data.dtype, v.data.size
            if dtype not in sizes:
                self.dtypes.append(dtype)
                sizes[dtype] = 0
            self.offsets.append((dtype, sizes[dtype], sizes[dtype] + size))
            sizes[dtype] += size
        self.sizes = sizes
        self.weights = {dtype: np.empty(sizes[dtype], dtype) for dtype in self.dtypes}
        self.weight_views = self._views(self.weights)
        self.broken = False   # a variable's .data was rebound to another shape or dtype
        # adopt() runs at the first update, not here: a scratch build (saving.py builds a copy
        # of an unbuilt optimizer to learn its state's layout) must leave the model alone
        self.segments = self._cut(max(1, int(segment_size)))
        for seg in self.segments:
            seg.stand_in = FlatVariable(self.weights[seg.key.dtype][seg.start:seg.stop])
            if seg.piece is None:
                self._point_grads(seg, np.empty(seg.stop - seg.start, seg.key.dtype))
        self.stand_ins = [seg.stand_in for seg in self.segments]
        self.grads: dict[np.dtype, np.ndarray] = {}
        self.grad_views: list[np.ndarray | None] = [None] * len(self.variables)

    def _views(self, buffers: dict) -> list[np.ndarray]:
        return [buffers[dtype][start:stop].reshape(v.data.shape)
                for v, (dtype, start, stop) in zip(self.variables, self.offsets)]

    def _cut(self, size: int) -> list[Segment]:
        segments: list[Segment] = []
        for dtype in self.dtypes:
            packed: list[int] = []
            for i, (d, start, stop) in enumerate(self.offsets):
                if d != dtype:
                    continue
                if packed and (stop - self.offsets[packed[0]][1] > size or stop - start > size):
                    segments.append(self._packed(dtype, packed))
                    packed = []
                if stop - start <= size:
                    packed.append(i)
                    continue
                for a in range(0, stop - start, size):   # a big variable: pieces of it
                    b = min(a + size, stop - start)
                    segments.append(Segment(dtype, start + a, start + b, [i], (a, b)))
            if packed:
                segments.append(self._packed(dtype, packed))
        return segments

    def _packed(self, dtype: np.dtype, members: list[int]) -> Segment:
        return Segment(dtype, self.offsets[members[0]][1], self.offsets[members[-1]][2], members)

    def _point_grads(self, seg: Segment, grad: np.ndarray) -> None:
        seg.grad = grad
        seg.grad_views = [grad[start - seg.start:stop - seg.start].reshape(self.variables[i].shape)
                          for i in seg.members for _, start, stop in [self.offsets[i]]]

    def adopt(self) -> bool:
        """Point every ``variable.data`` at its view (copying the values in if it is not there
        yet). False, and nothing more is adopted, if one has another shape or dtype now."""
        if all(map(is_, map(_data, self.variables), self.weight_views)):   # every step: in C
            return True
        for v, view in zip(self.variables, self.weight_views):
            data = v.data
            if data is view:
                continue
            if type(data) is not np.ndarray or data.shape != view.shape \
                    or data.dtype != view.dtype:
                self.broken = True
                return False
            view[...] = data
            v.data = view
        return True

    def slot(self, initial: dict) -> tuple[dict, list[np.ndarray]]:
        """A state buffer per dtype filled with ``initial[dtype]``: its segments (by key) and its
        per-variable views."""
        buffers = {dtype: np.full(self.sizes[dtype], initial[dtype], dtype)
                   for dtype in self.dtypes}
        segments = {seg.key: buffers[seg.key.dtype][seg.start:seg.stop] for seg in self.segments}
        return segments, self._views(buffers)

    def covers(self, variables: Sequence) -> bool:
        """Whether this step's ``variables`` are all the built ones, in the built order, with
        their ``.data`` in the buffer (re-adopted if rebound)."""
        if self.broken or list(map(id, variables)) != self.ids:
            return False
        return self.adopt()

    def segment_grads(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each segment's gradient, from the per-variable ``grads`` (in the built order): copied
        in for packed variables (unless already there), a slice for the pieces of big ones."""
        out = []
        whole = None
        for seg in self.segments:
            if seg.piece is None:
                for i, view in zip(seg.members, seg.grad_views):
                    g = grads[i]
                    if g is not view:
                        view[...] = g
                out.append(seg.grad)
                continue
            a, b = seg.piece
            if a == 0:
                whole = np.ravel(grads[seg.members[0]])   # a view unless not contiguous
            out.append(whole[a:b])
        return out

    def grad_buffer(self, dtype: np.dtype) -> FlatBuffer:
        """The whole gradient buffer of ``dtype`` and its per-variable views (made on first
        use; the packed segments then gather into it, so gradients written there are not
        copied again)."""
        if dtype not in self.grads:
            buffer = self.grads[dtype] = np.empty(self.sizes[dtype], dtype)
            for i, (d, start, stop) in enumerate(self.offsets):
                if d == dtype:
                    self.grad_views[i] = buffer[start:stop].reshape(self.variables[i].shape)
            for seg in self.segments:
                if seg.piece is None and seg.key.dtype == dtype:
                    self._point_grads(seg, buffer[seg.start:seg.stop])
        chosen = [i for i, (d, _, _) in enumerate(self.offsets) if d == dtype]
        return FlatBuffer(self.grads[dtype], [self.variables[i] for i in chosen],
                          [self.grad_views[i] for i in chosen])

    def packed_grad_views(self) -> list[np.ndarray | None]:
        """Per variable (in the built order), the view of the buffer its packed segment reads
        its gradient from (a gradient written there is not copied), or None for a big one
        (its pieces are read where its gradient is)."""
        views: list[np.ndarray | None] = [None] * len(self.variables)
        for seg in self.segments:
            if seg.piece is None:
                for i, view in zip(seg.members, seg.grad_views):
                    views[i] = view
        return views

    def all_grad_views(self) -> list[np.ndarray]:
        """Every variable's view of the gradient buffers (made if needed), in the built order."""
        for dtype in self.dtypes:
            self.grad_buffer(dtype)
        return list(self.grad_views)  # type: ignore[arg-type]


# ----- what the Optimizer base class gets from here -----

class FlatBuffers:
    """The flat-buffer part of :class:`~tinygrad_es.optimizers.base.Optimizer` (its base
    class): the switch, the build hook and the interface for a captured training step."""

    #: Keep the weights and state in flat buffers where the update is elementwise. Set it on
    #: the class (``Optimizer.flat_buffers = False``), or on one optimizer before it is built.
    flat_buffers: bool = True
    _elementwise_update = False   # a subclass whose update_step is elementwise says True
    _flat: FlatStorage | None = None
    #: ``"flat"`` or ``"per_variable"``: the path the last update took (None before one).
    update_path: str | None = None

    def _build_flat(self, variables: Sequence) -> None:
        self._flat = (FlatStorage(variables, SEGMENT_SIZE)
                      if uses_flat_buffers(self, variables) else None)
        if self._flat is not None:   # update_step(segment grad, stand-in) finds the flat state
            for seg in self._flat.segments:
                self._index[id(seg.stand_in)] = seg.key

    def _add_flat_variables(self, names: list, inits: list, single: bool):
        flat, lists = self._flat, []
        for init in inits:
            segments, views = flat.slot({d: tf_constant(init, d) for d in flat.dtypes})
            slot_list = SlotList(views)
            slot_list.flat = segments
            lists.append(slot_list)
        for i in range(len(flat.ids)):   # Keras's order: a variable's slots together
            for name, slot_list in zip(names, lists):
                self._slots[i][name] = self._state[f"{i}/{name}"] = slot_list[i]
        return lists[0] if single else tuple(lists)

    def flat_gradients(self, dtype=None) -> FlatBuffer:
        """The flat gradient buffer of ``dtype`` (default: the only one) and its per-variable
        views, for a step that writes the gradients straight into it before :meth:`apply_flat`.

        The optimizer must be built with flat buffers (``opt.update_path`` tells afterwards
        whether an update used them). Its ``views`` follow the built variables of that dtype.
        It also points every ``w.data`` at its view of the flat weights (the first update would
        do it): call it before recording anything that reads the weights, whose arrays then
        stay the same (unless rebound).

        Example:
            >>> from tinygrad_es.optimizers import SGD
            >>> from tinygrad_es.tensor import Tensor
            >>> w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
            >>> opt = SGD(0.5); opt.build([w])
            >>> flat = opt.flat_gradients(); flat.views[0][...] = [1.0, -1.0]
            >>> w.data.base is opt.flat_gradients().variables[0].data.base
            True
            >>> opt.apply_flat(); w.data, opt.update_path
            (array([0.5, 2.5], dtype=float32), 'flat')
        """
        flat = self._require_flat()
        if dtype is None:
            if len(flat.dtypes) != 1:
                raise ValueError(tr("{name} keeps one flat buffer per dtype ({dtypes}): pass "
                                    "the dtype", name=self.name,
                                    dtypes=[d.name for d in flat.dtypes]))
            dtype = flat.dtypes[0]
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(tr("{name}.flat_gradients: dtype must be a numpy dtype such as "
                               "'float32', received {dtype!r}", name=self.name,
                               dtype=dtype)) from None
        if dtype not in flat.sizes:
            raise ValueError(tr("{name} has no flat buffer of dtype {dtype}; it has {dtypes}",
                                name=self.name, dtype=dtype.name,
                                dtypes=[d.name for d in flat.dtypes]))
        flat.adopt()
        return flat.grad_buffer(dtype)

    def apply_flat(self) -> None:
        """``apply`` with the gradients already in the flat buffers (:meth:`flat_gradients`),
        for every built variable: loss scaling, clipping, decay, EMA and the step count as
        ``apply``; no per-variable checks and no copy."""
        flat = self._require_flat()
        self._apply_checked(flat.all_grad_views(), list(flat.variables))

    def bind(self, variables: Sequence, gather: bool = True):
        """A fast ``apply_flat()`` for ``variables`` (all the built ones, in order), or None.

        For a captured training step that writes each gradient straight into its view of
        :meth:`flat_gradients`: the returned ``update()`` runs the same ``update_step`` s on the
        same segments as ``apply`` does (the same bits), with the segments' gradients, the
        stand-ins and the checks worked out once here. When an option that needs the
        per-variable path is set (loss scaling, clipping, weight decay, EMA, accumulation:
        checked at each call, a few attribute reads) or a weight was rebound, it runs
        :meth:`apply_flat` instead. None when the optimizer has no flat buffers for exactly
        these variables.

        ``gather=False`` (fit's captured step) makes no whole gradient buffer, a model's worth
        of memory: the step writes a packed variable's gradient into
        :meth:`FlatStorage.packed_grad_views`, points the pieces of a big one at its gradient
        (``update.segment_grads``) and sets each ``variable.grad``; the options above then
        run ``apply`` on those ``.grad`` s.

        Example:
            >>> from tinygrad_es.optimizers import SGD
            >>> from tinygrad_es.tensor import Tensor
            >>> w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
            >>> opt = SGD(0.5); opt.build([w]); update = opt.bind([w])
            >>> opt.flat_gradients().views[0][...] = [1.0, -1.0]
            >>> update(); w.data, opt.update_path, int(opt.iterations)
            (array([0.5, 2.5], dtype=float32), 'flat', 1)
        """
        flat = self._flat
        if flat is None or flat.broken or [id(v) for v in variables] != flat.ids:
            return None
        flat.adopt()
        if gather:
            flat.all_grad_views()   # the whole gradient buffers: the packed segments gather there
            fallback = self.apply_flat
        else:
            variables = list(variables)

            def fallback() -> None:   # each gradient where the step left it
                self.apply([v.grad for v in variables], variables)
        # a big variable's pieces: slices of the whole buffer, or set by the step (gather=False)
        grads = [seg.grad if seg.piece is None
                 else flat.grads[seg.key.dtype][seg.start:seg.stop] if gather else None
                 for seg in flat.segments]
        stand_ins, update_variables = flat.stand_ins, self._update_variables
        current_lr, adopt = self._current_learning_rate, flat.adopt
        # the base class's _update_variables (Nadam's updates shared state first): run its loop
        # here, the rate of each segment's dtype (tf_constant) redone only when the rate object
        # changes (a float rate is a Variable whose value is rebound on assign)
        plain = _defines(type(self), "_update_variables").__module__.endswith(".base")
        update_step, dtypes, rates = self.update_step, [seg.key.dtype for seg in flat.segments], \
            [None, []]

        pieces: dict = {}   # variable -> [(segment, a, b)]: where a big one's pieces are read
        for s, seg in enumerate(flat.segments):
            if seg.piece is not None:
                pieces.setdefault(seg.members[0], []).append((s, *seg.piece))

        def update() -> None:
            if (self.loss_scale_factor is not None or self.gradient_accumulation_steps
                    or self.clipnorm or self.global_clipnorm or self.clipvalue
                    or self.weight_decay is not None or self.use_ema or self._flat is not flat
                    or flat.broken or not adopt()):
                fallback()
                return
            self.update_path = "flat"
            lr = current_lr()
            if not plain:
                update_variables(grads, stand_ins, lr)
            else:
                if lr is not rates[0]:
                    rates[:] = lr, [tf_constant(lr, dtype) for dtype in dtypes]
                for g, stand_in, rate in zip(grads, stand_ins, rates[1]):
                    update_step(g, stand_in, rate)
            self._iterations += 1

        # for a captured step: the list the pieces of big variables are read from (a step that
        # has a big gradient as an array of its own points them at it instead of copying it)
        update.segment_grads, update.pieces = grads, pieces
        return update

    def _require_flat(self) -> FlatStorage:
        if self._flat is None:
            raise ValueError(tr("{name} has no flat buffers (not built yet, flat_buffers is "
                                "False, or its update is not elementwise)", name=self.name))
        return self._flat
