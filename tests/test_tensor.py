"""The Tensor itself: construction, attributes, dtypes, backward(), grad mode, bad input, numerics.

Op values and gradients are checked in ``test_ops_gradcheck.py`` (numpy, finite differences) and
``test_ops_tf.py`` (TensorFlow); graph lifetime and memory in ``test_engine_memory.py``.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_es import config
from tinygrad_es.autograd import is_grad_enabled, no_grad
from tinygrad_es.tensor import Tensor, concatenate, maximum, minimum, stack, where

# ----- construction and attributes -----


def test_default_dtype_is_floatx_and_data_is_copied():
    src = np.array([1.0, 2.0])
    t = Tensor(src)
    src[0] = 99.0
    assert t.dtype == np.float32 and t.data[0] == 1.0
    config.set_floatx("float64")
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(t).dtype == np.float64 and Tensor(t).data is not t.data
    assert Tensor([1, 2], dtype="int64").dtype == np.int64
    assert Tensor(3, dtype=np.float32).dtype == np.float32


def test_attributes():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="w")
    assert (t.shape, t.ndim, t.size, t.name, t.requires_grad) == ((2, 3), 2, 6, "w", True)
    assert t.grad is None and t.is_leaf and t.op is None and t._ctx is None
    assert t.T.shape == (3, 2) and t.numpy() is t.data and len(t) == 2
    assert Tensor([[2.5]]).item() == 2.5 and float(Tensor(2.5)) == 2.5
    with pytest.raises(ValueError, match=r"one element.*\(2, 3\)"):
        t.item()
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_repr_shows_data_dtype_grad_op_and_name():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    assert repr(a) == "Tensor([1., 2.], dtype=float32, requires_grad=True, name='a')"
    assert repr(a * 2) == "Tensor([2., 4.], dtype=float32, requires_grad=True, op=Mul)"
    assert "..." in repr(Tensor(np.zeros(1000)))  # large tensors are summarised


def test_graph_records_function_parents_and_saved_arrays():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    c = a * b
    assert c.op == "Mul" and not c.is_leaf and c._ctx.name == "Mul"
    assert c._ctx.parents[0] is a and c._ctx.parents[1] is b
    np.testing.assert_array_equal(c._ctx.saved_tensors[1], b.data)
    assert (a + b).op == "Add" and a.sigmoid().op == "Sigmoid"
    assert not (Tensor([1.0]) * 2).requires_grad  # no input needs a gradient: no graph
    assert (Tensor([1.0]) * 2)._ctx is None


@pytest.mark.parametrize("data, shown", [
    ("abc", "str 'abc'"), (["a", 1], "list ['a', 1]"), ({"a": 1}, "dict"), (None, "NoneType"),
    ([[1.0, 2.0], [3.0]], "list [[1.0, 2.0], [3.0]]"), (np.array([1 + 2j]), "complex"),
    (object(), "object"),
])
def test_non_numeric_data_is_a_type_error_saying_what_was_received(data, shown):
    with pytest.raises(TypeError, match=r"Tensor expects numeric data, received") as err:
        Tensor(data)
    assert shown in str(err.value)


def test_bad_dtype_and_integer_requires_grad_are_type_errors():
    with pytest.raises(TypeError, match="dtype='banana'"):
        Tensor([1.0], dtype="banana")
    with pytest.raises(TypeError, match="only float tensors can require a gradient.*int64"):
        Tensor([1, 2], dtype="int64", requires_grad=True)


@pytest.mark.parametrize("other", ["2", None, [1, "a"], {"x": 1}, object()])
def test_combining_with_non_numbers_is_a_type_error(other):
    t = Tensor([1.0, 2.0])
    for fn in (lambda: t + other, lambda: other * t, lambda: t @ other, lambda: t.maximum(other)):
        with pytest.raises(TypeError, match=f"cannot combine a Tensor with {type(other).__name__}"):
            fn()


# ----- dtypes: float32 stays float32 -----

SCALAR_OPS = [lambda t: t + 1, lambda t: 1 - t, lambda t: t * 2.5, lambda t: 3 / t, lambda t: t / 3,
              lambda t: t ** 2, lambda t: t ** 0.5, lambda t: 2 ** t, lambda t: t - np.float64(1),
              lambda t: np.float64(2) * t, lambda t: t + np.ones(2), lambda t: np.ones(2) * t,
              lambda t: np.ones((2, 2)) @ t, lambda t: t.maximum(0), lambda t: t.clip(0, 1),
              lambda t: where(t > 1, t, 0.0), lambda t: t.leaky_relu(0.1), lambda t: t.elu(0.5)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k", range(len(SCALAR_OPS)))
def test_dtype_survives_python_scalars_and_arrays(dtype, k):
    t = Tensor([1.0, 2.0], requires_grad=True, dtype=dtype)
    out = SCALAR_OPS[k](t)
    assert isinstance(out, Tensor) and out.dtype == dtype
    out.sum().backward()
    assert t.grad.dtype == dtype


METHODS = {name: getattr(Tensor, name) for name in [
    "neg", "exp", "log", "sqrt", "square", "abs", "relu", "relu6", "leaky_relu", "sigmoid", "tanh",
    "selu", "elu", "softplus", "softsign", "silu", "swish", "gelu", "softmax", "log_softmax", "sum",
    "mean", "max", "min", "var", "std", "flatten"]}
METHODS.update({
    "gelu(approx)": lambda t: t.gelu(approximate=True), "x**3": lambda t: t ** 3,
    "x**x": lambda t: t ** t, "x[0]": lambda t: t[0], "x[[0,0]]": lambda t: t[[0, 0]],
    ".T": lambda t: t.T,
    "matmul": lambda t: t @ t, "concatenate": lambda t: concatenate([t, t]),
    "stack": lambda t: stack([t, t]), "broadcast_to": lambda t: t.broadcast_to((3, 2, 2)),
    "max(axis=0)": lambda t: t.max(axis=0), "where": lambda t: where(t > 1, t, t * 2),
    "maximum": lambda t: maximum(t, 1.0), "minimum": lambda t: minimum(1.0, t)})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(METHODS))
def test_every_op_keeps_the_dtype_forward_and_backward(name, dtype):
    """Not only the leaf's grad: the gradient flowing between ops stays in the dtype too."""
    t = Tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True, dtype=dtype)
    inner = t * 1.0  # a non-leaf: its .grad is what the op passed back, uncast
    out = METHODS[name](inner)
    assert out.dtype == dtype
    out.backward(np.ones(out.shape, dtype=dtype))
    assert inner.grad.dtype == dtype and t.grad.dtype == dtype


def test_grad_dtype_is_the_leaf_dtype_whatever_the_upstream():
    a = Tensor([1.0, 2.0], requires_grad=True)
    (a * 3).backward(np.array([1.0, 1.0], dtype=np.float64))
    assert a.grad.dtype == np.float32
    b = Tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    b.backward(Tensor([1.0, 1.0], dtype="float32"))
    assert b.grad.dtype == np.float64


# ----- backward() -----


def test_reuse_accumulates():
    a = Tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    x = Tensor(3.0, requires_grad=True)
    (x * x * x).backward()
    assert x.grad == 27.0


def test_diamond_graph():
    a = Tensor([1.0, -2.0], requires_grad=True, dtype="float64")
    b, c = a * 2, a.exp()
    d = b * c + b.sigmoid()  # a reaches d by three paths of different depth
    d.sum().backward()
    x = a.data
    s = 1 / (1 + np.exp(-2 * x))
    np.testing.assert_allclose(a.grad, 2 * np.exp(x) + 2 * x * np.exp(x) + 2 * s * (1 - s))


def test_backward_with_explicit_grad_and_intermediate_grads():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * a
    b.backward(np.array([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, -6.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, -1.0])  # non-leaves keep their grad too


def test_non_scalar_root_without_grad_is_a_clear_error():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"needs a scalar.*shape \(2, 3\).*\.sum\(\)"):
        (a * 2).backward()
    with pytest.raises(ValueError, match=r"grad of shape \(3,\) for a tensor of shape \(2, 3\)"):
        (a * 2).backward(np.ones(3))
    (a * 2).sum(keepdims=True).backward()  # one element of any shape is a scalar
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 2.0))


def test_backward_on_a_tensor_that_requires_no_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad.*requires_grad=True"):
        Tensor(1.0).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0, 2.0]) * 3).sum().backward()


def test_constants_get_no_grad_and_leaves_accumulate_across_calls():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    (a * b).sum().backward()
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, [6.0, 8.0])
    assert b.grad is None
    a.zero_grad()
    assert a.grad is None
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_detach_cuts_the_graph_and_shares_memory():
    a = Tensor([1.0, 2.0], requires_grad=True)
    d = a.detach()
    assert d.data is a.data and not d.requires_grad and d.is_leaf
    (a.detach() * a).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 2.0])  # not 2a


def test_no_grad_context_and_decorator():
    a = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        b = a * 2
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled() and not b.requires_grad and b._ctx is None

    @no_grad()
    def infer(x):
        return x.sigmoid()

    assert not infer(a).requires_grad and is_grad_enabled()
    assert (a * 2).requires_grad

    with pytest.raises(KeyError), no_grad():
        raise KeyError("restored after an exception")
    assert is_grad_enabled()


def test_no_grad_decorator_on_a_recursive_function_restores_grad_mode():
    @no_grad()
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3 and is_grad_enabled()


def test_sign_and_comparisons_have_no_gradient():
    a = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    for out in (a.sign(), a > 0, a <= Tensor([0.0, 0.0, 0.0]), a == 0.0, a != 0.0, 1.0 < a):
        assert not out.requires_grad and out._ctx is None
    np.testing.assert_array_equal((a >= 0).data, [False, True, True])
    np.testing.assert_array_equal((1.0 > a).data, [True, True, False])


def test_ndarray_and_numpy_scalars_on_the_left_give_tensors():
    t = Tensor([1.0, 2.0], requires_grad=True)
    for out in (np.ones(2) + t, np.float64(2.0) * t, np.ones(2) - t, np.ones(2) / t):
        assert isinstance(out, Tensor) and out.requires_grad and out.dtype == np.float32


# ----- bad input: shapes -----

BINARY = {"Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
          "Div": lambda a, b: a / b, "Pow": lambda a, b: a ** b, "Maximum": maximum,
          "Minimum": minimum, "Where": lambda a, b: where(a > 0, a, b),
          "less": lambda a, b: a < b}


def _assert_names_op_and_shapes(err, op, *shapes):
    msg = str(err.value)
    assert type(err.value) is ValueError, f"{type(err.value)} escaped: {msg}"
    assert op in msg and all(str(s) in msg for s in shapes), msg


@pytest.mark.parametrize("op", list(BINARY))
def test_shape_mismatch_names_the_op_and_both_shapes(op):
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((4,)))
    with pytest.raises(ValueError) as err:
        BINARY[op](a, b)
    _assert_names_op_and_shapes(err, op, (2, 3), (4,))


@settings(max_examples=40, deadline=None)
@given(shapes=st.tuples(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                        hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
def test_fuzz_no_bare_numpy_error_escapes(shapes):
    sa, sb = shapes
    a, b = Tensor(np.ones(sa), requires_grad=True), Tensor(np.ones(sb), requires_grad=True)
    for op, fn in list(BINARY.items()) + [("MatMul", lambda x, y: x @ y)]:
        try:  # does numpy itself accept these shapes?
            (np.matmul if op == "MatMul" else np.add)(np.ones(sa), np.ones(sb))
        except ValueError:
            with pytest.raises(ValueError) as err:
                fn(a, b)
            _assert_names_op_and_shapes(err, op, sa, sb)
        else:
            assert fn(a, b).shape == (np.ones(sa) @ np.ones(sb) if op == "MatMul"
                                      else np.ones(sa) + np.ones(sb)).shape


@pytest.mark.parametrize("fn, op, shapes", [
    (lambda a: a @ Tensor(np.ones((2, 2))), "MatMul", [(2, 3), (2, 2)]),
    (lambda a: Tensor(np.ones(3)) @ Tensor(np.ones(4)), "MatMul", [(3,), (4,)]),
    (lambda a: a @ Tensor(2.0), "MatMul", [(2, 3), ()]),
    (lambda a: concatenate([a, Tensor(np.ones((3, 2)))]), "Concatenate", [(2, 3), (3, 2)]),
    (lambda a: stack([a, Tensor(np.ones(3))]), "Stack", [(2, 3), (3,)]),
    (lambda a: a.reshape(4), "Reshape", [(2, 3)]),
    (lambda a: a.broadcast_to((3, 3)), "BroadcastTo", [(2, 3)]),
    (lambda a: a.sum(axis=5), "Sum", [(2, 3)]),
    (lambda a: a.max(axis=2), "Max", [(2, 3)]),
    (lambda a: a.softmax(axis=3), "Softmax", [(2, 3)]),
    (lambda a: a.transpose(0, 0), "Transpose", [(2, 3)]),
    (lambda a: a.squeeze(0), "squeeze", [(2, 3)]),
    (lambda a: a.expand_dims(5), "expand_dims", [(2, 3)]),
    (lambda a: a.flatten(5), "flatten", [(2, 3)]),
])
def test_other_bad_shapes_are_value_errors_naming_the_op(fn, op, shapes):
    with pytest.raises(ValueError) as err:
        fn(Tensor(np.ones((2, 3)), requires_grad=True))
    _assert_names_op_and_shapes(err, op, *shapes)


def test_other_bad_arguments():
    a = Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"GetItem.*index 5.*\(2, 3\)"):
        a[5]
    with pytest.raises(ValueError, match="min_value=2 > max_value=1"):
        a.clip(2, 1)
    with pytest.raises(ValueError, match="concatenate needs at least one tensor"):
        concatenate([])
    with pytest.raises(ValueError, match="stack needs at least one tensor"):
        stack([])


# ----- stable numerics -----

STABLE = ["sigmoid", "softplus", "log_softmax", "softmax", "silu", "tanh", "selu", "elu", "gelu",
          "gelu(approx)", "softsign", "leaky_relu", "relu", "relu6", "abs"]
EXTREMES = [-1e4, -1e3, -100.0, -30.0, -1.0, -1e-30, 0.0, 1e-30, 1.0, 30.0, 100.0, 1e3, 1e4]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", STABLE)
def test_stable_for_large_inputs(name, dtype):
    x = Tensor(EXTREMES, requires_grad=True, dtype=dtype)
    fn = (lambda t: t.gelu(approximate=True)) if name == "gelu(approx)" else getattr(Tensor, name)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        out = fn(x)
        out.backward(np.linspace(0.5, 1.5, len(EXTREMES)))
        rows = fn(Tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], requires_grad=True, dtype=dtype))
        rows.backward(np.ones((2, 3)))
    for arr in (out.data, x.grad, rows.data):
        assert np.all(np.isfinite(arr)), f"{name}: {arr}"


def test_stable_limits():
    x = Tensor([-1e4, 1e4])
    np.testing.assert_array_equal(x.sigmoid().data, [0.0, 1.0])
    np.testing.assert_array_equal(x.softplus().data, [0.0, 1e4])
    np.testing.assert_array_equal(x.silu().data, [0.0, 1e4])
    np.testing.assert_array_equal(x.log_softmax().data, [-2e4, 0.0])
    np.testing.assert_array_equal(x.softmax().data, [0.0, 1.0])


def test_names_of_ops_are_findable():
    """Every op a Tensor records is a Function named after its class (grep-able)."""
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    ops = {(a + 1).op, (a - 1).op, (a * 2).op, (a / 2).op, (a ** 3).op, (a ** a).op, (a @ a.T).op,
           a.exp().op, a.softmax().op, a.sum().op, a.reshape(2).op, a[0].op}
    assert ops == {"Add", "Sub", "Mul", "Div", "PowScalar", "Pow", "MatMul", "Exp", "Softmax",
                   "Sum", "Reshape", "GetItem"}
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]+", op) for op in ops)


def test_leaf_grads_are_fresh_arrays_never_shared():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    up = np.array([1.0, 1.0], dtype=np.float32)
    c = a + b  # Add hands the same array to both parents
    c.backward(up)
    assert a.grad is not b.grad and a.grad is not up
    a.grad *= 10  # an optimizer may scale in place
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(up, [1.0, 1.0])
    a.backward(up)  # a leaf root too
    assert a.grad is not up


def test_data_and_grad_are_ndarrays_even_when_0d():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    s = Tensor(2.0, requires_grad=True)
    outs = [a.sum(), a.mean(), a.max(), a.min(), a.std(), a[0, 1], a.sum().exp(), s * 3, s.sqrt()]
    for out in outs:
        assert type(out.data) is np.ndarray and out.data.shape == (), out.op
    sum(outs).backward()
    assert type(s.grad) is np.ndarray and type(a.grad) is np.ndarray
