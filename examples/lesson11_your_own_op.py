"""Lesson 11: your own op. Write a primitive with its forward and its backward, get the backward
wrong on purpose, watch ``gradcheck`` catch it, fix it, and see it in the backward trace.

A primitive is a ``Function`` subclass: ``forward`` works on numpy arrays and saves what
``backward`` needs; ``backward`` receives the gradient of the loss with respect to the output
(``grad_output``) and returns the gradient with respect to the input — the chain rule, one
factor at a time. ``MyOp.apply(x)`` runs it with everything the engine's own ops get: the graph,
broadcasting undone on the gradients, ``no_grad``. The class declares, for the pictures and the
trace, ``elementwise = True`` and its local derivative as a formula (``derivatives``).

``gradcheck(fn, x)`` runs backward and compares it with central differences
(f(x + h) − f(x − h)) / 2h in float64: the wrong backward below forgets the factor (1 − s) and
fails; the fixed one passes.

Run:  python examples/lesson11_your_own_op.py [--lang es]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_es import Tensor
from tinygrad_es.autograd import Function
from tinygrad_es.gradcheck import GradcheckError, gradcheck
from tinygrad_es.i18n import argparse_speaks, language, set_language, tr
from tinygrad_es.viz import trace_backward


class MySigmoidWrong(Function):
    """My sigmoid, with a mistake: s(x) = 1/(1+e⁻ˣ), and (wrongly) ds/dx = s(x)."""

    elementwise = True
    derivatives = ("{z}",)  # what this backward computes: s(x) alone

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        (s,) = self.saved_tensors
        return grad_output * s          # forgot the factor (1 - s)


class MySigmoid(Function):
    """My sigmoid: s(x) = 1/(1+e⁻ˣ).  ds/dx = s(x)(1-s(x))."""

    elementwise = True
    derivatives = ("{z}·(1-{z})",)

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        (s,) = self.saved_tensors
        return grad_output * s * (1 - s)


def check(op: type[Function], x: np.ndarray, lang: str | None = None) -> str | None:
    """None when ``op``'s backward passes gradcheck, else gradcheck's report (in ``lang``:
    gradcheck speaks the current language, so it is switched for the call)."""
    previous = language()
    set_language(lang or previous)
    try:
        gradcheck(lambda t: op.apply(t), x)
    except GradcheckError as err:
        return str(err)
    finally:
        set_language(previous)
    return None


def traced(op: type[Function], values: list[float], lang: str | None = None) -> str:
    """The backward trace of ``L = sum(op(x))`` for named x."""
    x = Tensor(values, requires_grad=True, dtype="float64", name="x")
    s = op.apply(x)
    s.name = "s"
    loss = s.sum()
    loss.name = "L"
    return trace_backward(loss, lang=lang)


def main(lang: str | None = None) -> dict:
    """Check both versions, print the reports and the fixed op's trace.

    Returns:
        ``{"wrong": gradcheck's report, "fixed": None, "trace": the fixed op's trace,
        "grads": {"wrong": x.grad, "fixed": x.grad}}``.
    """
    x = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    result: dict = {"wrong": check(MySigmoidWrong, x, lang), "fixed": check(MySigmoid, x, lang),
                    "grads": {}}
    for key, op in (("wrong", MySigmoidWrong), ("fixed", MySigmoid)):
        t = Tensor(x, requires_grad=True, dtype="float64")
        op.apply(t).sum().backward()
        result["grads"][key] = t.grad
    print(tr("gradcheck on MySigmoidWrong: {report}", lang=lang, report=result["wrong"]))
    print(tr("gradcheck on MySigmoid: passed", lang=lang) if result["fixed"] is None else
          result["fixed"])
    result["trace"] = traced(MySigmoid, [-1.0, 0.5], lang=lang)
    print(result["trace"])
    return result


if __name__ == "__main__":
    with argparse_speaks():  # argparse's own words in the current language too
        parser = argparse.ArgumentParser(
            description=tr("Lesson 11: your own op, checked by gradcheck"))
        parser.add_argument("--lang", choices=("en", "es"),
                            help=tr("language of the reports"))
        args = parser.parse_args()
    main(lang=args.lang)
