"""``tinygrad_es.ops`` against ``keras.ops`` on TensorFlow: values, dtypes, shapes and gradients.

Each case is ONE function of the ops module, ``fn(ops, *inputs)``, run once with ``tinygrad_es.ops``
on Tensors and once with ``keras.ops`` on TensorFlow tensors under a ``GradientTape``, in float32
and in float64 (``keras_floatx``). The same non-trivial upstream gradient goes back through both.
Float inputs require a gradient; integer and bool inputs are passed as numpy arrays to both.

The error of one entry is ``|ours - keras| / max(1, |keras|)`` (as tests/test_ops_tf.py: absolute
below 1, relative above); integer and bool results must be equal. The worst error per dtype is
written to ``/tmp/tinygrad_es_ops_keras_parity*.json`` for the closing note.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx

from tinygrad_es import ops
from tinygrad_es.tensor import Tensor


@dataclass(frozen=True)
class Case:
    id: str
    fn: Callable[..., Any]          # (ops module, *inputs) -> tensor or tuple of tensors
    inputs: tuple[np.ndarray, ...]
    grad: bool = True


_RNG = np.random.default_rng(20250601)
CASES: list[Case] = []


def _u(*shape: int, lo: float = -3.0, hi: float = 3.0) -> np.ndarray:
    return _RNG.uniform(lo, hi, size=shape)


def _a(*values: Any) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def case(id: str, fn: Callable, *inputs: Any, grad: bool = True) -> None:
    CASES.append(Case(id, fn, tuple(np.asarray(x) for x in inputs), grad))


# ----- elementwise: arithmetic with broadcasting, Python numbers on either side -----

PAIRS = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,))]
for name in ("add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum"):
    for sa, sb in PAIRS:
        b = _u(*sb, lo=0.5, hi=2.0) if "divide" in name else _u(*sb)
        case(f"{name}{sa}{sb}", lambda o, x, y, n=name: getattr(o, n)(x, y), _u(*sa), b)
case("power(x,y)", lambda o, x, y: o.power(x, y), _u(3, 4, lo=0.3), _u(4))
case("maximum@tie", lambda o, x, y: o.maximum(x, y), _a(1.0, 2.0, -1.0), _a(1.0, 0.0, -1.0))
case("minimum@tie", lambda o, x, y: o.minimum(x, y), _a(1.0, 2.0, -1.0), _a(1.0, 0.0, -1.0))
SCALARS = {
    "add(x,2.5)": lambda o, x: o.add(x, 2.5), "subtract(1,x)": lambda o, x: o.subtract(1, x),
    "multiply(x,2)": lambda o, x: o.multiply(x, 2), "divide(3,x)": lambda o, x: o.divide(3.0, x),
    "power(x,2)": lambda o, x: o.power(x, 2), "power(x,3)": lambda o, x: o.power(x, 3),
    "power(x,0.5)": lambda o, x: o.power(x, 0.5), "power(x,-1.5)": lambda o, x: o.power(x, -1.5),
    "power(2,x)": lambda o, x: o.power(2.0, x), "maximum(x,0)": lambda o, x: o.maximum(x, 0.0),
    "minimum(x,1)": lambda o, x: o.minimum(x, 1),
}
for name, fn in SCALARS.items():
    case(name, fn, _u(3, 4, lo=0.3, hi=3.0))

# ----- elementwise: unary maths -----

UNARY = ["negative", "abs", "absolute", "square", "exp", "tanh"]
for name in UNARY:
    case(name, lambda o, x, n=name: getattr(o, n)(x), _u(3, 4))
    case(f"{name}()", lambda o, x, n=name: getattr(o, n)(x), _u())
for name in ("sqrt", "rsqrt", "log", "log2", "log10", "reciprocal"):
    case(name, lambda o, x, n=name: getattr(o, n)(x), _u(3, 4, lo=0.1))
case("abs@0", lambda o, x: o.abs(x), _a(-1.0, 0.0, 2.0))
for name in ("sign", "floor", "ceil", "round", "isnan", "isfinite", "logical_not"):
    case(name, lambda o, x, n=name: getattr(o, n)(x), _a(-1.5, -0.5, 0.0, 0.5, 2.5, 3.7),
         grad=False)
case("clip", lambda o, x: o.clip(x, -1.0, 1.5), _a(-2.0, -1.0, 0.0, 1.5, 2.0))
case("clip(int bounds)", lambda o, x: o.clip(x, -1, 1), _u(3, 4))
case("clip(array bounds)", lambda o, x: o.clip(x, np.full(4, -1.0), np.full(4, 1.0)),
     _a(-2.0, -1.0, 1.0, 0.5))
COND = _u(3, 4) > 0
case("where", lambda o, x, y: o.where(COND, x, y), _u(3, 4), _u(4))
case("where(x>0,x,0)", lambda o, x: o.where(o.greater(x, 0), x, 0.0), _u(3, 4))
case("where(cond)", lambda o, x: o.where(o.greater(x, 0)), _u(3, 4), grad=False)
for name in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
             "logical_and", "logical_or"):
    case(name, lambda o, x, y, n=name: getattr(o, n)(x, y), np.round(_u(3, 4)), np.round(_u(4)),
         grad=False)

# ----- reductions -----

for name in ("sum", "mean", "max", "min", "var", "std", "amax", "amin", "logsumexp"):
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            case(f"{name}(axis={axis},keepdims={keepdims})",
                 lambda o, x, n=name, a=axis, k=keepdims: getattr(o, n)(x, axis=a, keepdims=k),
                 _u(2, 3, 4))
TIES = _a([1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0], [-5.0, -5.0, -5.0, -5.0])
for name in ("max", "min"):
    for axis in (None, 0, 1):
        case(f"{name}@ties(axis={axis})", lambda o, x, n=name, a=axis: getattr(o, n)(x, axis=a),
             TIES)
for name in ("argmax", "argmin"):
    for axis in (None, 0, 1):
        for keepdims in (False, True):
            case(f"{name}(axis={axis},keepdims={keepdims})",
                 lambda o, x, n=name, a=axis, k=keepdims: getattr(o, n)(x, axis=a, keepdims=k),
                 TIES, grad=False)
for name in ("all", "any"):
    case(name, lambda o, x, n=name: getattr(o, n)(x, axis=1), TIES > 0, grad=False)
case("count_nonzero", lambda o, x: o.count_nonzero(x, axis=0), np.round(_u(3, 4)), grad=False)
for axis in (None, 0, 1, -1):
    case(f"cumsum(axis={axis})", lambda o, x, a=axis: o.cumsum(x, axis=a), _u(3, 5))
case("cumsum(int)", lambda o, x: o.cumsum(x, axis=0), np.arange(6, dtype=np.int32), grad=False)

# ----- creation (no inputs: values and dtypes) -----

CREATE = {
    "ones": lambda o: o.ones((2, 3)), "zeros": lambda o: o.zeros(3),
    "full": lambda o: o.full((2, 2), 3), "full(0.5)": lambda o: o.full((2,), 0.5),
    "ones(int32)": lambda o: o.ones((2,), dtype="int32"),
    "arange(5)": lambda o: o.arange(5), "arange(1,7,2)": lambda o: o.arange(1, 7, 2),
    "arange(0.,1.,0.1)": lambda o: o.arange(0.0, 1.0, 0.1), "arange(3.)": lambda o: o.arange(3.0),
    "arange(5,dtype)": lambda o: o.arange(5, dtype="float32"),
    "linspace(0,1,7)": lambda o: o.linspace(0, 1, 7),
    "linspace(-2,3,5,endpoint=False)": lambda o: o.linspace(-2.0, 3.0, 5, endpoint=False),
    "eye(3)": lambda o: o.eye(3), "eye(2,4)": lambda o: o.eye(2, 4),
    "identity(2)": lambda o: o.identity(2), "tri(3)": lambda o: o.tri(3),
    "tri(2,4,1)": lambda o: o.tri(2, 4, 1), "empty": lambda o: o.empty((2, 3)),
    "one_hot": lambda o: o.one_hot(np.array([0, 2, -1, 3]), 3),
    "one_hot(axis=0)": lambda o: o.one_hot(np.array([[0, 2], [1, 1]]), 3, axis=0),
    "multi_hot": lambda o: o.multi_hot(np.array([[0, 2], [1, 1]]), 4),
}
for name, fn in CREATE.items():
    case(name, fn, grad=False)
for name in ("ones_like", "zeros_like"):
    case(name, lambda o, x, n=name: getattr(o, n)(x), _u(2, 3))
    case(f"{name}(int)", lambda o, x, n=name: getattr(o, n)(x), np.arange(3, dtype=np.int64),
         grad=False)
case("full_like", lambda o, x: o.full_like(x, 2.5), _u(2, 3))
for name in ("tril", "triu"):
    for k in (0, -1, 1):
        case(f"{name}(k={k})", lambda o, x, n=name, k=k: getattr(o, n)(x, k=k), _u(2, 3, 4))

# ----- shape, joining, indexing, sorting -----

MOVE = {
    "reshape": lambda o, x: o.reshape(x, (4, 6)), "reshape(-1)": lambda o, x: o.reshape(x, -1),
    "transpose": lambda o, x: o.transpose(x),
    "transpose(axes)": lambda o, x: o.transpose(x, (1, 2, 0)),
    "expand_dims(1)": lambda o, x: o.expand_dims(x, 1),
    "expand_dims((0,-1))": lambda o, x: o.expand_dims(x, (0, -1)),
    "ravel": lambda o, x: o.ravel(x),
    "broadcast_to": lambda o, x: o.broadcast_to(x[:1], (3, 2, 3, 4)),
    "moveaxis": lambda o, x: o.moveaxis(x, 0, -1), "moveaxis(seq)": lambda o, x: o.moveaxis(
        x, (0, 1), (2, 0)), "swapaxes": lambda o, x: o.swapaxes(x, 0, 2),
    "flip": lambda o, x: o.flip(x), "flip(1)": lambda o, x: o.flip(x, axis=1),
    "get_item": lambda o, x: o.get_item(x, (slice(None), 1)),
    "split(3,axis=1)": lambda o, x: o.split(x, 3, axis=1),
    "split([1,3],axis=2)": lambda o, x: o.split(x, [1, 3], axis=2),
    "unstack": lambda o, x: o.unstack(x), "unstack(axis=1)": lambda o, x: o.unstack(x, axis=1),
    "repeat(2)": lambda o, x: o.repeat(x, 2), "repeat(2,axis=1)": lambda o, x: o.repeat(x, 2, 1),
    "repeat([1,0,2],axis=1)": lambda o, x: o.repeat(x, [1, 0, 2], axis=1),
    "tile((2,1,1))": lambda o, x: o.tile(x, (2, 1, 1)), "tile(2)": lambda o, x: o.tile(x, 2),
    "tile((2,1,1,3))": lambda o, x: o.tile(x, (2, 1, 1, 3)),
    "take": lambda o, x: o.take(x, np.array([0, 5, 5, -1])),
    "take(axis=1)": lambda o, x: o.take(x, np.array([[2, 0], [2, 2]]), axis=1),
    "take(axis=-1)": lambda o, x: o.take(x, np.array([3, -4]), axis=-1),
    "take_along_axis": lambda o, x: o.take_along_axis(x, np.array([[[0, 3]]]), axis=2),
    "take_along_axis(0)": lambda o, x: o.take_along_axis(x, np.zeros((1, 3, 4), int), axis=0),
    "sort": lambda o, x: o.sort(x), "sort(0)": lambda o, x: o.sort(x, axis=0),
    "top_k": lambda o, x: o.top_k(x, 2), "top_k(4)": lambda o, x: o.top_k(x, 4),
}
for name, fn in MOVE.items():
    case(name, fn, _u(2, 3, 4))
case("squeeze", lambda o, x: o.squeeze(x), _u(2, 1, 3, 1))
case("squeeze(1)", lambda o, x: o.squeeze(x, 1), _u(2, 1, 3, 1))
case("squeeze((1,3))", lambda o, x: o.squeeze(x, (1, 3)), _u(2, 1, 3, 1))
case("argsort", lambda o, x: o.argsort(x), _a([3.0, 1.0, 1.0, 2.0], [0.0, 0.0, 0.0, -1.0]),
     grad=False)
case("top_k@ties", lambda o, x: o.top_k(x, 3), _a([3.0, 1.0, 3.0, 3.0]), grad=False)
for axis in (0, 1, -1):
    case(f"concatenate(axis={axis})", lambda o, *xs, a=axis: o.concatenate(xs, axis=a),
         _u(2, 3, 2), _u(2, 3, 2), _u(2, 3, 2))
    case(f"stack(axis={axis})", lambda o, *xs, a=axis: o.stack(xs, axis=a), _u(2, 3), _u(2, 3))
case("hstack", lambda o, a, b: o.hstack([a, b]), _u(2, 1), _u(2, 3))
case("hstack(1-D)", lambda o, a, b: o.hstack([a, b]), _u(2), _u(3))
case("vstack", lambda o, a, b: o.vstack([a, b]), _u(1, 3), _u(2, 3))
case("append", lambda o, a, b: o.append(a, b), _u(2, 2), _u(3))
case("append(axis=0)", lambda o, a, b: o.append(a, b, axis=0), _u(2, 2), _u(1, 2))
case("copy", lambda o, x: o.copy(x), _u(2, 2))
case("array", lambda o, x: o.array(x), _u(2, 2), grad=False)
case("fliplr", lambda o, x: o.fliplr(x), _u(2, 3))
case("flipud", lambda o, x: o.flipud(x), _u(2, 3))
case("nonzero", lambda o, x: o.nonzero(x), np.round(_u(3, 4)), grad=False)
case("divide_no_nan", lambda o, x, y: o.divide_no_nan(x, y), _u(3, 4), _a(0.5, 0.0, -2.0, 0.0))
case("logical_xor", lambda o, x, y: o.logical_xor(x, y), np.round(_u(3, 4)), np.round(_u(4)),
     grad=False)
case("concatenate(sizes)", lambda o, a, b: o.concatenate([a, b], axis=1), _u(2, 1), _u(2, 3))

# ----- products and norms -----

for sa, sb in [((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((5,), (5,)), ((5,), (5, 3)), ((3, 5), (5,)),
               ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3))]:
    case(f"matmul{sa}{sb}", lambda o, x, y: o.matmul(x, y), _u(*sa), _u(*sb))
for sa, sb in [((2, 3), (3, 4)), ((5,), (5,)), ((3, 5), (5,)), ((2, 3, 4), (4,)),
               ((2, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((), (2, 3)), ((2, 3), ())]:
    case(f"dot{sa}{sb}", lambda o, x, y: o.dot(x, y), _u(*sa), _u(*sb))
case("outer", lambda o, x, y: o.outer(x, y), _u(3), _u(2, 2))
case("tensordot(1)", lambda o, x, y: o.tensordot(x, y, axes=1), _u(2, 3), _u(3, 4))
case("tensordot(2)", lambda o, x, y: o.tensordot(x, y, axes=2), _u(2, 3, 4), _u(3, 4, 2))
case("tensordot(pairs)", lambda o, x, y: o.tensordot(x, y, axes=([0, 2], [1, 0])),
     _u(2, 3, 4), _u(4, 2, 5))
for offset in (0, 1, -1):
    case(f"trace(offset={offset})", lambda o, x, k=offset: o.trace(x, offset=k), _u(3, 4))
case("trace(axes 0,2)", lambda o, x: o.trace(x, axis1=0, axis2=2), _u(3, 2, 3))
NORMS = {
    "norm": {}, "norm(axis=1)": dict(axis=1), "norm(axis=0,keepdims)": dict(axis=0, keepdims=True),
    "norm(ord=1,axis=1)": dict(ord=1, axis=1), "norm(ord=inf,axis=1)": dict(ord=np.inf, axis=1),
    "norm(ord=-inf,axis=1)": dict(ord=-np.inf, axis=1), "norm(ord=3,axis=-1)": dict(ord=3, axis=-1),
    "norm(ord=0.5,axis=-1)": dict(ord=0.5, axis=-1), "norm(fro)": dict(ord="fro", axis=(0, 1)),
    "norm(ord=1,matrix)": dict(ord=1, axis=(0, 1)),
    "norm(ord=-1,matrix)": dict(ord=-1, axis=(0, 1)),
    "norm(ord=inf,matrix)": dict(ord=np.inf, axis=(0, 1)),
    "norm(ord=-inf,matrix,keepdims)": dict(ord=-np.inf, axis=(0, 1), keepdims=True),
}
for name, kwargs in NORMS.items():
    case(name, lambda o, x, k=kwargs: o.norm(x, **k), _u(3, 4))
case("norm(ord=0)", lambda o, x: o.norm(x, ord=0, axis=1), np.round(_u(3, 4)), grad=False)

# ----- neural-network ops -----

NN = ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "gelu", "elu", "selu",
      "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "celu", "hard_tanh",
      "hard_shrink", "soft_shrink", "tanh_shrink", "sparse_plus", "squareplus", "sparse_sigmoid"]
KINKS = _a(-7.0, -3.0, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0)
for name in NN:
    case(name, lambda o, x, n=name: getattr(o, n)(x), _u(3, 4))
    case(f"{name}@kinks", lambda o, x, n=name: getattr(o, n)(x), KINKS)
NN_ARGS = {
    "gelu(approximate=False)": lambda o, x: o.gelu(x, approximate=False),
    "elu(alpha=0.5)": lambda o, x: o.elu(x, alpha=0.5),
    "leaky_relu(0.3)": lambda o, x: o.leaky_relu(x, negative_slope=0.3),
    "celu(alpha=2)": lambda o, x: o.celu(x, alpha=2.0),
    "threshold": lambda o, x: o.threshold(x, 0.5, -1.0), "glu": lambda o, x: o.glu(x),
    "sparsemax": lambda o, x: o.sparsemax(x),
    "softmax": lambda o, x: o.softmax(x), "softmax(axis=0)": lambda o, x: o.softmax(x, axis=0),
    "softmax(axis=None)": lambda o, x: o.softmax(x, axis=None),
    "softmax(axis=(0,2))": lambda o, x: o.softmax(x, axis=(0, 2)),
    "log_softmax": lambda o, x: o.log_softmax(x),
    "log_softmax(axis=1)": lambda o, x: o.log_softmax(x, axis=1),
    "log_softmax(axis=None)": lambda o, x: o.log_softmax(x, axis=None),
    "moments(axes=[0])": lambda o, x: o.moments(x, axes=[0]),
    "moments(axes=[0,1],keepdims)": lambda o, x: o.moments(x, axes=[0, 1], keepdims=True),
    "normalize": lambda o, x: o.normalize(x), "normalize(axis=0)": lambda o, x: o.normalize(x, 0),
    "normalize(order=1)": lambda o, x: o.normalize(x, axis=-1, order=1),
}
for name, fn in NN_ARGS.items():
    case(name, fn, _u(2, 3, 4))
case("softmax@extreme", lambda o, x: o.softmax(x), _a([1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]))
case("logsumexp@extreme", lambda o, x: o.logsumexp(x, axis=1),
     _a([1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]))

# ----- core: casts and conversion -----

case("cast(float16->floatx)", lambda o, x: o.cast(o.cast(x, "float16"), o.dtype(x)), _u(3))
case("cast(->float64)", lambda o, x: o.multiply(o.cast(x, "float64"), 3.0), _u(3))
case("cast(->float32)", lambda o, x: o.multiply(o.cast(x, "float32"), 3.0), _u(3))
case("cast(->int32)", lambda o, x: o.cast(x, "int32"), _a(1.7, -1.7, 0.2), grad=False)
case("stop_gradient", lambda o, x: o.multiply(o.stop_gradient(x), x), _u(3))
case("convert_to_tensor", lambda o, x: o.multiply(o.convert_to_tensor(x), 2.0), _u(3))


# ----- the test -----

WORST: dict[str, list] = {"float32": [0.0, ""], "float64": [0.0, ""]}


@pytest.fixture(scope="module", autouse=True)
def _report_worst():
    yield
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    path = f"/tmp/tinygrad_es_ops_keras_parity{'_' + worker if worker else ''}.json"
    with open(path, "w") as f:
        json.dump({dtype: {"error": err, "case": cid} for dtype, (err, cid) in WORST.items()}, f)


def _as_list(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _check(what: str, ours: np.ndarray, ref: np.ndarray, dtype: str, cid: str) -> None:
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{cid} {what}: shape {ours.shape} != Keras's {ref.shape}"
    if ref.dtype.kind in "biu":
        assert np.array_equal(ours, ref), f"{cid} {what}:\nours  {ours}\nkeras {ref}"
        return
    o64, r64 = ours.astype(np.float64), ref.astype(np.float64)
    same = (o64 == r64) | (np.isnan(o64) & np.isnan(r64))  # equal infinities count as equal
    with np.errstate(invalid="ignore"):
        rel = np.abs(o64 - r64) / np.maximum(1.0, np.abs(r64))
    err = float(np.max(np.where(same, 0.0, rel), initial=0.0))
    if err > WORST[dtype][0]:
        WORST[dtype][:] = [err, f"{cid} ({what})"]
    assert err <= PARITY_TOL[dtype], (
        f"{cid} {what} in {dtype}: error {err:.3g} > {PARITY_TOL[dtype]}\n"
        f"ours  {ours}\nkeras {ref}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_matches_keras_ops(tf, keras, c: Case, dtype: str):
    with keras_floatx(keras, dtype):
        xs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in c.inputs]
        floats = [x.dtype.kind == "f" for x in xs]
        leaves = [Tensor(x, requires_grad=c.grad) if f else x for x, f in zip(xs, floats)]
        tf_xs = [tf.constant(x) for x in xs]
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([t for t, f in zip(tf_xs, floats) if f])
            refs = _as_list(c.fn(keras.ops, *tf_xs))
        outs = _as_list(c.fn(ops, *leaves))

        assert len(outs) == len(refs), f"{len(outs)} outputs, Keras has {len(refs)}"
        for k, (out, ref) in enumerate(zip(outs, refs)):
            assert isinstance(out, Tensor), type(out)
            ref = tf.convert_to_tensor(ref)
            assert out.dtype == ref.dtype.as_numpy_dtype, f"output {k}: {out.dtype} != {ref.dtype}"
            _check(f"value {k}", out.data, ref.numpy(), dtype, c.id)
        if not c.grad:
            return

        graded = [(o, r) for o, r in zip(outs, refs) if o.dtype.kind == "f"]
        ups = [np.random.default_rng(zlib.crc32(f"{c.id}{k}".encode())).uniform(
            0.5, 1.5, o.shape).astype(o.dtype) for k, (o, _) in enumerate(graded)]
        ref_grads = tape.gradient([r for _, r in graded], tf_xs,
                                  output_gradients=[tf.constant(u) for u in ups])
        total = None
        for (o, _), u in zip(graded, ups):
            if o.requires_grad:
                term = (o * Tensor(u, dtype=u.dtype)).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
        for k, (leaf, rg) in enumerate(zip(leaves, ref_grads)):
            if not floats[k]:
                continue
            rg = np.zeros_like(xs[k]) if rg is None else tf.convert_to_tensor(rg).numpy()
            g = np.zeros_like(xs[k]) if leaf.grad is None else leaf.grad
            assert g.dtype == np.dtype(dtype)
            _check(f"grad of input {k}", g, rg, dtype, c.id)


# ----- dtypes: Keras's promotion rules on numbers, lists and numpy arrays -----

I32, I64 = np.array([1, 2, 3], np.int32), np.array([4, 5, 6], np.int64)
F32, F64 = np.array([0.5, 1.5, 2.5], np.float32), np.array([0.25, 1.0, 4.0], np.float64)
F16, B = np.array([1.0, 2.0, 3.0], np.float16), np.array([True, False, True])
DTYPE_CASES = {
    "add(1,2)": lambda o: o.add(1, 2), "add(1.0,2)": lambda o: o.add(1.0, 2),
    "add(i32,2.5)": lambda o: o.add(I32, 2.5), "add(i32,2)": lambda o: o.add(I32, 2),
    "add(f32,2.5)": lambda o: o.add(F32, 2.5), "add(f64,1)": lambda o: o.add(F64, 1),
    "add(i64,f32)": lambda o: o.add(I64, F32), "add(i32,i64)": lambda o: o.add(I32, I64),
    "add(b,i32)": lambda o: o.add(B, I32), "add(f16,f32)": lambda o: o.add(F16, F32),
    "add(i64,f16)": lambda o: o.add(I64, F16), "add(f32,f64)": lambda o: o.add(F32, F64),
    "add(b,1)": lambda o: o.add(B, 1), "multiply(b,2.0)": lambda o: o.multiply(B, 2.0),
    "subtract(u8,i8)": lambda o: o.subtract(np.array([3], np.uint8), np.array([1], np.int8)),
    "divide(i32,i32)": lambda o: o.divide(I32, I32), "divide(i64,2)": lambda o: o.divide(I64, 2),
    "power(i32,i32)": lambda o: o.power(I32, I32), "power(i32,0.5)": lambda o: o.power(I32, 0.5),
    "maximum(i32,1.5)": lambda o: o.maximum(I32, 1.5),
    "matmul(i32,i32)": lambda o: o.matmul(I32, I32),
    "dot(i64,i64)": lambda o: o.dot(I64, I64),
    "mean(i32)": lambda o: o.mean(I32), "mean(i64)": lambda o: o.mean(I64),
    "mean(b)": lambda o: o.mean(B), "sum(i32)": lambda o: o.sum(I32), "sum(b)": lambda o: o.sum(B),
    "sum(i64)": lambda o: o.sum(I64), "max(i32)": lambda o: o.max(I32),
    "max(b)": lambda o: o.max(B),
    "var(i32)": lambda o: o.var(I32), "std(i64)": lambda o: o.std(I64),
    "exp(i32)": lambda o: o.exp(I32), "sqrt(i64)": lambda o: o.sqrt(I64),
    "log(i32)": lambda o: o.log(I32), "tanh(i32)": lambda o: o.tanh(I32),
    "abs(i32)": lambda o: o.abs(I32), "abs(b)": lambda o: o.abs(B),
    "square(i64)": lambda o: o.square(I64), "square(b)": lambda o: o.square(B),
    "negative(i32)": lambda o: o.negative(I32), "sign(i32)": lambda o: o.sign(-I32),
    "cumsum(b)": lambda o: o.cumsum(B), "cumsum(i64)": lambda o: o.cumsum(I64),
    "norm(i32)": lambda o: o.norm(I32), "norm(i64)": lambda o: o.norm(I64),
    "argmax(i32)": lambda o: o.argmax(I32), "argsort(f32)": lambda o: o.argsort(F32),
    "clip(i32,0,2)": lambda o: o.clip(I32, 0, 2), "clip(b,0,1)": lambda o: o.clip(B, 0, 1),
    "where(i32,0)": lambda o: o.where(I32 > 1, I32, 0),
    "where(i32,0.5)": lambda o: o.where(I32 > 1, I32, 0.5),
    "where(f64,1)": lambda o: o.where(F64 > 1, F64, 1),
    "concatenate(i32,f32)": lambda o: o.concatenate([I32, F32]),
    "stack(i32,i64)": lambda o: o.stack([I32, I64]),
    "relu(i32)": lambda o: o.relu(F32), "softmax(f64)": lambda o: o.softmax(F64),
    "zeros_like(i32)": lambda o: o.zeros_like(I32), "ones_like(b)": lambda o: o.ones_like(B),
    "ones_like(i32,float32)": lambda o: o.ones_like(I32, dtype="float32"),
    "full_like(i32,2.7)": lambda o: o.full_like(I32, 2.7), "full(3)": lambda o: o.full((2,), 3),
    "arange(0,3,0.5)": lambda o: o.arange(0, 3, 0.5), "arange(2,dtype=int64)":
        lambda o: o.arange(2, dtype="int64"),
    "one_hot(f)": lambda o: o.one_hot(np.array([0.0, 2.0]), 3),
    "one_hot(int32)": lambda o: o.one_hot(I32 - 1, 3, dtype="int32"),
    "convert_to_tensor(1)": lambda o: o.convert_to_tensor(1),
    "convert_to_tensor(1.5)": lambda o: o.convert_to_tensor(1.5),
    "convert_to_tensor(True)": lambda o: o.convert_to_tensor(True),
    "convert_to_tensor([1,2])": lambda o: o.convert_to_tensor([1, 2]),
    "convert_to_tensor([1.,2])": lambda o: o.convert_to_tensor([1.0, 2]),
    "convert_to_tensor(i64)": lambda o: o.convert_to_tensor(I64),
    "convert_to_tensor(f64)": lambda o: o.convert_to_tensor(F64),
    "convert_to_tensor(f64,float32)": lambda o: o.convert_to_tensor(F64, dtype="float32"),
    "convert_to_tensor(np.float64)": lambda o: o.convert_to_tensor(np.float64(2.5)),
    "cast(f32,int32)": lambda o: o.cast(np.array([1.7, -1.7, -0.2], np.float32), "int32"),
    "cast(i32,bool)": lambda o: o.cast(I32 - 2, "bool"),
    "cast(b,float16)": lambda o: o.cast(B, "float16"),
}


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_dtypes_and_values_as_keras(keras, name, floatx):
    fn = DTYPE_CASES[name]
    with keras_floatx(keras, floatx):
        ref = keras.ops.convert_to_numpy(fn(keras.ops))
        out = fn(ops)
        assert isinstance(out, Tensor)
        assert out.dtype == ref.dtype, f"{name}: {out.dtype} != Keras's {ref.dtype}"
        _check("value", out.data, ref, floatx, name)


def test_shape_dtype_and_numpy_as_keras(keras):
    x = np.zeros((2, 3), np.float64)
    assert ops.shape(x) == keras.ops.shape(x) == (2, 3)
    assert ops.dtype(Tensor(x, dtype="float64")) == keras.ops.dtype(keras.ops.convert_to_tensor(x))
    assert ops.ndim(x) == keras.ops.ndim(x) and ops.size(x) == keras.ops.size(x)
    t = Tensor([1.0, 2.0])
    arr = ops.convert_to_numpy(t)
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
    arr[0] = 9.0  # a copy: the tensor is not changed through it
    assert t.data[0] == 1.0
    assert ops.is_tensor(t) and not ops.is_tensor(x)
    assert ops.convert_to_tensor(t) is t


def test_eye_with_an_offset_is_numpy_s():
    # Keras 3.15's TF backend gives eye(2, 4, k=1) the shape (3, 5): we keep numpy's (documented)
    for n, m, k in [(2, 4, 1), (3, 3, -1), (4, 2, 2)]:
        np.testing.assert_array_equal(ops.eye(n, m, k).data, np.eye(n, m, k, dtype=np.float32))


# ----- the graph: ops compose, and errors name the op and what it received -----

def test_a_small_model_in_ops_has_keras_s_gradients(tf, keras):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    labels = np.array([0, 2, 1, 1, 0])

    def loss(o, x, w, b):
        logits = o.add(o.matmul(x, w), b)
        picked = o.take_along_axis(o.log_softmax(logits), labels[:, None], axis=1)
        return o.negative(o.mean(picked)) + 0.1 * o.sum(o.square(w))

    leaves = [Tensor(v, requires_grad=True) for v in (w, b)]
    tf_vars = [tf.Variable(v.astype(np.float32)) for v in (w, b)]
    with tf.GradientTape() as tape:
        ref = loss(keras.ops, x.astype(np.float32), *tf_vars)
    out = loss(ops, x, *leaves)
    out.backward()
    _check("loss", out.data, ref.numpy(), "float32", "model")
    for leaf, g in zip(leaves, tape.gradient(ref, tf_vars)):
        _check("grad", leaf.grad, g.numpy(), "float32", "model")


@pytest.mark.parametrize("call, words", [
    (lambda: ops.sum(np.zeros((2, 3)), axis=2), ["sum", "axis=2", "(2, 3)"]),
    (lambda: ops.argmax(np.zeros(3), axis=1), ["argmax", "axis=1"]),
    (lambda: ops.one_hot([0, 1], 0), ["one_hot", "num_classes", "0"]),
    (lambda: ops.one_hot([0.5], 2), ["one_hot", "integer", "float"]),
    (lambda: ops.take(np.zeros(3), np.array([0.5])), ["take", "integer", "float64"]),
    (lambda: ops.take(np.zeros(3), np.array([3])), ["take", "out of range", "3"]),
    (lambda: ops.take_along_axis(np.zeros((2, 3)), np.array([0]), axis=1),
     ["take_along_axis", "(1,)"]),
    (lambda: ops.norm(np.zeros((2, 2)), ord="nuc"), ["norm", "nuc"]),
    (lambda: ops.norm(np.zeros(2), ord="fro", axis=0), ["norm", "fro"]),
    (lambda: ops.cast(np.zeros(2), "floaty"), ["cast", "floaty"]),
    (lambda: ops.split(np.zeros(5), 2), ["split", "5", "2"]),
    (lambda: ops.clip(np.zeros(2), 1, 0), ["clip", "x_min=1", "x_max=0"]),
    (lambda: ops.where(np.ones(2) > 0, np.ones(2)), ["where", "x1", "x2"]),
    (lambda: ops.matmul(np.zeros((2, 3)), np.zeros((4, 2))), ["MatMul", "(2, 3)", "(4, 2)"]),
    (lambda: ops.add(np.zeros((2, 3)), np.zeros(4)), ["Add", "(2, 3)", "(4,)"]),
    (lambda: ops.ones((2, -1)), ["ones", "(2, -1)"]),
    (lambda: ops.top_k(np.zeros(3), 4), ["top_k", "k=4"]),
    (lambda: ops.moveaxis(np.zeros((2, 3)), 2, 0), ["moveaxis", "source=2"]),
    (lambda: ops.tensordot(np.zeros((2, 3)), np.zeros((2, 3)), axes=1), ["tensordot", "(2, 3)"]),
    (lambda: ops.linspace(0, 1, -1), ["linspace", "num=-1"]),
    (lambda: ops.convert_to_tensor("abc"), ["convert_to_tensor", "abc"]),
])
def test_errors_name_the_op_and_what_it_received(call, words):
    with pytest.raises((ValueError, TypeError, IndexError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
