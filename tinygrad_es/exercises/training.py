"""The training exercise: train the course's network by hand (forward, loss, backward, update).

The student's ``train(params, x, y, epochs, learning_rate)`` runs from the course's starting
weights (``course.init_params()``, float64) and is compared, epoch by epoch, with tinygrad_es's
``fit`` of the same network (``course.build_model``, ``SGD``, full batch, no shuffle) in float64:
the loss of every epoch and the 10 weights at the end. Known mistakes (gradients not reset, a
step up the gradient, the loss recorded after the update) are replayed for the hint.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from tinygrad_es import course
from tinygrad_es.autograd import no_grad
from tinygrad_es.exercises._report import Problem, Result, worst_entry
from tinygrad_es.gradcheck import floatx_as
from tinygrad_es.i18n import N_, tr
from tinygrad_es.tensor import Tensor

TITLE = N_("train the course's network by hand")
EPOCHS, LEARNING_RATE = 5, 0.1   # a larger rate than the course's 0.001: the steps show
ATOL, RTOL = 1e-12, 1e-9         # float64; fit's matmuls add in another order than scalars


def _reference() -> tuple[list[float], dict[str, float]]:
    from tinygrad_es.optimizers import SGD

    with floatx_as("float64"):
        x, y = course.iris_data("float64")
        model = course.build_model(dtype="float64")
        model.compile(optimizer=SGD(learning_rate=LEARNING_RATE), loss="mae")
        history = model.fit(x, y, epochs=EPOCHS, batch_size=len(x), shuffle=False, verbose=0)
        weights = course.params_from_weights(model.get_weights())
    return ([float(v) for v in history.history["loss"]],
            {n: float(weights[n].data) for n in course.PARAM_NAMES})


def _run(train: Callable) -> tuple[list[float], dict[str, float]]:
    with floatx_as("float64"):
        params = course.init_params()
        x, y = (Tensor(a, name=n) for a, n in zip(course.iris_data("float64"), "xy"))
        losses = train(params, x, y, epochs=EPOCHS, learning_rate=LEARNING_RATE)
    return ([float(v) for v in losses], {n: float(params[n].data) for n in course.PARAM_NAMES})


def _trap(reset: bool = True, sign: float = -1.0, after: bool = False) -> Callable:
    def train(params, x, y, epochs, learning_rate):
        losses = []
        for _ in range(epochs):
            if reset:
                for w in params.values():
                    w.grad = None
            loss = course.loss(params, x, y)
            loss.backward()
            with no_grad():
                for w in params.values():
                    w.data += sign * learning_rate * w.grad
            losses.append(float(course.loss(params, x, y).data if after else loss.data))
        return losses
    return train


TRAPS = ((_trap(reset=False), N_("the gradients add up from one epoch to the next: set each "
                                 "w.grad = None before backward()")),
         (_trap(sign=+1.0), N_("the step goes up the gradient: w ← w - lr·∂L/∂w")),
         (_trap(after=True), N_("record the loss of the forward pass, before the update (as "
                                "Keras's History does)")))


def check_training(solution: Any) -> Result:
    """Grade ``solution`` (a ``train`` function) for the training exercise."""
    result = Result("train", tr(TITLE))
    if not callable(solution):
        result.problem = Problem(tr("expected a function {name}(...), received {received!r}",
                                    name="train", received=solution))
        return result
    want_losses, want_weights = _reference()
    try:
        losses, weights = _run(solution)
    except NotImplementedError:
        result.problem = Problem(tr("{name} is not written yet (it raises "
                                    "NotImplementedError)", name="train"))
        return result
    except Exception as err:  # the student's code: any error is reported, not raised
        result.problem = Problem(tr("{name} raised {err!r}", name="train", err=err))
        return result
    if len(losses) != EPOCHS:
        result.problem = Problem(tr("train returned {n} losses, expected {k} (one per epoch)",
                                    n=len(losses), k=EPOCHS))
        return result
    for epoch, (want, got) in enumerate(zip(want_losses, losses)):  # the first that differs
        if worst_entry(got, want, ATOL, RTOL) is not None:
            result.problem = Problem(tr("the loss of epoch {epoch} differs from tinygrad_es's "
                                        "fit", epoch=epoch + 1), _hint(losses), (), want, got)
            return result
    for name in course.PARAM_NAMES:
        if worst_entry(weights[name], want_weights[name], ATOL, RTOL) is not None:
            result.problem = Problem(tr("after training, {name} differs from tinygrad_es's fit",
                                        name=name), _hint(losses), (),
                                     want_weights[name], weights[name])
            return result
    result.checked = [tr("{n} epochs of full-batch SGD (learning rate {lr}) from the course's "
                         "starting weights: every epoch's loss and the 10 final weights agree "
                         "with tinygrad_es's fit", n=EPOCHS, lr=LEARNING_RATE)]
    return result


def _hint(losses: list[float]) -> str:
    for wrong, hint in TRAPS:
        trap, _ = _run(wrong)
        if worst_entry(np.array(losses), np.array(trap), ATOL, RTOL) is None:
            return tr(hint)
    return tr("each epoch: reset the gradients, forward and loss, backward(), then w ← w - "
              "lr·w.grad inside no_grad()")
