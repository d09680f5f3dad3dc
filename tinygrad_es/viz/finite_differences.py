"""Backprop against finite differences, the way the course computed gradients.

The course nudged every weight by h = 3e-6 and ran the network again: the forward difference
(L(w + h) - L(w)) / h, one extra forward pass per weight, error O(h). The central difference
(L(w + h) - L(w - h)) / 2h costs two passes per weight, error O(h²). Backprop gets every gradient
from one forward and one backward pass. ``compare_gradients`` runs the three and tabulates them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_es.autograd import no_grad
from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import fmt

__all__ = ["GradientComparison", "compare_gradients", "compare_model_gradients", "model_loss_fn"]

_TEXT = {
    "en": {
        "title": "Backprop vs finite differences (h = {h}), loss = {loss}, {dtype}",
        "cols": ("parameter", "backprop", "forward diff", "|fwd - bp|", "central diff",
                 "|ctr - bp|"),
        "more": "{name}: {n} more entries, largest |fwd - bp| {fwd}, |ctr - bp| {ctr}",
        "method": ("method", "forward passes", "time"),
        "methods": ("backprop", "forward differences", "central differences"),
        "backward": " (+1 backward)",
        "largest": "largest error: forward differences {fwd} (O(h)), central {ctr} (O(h²))",
        "float32": "note: in float32 a nudge of h = {h} is near the rounding of the weights "
                   "(~1e-7 relative), so finite differences lose digits; run in float64 "
                   "(tinygrad_es.config.set_floatx('float64')) to compare precisely.",
    },
    "es": {
        "title": "Backprop frente a diferencias finitas (h = {h}), pérdida = {loss}, {dtype}",
        "cols": ("parámetro", "backprop", "dif. adelante", "|ade - bp|", "dif. centrada",
                 "|cen - bp|"),
        "more": "{name}: {n} entradas más, mayor |ade - bp| {fwd}, |cen - bp| {ctr}",
        "method": ("método", "pasadas hacia delante", "tiempo"),
        "methods": ("backprop", "diferencias hacia delante", "diferencias centradas"),
        "backward": " (+1 hacia atrás)",
        "largest": "mayor error: diferencias hacia delante {fwd} (O(h)), centradas {ctr} (O(h²))",
        "float32": "nota: en float32 un empujón de h = {h} está cerca del redondeo de los pesos "
                   "(~1e-7 relativo), así que las diferencias finitas pierden cifras; use float64 "
                   "(tinygrad_es.config.set_floatx('float64')) para comparar con precisión.",
    },
}


@dataclass
class GradientComparison:
    """The result of :func:`compare_gradients`: one array per parameter for each method.

    Attributes:
        names: the parameters' names (``.name``, or ``param0, param1, ...``).
        backprop, forward, central: the gradients, shaped like the parameters.
        h: the nudge used by both finite differences.
        passes: forward passes each method needed (``{"backprop": 1, "forward": 1 + n, ...}``).
        seconds: wall time of each method.
        loss: the loss at the current weights.
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
    max_entries: int = field(default=12, repr=False)

    @property
    def forward_error(self) -> list[np.ndarray]:
        """|forward difference - backprop| per parameter."""
        return [np.abs(f - b) for f, b in zip(self.forward, self.backprop)]

    @property
    def central_error(self) -> list[np.ndarray]:
        """|central difference - backprop| per parameter."""
        return [np.abs(c - b) for c, b in zip(self.central, self.backprop)]

    @property
    def max_forward_error(self) -> float:
        return max((float(e.max()) for e in self.forward_error if e.size), default=0.0)

    @property
    def max_central_error(self) -> float:
        return max((float(e.max()) for e in self.central_error if e.size), default=0.0)

    def to_text(self, lang: str = "en") -> str:
        """The table, in English (``"en"``) or Spanish (``"es"``)."""
        if lang not in _TEXT:
            raise ValueError(f"lang must be 'en' or 'es', received {lang!r}")
        text = _TEXT[lang]
        rows: list[tuple[str, ...]] = [text["cols"]]
        notes: list[str] = []
        for name, bp, fd, cd, fe, ce in zip(self.names, self.backprop, self.forward, self.central,
                                            self.forward_error, self.central_error):
            for k, idx in enumerate(np.ndindex(bp.shape)):
                if k == self.max_entries:
                    notes.append(text["more"].format(
                        name=name, n=bp.size - k, fwd=_e(fe.max()), ctr=_e(ce.max())))
                    break
                label = name if bp.ndim == 0 else f"{name}[{', '.join(map(str, idx))}]"
                rows.append((label, fmt(bp[idx], 8), fmt(fd[idx], 8), _e(fe[idx]),
                             fmt(cd[idx], 8), _e(ce[idx])))
        lines = [text["title"].format(h=self.h, loss=fmt(self.loss, 8), dtype=self.dtype), ""]
        lines += _table(rows) + notes + [""]
        counts = [f"{self.passes['backprop']}{text['backward']}", str(self.passes["forward"]),
                  str(self.passes["central"])]
        method_rows = [text["method"]] + [
            (m, c, _ms(self.seconds[key])) for m, c, key in
            zip(text["methods"], counts, ("backprop", "forward", "central"))]
        lines += _table(method_rows) + [""]
        lines.append(text["largest"].format(fwd=_e(self.max_forward_error),
                                            ctr=_e(self.max_central_error)))
        if self.dtype != "float64":
            lines.append(text["float32"].format(h=self.h))
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text("en")


def compare_gradients(loss_fn: Callable[[], Tensor], params: Tensor | Sequence[Tensor],
                      h: float = 3e-6, names: Sequence[str] | None = None) -> GradientComparison:
    """Gradients of ``loss_fn()`` w.r.t. ``params`` by backprop, forward and central differences.

    ``loss_fn`` takes no arguments and computes the loss from the parameters' current values (a
    closure over them); the finite differences change one entry of ``.data`` at a time and put it
    back exactly. Existing ``.grad`` values are left as they were.

    Args:
        loss_fn: returns a one-element Tensor.
        params: the Tensors to differentiate (``requires_grad=True``).
        h: the nudge (the course's 3e-6).
        names: row labels; default each parameter's ``.name``.

    Example:
        >>> w = Tensor([0.5, -1.0], requires_grad=True, dtype="float64", name="w")
        >>> result = compare_gradients(lambda: (w ** 3).sum(), [w])
        >>> print(result)                        # doctest: +ELLIPSIS
        Backprop vs finite differences (h = 3e-06), loss = -0.875, float64
        <BLANKLINE>
        parameter  backprop  forward diff  |fwd - bp|  central diff  |ctr - bp|
        w[0]       0.75      0.7500045     4.50e-06    0.75          6.19e-12
        w[1]       3         2.999991      9.00e-06    3             2.48e-11
        ...
        >>> result.backprop[0].tolist(), result.central[0].round(9).tolist()
        ([0.75, 3.0], [0.75, 3.0])
    """
    params = [params] if isinstance(params, Tensor) else list(params)
    for k, p in enumerate(params):
        if not isinstance(p, Tensor) or not p.requires_grad:
            raise TypeError(f"compare_gradients: params[{k}] must be a Tensor with "
                            f"requires_grad=True, received {type(p).__name__}"
                            + (" without requires_grad" if isinstance(p, Tensor) else ""))
    if not h > 0:
        raise ValueError(f"compare_gradients expects a positive h, received {h}")
    labels = list(names) if names is not None else [
        p.name or f"param{k}" for k, p in enumerate(params)]
    if len(labels) != len(params):
        raise ValueError(f"compare_gradients received {len(labels)} names for {len(params)} params")

    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    start = time.perf_counter()
    loss = _scalar_loss(loss_fn, grad=True)
    loss.backward()
    backprop_time = time.perf_counter() - start
    backprop = [np.zeros_like(p.data) if p.grad is None else np.array(p.grad) for p in params]
    for p, g in zip(params, saved):
        p.grad = g

    n = sum(p.size for p in params)
    with no_grad():
        start = time.perf_counter()
        base = float(_scalar_loss(loss_fn).data)
        forward = [_nudged(loss_fn, p, lambda up, down: (up() - base) / h, h) for p in params]
        forward_time = time.perf_counter() - start
        start = time.perf_counter()
        central = [_nudged(loss_fn, p, lambda up, down: (up() - down()) / (2 * h), h)
                   for p in params]
        central_time = time.perf_counter() - start
    return GradientComparison(
        names=labels, backprop=backprop, forward=forward, central=central, h=h,
        passes={"backprop": 1, "forward": 1 + n, "central": 2 * n},
        seconds={"backprop": backprop_time, "forward": forward_time, "central": central_time},
        loss=float(loss.data), dtype=str(params[0].dtype) if params else "float32")


def compare_model_gradients(model: Any, x: Any, y: Any, loss: Any = None, h: float = 3e-6,
                            sample_weight: Any = None) -> GradientComparison:
    """:func:`compare_gradients` for a model's trainable weights on data ``(x, y)``.

    The loss is ``loss(y, model(x))`` plus the model's regularization losses, computed with
    ``training=False`` so that Dropout does not make the finite differences random.

    Args:
        model: a ``Sequential`` (built on ``x`` if it is not built yet).
        x, y: the data (arrays).
        loss: anything ``losses.get`` accepts (``"mae"``, a Loss); default the compiled loss.
        h: the finite-difference nudge.
        sample_weight: optional per-sample weights for the loss.

    Example:
        >>> from tinygrad_es import Sequential, layers
        >>> model = Sequential([layers.Dense(2, activation="sigmoid"), layers.Dense(1)])
        >>> x, y = np.array([[0.5], [1.5]]), np.array([0.0, 1.0])
        >>> table = compare_model_gradients(model, x, y, loss="mae").to_text("es")
        >>> print(table.splitlines()[0])  # doctest: +ELLIPSIS
        Backprop frente a diferencias finitas (h = 3e-06), pérdida = ...
    """
    loss_fn, params = model_loss_fn(model, x, y, loss, sample_weight)
    return compare_gradients(loss_fn, params, h=h)


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
            raise ValueError("no loss: pass loss= (e.g. 'mae') or compile the model first")
    loss_obj = losses.get(loss)
    inputs = x if isinstance(x, Tensor) else Tensor(x)
    if not getattr(model, "built", True):
        model(inputs)
    params = list(model.trainable_weights)
    if not params:
        raise ValueError(f"the model {getattr(model, 'name', '')!r} has no trainable weights")

    def loss_fn() -> Tensor:
        value = loss_obj(y, model(inputs, training=False), sample_weight=sample_weight)
        for penalty in model.losses:
            value = value + penalty
        return value

    return loss_fn, params


def _nudged(loss_fn: Callable[[], Tensor], p: Tensor, formula: Callable, h: float) -> np.ndarray:
    """``formula(up, down)`` for every entry of ``p``, where up/down evaluate the loss at ±h."""
    grad = np.zeros(p.shape, dtype=np.float64)
    data = p.data
    for idx in np.ndindex(p.shape):
        original = data[idx].copy()

        def at(delta: float, idx: tuple = idx, original: Any = original) -> float:
            data[idx] = original + delta
            value = float(_scalar_loss(loss_fn).data)
            data[idx] = original
            return value

        grad[idx] = formula(lambda: at(h), lambda: at(-h))
    return grad


def _scalar_loss(loss_fn: Callable[[], Tensor], grad: bool = False) -> Tensor:
    value = loss_fn()
    if not isinstance(value, Tensor) or value.size != 1:
        raise TypeError(f"loss_fn must return a one-element Tensor, received "
                        f"{type(value).__name__} {getattr(value, 'shape', '')}")
    if grad and not value.requires_grad:
        raise ValueError("loss_fn's result does not depend on any parameter with requires_grad "
                         "(was it computed inside no_grad()?)")
    return value


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def _e(x: Any) -> str:
    return f"{float(x):.2e}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"
