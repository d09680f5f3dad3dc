"""PyTorch eager and JAX (a ``jax.jit``-compiled step), with Keras's update rule (see
``contenders``). Weights arrive in Keras's layout and are transposed where the framework wants
``(out, in)``.

* PyTorch: ``nn.Linear`` layers; ``L1Loss`` on the sigmoid output, ``CrossEntropyLoss`` on the
  logits with one-hot targets (what Keras computes for a softmax output). SGD and momentum are
  ``torch.optim.SGD`` (its ``b <- mu b + g; w <- w - lr b`` equals Keras's form at a constant rate);
  Adam is :class:`KerasAdam`, the foreach kernels of ``torch.optim.Adam`` in Keras's form, because
  ``torch.optim.Adam`` adds epsilon to ``sqrt(v_hat)`` instead of ``sqrt(v)`` and drifts visibly.
* JAX: the whole step — forward, loss, gradient, update — is one ``jax.jit`` function; batches are
  device arrays prepared once (as a JAX data pipeline would), and ``train`` ends with
  ``jax.block_until_ready``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.contenders import BETA_1, BETA_2, EPSILON, MOMENTUM
from benchmarks.harness import threads
from benchmarks.networks import Network


def import_torch():
    import torch

    torch.set_num_threads(threads())
    try:
        torch.set_num_interop_threads(threads())
    except RuntimeError:      # only settable before the first parallel work
        pass
    return torch


def _keras_adam_class(torch):
    class KerasAdam(torch.optim.Optimizer):
        """Adam with epsilon on sqrt(v) (Keras's form), on torch's multi-tensor kernels."""

        def __init__(self, params, lr: float):
            super().__init__(params, {"lr": lr})
            self.t = 0

        @torch.no_grad()
        def step(self):
            self.t += 1
            lr = self.param_groups[0]["lr"]
            alpha = lr * (1 - BETA_2 ** self.t) ** 0.5 / (1 - BETA_1 ** self.t)
            params = [p for p in self.param_groups[0]["params"] if p.grad is not None]
            for p in params:
                if not self.state[p]:
                    self.state[p] = {"m": torch.zeros_like(p), "v": torch.zeros_like(p)}
            grads = [p.grad for p in params]
            ms = [self.state[p]["m"] for p in params]
            vs = [self.state[p]["v"] for p in params]
            torch._foreach_lerp_(ms, grads, 1 - BETA_1)
            torch._foreach_mul_(vs, BETA_2)
            torch._foreach_addcmul_(vs, grads, grads, 1 - BETA_2)
            denom = torch._foreach_sqrt(vs)
            torch._foreach_add_(denom, EPSILON)
            torch._foreach_addcdiv_(params, ms, denom, -alpha)

    return KerasAdam


class Torch:
    """PyTorch eager: ``zero_grad``, forward, loss, ``backward``, ``step`` per batch."""

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray):
        torch = self.torch = import_torch()
        acts = {"sigmoid": torch.nn.Sigmoid, "selu": torch.nn.SELU, "relu": torch.nn.ReLU}
        weights, layers = net.init_weights(), []
        for i in range(len(net.sizes) - 1):
            lin = torch.nn.Linear(net.sizes[i], net.sizes[i + 1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(weights[2 * i].T.copy()))
                lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
            layers.append(lin)
            if i < len(net.sizes) - 2:
                layers.append(acts[net.hidden]())
        if net.output == "sigmoid":
            layers.append(torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        params = self.model.parameters()
        if net.optimizer == "adam":
            self.opt = _keras_adam_class(torch)(params, lr=net.learning_rate)
        else:
            self.opt = torch.optim.SGD(params, lr=net.learning_rate,
                                       momentum=MOMENTUM if net.optimizer == "momentum" else 0)
        self.loss_fn = torch.nn.L1Loss() if net.output == "sigmoid" else torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.batch = net.batch_size(len(x))

    def train(self, epochs: int) -> None:
        model, opt, loss_fn, x, y, batch = (self.model, self.opt, self.loss_fn, self.x, self.y,
                                            self.batch)
        for _ in range(epochs):
            for b in range(0, len(x), batch):
                opt.zero_grad()
                loss_fn(model(x[b:b + batch]), y[b:b + batch]).backward()
                opt.step()

    def weights(self) -> list[np.ndarray]:
        out = []
        for layer in self.model:
            if isinstance(layer, self.torch.nn.Linear):
                out += [layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy()]
        return out


class Jax:
    """JAX: one ``jax.jit`` step (forward, loss, grad, update), donated buffers."""

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray):
        import jax
        import jax.numpy as jnp

        self.jax = jax
        n_layers, hidden = len(net.sizes) - 1, getattr(jax.nn, net.hidden)
        lr = np.float32(net.learning_rate)

        def loss_fn(params, xb, yb):
            a = xb
            for i in range(n_layers):
                a = a @ params[2 * i] + params[2 * i + 1]
                if i < n_layers - 1:
                    a = hidden(a)
            if net.output == "sigmoid":
                return jnp.mean(jnp.abs(jax.nn.sigmoid(a) - yb))
            return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(a, axis=1), axis=1))

        def step(params, state, xb, yb):
            loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
            if net.optimizer == "sgd":
                return [w - lr * g for w, g in zip(params, grads)], state, loss
            if net.optimizer == "momentum":
                ms = [MOMENTUM * m - lr * g for m, g in zip(state, grads)]
                return [w + m for w, m in zip(params, ms)], ms, loss
            t, ms, vs = state
            t = t + 1
            alpha = lr * jnp.sqrt(1 - BETA_2 ** t) / (1 - BETA_1 ** t)
            ms = [m + (g - m) * (1 - BETA_1) for m, g in zip(ms, grads)]
            vs = [v + (g * g - v) * (1 - BETA_2) for v, g in zip(vs, grads)]
            params = [w - alpha * m / (jnp.sqrt(v) + EPSILON) for w, m, v in zip(params, ms, vs)]
            return params, (t, ms, vs), loss

        self.step = jax.jit(step, donate_argnums=(0, 1))
        self.params = [jnp.asarray(w) for w in net.init_weights()]
        zeros = [jnp.zeros_like(w) for w in self.params]
        self.state = {"sgd": [], "momentum": zeros,
                      "adam": (jnp.float32(0), zeros, [jnp.zeros_like(w) for w in self.params])
                      }[net.optimizer]
        batch = net.batch_size(len(x))
        self.batches = [(jax.device_put(x[b:b + batch]), jax.device_put(y[b:b + batch]))
                        for b in range(0, len(x), batch)]

    def train(self, epochs: int) -> None:
        params, state, step = self.params, self.state, self.step
        for _ in range(epochs):
            for xb, yb in self.batches:
                params, state, _ = step(params, state, xb, yb)
        self.params, self.state = self.jax.block_until_ready((params, state))

    def weights(self) -> list[np.ndarray]:
        return [np.array(w) for w in self.params]
