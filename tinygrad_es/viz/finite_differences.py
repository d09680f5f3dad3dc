"""Backprop against finite differences, the way the course computed gradients.

The course nudged every weight by h = 3e-6 and ran the network again: the forward difference
(L(w + h) - L(w)) / h, one extra forward pass per weight, error O(h). The central difference
(L(w + h) - L(w - h)) / 2h costs two passes per weight, error O(h²). Backprop gets every gradient
from one forward and one backward pass. ``compare_gradients`` runs the three and tabulates them.

The finite differences are evaluated in float64 whatever the model's dtype: the nudged passes run
on float64 copies of the parameters (and with ``floatx`` float64), and the errors are measured
against backprop in float64. In float32 they would be wrong: a nudge of 3e-6 changes a loss of
about 0.5 by h·|∂L/∂w| ≈ 1e-7 or less, hardly above float32's resolution of the loss (its
spacing there is 6e-8), so L(w + h) − L(w) cancels to a few rounding steps or to exactly 0.
``compare_gradients(..., dtype="float32")`` reproduces that trap and prints why.
"""

from __future__ import annotations

import contextlib
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from tinygrad_es.gradcheck import floatx_as
from tinygrad_es.i18n import N_, tr
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import fmt

__all__ = ["GradientComparison", "compare_gradients", "compare_model_gradients", "model_loss_fn"]

_METHODS = (N_("backprop"), N_("forward differences"), N_("central differences"))


@dataclass
class GradientComparison:
    """The result of :func:`compare_gradients`: one array per parameter for each method.

    Attributes:
        names: the parameters' names (``.name``, or ``param0, param1, ...``).
        backprop: backward()'s gradients in the model's dtype (``dtype``).
        backprop64: the same backward pass on float64 copies of the parameters: the reference
            the errors are measured against.
        forward, central: the finite differences, evaluated in ``fd_dtype``.
        h: the nudge used by both finite differences.
        passes: forward passes each method needed (``{"backprop": 1, "forward": 1 + n, ...}``).
        seconds: wall time of each method.
        loss: the loss at the current weights (in the model's dtype).
        dtype: the parameters' dtype; fd_dtype: the dtype the nudged passes computed in.
    """

    names: list[str]
    backprop: list[np.ndarray]
    forward: list[np.ndarray]
    central: list[np.ndarray]
    h: float
    passes: dict[str, int]
    seconds: dict[str, float]
    loss: float
    dtype: str = "float32"
    backprop64: list[np.ndarray] | None = None
    fd_dtype: str = "float64"
    max_entries: int = field(default=12, repr=False)

    @property
    def reference(self) -> list[np.ndarray]:
        """The gradients the errors are measured against: backprop in float64."""
        return self.backprop64 if self.backprop64 is not None else self.backprop

    @property
    def forward_error(self) -> list[np.ndarray]:
        """|forward difference - backprop in float64| per parameter."""
        return [np.abs(f - b) for f, b in zip(self.forward, self.reference)]

    @property
    def central_error(self) -> list[np.ndarray]:
        """|central difference - backprop in float64| per parameter."""
        return [np.abs(c - b) for c, b in zip(self.central, self.reference)]

    @property
    def max_forward_error(self) -> float:
        return max((float(e.max()) for e in self.forward_error if e.size), default=0.0)

    @property
    def max_central_error(self) -> float:
        return max((float(e.max()) for e in self.central_error if e.size), default=0.0)

    def to_text(self, lang: str | None = None) -> str:
        """The table, in ``lang`` (``"en"``, ``"es"``; default the current language)."""
        two = self.dtype != "float64"          # backprop in the model's dtype too
        cols = [tr("parameter", lang=lang), tr("backprop float64", lang=lang),
                tr("forward diff", lang=lang), tr("|fwd - bp|", lang=lang),
                tr("central diff", lang=lang), tr("|ctr - bp|", lang=lang)]
        if two:
            cols.append(tr("backprop {dtype}", lang=lang, dtype=self.dtype))
        rows: list[tuple[str, ...]] = [tuple(cols)]
        notes: list[str] = []
        for name, bp, ref, fd, cd, fe, ce in zip(self.names, self.backprop, self.reference,
                                                 self.forward, self.central, self.forward_error,
                                                 self.central_error):
            for k, idx in enumerate(np.ndindex(bp.shape)):
                if k == self.max_entries:
                    notes.append(tr("{name}: {n} more entries, largest |fwd - bp| {fwd}, "
                                    "|ctr - bp| {ctr}", lang=lang, name=name, n=bp.size - k,
                                    fwd=_e(fe.max()), ctr=_e(ce.max())))
                    break
                label = name if bp.ndim == 0 else f"{name}[{', '.join(map(str, idx))}]"
                row = (label, fmt(ref[idx], 8), fmt(fd[idx], 8), _e(fe[idx]), fmt(cd[idx], 8),
                       _e(ce[idx]))
                rows.append(row + ((fmt(bp[idx], 8),) if two else ()))
        lines = [tr("Backprop vs finite differences (h = {h}), loss = {loss}", lang=lang,
                    h=self.h, loss=fmt(self.loss, 8)),
                 tr("finite differences evaluated in {fd_dtype}, errors against backprop in "
                    "float64; the model in {dtype}", lang=lang, fd_dtype=self.fd_dtype,
                    dtype=self.dtype), ""]
        lines += _table(rows) + notes + [""]
        counts = [f"{self.passes['backprop']}{tr(' (+1 backward)', lang=lang)}",
                  str(self.passes["forward"]), str(self.passes["central"])]
        method_rows = [(tr("method", lang=lang), tr("forward passes", lang=lang),
                        tr("time", lang=lang))] + [
            (tr(m, lang=lang), c, _ms(self.seconds[key])) for m, c, key in
            zip(_METHODS, counts, ("backprop", "forward", "central"))]
        lines += _table(method_rows) + [""]
        lines.append(tr("largest error: forward differences {fwd} (O(h)), central {ctr} (O(h²))",
                        lang=lang, fwd=_e(self.max_forward_error),
                        ctr=_e(self.max_central_error)))
        if self.fd_dtype != "float64":
            lines.append(textwrap.fill(self.why_not_float32(lang), 100))
        return "\n".join(lines) + "\n"

    def why_not_float32(self, lang: str | None = None) -> str:
        """Why finite differences in a narrow dtype fail: cancellation, in numbers.

        A nudge h changes the loss by about h·|∂L/∂w|; when that is below the spacing of the
        narrow dtype's numbers at L (its resolution of the loss), L(w + h) − L(w) keeps a few
        rounding steps or none.
        """
        steps = np.concatenate([self.h * np.abs(r).ravel() for r in self.reference])
        spacing = float(np.spacing(np.abs(np.asarray(self.loss, dtype=self.fd_dtype))))
        zeros = sum(int(np.sum(f == 0)) for f in self.forward)
        below = int(np.sum(steps < spacing))
        return tr("the float32 trap: a nudge of h = {h} changes the loss by h·|∂L/∂w|, here "
                  "{low} to {high}; {fd_dtype} resolves a loss of {loss} only in steps of "
                  "{spacing}, so L(w + h) − L(w) cancels to a few such steps or to 0 "
                  "({below} of {n} changes are below one step, {zeros} forward differences "
                  "are exactly 0). Finite differences are evaluated in float64 by default.",
                  lang=lang, h=self.h, low=_e(steps.min()), high=_e(steps.max()),
                  fd_dtype=self.fd_dtype, loss=fmt(self.loss, 6), spacing=_e(spacing),
                  below=below, n=steps.size, zeros=zeros)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:  # Jupyter: the same table, as HTML (viz/html.py)
        from tinygrad_es.viz.html import comparison_html

        return comparison_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text: the table
        printer.text(self.to_text())


def compare_gradients(loss_fn: Callable[[], Tensor], params: Tensor | Sequence[Tensor],
                      h: float = 3e-6, names: Sequence[str] | None = None,
                      dtype: str | None = "float64") -> GradientComparison:
    """Gradients of ``loss_fn()`` w.r.t. ``params`` by backprop, forward and central differences.

    ``loss_fn`` takes no arguments and computes the loss from the parameters' current values (a
    closure over them). Backprop runs twice: as the parameters are (their dtype) and on float64
    copies of them. The finite differences run on copies of the parameters in ``dtype`` (and with
    ``floatx`` set to it), changing one entry at a time. The parameters' arrays and any existing
    ``.grad`` are left exactly as they were.

    Args:
        loss_fn: returns a one-element Tensor.
        params: the Tensors to differentiate (``requires_grad=True``).
        h: the nudge (the course's 3e-6).
        names: row labels; default each parameter's ``.name``.
        dtype: where the finite differences are evaluated: ``"float64"`` (default, right
            whatever the model's dtype), or ``"float32"`` to see the float32 trap (the table then
            says why it fails); None keeps the parameters' own dtype.

    Example:
        >>> w = Tensor([0.5, -1.0], requires_grad=True, dtype="float64", name="w")
        >>> result = compare_gradients(lambda: (w ** 3).sum(), [w])
        >>> print(result)                        # doctest: +ELLIPSIS
        Backprop vs finite differences (h = 3e-06), loss = -0.875
        finite differences evaluated in float64, errors against backprop in float64; ...
        <BLANKLINE>
        parameter  backprop float64  forward diff  |fwd - bp|  central diff  |ctr - bp|
        w[0]       0.75              0.7500045     4.50e-06    0.75          6.19e-12
        w[1]       3                 2.999991      9.00e-06    3             2.48e-11
        ...
        >>> result.backprop[0].tolist(), result.central[0].round(9).tolist()
        ([0.75, 3.0], [0.75, 3.0])
    """
    params = [params] if isinstance(params, Tensor) else list(params)
    for k, p in enumerate(params):
        if not isinstance(p, Tensor) or not p.requires_grad:
            raise TypeError(tr("compare_gradients: params[{k}] must be a Tensor with "
                               "requires_grad=True, received {received}", k=k,
                               received=type(p).__name__
                               + (" without requires_grad" if isinstance(p, Tensor) else "")))
    if not h > 0:
        raise ValueError(tr("compare_gradients expects a positive h, received {h}", h=h))
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise ValueError(tr("compare_gradients expects dtype 'float64', 'float32' or None, "
                            "received {dtype!r}", dtype=dtype))
    labels = list(names) if names is not None else [
        p.name or f"param{k}" for k, p in enumerate(params)]
    if len(labels) != len(params):
        raise ValueError(tr("compare_gradients received {n} names for {m} params",
                            n=len(labels), m=len(params)))
    model_dtype = str(params[0].dtype) if params else "float32"
    fd_dtype = np.dtype(dtype or model_dtype).name

    start = time.perf_counter()
    loss, backprop = _backprop(loss_fn, params)
    backprop_time = time.perf_counter() - start
    with _leaves_as(params, "float64"):
        backprop64 = _backprop(loss_fn, params)[1]

    n = sum(p.size for p in params)
    with _leaves_as(params, fd_dtype):
        start = time.perf_counter()
        base = _value(loss_fn)
        forward = [_nudged(loss_fn, p, lambda up, down: (up() - base) / h, h) for p in params]
        forward_time = time.perf_counter() - start
        start = time.perf_counter()
        central = [_nudged(loss_fn, p, lambda up, down: (up() - down()) / (2 * h), h)
                   for p in params]
        central_time = time.perf_counter() - start
        computed_in = str(_scalar_loss(loss_fn).dtype)   # a loss_fn may cast: say what it did
    return GradientComparison(
        names=labels, backprop=backprop, forward=forward, central=central, h=h,
        passes={"backprop": 1, "forward": 1 + n, "central": 2 * n},
        seconds={"backprop": backprop_time, "forward": forward_time, "central": central_time},
        loss=float(loss.data), dtype=model_dtype, backprop64=backprop64, fd_dtype=computed_in)


def compare_model_gradients(model: Any, x: Any, y: Any, loss: Any = None, h: float = 3e-6,
                            sample_weight: Any = None,
                            dtype: str | None = "float64") -> GradientComparison:
    """:func:`compare_gradients` for a model's trainable weights on data ``(x, y)``.

    The loss is ``loss(y, model(x))`` plus the model's regularization losses, computed with
    ``training=False`` so that Dropout does not make the finite differences random.

    Args:
        model: a ``Sequential`` (built on ``x`` if it is not built yet).
        x, y: the data (arrays).
        loss: anything ``losses.get`` accepts (``"mae"``, a Loss); default the compiled loss.
        h: the finite-difference nudge.
        sample_weight: optional per-sample weights for the loss.
        dtype: where the finite differences are evaluated (see :func:`compare_gradients`).

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(2, activation="sigmoid"), layers.Dense(1)])
        >>> x, y = np.array([[0.5], [1.5]]), np.array([0.0, 1.0])
        >>> table = compare_model_gradients(model, x, y, loss="mae").to_text()
        >>> print(table.splitlines()[1])  # doctest: +ELLIPSIS
        finite differences evaluated in float64, ... the model in float32
    """
    loss_fn, params = model_loss_fn(model, x, y, loss, sample_weight)
    return compare_gradients(loss_fn, params, h=h, dtype=dtype)


def model_loss_fn(model: Any, x: Any, y: Any, loss: Any = None,
                  sample_weight: Any = None) -> tuple[Callable[[], Tensor], list[Tensor]]:
    """A closure computing ``loss(y, model(x)) + sum(model.losses)``, and the trainable weights.

    ``training=False``, so Dropout does not make repeated evaluations differ. ``loss`` is anything
    ``losses.get`` accepts; default the compiled model's loss. Builds the model on ``x`` if needed.

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(1, kernel_initializer="ones")])
        >>> loss_fn, weights = model_loss_fn(model, np.array([[2.0]]), np.array([1.0]), "mae")
        >>> float(loss_fn().data), [w.shape for w in weights]
        (1.0, [(1, 1), (1,)])
    """
    from tinygrad_es import losses

    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError(tr("no loss: pass loss= (e.g. 'mae') or compile the model first"))
    loss_obj = losses.get(loss)
    inputs = x if isinstance(x, Tensor) else Tensor(x)
    if not getattr(model, "built", True):
        model(inputs)
    params = list(model.trainable_weights)
    if not params:
        raise ValueError(tr("the model {name!r} has no trainable weights",
                            name=getattr(model, "name", "")))

    def loss_fn() -> Tensor:
        value = loss_obj(y, model(inputs, training=False), sample_weight=sample_weight)
        for penalty in model.losses:
            value = value + penalty
        return value

    return loss_fn, params


# ----- helpers -----

def _backprop(loss_fn: Callable[[], Tensor], params: list[Tensor]) -> tuple[Tensor, list]:
    """One forward and one backward pass; the parameters' existing ``.grad`` is put back."""
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    try:
        loss = _scalar_loss(loss_fn, grad=True)
        loss.backward()
        return loss, [np.zeros_like(p.data) if p.grad is None else np.array(p.grad)
                      for p in params]
    finally:
        for p, g in zip(params, saved):
            p.grad = g


@contextlib.contextmanager
def _leaves_as(params: list[Tensor], dtype: str) -> Iterator[None]:
    """Run on copies of the parameters in ``dtype`` (and ``floatx`` = dtype); then put back the
    very arrays they had."""
    originals = [p.data for p in params]
    try:
        for p in params:
            p.data = p.data.astype(dtype)  # a copy, even when the dtype is the same
        with floatx_as(dtype):
            yield
    finally:
        for p, data in zip(params, originals):
            p.data = data


def _nudged(loss_fn: Callable[[], Tensor], p: Tensor, formula: Callable, h: float) -> np.ndarray:
    """``formula(up, down)`` for every entry of ``p``, where up/down evaluate the loss at ±h."""
    grad = np.zeros(p.shape, dtype=np.float64)
    data = p.data
    for idx in np.ndindex(p.shape):
        original = data[idx].copy()

        def at(delta: float, idx: tuple = idx, original: Any = original) -> float:
            data[idx] = original + delta
            value = _value(loss_fn)
            data[idx] = original
            return value

        grad[idx] = formula(lambda: at(h), lambda: at(-h))
    return grad


def _value(loss_fn: Callable[[], Tensor]) -> float:
    # float(): the loss in its own dtype, widened exactly to a Python float
    return float(_scalar_loss(loss_fn).data)


def _scalar_loss(loss_fn: Callable[[], Tensor], grad: bool = False) -> Tensor:
    value = loss_fn()
    if not isinstance(value, Tensor) or value.size != 1:
        raise TypeError(tr("loss_fn must return a one-element Tensor, received {kind} {shape}",
                           kind=type(value).__name__, shape=getattr(value, "shape", "")))
    if grad and not value.requires_grad:
        raise ValueError(tr("loss_fn's result does not depend on any parameter with "
                            "requires_grad (was it computed inside no_grad()?)"))
    return value


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def _e(x: Any) -> str:
    return f"{float(x):.2e}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"
