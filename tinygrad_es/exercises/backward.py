"""The backward exercises: Mul, Sigmoid, MAE and a Dense layer, graded by finite differences.

The student's ``Function`` runs directly (``forward`` then ``backward`` on raw arrays, a
non-trivial upstream gradient), each gradient is compared with central differences of the
student's own forward (``gradcheck.numerical_grad``, gradcheck's tolerances), after the forward
is compared with tinygrad_es's. When a gradient is wrong, known mistakes are tried (a sign, the
upstream gradient forgotten, the inputs swapped, the exercise's own trap) for the hint. Last,
``gradcheck`` runs the op through the engine (``Function.apply``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tinygrad_es.autograd import Function, unbroadcast
from tinygrad_es.exercises._report import Problem, Result, close, worst_entry
from tinygrad_es.gradcheck import GradcheckError, floatx_as, gradcheck, numerical_grad
from tinygrad_es.i18n import N_, tr
from tinygrad_es.tensor import Tensor

ATOL, RTOL = 1e-5, 1e-3  # gradcheck's


@dataclass
class BackwardExercise:
    """One backward exercise: the class to write, its inputs, tinygrad_es's forward and traps.

    ``traps`` are known wrong gradients: ``(wrong(arrays, upstream) -> grads, hint)``.
    """

    name: str
    title: str
    class_name: str
    inputs: tuple[str, ...]
    cases: tuple[Callable[[np.random.Generator], tuple[np.ndarray, ...]], ...]
    reference: Callable[..., Tensor]
    traps: tuple[tuple[Callable[..., tuple], str], ...] = ()


def _mae_pair(shape: tuple) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        y_true = rng.uniform(-1, 1, shape)
        # |y_pred - y_true| >= 0.1: finite differences never straddle the kink of |e|
        gap = rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape)
        return y_true, y_true + gap
    return make


def _normal(*shapes: tuple, scale: float = 1.0) -> Callable[..., tuple[np.ndarray, ...]]:
    return lambda rng: tuple(rng.normal(0, scale, s) for s in shapes)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


EXERCISES = {
    "mul": BackwardExercise(
        "mul", N_("backward of Mul (z = x * y)"), "Mul", ("x", "y"),
        (_normal((4, 3), (4, 3)), _normal((2, 3, 2), (2, 3, 2)), _normal((4, 3), (3,))),
        lambda x, y: x * y,
        ((lambda a, g: (g * a[0], g * a[1]),
          N_("each input's gradient uses the OTHER input: dz/dx = y, dz/dy = x")),)),
    "sigmoid": BackwardExercise(
        "sigmoid", N_("backward of Sigmoid (s = 1/(1+e^-x))"), "Sigmoid", ("x",),
        (_normal((5,), scale=2.0), _normal((3, 4), scale=2.0)),
        lambda x: x.sigmoid(),
        ((lambda a, g: (g * a[0] * (1 - a[0]),),
          N_("ds/dx = s(x)·(1 - s(x)) uses the OUTPUT s(x), which forward saved, not the "
             "input x")),
         (lambda a, g: (g * _sigmoid(a[0]),),
          N_("the derivative is s(x)·(1 - s(x)), not s(x)")))),
    "mae": BackwardExercise(
        "mae", N_("backward of the mean absolute error (mean |y_pred - y_true|)"),
        "MeanAbsoluteError", ("y_true", "y_pred"), (_mae_pair((6, 1)), _mae_pair((4, 3))),
        lambda y_true, y_pred: (y_pred - y_true).abs().mean(),
        ((lambda a, g: (-g * np.sign(a[1] - a[0]), g * np.sign(a[1] - a[0])),
          N_("the loss is a MEAN: divide by the number of entries (y_pred.size)")),)),
    "dense": BackwardExercise(
        "dense", N_("backward of a Dense layer (z = x @ W + b)"), "Dense", ("x", "W", "b"),
        (_normal((5, 4), (4, 3), (3,)), _normal((1, 2), (2, 1), (1,))),
        lambda x, w, b: x @ w + b,
        ((lambda a, g: (g @ a[1].T, a[0].T @ g, np.ones(a[2].shape)),
          N_("b's gradient is the upstream gradient summed over the batch: "
             "grad_output.sum(axis=0)")),)),
}


def check_backward(ex: BackwardExercise, solution: Any, seed: int = 0) -> Result:
    """Grade ``solution`` (a ``Function`` subclass) for the backward exercise ``ex``."""
    title = tr(ex.title)
    result = Result(ex.name, title)
    if not (isinstance(solution, type) and issubclass(solution, Function)):
        result.problem = Problem(tr("expected a subclass of Function (class {name}(Function)), "
                                    "received {received!r}", name=ex.class_name,
                                    received=solution))
        return result
    rng = np.random.default_rng(seed)
    cases = [tuple(np.asarray(a, np.float64) for a in make(rng)) for make in ex.cases]
    with floatx_as("float64"):
        for arrays in cases:
            problem = _check_case(ex, solution, arrays, rng)
            if problem is not None:
                result.problem = problem
                return result
        for arrays in cases:  # the same op through the engine, as the course's gradcheck does
            try:
                gradcheck(lambda *t: solution.apply(*t), *arrays, atol=ATOL, rtol=RTOL)
            except GradcheckError as err:
                result.problem = Problem(tr("gradcheck through the engine: {err}", err=err))
                return result
    shapes = "; ".join(" ".join(str(a.shape) for a in arrays) for arrays in cases)
    result.checked = [tr("forward agrees with tinygrad_es's for the shapes {shapes}",
                         shapes=shapes),
                      tr("backward agrees with finite differences for every input ({names}), "
                         "with an upstream gradient that is not all ones",
                         names=", ".join(ex.inputs)),
                      tr("gradcheck passes with {name}.apply through the engine",
                         name=solution.__name__)]
    return result


def _run(solution: type, arrays: tuple[np.ndarray, ...]) -> tuple[Function, np.ndarray]:
    ctx = solution(tuple(Tensor(a) for a in arrays), (True,) * len(arrays))
    return ctx, np.asarray(ctx.forward(*[a.copy() for a in arrays]), dtype=np.float64)


def _check_case(ex: BackwardExercise, solution: type, arrays: tuple[np.ndarray, ...],
                rng: np.random.Generator) -> Problem | None:
    shapes = " ".join(str(a.shape) for a in arrays)
    expected = ex.reference(*[Tensor(a) for a in arrays]).data
    try:
        ctx, out = _run(solution, arrays)
    except Exception as err:  # the student's code: any error is reported, not raised
        return Problem(tr("forward raised {err!r} for inputs of shapes {shapes}", err=err,
                          shapes=shapes))
    if out.shape != expected.shape or not close(out, expected, 1e-12, 1e-9):
        found = worst_entry(out, expected, 1e-12, 1e-9) if out.shape == expected.shape else None
        what = tr("forward gives shape {got}, expected {expected} (inputs of shapes {shapes})",
                  got=out.shape, expected=expected.shape, shapes=shapes)
        if found is not None:
            what = tr("forward is wrong for inputs of shapes {shapes}", shapes=shapes)
            return Problem(what, tr("the template's forward was right: compare yours with it"),
                           found[1], float(expected[found[1]]), float(out[found[1]]))
        return Problem(what, tr("the template's forward was right: compare yours with it"))
    upstream = rng.uniform(0.5, 1.5, out.shape)
    try:
        grads = ctx.backward(upstream.copy())
    except NotImplementedError:
        return Problem(tr("backward is not written yet (it raises NotImplementedError)"),
                       tr("replace the raise with the gradients, one per input: {names}",
                          names=", ".join(ex.inputs)))
    except Exception as err:
        return Problem(tr("backward raised {err!r} for inputs of shapes {shapes}", err=err,
                          shapes=shapes))
    grads = _as_tuple(grads, len(arrays))
    if len(grads) != len(arrays):
        return Problem(tr("backward returned {n} gradients, expected {k} (one per input: "
                          "{names}, in that order)", n=len(grads), k=len(arrays),
                          names=", ".join(ex.inputs)))
    for k, (name, arr, grad) in enumerate(zip(ex.inputs, arrays, grads)):
        if grad is None:
            return Problem(tr("backward returned None for input {k} ({name})", k=k, name=name),
                           tr("every input here needs its gradient"))
        grad = np.asarray(grad, dtype=np.float64)
        if not _reduces_to(grad.shape, arr.shape):
            return Problem(tr("the gradient of input {k} ({name}) has shape {got}, expected "
                              "{expected}, the shape of {name}", k=k, name=name,
                              got=grad.shape, expected=arr.shape),
                           tr("a gradient has the shape of its input"))
        grad = unbroadcast(grad, arr.shape)  # as the engine would (functions.py's contract)

        def scalar(v: np.ndarray, k: int = k) -> float:
            args = tuple(v if j == k else a for j, a in enumerate(arrays))
            return float(np.sum(_run(solution, args)[1] * upstream))

        numeric = numerical_grad(scalar, arr)
        found = worst_entry(grad, numeric, ATOL, RTOL)
        if found is not None:
            bad, index = found
            what = tr("the gradient of input {k} ({name}) is wrong in {bad} of {size} entries "
                      "(inputs of shapes {shapes}; expected = finite differences)", k=k,
                      name=name, bad=bad, size=arr.size, shapes=shapes)
            return Problem(what, _hint(ex, k, grad, numeric, arrays, upstream), index,
                           float(numeric[index]), float(grad[index]))
    return None


def _reduces_to(shape: tuple, target: tuple) -> bool:
    """True when a gradient of ``shape`` sums to ``target`` (``target`` broadcasts to it)."""
    try:
        return np.broadcast_shapes(shape, target) == shape
    except ValueError:
        return False


def _as_tuple(grads: Any, n: int) -> tuple:
    if n == 1 and not isinstance(grads, (tuple, list)):
        return (grads,)
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def _hint(ex: BackwardExercise, k: int, grad: np.ndarray, numeric: np.ndarray,
          arrays: tuple[np.ndarray, ...], upstream: np.ndarray) -> str:
    """The known mistake ``grad`` matches, else the general advice."""
    def matches(candidate: Any) -> bool:
        candidate = unbroadcast(np.broadcast_to(candidate, np.broadcast_shapes(
            np.shape(candidate), arrays[k].shape)).astype(np.float64), arrays[k].shape)
        return close(grad, candidate, ATOL, RTOL)

    if matches(-numeric):
        return tr("a sign error: your gradient is the right one with the opposite sign")
    for wrong, hint in ex.traps:
        if matches(wrong(arrays, upstream)[k]):
            return tr(hint)
    local = ex.reference(*[Tensor(a, requires_grad=True) for a in arrays])
    ones = [Tensor(a, requires_grad=True) for a in arrays]
    ex.reference(*ones).backward(np.ones(local.shape))
    if matches(ones[k].grad):
        return tr("multiply by grad_output: the chain rule is upstream gradient times the local "
                  "derivative")
    for j, other in enumerate(arrays):
        if j != k and other.shape == arrays[k].shape:
            others = [Tensor(a, requires_grad=True) for a in arrays]
            ex.reference(*others).backward(upstream)
            if matches(others[j].grad):
                return tr("that is the gradient of input {j} ({name}): are two of them swapped?",
                          j=j, name=ex.inputs[j])
    return tr("write the derivative on paper first (the exercise file's docstring has the "
              "formula), then work one entry out by hand")
