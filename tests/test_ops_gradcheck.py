"""Every op: forward against numpy, backward against finite differences (``gradcheck``, float64).

A table of shapes including broadcasting pairs, 0-d tensors and batched matmul, then hypothesis for
shapes and values. ``gradcheck`` contracts the output with a random upstream gradient in
[0.5, 1.5], so every output entry counts. Kinked ops are checked away from their kinks here; the
value of the gradient *at* a kink is TensorFlow's, checked in ``test_ops_tf.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_es.gradcheck import gradcheck
from tinygrad_es.tensor import Tensor, concatenate, maximum, minimum, stack, where

F64 = np.float64
HYP = settings(max_examples=12, deadline=None)
_RNG = np.random.default_rng(7)

# Constants TF rounds through float32 even in float64 (keras-semantics.md sections 3 and 8.2).
SQRT_HALF_F32 = float(np.float32(1 / math.sqrt(2)))
GELU_C_F32 = float(np.float32(0.044715))
SLOPE_F32 = float(np.float32(0.2))
SELU_SCALE, SELU_SCALE_ALPHA = 1.0507009873554804934, 1.7580993408473768599
_erf = np.vectorize(math.erf, otypes=[F64])


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name: (ours, numpy reference, (lo, hi) of the test values, kinks to keep away from)
UNARY = {
    "neg": (lambda t: -t, lambda x: -x, (-3, 3), ()),
    "exp": (Tensor.exp, np.exp, (-3, 3), ()),
    "log": (Tensor.log, np.log, (0.1, 4), ()),
    "sqrt": (Tensor.sqrt, np.sqrt, (0.1, 4), ()),
    "square": (Tensor.square, np.square, (-3, 3), ()),
    "x**3": (lambda t: t ** 3, lambda x: x ** 3, (-3, 3), ()),
    "x**-0.5": (lambda t: t ** -0.5, lambda x: x ** -0.5, (0.2, 4), ()),
    "2**x": (lambda t: 2.0 ** t, lambda x: 2.0 ** x, (-3, 3), ()),
    "3-x": (lambda t: 3.0 - t, lambda x: 3.0 - x, (-3, 3), ()),
    "2/x": (lambda t: 2 / t, lambda x: 2 / x, (0.2, 3), ()),
    "abs": (Tensor.abs, np.abs, (-3, 3), (0,)),
    "clip": (lambda t: t.clip(-1, 2), lambda x: np.clip(x, -1, 2), (-3, 3), (-1, 2)),
    "relu": (Tensor.relu, lambda x: np.maximum(x, 0), (-3, 3), (0,)),
    "relu6": (Tensor.relu6, lambda x: np.clip(x, 0, 6), (-2, 8), (0, 6)),
    "leaky_relu": (Tensor.leaky_relu, lambda x: np.where(x > 0, x, SLOPE_F32 * x), (-3, 3), (0,)),
    "sigmoid": (Tensor.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-6, 6), ()),
    "tanh": (Tensor.tanh, np.tanh, (-3, 3), ()),
    "selu": (Tensor.selu, lambda x: np.where(x > 0, SELU_SCALE * x,
                                             SELU_SCALE_ALPHA * (np.exp(x) - 1)), (-3, 3), (0,)),
    "elu": (Tensor.elu, lambda x: np.where(x > 0, x, np.expm1(x)), (-3, 3), (0,)),
    "elu(0.5)": (lambda t: t.elu(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), (-3, 3),
                 (0,)),
    "softplus": (Tensor.softplus, lambda x: np.log1p(np.exp(x)), (-6, 6), ()),
    "softsign": (Tensor.softsign, lambda x: x / (1 + np.abs(x)), (-3, 3), ()),
    "silu": (Tensor.silu, lambda x: x / (1 + np.exp(-x)), (-6, 6), ()),
    "gelu": (Tensor.gelu, lambda x: 0.5 * x * (1 + _erf(x * SQRT_HALF_F32)), (-4, 4), ()),
    "gelu(approx)": (lambda t: t.gelu(approximate=True),
                     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                      * (x + GELU_C_F32 * x ** 3))), (-4, 4), ()),
    "softmax": (Tensor.softmax, _np_softmax, (-3, 3), ()),
    "softmax(axis=0)": (lambda t: t.softmax(axis=0), lambda x: _np_softmax(x, 0), (-3, 3), ()),
    "log_softmax": (Tensor.log_softmax, lambda x: np.log(_np_softmax(x)), (-3, 3), ()),
}
UNARY_SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 2)]
NEEDS_AXIS = ("softmax", "softmax(axis=0)", "log_softmax")


def _values(shape, lo, hi, kinks=()):
    """Random values in [lo, hi] kept at least 0.05 from every kink."""
    x = _RNG.uniform(lo, hi, size=shape)
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    return x


def _min_dims(name):
    return 2 if "axis=0" in name else 1 if name in NEEDS_AXIS else 0


@pytest.mark.parametrize("name, shape", [(n, s) for n in UNARY for s in UNARY_SHAPES
                                         if len(s) >= _min_dims(n)], ids=str)
def test_unary_forward_and_gradcheck(name, shape):
    ours, ref, (lo, hi), kinks = UNARY[name]
    x = _values(shape, lo, hi, kinks)
    out = ours(Tensor(x, dtype=F64))
    assert out.dtype == F64 and out.shape == shape
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-14)
    assert gradcheck(ours, x)


# ----- binary ops over broadcasting pairs -----

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a ** b, np.power),
    "maximum": (maximum, np.maximum),
    "minimum": (minimum, np.minimum),
    "Tensor.maximum": (Tensor.maximum, np.maximum),
}
PAIRS = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((2, 1, 3), (4, 1)),
         ((), (3,)), ((3,), ()), ((), ()), ((3, 4), (3, 4))]


def _binary_values(name, sa, sb):
    if name == "pow":  # a positive base, any exponent
        return _RNG.uniform(0.3, 3, sa), _RNG.uniform(-2, 2, sb)
    if name == "div":  # a denominator away from 0
        return _RNG.uniform(-3, 3, sa), _RNG.uniform(0.5, 2, sb) * _RNG.choice([-1, 1], sb)
    if "max" in name or "min" in name:  # odd and even quarters never tie
        return (_RNG.integers(-6, 6, sa) * 0.5 + 0.25), _RNG.integers(-6, 6, sb) * 0.5
    return _RNG.uniform(-3, 3, sa), _RNG.uniform(-3, 3, sb)


@pytest.mark.parametrize("sa,sb", PAIRS, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_and_gradcheck(name, sa, sb):
    ours, ref = BINARY[name]
    a, b = _binary_values(name, sa, sb)
    out = ours(Tensor(a, dtype=F64), Tensor(b, dtype=F64))
    np.testing.assert_allclose(out.data, ref(a, b), rtol=1e-13, atol=1e-15)
    assert out.shape == np.broadcast_shapes(sa, sb)
    assert gradcheck(ours, a, b)


MATMUL_PAIRS = [((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((5,), (5,)), ((5,), (5, 3)), ((3, 5), (5,)),
                ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
                ((1, 2, 3), (3, 3, 2)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("sa,sb", MATMUL_PAIRS, ids=str)
def test_matmul_forward_and_gradcheck(sa, sb):
    a, b = _RNG.normal(size=sa), _RNG.normal(size=sb)
    out = Tensor(a, dtype=F64) @ Tensor(b, dtype=F64)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-13, atol=1e-14)
    assert gradcheck(lambda x, y: x @ y, a, b)
    assert gradcheck(lambda x, y: x.matmul(y).tanh(), a, b)  # a non-linear consumer too


@pytest.mark.parametrize("sx", [(5, 3), (2, 5, 3), (3,), (1, 3)], ids=str)
def test_linear_forward_and_gradcheck(sx):
    x, w, b = _RNG.normal(size=sx), _RNG.normal(size=(3, 4)), _RNG.normal(size=4)
    out = Tensor(x, dtype=F64).linear(Tensor(w, dtype=F64), Tensor(b, dtype=F64))
    np.testing.assert_array_equal(out.data, x @ w + b)  # the same arithmetic as matmul then add
    assert gradcheck(lambda x_, w_, b_: x_.linear(w_, b_).tanh(), x, w, b)


@pytest.mark.parametrize("sz", [(5, 4), (2, 3, 4), (4,)], ids=str)
def test_softmax_cross_entropy_forward_and_gradcheck(sz):
    z = _RNG.normal(size=sz) * 3
    y = _RNG.dirichlet(np.ones(sz[-1]), size=sz[:-1])
    out = Tensor(z, dtype=F64).softmax_cross_entropy(y)
    shifted = z - z.max(-1, keepdims=True)
    expected = -(y * (shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)))).sum(-1)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-14)
    assert gradcheck(lambda t: t.softmax_cross_entropy(y), z)
    # Rows not summing to 1 get TF's kernel gradient, softmax - y (not the derivative of L).
    unnormalised = _RNG.uniform(0, 2, size=sz)
    softmax = np.exp(shifted) / np.exp(shifted).sum(-1, keepdims=True)
    logits = Tensor(z, dtype=F64, requires_grad=True)
    logits.softmax_cross_entropy(unnormalised).sum().backward()
    np.testing.assert_allclose(logits.grad, softmax - unnormalised, rtol=1e-13,
                               atol=1e-15)


def test_linear_rejects_mismatched_shapes():
    x, w, b = Tensor(np.ones((5, 3))), Tensor(np.ones((4, 2))), Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"Linear cannot combine shapes \(5, 3\) @ \(4, 2\)"):
        x.linear(w, b)


@pytest.mark.parametrize("side", ["left", "right"])
def test_matmul_with_ndarray_on_either_side(side):
    w, x = _RNG.normal(size=(3, 2)), _RNG.normal(size=(4, 3))
    fn = (lambda t: x @ t) if side == "left" else (lambda t: t.T @ x.T)
    expected = x @ w if side == "left" else w.T @ x.T
    np.testing.assert_allclose(fn(Tensor(w, dtype=F64)).data, expected)
    assert gradcheck(fn, w)


def test_where_forward_and_gradcheck():
    cond = _RNG.uniform(size=(3, 4)) > 0.5
    a, b = _RNG.normal(size=(3, 4)), _RNG.normal(size=(4,))
    out = where(cond, Tensor(a, dtype=F64), Tensor(b, dtype=F64))
    np.testing.assert_array_equal(out.data, np.where(cond, a, b))
    assert gradcheck(lambda x, y: where(cond, x, y), a, b)
    assert gradcheck(lambda x: where(x > 0, x, 0.0), a)
    assert gradcheck(lambda y: where(cond, 1.5, y), b)


# ----- reductions -----

REDUCE = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "var": np.var,
          "std": np.std}
AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", list(REDUCE))
def test_reduction_forward_and_gradcheck(name, axis, keepdims):
    x = _RNG.permutation(24).reshape(2, 3, 4) * 0.25 + _RNG.uniform(0, 0.1)  # distinct: no ties
    fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    out = fn(Tensor(x, dtype=F64))
    np.testing.assert_allclose(out.data, REDUCE[name](x, axis=axis, keepdims=keepdims), rtol=1e-13)
    assert gradcheck(fn, x)


@pytest.mark.parametrize("name", list(REDUCE))
def test_reduction_of_0d_and_list_axis(name):
    x = np.array(1.5)
    if name != "std":  # √0: the spread of one number is 0, where √ has no derivative
        assert gradcheck(lambda t: getattr(t, name)(), x)
    y = _RNG.normal(size=(2, 3, 4))
    out = getattr(Tensor(y, dtype=F64), name)(axis=[0, 2])
    np.testing.assert_allclose(out.data, REDUCE[name](y, axis=(0, 2)), rtol=1e-13)


# ----- movement, indexing, joining -----

MOVE = {
    "reshape": (lambda t: t.reshape(4, 6), lambda x: x.reshape(4, 6)),
    "reshape((-1, 3))": (lambda t: t.reshape((-1, 3)), lambda x: x.reshape(-1, 3)),
    "transpose": (lambda t: t.transpose(), lambda x: x.transpose()),
    "transpose(2,0,1)": (lambda t: t.transpose(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    "transpose((1,0,2))": (lambda t: t.transpose((1, 0, 2)), lambda x: x.transpose(1, 0, 2)),
    ".T": (lambda t: t.T, lambda x: x.T),
    "expand_dims(0)": (lambda t: t.expand_dims(0), lambda x: np.expand_dims(x, 0)),
    "expand_dims(-1)": (lambda t: t.expand_dims(-1), lambda x: np.expand_dims(x, -1)),
    "squeeze": (lambda t: t[:, :1].squeeze(), lambda x: x[:, :1].squeeze()),
    "squeeze(1)": (lambda t: t[:, :1].squeeze(1), lambda x: x[:, :1].squeeze(1)),
    "flatten": (lambda t: t.flatten(), lambda x: x.reshape(-1)),
    "flatten(1)": (lambda t: t.flatten(1), lambda x: x.reshape(2, -1)),
    "flatten(2)": (lambda t: t.flatten(2), lambda x: x.reshape(2, 3, -1)),
    "broadcast_to": (lambda t: t[:, :1].broadcast_to((5, 2, 3, 4)),
                     lambda x: np.broadcast_to(x[:, :1], (5, 2, 3, 4))),
    "x[1]": (lambda t: t[1], lambda x: x[1]),
    "x[-1,1:,::2]": (lambda t: t[-1, 1:, ::2], lambda x: x[-1, 1:, ::2]),
    "x[::-1]": (lambda t: t[::-1], lambda x: x[::-1]),
    "x[...,None,2]": (lambda t: t[..., None, 2], lambda x: x[..., None, 2]),
    "x[[0,0,1]]": (lambda t: t[[0, 0, 1]], lambda x: x[[0, 0, 1]]),
    "x[:,[2,2,2]]": (lambda t: t[:, [2, 2, 2]], lambda x: x[:, [2, 2, 2]]),
    "x[[1,1],[0,0],[3,3]]": (lambda t: t[[1, 1], [0, 0], [3, 3]],
                             lambda x: x[[1, 1], [0, 0], [3, 3]]),
    "x[ndarray 2-D]": (lambda t: t[np.array([[0, 1], [1, 1]])],
                       lambda x: x[np.array([[0, 1], [1, 1]])]),
    "x[Tensor]": (lambda t: t[Tensor([1, 0, 1])], lambda x: x[[1, 0, 1]]),
    "x[bool]": (lambda t: t[t.data > 0], lambda x: x[x > 0]),
    "x[Tensor bool]": (lambda t: t[t > 0], lambda x: x[x > 0]),
}


@pytest.mark.parametrize("name", list(MOVE))
def test_movement_forward_and_gradcheck(name):
    ours, ref = MOVE[name]
    x = _RNG.normal(size=(2, 3, 4))
    np.testing.assert_array_equal(ours(Tensor(x, dtype=F64)).data, ref(x))
    assert gradcheck(ours, x)


def test_repeated_integer_indices_accumulate():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    a, b, c = (_RNG.normal(size=(2, 3)) for _ in range(3))
    ts = [Tensor(v, dtype=F64) for v in (a, b, c)]
    np.testing.assert_array_equal(concatenate(ts, axis=axis).data, np.concatenate([a, b, c], axis))
    np.testing.assert_array_equal(stack(ts, axis=axis).data, np.stack([a, b, c], axis))
    assert gradcheck(lambda *xs: concatenate(xs, axis=axis), a, b, c)
    assert gradcheck(lambda *xs: stack(xs, axis=axis), a, b, c)
    assert gradcheck(lambda x, y: concatenate([x, y[:, :1], x], axis=1), a, b)  # reuse + sizes


# ----- hypothesis: shapes and values -----

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _floats(lo, hi, kinks=()):
    return st.floats(lo, hi).filter(lambda v: all(abs(v - k) > 1e-3 for k in kinks))


@pytest.mark.parametrize("name", list(UNARY))
@HYP
@given(data=st.data())
def test_unary_hypothesis(name, data):
    ours, ref, (lo, hi), kinks = UNARY[name]
    shape = data.draw(hnp.array_shapes(min_dims=_min_dims(name), max_dims=3, min_side=1,
                                       max_side=4))
    x = data.draw(hnp.arrays(F64, shape, elements=_floats(lo, hi, kinks)))
    np.testing.assert_allclose(ours(Tensor(x, dtype=F64)).data, ref(x), rtol=1e-12, atol=1e-14)
    assert gradcheck(ours, x)


@pytest.mark.parametrize("name", list(BINARY))
@HYP
@given(data=st.data())
def test_binary_hypothesis(name, data):
    ours, ref = BINARY[name]
    (sa, sb), _ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                              max_side=3))
    if name == "pow":
        ea, eb = st.floats(0.2, 3), st.floats(-2, 2)
    elif name == "div":
        ea, eb = st.floats(-3, 3), st.floats(0.3, 3) | st.floats(-3, -0.3)
    elif "max" in name or "min" in name:  # odd and even quarters never tie
        ea = st.integers(-6, 6).map(lambda k: k * 0.5 + 0.25)
        eb = st.integers(-6, 6).map(lambda k: k * 0.5)
    else:
        ea = eb = st.floats(-3, 3)
    a, b = data.draw(hnp.arrays(F64, sa, elements=ea)), data.draw(hnp.arrays(F64, sb, elements=eb))
    np.testing.assert_allclose(ours(Tensor(a, dtype=F64), Tensor(b, dtype=F64)).data, ref(a, b),
                               rtol=1e-13, atol=1e-15)
    assert gradcheck(ours, a, b)


@HYP
@given(data=st.data())
def test_matmul_hypothesis(data):
    (sa, sb), _ = data.draw(hnp.mutually_broadcastable_shapes(signature=np.matmul.signature,
                                                              max_dims=2, max_side=3))
    a = data.draw(hnp.arrays(F64, sa, elements=st.floats(-2, 2)))
    b = data.draw(hnp.arrays(F64, sb, elements=st.floats(-2, 2)))
    np.testing.assert_allclose((Tensor(a, dtype=F64) @ Tensor(b, dtype=F64)).data, a @ b,
                               rtol=1e-13, atol=1e-14)
    assert gradcheck(lambda x, y: x @ y, a, b)


@pytest.mark.parametrize("name", list(REDUCE))
@HYP
@given(data=st.data())
def test_reduction_hypothesis(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = data.draw(st.none() | hnp.valid_tuple_axes(len(shape), min_size=1))
    keepdims = data.draw(st.booleans())
    # distinct values: max/min have no ties, std no zero spread
    x = data.draw(hnp.arrays(F64, shape, elements=st.integers(-50, 50).map(lambda k: k / 8),
                             unique=True))
    fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    expected = REDUCE[name](x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(fn(Tensor(x, dtype=F64)).data, expected, rtol=1e-13, atol=1e-15)
    if name == "std" and np.any(np.asarray(expected) == 0):
        return  # d√v/dv is infinite where the spread is 0 (a single element)
    assert gradcheck(fn, x)


@HYP
@given(data=st.data())
def test_indexing_hypothesis(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    idx = data.draw(hnp.basic_indices(shape, allow_newaxis=True)
                    | hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2)))
    x = data.draw(hnp.arrays(F64, shape, elements=st.floats(-3, 3)))
    out = Tensor(x, dtype=F64)[idx]
    np.testing.assert_array_equal(out.data, x[idx])
    assert gradcheck(lambda t: t[idx], x)
