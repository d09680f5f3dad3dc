"""Muon (Jordan et al., 2024; Liu et al., 2025, "Muon is Scalable for LLM Training"): momentum
orthogonalised by Newton-Schulz iterations for matrices, AdamW for everything else."""

from __future__ import annotations

import re

import numpy as np

from tinygrad_es.optimizers.base import Optimizer, check_number
from tinygrad_es.tfcast import tf_constant
from tinygrad_es.i18n import tr


def variable_path(variable) -> str:
    """Keras's ``variable.path`` where it exists, else our weight name (``"dense/kernel"``).

    Keras prefixes the model's name (``"sequential/dense/kernel"``); our weights carry only the
    layer's, so a pattern written for Keras should not depend on that first part.
    """
    return getattr(variable, "path", None) or getattr(variable, "name", None) or ""


class Muon(Optimizer):
    r"""Muon: SGD-momentum whose update matrix is replaced by its nearest "orthogonal" matrix.

    .. code-block:: text

        input: lr, momentum mu, nesterov, (a, b, c), ns_steps, rms_rate;   m starts at 0
        for a 2-D variable W (n x k) not excluded:
            m <- m + (g - (1 - mu) m)                       = mu m + g
            G  = g + mu m  if nesterov  else  m
            X  = G (transposed if n > k) / (||G||_F + 1e-7)
            repeat ns_steps times:   A = X X^T;  B = b A + (c A) A;  X = a X + B X
            U  = X (transposed back)                  ~ U_G V_G^T, the orthogonal factor of G
            W <- W - (lr U) * sqrt(max(n, k)) * rms_rate      (no rms factor if rms_rate=None)
        for every other variable (not 2-D, an embedding, or matching exclude_layers):
            the Adam step of :class:`Adam` with lr * adam_lr_ratio, adam_beta_1, adam_beta_2,
            epsilon (slots "momentum" and "velocity")
        weight decay, before the step: w <- w - w * wd * lr, wd = weight_decay on Muon variables,
            adam_weight_decay on Adam variables (either can be None: no decay there)

    As Keras implements it: the Newton-Schulz quintic (a, b, c) = (3.4445, -4.7750, 2.0315) of
    Jordan's reference code, and Moonlight's (Liu et al.) scale ``0.2 sqrt(max(n, k))`` that lets
    Muon share AdamW's learning rate and weight decay. Only exactly 2-D variables take the Muon step
    (the reference code also flattens 4-D convolution kernels; Keras does not). A variable is an
    "embedding" when ``"embedding"`` is in its path; ``exclude_layers`` are regular expressions
    searched in the path (:func:`variable_path`). Keras leaves the rate of the Adam branch at
    ``lr * adam_lr_ratio`` but decays with ``lr``; so does this class.

    Args:
        learning_rate: 0.001 by default.
        adam_beta_1, adam_beta_2, epsilon: Adam's, for the variables that use Adam.
        adam_weight_decay: The decay of the Adam variables (None: none).
        weight_decay: The decay of the Muon variables (None: none).
        exclude_layers: Regular expressions; a variable whose path matches one uses Adam.
        exclude_embeddings: Embedding variables use Adam.
        muon_a, muon_b, muon_c: The Newton-Schulz polynomial.
        adam_lr_ratio: The Adam branch's learning rate is ``learning_rate * adam_lr_ratio``.
        momentum: Muon's momentum mu, in [0, 1).
        ns_steps: Newton-Schulz iterations (an integer >= 0).
        nesterov: Use ``g + mu m`` rather than ``m``.
        rms_rate: Moonlight's RMS-matching factor, or None to leave the update unscaled.
        **kwargs: The options of :class:`Optimizer`.

    Example:
        >>> print(Muon(exclude_layers=["output"]))
        Muon(learning_rate=0.001, exclude_layers=['output'])
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004,
                 exclude_layers=None, exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750,
                 muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1 = check_number("adam_beta_1", adam_beta_1, 0.0, 1.0, high_open=True)
        self.adam_beta_2 = check_number("adam_beta_2", adam_beta_2, 0.0, 1.0, high_open=True)
        self.adam_weight_decay = (None if adam_weight_decay is None
                                  else check_number("adam_weight_decay", adam_weight_decay, 0.0))
        self.epsilon = check_number("epsilon", epsilon, 0.0)
        if isinstance(exclude_layers, str) or not all(
                isinstance(k, str) for k in exclude_layers or ()):
            raise TypeError(tr("Muon: `exclude_layers` must be a list of strings (regular "
                               "expressions), received exclude_layers={exclude_layers!r}",
                               exclude_layers=exclude_layers))
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = bool(exclude_embeddings)
        self.muon_a = check_number("muon_a", muon_a)
        self.muon_b = check_number("muon_b", muon_b)
        self.muon_c = check_number("muon_c", muon_c)
        self.adam_lr_ratio = adam_lr_ratio
        check_number("adam_lr_ratio", adam_lr_ratio, 0.0)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0, high_open=True)
        if (isinstance(ns_steps, bool) or not isinstance(ns_steps, (int, np.integer))
                or ns_steps < 0):
            raise ValueError(tr("Muon: `ns_steps` must be an integer >= 0, received "
                                "ns_steps={ns_steps!r}", ns_steps=ns_steps))
        self.ns_steps = int(ns_steps)
        self.nesterov = bool(nesterov)
        self.rms_rate = None if rms_rate is None else check_number("rms_rate", rms_rate, 0.0)

    def uses_adam(self, variable) -> bool:
        """True when ``variable`` takes the Adam step: not 2-D, an embedding, or excluded."""
        if np.ndim(variable.data) != 2:
            return True
        path = variable_path(variable)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._adam = [self.uses_adam(v) for v in variables]
        self.momentums, self.adam_velocities = [], []
        for variable, adam in zip(variables, self._adam):
            self.momentums.append(self.add_optimizer_variables([variable], "momentum")[0])
            self.adam_velocities.append(
                self.add_optimizer_variables([variable], "velocity")[0] if adam else None)

    def _apply_weight_decay(self, *args, **kwargs):
        """Nothing here: Muon decays in :meth:`update_step`, with one rate per branch."""

    def update_step(self, grad, variable, learning_rate):
        w = variable.data
        i = self._get_variable_index(variable)
        adam = self._adam[i]
        decay = self.adam_weight_decay if adam else self.weight_decay
        if decay is not None and self._use_weight_decay(variable):
            # NOTE: Keras decays every variable before any step; each touches only its own w.
            w -= w * tf_constant(decay, w.dtype) * learning_rate  # NOTE: decay via float32
        if adam:
            self._adam_step(grad, w, learning_rate * self.adam_lr_ratio, self.momentums[i],
                            self.adam_velocities[i])
        else:
            self._muon_step(grad, w, learning_rate, self.momentums[i])

    def _adam_step(self, grad, w, lr, m, v):
        t = w.dtype.type(self.iterations + 1)
        # NOTE: the betas inside beta^t go through float32 (ops.cast), as in Adam.
        beta_1_power = tf_constant(self.adam_beta_1, w.dtype) ** t
        beta_2_power = tf_constant(self.adam_beta_2, w.dtype) ** t
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m += (grad - m) * (1 - self.adam_beta_1)
        v += (np.square(grad) - v) * (1 - self.adam_beta_2)
        w -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def _muon_step(self, grad, w, lr, m):
        m += grad + m * (self.momentum - 1)
        g = grad + self.momentum * m if self.nesterov else m
        update = lr * self.newton_schulz(g)
        if self.rms_rate is not None:
            # NOTE: Keras's sqrt of the integer max(n, k) is computed in floatx.
            update = update * np.sqrt(w.dtype.type(max(w.shape))) * self.rms_rate
        w -= update

    def newton_schulz(self, g: np.ndarray) -> np.ndarray:
        """``ns_steps`` quintic Newton-Schulz iterations towards the orthogonal factor of ``g``.

        The quintic is tuned for speed, not convergence: singular values 6:1 apart both end up
        in about [0.7, 1.2], not at exactly 1.

        Example:
            >>> u = Muon().newton_schulz(np.array([[3.0, 0.0], [0.0, 0.5]]))
            >>> np.round(u, 1)
            array([[0.7, 0. ],
                   [0. , 1. ]])
        """
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = g.shape[-2] > g.shape[-1]
        x = np.swapaxes(g, -1, -2) if tall else g
        # NOTE: TF's Frobenius norm sqrt(sum(x*x)); the sum's order (and BLAS below) set the ulps.
        x = x / (np.sqrt(np.sum(x * x, axis=(-2, -1), keepdims=True)) + 1e-7)
        for _ in range(self.ns_steps):
            A = x @ np.swapaxes(x, -1, -2)
            B = b * A + (c * A) @ A
            x = a * x + B @ x
        return np.swapaxes(x, -1, -2) if tall else x

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
