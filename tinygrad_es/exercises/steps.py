"""The optimizer exercises: one step of SGD with momentum, and of Adam, in Keras's form.

The student's step function runs for several steps on the same gradients as tinygrad_es's
optimizer (step for step identical to Keras's, tested in tests/test_optimizers.py), in float64;
after each step the weights and the optimizer state are compared. When they differ, known
mistakes (PyTorch's form, a sign, epsilon inside the bias correction, ...) are replayed on the
same gradients for the hint. The betas and the momentum are float32 numbers (0.9 as float32
reads 0.8999999761581421): Keras rounds them so, and then the student's arithmetic matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tinygrad_es.exercises._report import Problem, Result, worst_entry
from tinygrad_es.gradcheck import floatx_as
from tinygrad_es.i18n import N_, tr
from tinygrad_es.tensor import Tensor

ATOL, RTOL = 1e-12, 1e-9  # float64; the step's arithmetic may differ in order, not in formula
MU = float(np.float32(0.9))
BETA_1, BETA_2, EPSILON = float(np.float32(0.9)), float(np.float32(0.999)), 1e-7
# The learning rate changes between steps: Keras's momentum form and PyTorch's then differ.
SGD_RATES = (0.1, 0.1, 0.05, 0.05, 0.2, 0.02)
ADAM_RATE, ADAM_STEPS = 0.01, 6


@dataclass
class StepExercise:
    """One optimizer exercise: the function to write, its state's names, the run, the traps."""

    name: str
    title: str
    function_name: str
    state: tuple[str, ...]
    reference: Callable[[list[np.ndarray], np.ndarray], list[tuple[np.ndarray, ...]]]
    student: Callable[[Callable, list[np.ndarray], np.ndarray], list[tuple[np.ndarray, ...]]]
    traps: tuple[tuple[Callable, str], ...]


def _gradients(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    # rows of very different sizes: with tiny gradients epsilon matters in Adam
    scale = np.array([[1.0], [1e-3], [1e-6]])
    return [rng.normal(size=(3, 4)) * scale for _ in range(n)]


# ----- SGD with momentum -----

def _sgd_reference(grads: list[np.ndarray], w0: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    from tinygrad_es.optimizers import SGD

    with floatx_as("float64"):
        w = Tensor(w0.copy(), requires_grad=True)
        opt = SGD(learning_rate=SGD_RATES[0], momentum=MU)
        states = []
        for lr, g in zip(SGD_RATES, grads):
            opt.learning_rate = lr
            opt.apply([g], [w])
            states.append((w.data.copy(), opt.momentums[0].copy()))
    return states


def _sgd_student(step: Callable, grads: list[np.ndarray],
                 w0: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    w, m, states = w0.copy(), np.zeros_like(w0), []
    for lr, g in zip(SGD_RATES, grads):
        w, m = step(w.copy(), g.copy(), m.copy(), learning_rate=lr, momentum=MU)
        w, m = np.asarray(w, np.float64), np.asarray(m, np.float64)
        states.append((w, m))
    return states


def _sgd_pytorch(w, g, m, learning_rate, momentum):
    m = momentum * m + g
    return w - learning_rate * m, m


def _sgd_plus(w, g, m, learning_rate, momentum):
    m = momentum * m + learning_rate * g
    return w + m, m


def _sgd_no_momentum(w, g, m, learning_rate, momentum):
    return w - learning_rate * g, -learning_rate * g


def _sgd_old_buffer(w, g, m, learning_rate, momentum):
    return w + m, momentum * m - learning_rate * g


# ----- Adam -----

def _adam_reference(grads: list[np.ndarray], w0: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    from tinygrad_es.optimizers import Adam

    with floatx_as("float64"):
        w = Tensor(w0.copy(), requires_grad=True)
        opt = Adam(learning_rate=ADAM_RATE, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)
        states = []
        for g in grads:
            opt.apply([g], [w])
            states.append((w.data.copy(), opt.momentums[0].copy(), opt.velocities[0].copy()))
    return states


def _adam_student(step: Callable, grads: list[np.ndarray],
                  w0: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    w, m, v, states = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    for t, g in enumerate(grads, start=1):
        w, m, v = step(w.copy(), g.copy(), m.copy(), v.copy(), t=t, learning_rate=ADAM_RATE,
                       beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)
        states.append(tuple(np.asarray(a, np.float64) for a in (w, m, v)))
    return states


def _adam_textbook(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


def _adam_uncorrected(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v


def _adam_no_square(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - m * alpha / (np.sqrt(np.abs(v)) + epsilon), m, v


EXERCISES = {
    "sgd_momentum": StepExercise(
        "sgd_momentum", N_("SGD with momentum, Keras's form"), "sgd_momentum_step", ("w", "m"),
        _sgd_reference, _sgd_student,
        ((_sgd_pytorch, N_("that is PyTorch's form (m = mu·m + g, w = w - lr·m); Keras keeps "
                           "the learning rate inside the buffer: m = mu·m - lr·g, then w = w + "
                           "m. The two differ when the learning rate changes, as here")),
         (_sgd_plus, N_("a sign error: the step goes against the gradient, m = mu·m - lr·g")),
         (_sgd_no_momentum, N_("the momentum is missing: m = mu·m - lr·g keeps the old "
                               "velocity")),
         (_sgd_old_buffer, N_("update m first, then move w with the NEW m")))),
    "adam": StepExercise(
        "adam", N_("Adam, Keras's form"), "adam_step", ("w", "m", "v"),
        _adam_reference, _adam_student,
        ((_adam_textbook, N_("that is the paper's form, epsilon added to sqrt(v_hat); Keras "
                             "puts the bias correction in the step size, alpha = lr·sqrt(1 - "
                             "beta_2^t)/(1 - beta_1^t), and adds epsilon to sqrt(v) outside it. "
                             "With tiny gradients the two differ a lot")),
         (_adam_uncorrected, N_("the bias correction is missing: alpha = lr·sqrt(1 - "
                                "beta_2^t)/(1 - beta_1^t)")),
         (_adam_no_square, N_("v averages the SQUARED gradient: v = beta_2·v + (1 - "
                              "beta_2)·g²")))),
}


def check_step(ex: StepExercise, solution: Any, seed: int = 0) -> Result:
    """Grade ``solution`` (a step function) for the optimizer exercise ``ex``."""
    result = Result(ex.name, tr(ex.title))
    if not callable(solution):
        result.problem = Problem(tr("expected a function {name}(...), received {received!r}",
                                    name=ex.function_name, received=solution))
        return result
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=(3, 4))
    grads = _gradients(rng, len(SGD_RATES) if ex.name == "sgd_momentum" else ADAM_STEPS)
    expected = ex.reference(grads, w0)
    try:
        got = ex.student(solution, grads, w0)
    except NotImplementedError:
        result.problem = Problem(tr("{name} is not written yet (it raises "
                                    "NotImplementedError)", name=ex.function_name))
        return result
    except Exception as err:  # the student's code: any error is reported, not raised
        result.problem = Problem(tr("{name} raised {err!r}", name=ex.function_name, err=err))
        return result
    for step, (mine, theirs) in enumerate(zip(expected, got), start=1):
        for name, want, have in zip(ex.state, mine, theirs):
            if have.shape != want.shape:
                result.problem = Problem(tr("after step {step}, {name} has shape {got}, expected "
                                            "{expected}", step=step, name=name, got=have.shape,
                                            expected=want.shape))
                return result
            found = worst_entry(have, want, ATOL, RTOL)
            if found is not None:
                result.problem = Problem(
                    tr("after step {step}, {name} differs from tinygrad_es's {opt} in {bad} of "
                       "{size} entries", step=step, name=name, opt=tr(ex.title), bad=found[0],
                       size=want.size),
                    _hint(ex, got, grads, w0), found[1], float(want[found[1]]),
                    float(have[found[1]]))
                return result
    result.checked = [tr("{n} steps from the same weights and gradients as tinygrad_es's "
                         "optimizer (identical to Keras's): {names} agree after every step",
                         n=len(expected), names=", ".join(ex.state))]
    if ex.name == "sgd_momentum":
        result.checked.append(tr("the learning rate changed between steps ({rates})",
                                 rates=", ".join(map(str, SGD_RATES))))
    else:
        result.checked.append(tr("gradients from 1 down to 1e-6, where epsilon matters"))
    return result


def _hint(ex: StepExercise, got: list, grads: list[np.ndarray], w0: np.ndarray) -> str:
    for wrong, hint in ex.traps:
        trap = ex.student(wrong, grads, w0)
        if all(worst_entry(h, t, ATOL, RTOL) is None
               for have, mine in zip(got, trap) for h, t in zip(have[:1], mine[:1])):
            return tr(hint)
    return tr("write the algorithm box of the exercise file's docstring line by line, and "
              "print w after the first step")
