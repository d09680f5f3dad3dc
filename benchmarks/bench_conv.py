"""Convolution speed side by side: tinygrad_es, Keras fit and PyTorch eager on two small convnets.

tinygrad_es runs eager and captured (when ``compile(jit_compile=True)`` exists); the table gives
ms/epoch and the ratio to tinygrad_es eager (issue 12's conv benchmark).

* digits: 8×8×1 → Conv2D(8, 3, relu) → MaxPooling2D → Flatten → Dense(10, softmax), batch 32, Adam,
  the 1,797 digits (512 with --quick);
* MNIST-sized: 28×28×1 random images → Conv2D(32, 3, relu) → MaxPooling2D → Conv2D(64, 3, relu) →
  MaxPooling2D → Flatten → Dense(10, softmax), batch 64, Adam, 1,024 images (256 with --quick).

Same initial weights (Glorot-uniform, fixed seed), data, batch order and Keras's Adam for all
(``contenders_compiled.KerasAdam`` for PyTorch). PyTorch is NCHW: the images are transposed once
at set-up, the kernels ``(kh, kw, in, out)`` become ``(out, in, kh, kw)``, and the rows of the
Dense kernel are permuted from Keras's (h, w, c) flattening order to PyTorch's (c, h, w), so that
the three compute the same function. The agreement check evaluates every contender's weights
after one epoch with a float64 numpy forward and compares the loss with Keras's (tinygrad_es
eager's when Keras is missing). Threads are pinned as in ``bench_training`` (``--threads``).

Run from the repository root:  ``python -m benchmarks.bench_conv [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402  (no numpy yet: threads are pinned first)

NAMES = {"tg-eager": "tinygrad_es eager", "tg-captured": "tinygrad_es captured",
         "torch": "PyTorch eager", "keras": "Keras fit"}


@dataclass(frozen=True)
class ConvNet:
    key: str
    title: str
    image: int          # square images of this side, one channel
    filters: tuple      # one Conv2D(f, 3, relu) + MaxPooling2D per entry
    batch: int
    samples: tuple      # (full, quick)

    def data(self, quick: bool):
        import numpy as np

        n = self.samples[quick]
        if self.key == "digits":
            from tinygrad_es.datasets import load_digits

            d = load_digits()
            x, labels = d.images[:n, :, :, None] / 16, d.target[:n]
        else:
            rng = np.random.default_rng(0)
            x, labels = rng.random((n, self.image, self.image, 1)), rng.integers(0, 10, n)
        return x.astype(np.float32), np.eye(10, dtype=np.float32)[labels]

    def batch_size(self, n: int) -> int:
        return self.batch

    def flat_shape(self) -> tuple[int, int, int]:
        side = self.image
        for _ in self.filters:
            side = (side - 2) // 2
        return side, side, self.filters[-1]

    def init_weights(self):
        import numpy as np

        rng, out, cin = np.random.default_rng(1), [], 1
        for f in self.filters:
            limit = np.sqrt(6 / (9 * cin + 9 * f))
            out += [rng.uniform(-limit, limit, (3, 3, cin, f)).astype(np.float32),
                    np.zeros(f, np.float32)]
            cin = f
        flat = int(np.prod(self.flat_shape()))
        limit = np.sqrt(6 / (flat + 10))
        return out + [rng.uniform(-limit, limit, (flat, 10)).astype(np.float32),
                      np.zeros(10, np.float32)]

    def loss(self, weights, x, y) -> float:
        """Crossentropy of ``weights`` (Keras's layout) on all of ``x``, float64 numpy."""
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        a = x.astype(np.float64)
        for i in range(len(self.filters)):
            windows = sliding_window_view(a, (3, 3), axis=(1, 2))          # n, h, w, c, 3, 3
            a = np.maximum(np.einsum("nhwcij,ijcf->nhwf", windows, weights[2 * i])
                           + weights[2 * i + 1], 0)
            n, h, w, c = a.shape
            a = a[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max((2, 4))
        z = a.reshape(len(a), -1) @ weights[-2] + weights[-1]
        z -= z.max(1, keepdims=True)
        z -= np.log(np.exp(z).sum(1, keepdims=True))
        return float(-np.mean(np.sum(y * z, axis=1)))


NETS = {"digits": ConvNet("digits", "digits 8×8 convnet, batch 32, Adam", 8, (8,), 32,
                          (1797, 512)),
        "mnist": ConvNet("mnist", "MNIST-sized 28×28 convnet, batch 64, Adam", 28, (32, 64), 64,
                         (1024, 256))}


# ----- contenders -----

def _keras_like(api, net: ConvNet, captured: bool | None):
    layers = [api.Input((net.image, net.image, 1))]
    for f in net.filters:
        layers += [api.layers.Conv2D(f, 3, activation="relu"), api.layers.MaxPooling2D()]
    layers += [api.layers.Flatten(), api.layers.Dense(10, activation="softmax")]
    model = api.Sequential(layers)
    model.set_weights(net.init_weights())
    jit = {} if captured is None else {"jit_compile": captured}
    model.compile(optimizer=api.optimizers.Adam(learning_rate=0.001, epsilon=1e-7),
                  loss="categorical_crossentropy", **jit)
    return model


def tinygrad_es(net, x, y, captured=False):
    import tinygrad_es as tg
    from benchmarks.contenders import _FitTrainer, captured_available

    if captured and not captured_available():
        raise harness.Unavailable("no tinygrad_es.jit in this build: jit_compile is ignored")
    return _FitTrainer(_keras_like(tg, net, captured), net, x, y)


def keras(net, x, y):
    from benchmarks.contenders import _FitTrainer, import_keras

    return _FitTrainer(_keras_like(import_keras(), net, None), net, x, y)


class Torch:
    def __init__(self, net: ConvNet, x, y):
        import numpy as np

        from benchmarks.contenders_compiled import _keras_adam_class, import_torch

        torch = self.torch = import_torch()
        w, layers, cin = net.init_weights(), [], 1
        self.h, self.w_, self.c = net.flat_shape()
        for i, f in enumerate(net.filters):
            conv = torch.nn.Conv2d(cin, f, 3)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(w[2 * i].transpose(3, 2, 0, 1).copy()))
                conv.bias.copy_(torch.from_numpy(w[2 * i + 1]))
            layers += [conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            cin = f
        dense = torch.nn.Linear(int(np.prod(net.flat_shape())), 10)
        kernel = w[-2].reshape(self.h, self.w_, self.c, 10).transpose(2, 0, 1, 3).reshape(-1, 10)
        with torch.no_grad():
            dense.weight.copy_(torch.from_numpy(kernel.T.copy()))
            dense.bias.copy_(torch.from_numpy(w[-1]))
        self.model = torch.nn.Sequential(*layers, torch.nn.Flatten(), dense)
        self.opt = _keras_adam_class(torch)(self.model.parameters(), lr=0.001)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        self.y, self.batch = torch.from_numpy(y), net.batch

    def train(self, epochs: int) -> None:
        for _ in range(epochs):
            for b in range(0, len(self.x), self.batch):
                self.opt.zero_grad()
                self.loss_fn(self.model(self.x[b:b + self.batch]),
                             self.y[b:b + self.batch]).backward()
                self.opt.step()

    def weights(self):
        params = [p.detach().numpy() for p in self.model.parameters()]
        out = []
        for i in range(0, len(params) - 2, 2):
            out += [params[i].transpose(2, 3, 1, 0).copy(), params[i + 1].copy()]
        kernel = params[-2].T.reshape(self.c, self.h, self.w_, 10).transpose(1, 2, 0, 3)
        return out + [kernel.reshape(-1, 10).copy(), params[-1].copy()]


CONTENDERS = {"tg-eager": tinygrad_es,
              "tg-captured": lambda net, x, y: tinygrad_es(net, x, y, captured=True),
              "torch": Torch, "keras": keras}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="less data, shorter samples")
    parser.add_argument("--only", default="", help=f"comma-separated: {','.join(NETS)} / "
                                                   f"{','.join(NAMES)} (tg-eager always runs)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every framework")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 5)")
    parser.add_argument("--rtol", type=float, default=1e-4, help="loss difference that flags")
    args = parser.parse_args(argv)
    harness.pin_threads(args.threads)
    import numpy as np

    only = [t for t in args.only.split(",") if t]
    if any(t not in NETS and t not in NAMES for t in only):
        parser.error(f"--only: choose from {list(NETS)} and {list(NAMES)}, received {only}")
    nets = [k for k in NETS if k in only] or list(NETS)
    who = [k for k in NAMES if k in only or k == "tg-eager"]
    who = who if len(who) > 1 or "tg-eager" in only else list(NAMES)
    repeats, target = args.repeats or (3 if args.quick else 5), 0.05 if args.quick else 0.5
    rows = []
    for key in nets:
        net = NETS[key]
        x, y = net.data(args.quick)
        print(f"\n{net.title}: {len(x)} images, 1 epoch for the check")
        entries, losses = {}, {}
        for name in who:
            entry = entries[name] = harness.Entry()
            try:
                entry.trainer = CONTENDERS[name](net, x, y)
            except ImportError as err:
                entry.status = f"skipped ({err})"
            except harness.Unavailable as err:
                entry.status = f"not available ({err})"
            if not entry.status:
                entry.trainer.train(1)
                losses[name] = (net.loss(entry.trainer.weights(), x, y), entry.trainer.weights())
        ref_name = "keras" if "keras" in losses else "tg-eager"
        ref_loss, ref_w = losses[ref_name]
        for name, entry in entries.items():
            if entry.status:
                print(f"  {NAMES[name]:<22} {entry.status}")
                continue
            got, w = losses[name]
            dw = max(float(np.max(np.abs(a - b))) for a, b in zip(w, ref_w))
            entry.agrees, entry.check = harness.agreement(NAMES[name], got, ref_loss, dw, args.rtol)
            print(entry.check.replace("numpy loop", NAMES[ref_name]))
            harness.calibrate(entry, target, max_epochs=500)
        harness.interleaved(entries, repeats)
        ref_ms = entries["tg-eager"].ms
        rows.append([net.title] + [harness.cell(entries[n], ref_ms) for n in who])
    print(f"\nms per epoch, median of {repeats} interleaved repeats (× = ratio to tinygrad_es "
          "eager; (!) = disagrees)\n")
    print(harness.markdown(["network"] + [NAMES[n] for n in who], rows))
    from benchmarks.bench_training import machine_line

    print("\n" + machine_line(args.threads))
    return {"rows": rows}


if __name__ == "__main__":
    main()
