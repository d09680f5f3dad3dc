"""The training benchmark's agreement check (benchmarks/bench_training.py), on the course network.

The benchmark is only worth its table if every contender trains the same network with the same
update rule: these tests run its check for the numpy-based contenders (PyTorch's and JAX's imports
alone would cost seconds; ``python -m benchmarks.bench_training --quick --check-only`` runs them
all), show that a contender with another rule is flagged, and check the hand-written numpy loop's
backward against central differences. No timing is asserted.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # benchmarks/ is not installed

from benchmarks import bench_training, harness  # noqa: E402
from benchmarks.contenders import NumpyLoop, captured_available  # noqa: E402
from benchmarks.networks import NETWORKS  # noqa: E402



@pytest.fixture(scope="module")
def course():
    net = NETWORKS["course"]
    return net, *net.data(True)


# the course net (SGD), iris (Adam) and a narrow version of the big MLP (momentum): every rule
@pytest.mark.parametrize("key, sizes", [("course", None), ("iris", None), ("mlp", (784, 16, 10))])
def test_numpy_based_contenders_agree(key, sizes, capsys):
    net = NETWORKS[key] if sizes is None else dataclasses.replace(NETWORKS[key], sizes=sizes)
    x, y = net.data(True)
    entries = bench_training.set_up(["tg-eager", "tg-captured", "numpy"], net, x, y)
    printed = capsys.readouterr().out
    assert entries["tg-eager"].agrees and "tinygrad_es eager" in printed
    assert entries["numpy"].agrees
    captured = entries["tg-captured"]
    if captured_available():
        assert captured.trainer is not None and captured.agrees
    else:
        assert captured.trainer is None and captured.status.startswith("not available")


def test_a_contender_with_another_update_rule_is_flagged(course):
    net, x, y = course
    ref, other = NumpyLoop(net, x, y), NumpyLoop(dataclasses.replace(net, learning_rate=0.11),
                                                 x, y)
    for trainer in (ref, other):
        trainer.train(net.check_epochs)
    ok, line = harness.agreement("other", net.loss(other.weights(), x, y),
                                 net.loss(ref.weights(), x, y), 0.0, net.rtol)
    assert not ok and "DISAGREES" in line


@pytest.mark.parametrize("key", ["course", "iris", "mlp"])
def test_numpy_loop_gradients_match_central_differences(key):
    small = {"mlp": (3, 4, 2)}.get(key, NETWORKS[key].sizes)      # relu and momentum, small
    net = dataclasses.replace(NETWORKS[key], sizes=small)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, net.sizes[0]))
    y = (np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], 6)] if net.output == "softmax"
         else rng.random((6, 1)))
    loop = NumpyLoop(net, x, y)
    loop.ws = [w.astype(np.float64) + rng.normal(0, 0.1, w.shape) for w in loop.ws]
    grads, h = loop.gradients(x, y), 1e-6
    for w, g in zip(loop.ws, grads):
        numeric = np.zeros_like(w)
        for i in np.ndindex(w.shape):
            old = w[i]
            w[i] = old + h
            up = net.loss(loop.ws, x, y)
            w[i] = old - h
            numeric[i] = (up - net.loss(loop.ws, x, y)) / (2 * h)
            w[i] = old
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


def test_only_picks_networks_and_contenders():
    args = bench_training.parse_args(["--only", "iris,jax", "--quick"])
    assert args.networks == ["iris"] and args.contenders == ["jax", "numpy"]
    assert bench_training.parse_args([]).contenders == list(bench_training.CONTENDER_NAMES)
    with pytest.raises(SystemExit):
        bench_training.parse_args(["--only", "resnet"])
