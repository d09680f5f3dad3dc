"""Every op against real TensorFlow: value and ``GradientTape`` gradient, float32 and float64.

Each case runs the same inputs through our op and its TensorFlow equivalent, backpropagates the same
non-trivial upstream gradient through both, and compares. Cases cover ordinary points, the kinks
(keras-semantics.md section 9: TF's subgradients are the specification) and extreme inputs.

The error of one entry is ``|ours - tf| / max(1, |tf|)``: absolute below 1, relative above (a
float32 ``exp(3) ≈ 20`` has a spacing of 1.9e-6, so a purely absolute 1e-6 would demand bit
equality).
The worst error per dtype is written to ``/tmp/tinygrad_es_tf_parity*.json`` for the closing note.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from conftest import PARITY_TOL

from tinygrad_es import config
from tinygrad_es.tensor import Tensor, concatenate, maximum, minimum, stack, where


@dataclass(frozen=True)
class Case:
    id: str
    ours: Callable[..., Any]           # Tensors -> Tensor
    theirs: Callable[..., Any]         # (tf, *tf tensors) -> tf.Tensor
    inputs: tuple[np.ndarray, ...]
    grad: bool = True                  # False: sign and comparisons (values only)


_RNG = np.random.default_rng(20240521)
CASES: list[Case] = []


def _u(*shape: int, lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
    return _RNG.uniform(lo, hi, size=shape)


def _a(*values: Any) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def case(id: str, ours: Callable, theirs: Callable, *inputs: np.ndarray, grad: bool = True):
    CASES.append(Case(id, ours, theirs, tuple(np.asarray(x, np.float64) for x in inputs), grad))


# ----- binary arithmetic, with broadcasting and Python scalars on either side -----

BINARY = {
    "add": (lambda a, b: a + b, lambda tf, a, b: a + b),
    "sub": (lambda a, b: a - b, lambda tf, a, b: a - b),
    "mul": (lambda a, b: a * b, lambda tf, a, b: a * b),
    "div": (lambda a, b: a / b, lambda tf, a, b: a / b),
    "maximum": (lambda a, b: maximum(a, b), lambda tf, a, b: tf.maximum(a, b)),
    "minimum": (lambda a, b: minimum(a, b), lambda tf, a, b: tf.minimum(a, b)),
}
PAIRS = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,)),
         ((3,), ()), ((), ())]
for name, (ours, theirs) in BINARY.items():
    for sa, sb in PAIRS:
        b = _u(*sb, lo=0.5, hi=2.0) * np.where(_u(*sb) > 0, 1, -1) if name == "div" else _u(*sb)
        case(f"{name}{sa}{sb}", ours, theirs, _u(*sa), b)

SCALAR_SIDE = {
    "2-x": (lambda x: 2.0 - x, lambda tf, x: 2.0 - x),
    "x+3": (lambda x: x + 3, lambda tf, x: x + 3.0),
    "0.5*x": (lambda x: 0.5 * x, lambda tf, x: 0.5 * x),
    "x/3": (lambda x: x / 3, lambda tf, x: x / 3.0),
    "3/x": (lambda x: 3 / x, lambda tf, x: 3.0 / x),
    "x**2": (lambda x: x ** 2, lambda tf, x: tf.pow(x, 2.0)),
    "x**3": (lambda x: x ** 3, lambda tf, x: tf.pow(x, 3.0)),
    "x**0.5": (lambda x: x ** 0.5, lambda tf, x: tf.pow(x, 0.5)),
    "x**-1.5": (lambda x: x ** -1.5, lambda tf, x: tf.pow(x, -1.5)),
    "2**x": (lambda x: 2.0 ** x, lambda tf, x: tf.pow(tf.constant(2.0, x.dtype), x)),
    "x-array": (lambda x: x - np.arange(4.0), lambda tf, x: x - np.arange(4.0)),
    "array*x": (lambda x: np.arange(4.0) * x, lambda tf, x: np.arange(4.0) * x),
    "maximum(x,0)": (lambda x: x.maximum(0.0), lambda tf, x: tf.maximum(x, 0.0)),
}
for name, (ours, theirs) in SCALAR_SIDE.items():
    case(name, ours, theirs, _u(3, 4, lo=0.3, hi=3.0))
case("x**y", lambda a, b: a ** b, lambda tf, a, b: tf.pow(a, b), _u(3, 4, lo=0.3), _u(4))
case("x**y(3,1)(1,4)", lambda a, b: a ** b, lambda tf, a, b: tf.pow(a, b),
     _u(3, 1, lo=0.3), _u(1, 4))

# ----- matmul: 1-D, 2-D, batched, broadcast batches -----


def _tf_matmul(tf, a, b):
    """numpy's matmul semantics in TF: a 1-D operand is a row (left) or a column (right)."""
    out = tf.linalg.matmul(a[None] if a.shape.rank == 1 else a,
                           b[:, None] if b.shape.rank == 1 else b)
    if b.shape.rank == 1:
        out = out[..., 0]
    if a.shape.rank == 1:
        out = out[..., 0, :] if b.shape.rank > 1 else out[0]
    return out


for sa, sb in [((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((5,), (5,)), ((5,), (5, 3)), ((3, 5), (5,)),
               ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
               ((1, 3, 4), (2, 4, 2))]:
    case(f"matmul{sa}{sb}", lambda a, b: a @ b, _tf_matmul, _u(*sa), _u(*sb))
for sx in [(5, 3), (2, 5, 3), (3,)]:  # Linear: Keras's Dense is matmul then bias add
    case(f"linear{sx}", lambda x, w, b: x.linear(w, b),
         lambda tf, x, w, b: tf.nn.bias_add(_tf_matmul(tf, x, w)[None] if len(sx) == 1
                                            else _tf_matmul(tf, x, w), b)[0 if len(sx) == 1
                                                                            else slice(None)],
         _u(*sx), _u(3, 4), _u(4))
for sz in [(5, 4), (2, 3, 4)]:  # Keras's crossentropy on logits: one TF kernel, one op here
    _labels = np.random.default_rng(len(sz)).dirichlet(np.ones(4), size=sz[:-1])
    case(f"softmax_cross_entropy{sz}", lambda z, y=_labels: z.softmax_cross_entropy(y),
         lambda tf, z, y=_labels: tf.nn.softmax_cross_entropy_with_logits(tf.constant(y, z.dtype),
                                                                           z),
         _u(*sz, lo=-8.0, hi=8.0))
# Multi-hot rows (sums 0 to 4, the functional API guide's ticket targets): TF back-propagates
# softmax - y whatever the rows sum to.
_multi_hot = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0], [0, 0, 1, 1]], float)
case("softmax_cross_entropy_multi_hot", lambda z: z.softmax_cross_entropy(_multi_hot),
     lambda tf, z: tf.nn.softmax_cross_entropy_with_logits(tf.constant(_multi_hot, z.dtype), z),
     _u(5, 4, lo=-8.0, hi=8.0))
case("ndarray@x", lambda x: np.arange(6.0).reshape(2, 3) @ x,
     lambda tf, x: tf.constant(np.arange(6.0).reshape(2, 3), x.dtype) @ x, _u(3, 4))

# ----- unary math and activations -----

UNARY = {
    "neg": (lambda x: -x, lambda tf, x: -x),
    "exp": (lambda x: x.exp(), lambda tf, x: tf.exp(x)),
    "square": (lambda x: x.square(), lambda tf, x: tf.square(x)),
    "abs": (lambda x: x.abs(), lambda tf, x: tf.abs(x)),
    "clip": (lambda x: x.clip(-1.0, 1.5), lambda tf, x: tf.clip_by_value(x, -1.0, 1.5)),
    "relu": (lambda x: x.relu(), lambda tf, x: tf.nn.relu(x)),
    "relu6": (lambda x: x.relu6(), lambda tf, x: tf.nn.relu6(x)),
    "leaky_relu": (lambda x: x.leaky_relu(), lambda tf, x: tf.nn.leaky_relu(x, alpha=0.2)),
    "leaky_relu(0.3)": (lambda x: x.leaky_relu(0.3),
                        lambda tf, x: tf.nn.leaky_relu(x, alpha=0.3)),
    "sigmoid": (lambda x: x.sigmoid(), lambda tf, x: tf.math.sigmoid(x)),
    "tanh": (lambda x: x.tanh(), lambda tf, x: tf.math.tanh(x)),
    "selu": (lambda x: x.selu(), lambda tf, x: tf.nn.selu(x)),
    "elu": (lambda x: x.elu(), lambda tf, x: tf.nn.elu(x)),
    # Keras's elu(alpha != 1): where(x > 0, elu(x), alpha * elu(x)).
    "elu(0.5)": (lambda x: x.elu(0.5),
                 lambda tf, x: tf.where(x > 0, tf.nn.elu(x), 0.5 * tf.nn.elu(x))),
    "softplus": (lambda x: x.softplus(), lambda tf, x: tf.math.softplus(x)),
    "softsign": (lambda x: x.softsign(), lambda tf, x: tf.nn.softsign(x)),
    "silu": (lambda x: x.silu(), lambda tf, x: tf.nn.silu(x)),
    "swish": (lambda x: x.swish(), lambda tf, x: tf.nn.silu(x)),
    "gelu": (lambda x: x.gelu(), lambda tf, x: tf.nn.gelu(x, approximate=False)),
    "gelu(approx)": (lambda x: x.gelu(approximate=True),
                     lambda tf, x: tf.nn.gelu(x, approximate=True)),
    "softmax": (lambda x: x.softmax(), lambda tf, x: tf.nn.softmax(x)),
    "softmax(axis=0)": (lambda x: x.softmax(axis=0), lambda tf, x: tf.nn.softmax(x, axis=0)),
    "log_softmax": (lambda x: x.log_softmax(), lambda tf, x: tf.nn.log_softmax(x)),
    "log_softmax(axis=0)": (lambda x: x.log_softmax(axis=0),
                            lambda tf, x: tf.nn.log_softmax(x, axis=0)),
}
for name, (ours, theirs) in UNARY.items():
    case(name, ours, theirs, _u(3, 4))
    if name not in ("softmax", "log_softmax", "softmax(axis=0)", "log_softmax(axis=0)"):
        case(f"{name}()", ours, theirs, _u())  # a 0-d tensor
case("log", lambda x: x.log(), lambda tf, x: tf.math.log(x), _u(3, 4, lo=0.1))
case("sqrt", lambda x: x.sqrt(), lambda tf, x: tf.sqrt(x), _u(3, 4, lo=0.1))

# The kinks: TensorFlow's subgradients (keras-semantics.md section 9).
KINK = _a(-2.0, -1.0, 0.0, 0.0, 1.0, 6.0, 7.0)
for name in ("abs", "relu", "relu6", "leaky_relu", "leaky_relu(0.3)", "elu", "elu(0.5)", "selu",
             "softsign", "gelu", "gelu(approx)", "silu", "softplus", "sigmoid",
             "maximum(x,0)"):
    ours, theirs = {**UNARY, **SCALAR_SIDE}[name]
    case(f"{name}@kinks", ours, theirs, KINK)
case("clip@bounds", *UNARY["clip"][:2], _a(-2.0, -1.0, 0.0, 1.5, 2.0))
case("maximum@tie", *BINARY["maximum"], _a(1.0, 2.0, 3.0, -1.0), _a(1.0, 0.0, 3.0, -1.0))
case("minimum@tie", *BINARY["minimum"], _a(1.0, 2.0, 3.0, -1.0), _a(1.0, 0.0, 3.0, -1.0))
case("x**y@base0", lambda a, b: a ** b, lambda tf, a, b: tf.pow(a, b),
     _a(0.0, 0.0, -2.0, 2.0), _a(2.0, 1.0, 3.0, 0.5))

# Extreme inputs: stable formulas stay finite and agree with TF (|x| up to 1e4).
EXTREME = _a(-1e4, -800.0, -100.0, -20.0, -1e-8, 0.0, 1e-8, 20.0, 100.0, 800.0, 1e4)
for name in ("sigmoid", "softplus", "tanh", "silu", "selu", "elu", "softsign", "gelu",
             "gelu(approx)", "softmax", "log_softmax", "relu", "leaky_relu"):
    case(f"{name}@extreme", *UNARY[name][:2], EXTREME)
case("softmax@extreme-rows", *UNARY["softmax"][:2], _a([1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]))
case("log_softmax@extreme-rows", *UNARY["log_softmax"][:2],
     _a([1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]))

# ----- reductions -----

REDUCE = {
    "sum": ("reduce_sum", lambda x, **k: x.sum(**k)),
    "mean": ("reduce_mean", lambda x, **k: x.mean(**k)),
    "max": ("reduce_max", lambda x, **k: x.max(**k)),
    "min": ("reduce_min", lambda x, **k: x.min(**k)),
    "var": ("reduce_variance", lambda x, **k: x.var(**k)),
    "std": ("reduce_std", lambda x, **k: x.std(**k)),
}


def _reduction(name: str, axis: Any, keepdims: bool):
    tf_name, ours = REDUCE[name]

    def theirs(tf, x):
        return getattr(tf.math, tf_name)(x, axis=axis, keepdims=keepdims)

    return (lambda x: ours(x, axis=axis, keepdims=keepdims)), theirs


TIES = _a([1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0], [-5.0, -5.0, -5.0, -5.0])
for name in REDUCE:
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            case(f"{name}(axis={axis},keepdims={keepdims})", *_reduction(name, axis, keepdims),
                 _u(2, 3, 4))
    if name in ("max", "min"):  # ties share the gradient equally, as TF does
        for axis in (None, 0, 1):
            case(f"{name}@ties(axis={axis})", *_reduction(name, axis, False), TIES)
case("sum(0-d)", lambda x: x.sum(), lambda tf, x: tf.reduce_sum(x), _u())

# ----- movement, indexing, joining -----

MOVE = {
    "reshape": (lambda x: x.reshape(4, 6), lambda tf, x: tf.reshape(x, (4, 6))),
    "reshape(-1)": (lambda x: x.reshape(-1), lambda tf, x: tf.reshape(x, (-1,))),
    "transpose": (lambda x: x.transpose(), lambda tf, x: tf.transpose(x)),
    "transpose(1,2,0)": (lambda x: x.transpose(1, 2, 0), lambda tf, x: tf.transpose(x, (1, 2, 0))),
    ".T": (lambda x: x.T, lambda tf, x: tf.transpose(x)),
    "expand_dims(1)": (lambda x: x.expand_dims(1), lambda tf, x: tf.expand_dims(x, 1)),
    "expand_dims(-1)": (lambda x: x.expand_dims(-1), lambda tf, x: tf.expand_dims(x, -1)),
    "flatten": (lambda x: x.flatten(), lambda tf, x: tf.reshape(x, (-1,))),
    "flatten(1)": (lambda x: x.flatten(1), lambda tf, x: tf.reshape(x, (2, -1))),
    "broadcast_to": (lambda x: x[:1].broadcast_to((3, 2, 3, 4)),
                     lambda tf, x: tf.broadcast_to(x[:1], (3, 2, 3, 4))),
    "x[1]": (lambda x: x[1], lambda tf, x: x[1]),
    "x[:,1:3]": (lambda x: x[:, 1:3], lambda tf, x: x[:, 1:3]),
    "x[::-1,:,::2]": (lambda x: x[::-1, :, ::2], lambda tf, x: x[::-1, :, ::2]),
    "x[...,-1]": (lambda x: x[..., -1], lambda tf, x: x[..., -1]),
    "x[:,None,0]": (lambda x: x[:, None, 0], lambda tf, x: x[:, None, 0]),
    "x[[1,0,1]]": (lambda x: x[[1, 0, 1]], lambda tf, x: tf.gather(x, [1, 0, 1])),
    "x[:,[2,2,0,2]]": (lambda x: x[:, [2, 2, 0, 2]],
                       lambda tf, x: tf.gather(x, [2, 2, 0, 2], axis=1)),
    "x[ndarray]": (lambda x: x[np.array([0, 0, 1])], lambda tf, x: tf.gather(x, [0, 0, 1])),
    "x[Tensor]": (lambda x: x[Tensor([1.0, 1.0])], lambda tf, x: tf.gather(x, [1, 1])),
    "x[[0,1,1],[2,0,2]]": (lambda x: x[[0, 1, 1], [2, 0, 2]],
                           lambda tf, x: tf.gather_nd(x, [[0, 2], [1, 0], [1, 2]])),
    "x[x>0]": (lambda x: x[x > 0], lambda tf, x: tf.boolean_mask(x, x > 0)),
}
for name, (ours, theirs) in MOVE.items():
    case(name, ours, theirs, _u(2, 3, 4))
case("squeeze", lambda x: x.squeeze(), lambda tf, x: tf.squeeze(x), _u(2, 1, 3, 1))
case("squeeze(1)", lambda x: x.squeeze(1), lambda tf, x: tf.squeeze(x, 1), _u(2, 1, 3, 1))
for axis in (0, 1, -1):
    case(f"concatenate(axis={axis})", lambda *xs, axis=axis: concatenate(xs, axis=axis),
         lambda tf, *xs, axis=axis: tf.concat(xs, axis=axis),
         _u(2, 3, 2), _u(2, 3, 2), _u(2, 3, 2))
case("concatenate(sizes)", lambda a, b: concatenate([a, b], axis=1),
     lambda tf, a, b: tf.concat([a, b], axis=1), _u(2, 1), _u(2, 3))
for axis in (0, 1, -1):
    case(f"stack(axis={axis})", lambda *xs, axis=axis: stack(xs, axis=axis),
         lambda tf, *xs, axis=axis: tf.stack(xs, axis=axis), _u(2, 3), _u(2, 3), _u(2, 3))
COND = _u(3, 4) > 0
case("where", lambda a, b: where(COND, a, b), lambda tf, a, b: tf.where(COND, a, b),
     _u(3, 4), _u(4))
case("where(x>0,x,0.0)", lambda x: where(x > 0, x, 0.0),
     lambda tf, x: tf.where(x > 0, x, tf.zeros_like(x)), _u(3, 4))
case("where(Tensor cond)", lambda a, b: where(a > b, a, b), lambda tf, a, b: tf.where(a > b, a, b),
     _u(3, 1), _u(1, 4))

# ----- no gradient: sign and comparisons -----

NOGRAD = {
    "sign": (lambda x: x.sign(), lambda tf, x: tf.sign(x)),
    "<": (lambda x: x < 0.5, lambda tf, x: x < 0.5),
    "<=": (lambda x: x <= 0.0, lambda tf, x: x <= 0.0),
    ">": (lambda x: x > x[0], lambda tf, x: x > x[0]),
    ">=": (lambda x: x >= 0.0, lambda tf, x: x >= 0.0),
    "==": (lambda x: x == 0.0, lambda tf, x: tf.equal(x, 0.0)),
    "!=": (lambda x: x != 0.0, lambda tf, x: tf.not_equal(x, 0.0)),
}
for name, (ours, theirs) in NOGRAD.items():
    case(name, ours, theirs, np.where(_u(3, 4) > 1, 0.0, _u(3, 4)), grad=False)


# ----- the test -----

WORST: dict[str, list] = {"float32": [0.0, ""], "float64": [0.0, ""]}


@pytest.fixture(scope="module", autouse=True)
def _report_worst():
    yield
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    path = f"/tmp/tinygrad_es_tf_parity{'_' + worker if worker else ''}.json"
    with open(path, "w") as f:
        json.dump({dtype: {"error": err, "case": cid} for dtype, (err, cid) in WORST.items()}, f)


def _error(ours: np.ndarray, ref: np.ndarray) -> float:
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"shape {ours.shape} != TF's {ref.shape}"
    if ours.size == 0:
        return 0.0
    return float(np.max(np.abs(ours - ref) / np.maximum(1.0, np.abs(ref))))


def _check(what: str, ours: np.ndarray, ref: np.ndarray, dtype: str, cid: str) -> None:
    err = _error(ours, ref)
    if err > WORST[dtype][0]:
        WORST[dtype][:] = [err, f"{cid} ({what})"]
    assert err <= PARITY_TOL[dtype], (
        f"{cid} {what} in {dtype}: error {err:.3g} > {PARITY_TOL[dtype]}\nours {ours}\ntf   {ref}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_matches_tensorflow(tf, c: Case, dtype: str):
    config.set_floatx(dtype)
    xs = [x.astype(dtype) for x in c.inputs]
    leaves = [Tensor(x, requires_grad=c.grad) for x in xs]
    tf_xs = [tf.constant(x) for x in xs]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(tf_xs)
        ref = c.theirs(tf, *tf_xs)
    out = c.ours(*leaves)

    assert out.shape == tuple(ref.shape)
    assert out.dtype == (np.dtype(dtype) if c.grad else ref.dtype.as_numpy_dtype)
    _check("value", out.data, ref.numpy(), dtype, c.id)
    if not c.grad:
        assert not out.requires_grad
        return

    up = np.random.default_rng(zlib.crc32(c.id.encode())).uniform(0.5, 1.5, out.shape)
    up = up.astype(dtype)
    ref_grads = tape.gradient(ref, tf_xs, output_gradients=tf.constant(up))
    out.backward(up)
    for k, (leaf, rg) in enumerate(zip(leaves, ref_grads)):
        rg = np.zeros_like(xs[k]) if rg is None else tf.convert_to_tensor(rg).numpy()
        g = np.zeros_like(xs[k]) if leaf.grad is None else leaf.grad
        assert g.dtype == np.dtype(dtype)
        _check(f"grad of input {k}", g, rg, dtype, c.id)
