"""The convolution and pooling primitives (tinygrad_es/functions_conv.py).

Backward against central differences in float64 (``gradcheck``) over hypothesis-drawn shapes,
strides, dilations and paddings; forward and gradients against real TensorFlow (``tf.nn`` ops under
``tf.GradientTape``) in float32 and float64 over a table of cases, including TF's asymmetric "same"
padding, max-pool ties and overlapping windows. Run with ``-s`` to see the worst differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PARITY_TOL, ulp_distance
from tinygrad_es import functions_conv as FC
from tinygrad_es.gradcheck import gradcheck
from tinygrad_es.tensor import Tensor

HYP = settings(max_examples=12, deadline=None)
DTYPES = ["float32", "float64"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _distinct(shape, seed=0):
    """Values 0.05 apart in random order: no ties, and a 1e-6 nudge never changes a maximum."""
    return _rng(seed).permutation(np.arange(int(np.prod(shape))) * 0.05 - 1.0).reshape(shape)


# ----- gradcheck (float64, central differences) -----

@st.composite
def conv_configs(draw, transpose=False):
    rank = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    paddings = ["valid", "same"] + (["causal"] if rank == 1 and not transpose else [])
    padding = draw(st.sampled_from(paddings))
    spatial = tuple(draw(st.integers((k - 1) * d + 1, 6)) for k, d in zip(kernel, dilation))
    batch, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (batch,) + spatial + (cin,), kernel + (cin, cout), strides, padding, dilation


@HYP
@given(conv_configs())
def test_conv_gradcheck(config):
    x_shape, w_shape, strides, padding, dilation = config
    rng = _rng(1)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    assert gradcheck(lambda a, b: FC.conv(a, b, strides, padding, dilation), x, w)


@HYP
@given(conv_configs(transpose=True))
def test_conv_transpose_gradcheck(config):
    out_shape, w_shape, strides, padding, dilation = config
    rng = _rng(2)
    forward = FC.conv(Tensor(np.zeros(out_shape), dtype="float64"),
                      Tensor(np.zeros(w_shape), dtype="float64"), strides, padding, dilation)
    x = rng.normal(size=forward.shape)
    w = rng.normal(size=w_shape[:-2] + (w_shape[-2], w_shape[-1]))  # (*k, filters=cin, in=cout)
    assert gradcheck(lambda a, b: FC.conv_transpose(a, b, out_shape[1:-1], strides, padding,
                                                    dilation), x, w)


@st.composite
def pool_configs(draw):
    rank = draw(st.sampled_from([1, 2]))
    pool = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    spatial = tuple(draw(st.integers(k, 6)) for k in pool)
    return (draw(st.integers(1, 2)),) + spatial + (draw(st.integers(1, 3)),), pool, strides, padding


@HYP
@given(pool_configs())
def test_pool_gradcheck(config):
    x_shape, pool, strides, padding = config
    x = _distinct(x_shape, seed=3)
    assert gradcheck(lambda a: FC.max_pool(a, pool, strides, padding), x)
    assert gradcheck(lambda a: FC.average_pool(a, pool, strides, padding), x)


def test_pad_gradcheck_and_forward():
    x = _rng(4).normal(size=(2, 3, 4, 2))
    assert gradcheck(lambda a: FC.pad(a, ((1, 2), (0, 3))), x)
    out = FC.pad(Tensor(x), ((1, 2), (0, 3))).data
    assert np.array_equal(out, np.pad(x.astype("float32"), ((0, 0), (1, 2), (0, 3), (0, 0))))


def test_conv_forward_is_the_textbook_sum():
    """Z[n,o,f] = Σ_{t,c} x[n, o·s + t·d, c]·w[t,c,f], written as the loops of a textbook."""
    rng = _rng(5)
    x, w = rng.normal(size=(2, 9, 8, 3)), rng.normal(size=(3, 2, 3, 4))
    s, d = (2, 1), (1, 3)
    got = FC.conv(Tensor(x, dtype="float64"), Tensor(w, dtype="float64"), s, "valid", d).data
    want = np.zeros(got.shape)
    for i in range(got.shape[1]):
        for j in range(got.shape[2]):
            for ti in range(3):
                for tj in range(2):
                    want[:, i, j] += x[:, i * s[0] + ti * d[0], j * s[1] + tj * d[1]] @ w[ti, tj]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_padding_rule_is_tensorflows():
    # "same": the odd pixel after; nothing when stride and size make it unnecessary
    assert FC.conv_padding((8,), (4,), (1,), (1,), "same") == ((1, 2),)
    assert FC.conv_padding((8,), (3,), (2,), (1,), "same") == ((0, 1),)
    assert FC.conv_padding((7,), (3,), (2,), (1,), "same") == ((1, 1),)
    assert FC.conv_padding((8,), (1,), (3,), (1,), "same") == ((0, 0),)
    assert FC.conv_padding((8,), (3,), (1,), (2,), "causal") == ((4, 0),)


def test_errors_name_the_op_and_the_shapes():
    x = Tensor(np.zeros((1, 4, 4, 2)))
    with pytest.raises(ValueError, match=r"conv: a kernel for input of shape \(1, 4, 4, 2\) must "
                                         r"be shaped \(\*kernel_size, 2, filters\), received "
                                         r"\(3, 3, 1, 1\)"):
        FC.conv(x, Tensor(np.zeros((3, 3, 1, 1))))
    with pytest.raises(ValueError, match=r"smaller than the kernel \(5, 5\)"):
        FC.conv(x, Tensor(np.zeros((5, 5, 2, 1))))
    with pytest.raises(ValueError, match=r"`strides` must be a positive integer or a tuple of 2, "
                                         r"received strides=\(1, 0\)"):
        FC.conv(x, Tensor(np.zeros((3, 3, 2, 1))), strides=(1, 0))
    with pytest.raises(ValueError, match=r"padding must be 'valid', 'same' or 'causal', received "
                                         r"'full'"):
        FC.conv(x, Tensor(np.zeros((3, 3, 2, 1))), padding="full")
    with pytest.raises(ValueError, match=r"max_pool expects input shaped \(batch, \*spatial, "
                                         r"channels\), received shape \(4, 4\)"):
        FC.max_pool(Tensor(np.zeros((4, 4))))
    with pytest.raises(ValueError, match=r"average_pool: input of shape \(1, 4, 4, 2\) is smaller "
                                         r"than the window \(5, 5\)"):
        FC.average_pool(x, 5)


# ----- against TensorFlow -----

def _worst(name, dtype, ours, ref, magnitude):
    """Assert ours ≈ ref entry by entry; ``magnitude`` is Σ|terms| of each entry (float64).

    A convolution entry is a sum of up to thousands of products, and BLAS here and TF's oneDNN /
    Eigen there add them in different orders, so the last bits differ by about eps·Σ|terms| (the
    textbook bound for a dot product is n·eps·Σ|terms|). The budget is the parity tolerance
    relative to that sum: 1e-6·max(1, Σ|terms|) in float32, 1e-12·max(1, Σ|terms|) in float64.
    """
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype, (ours.shape, ref.shape)
    diff = np.abs(ours.astype("float64") - ref.astype("float64"))
    budget = PARITY_TOL[dtype] * np.maximum(1.0, magnitude)
    scale = max(1.0, float(np.abs(ref).max()))
    print(f"\nPARITY {name:<56} {dtype}: abs {diff.max():.1e}, rel {diff.max() / scale:.1e}, "
          f"ulp {ulp_distance(ours, ref)}, budget used {float((diff / budget).max()):.2f}")
    assert (diff <= budget).all(), (name, float(diff.max()), float((diff / budget).max()))


def _with_tape(tf, fn, *arrays, integer=False):
    """TF's output and the gradients of Σ out·g for a fixed random g (small integers when
    ``integer``: their sums are exact in any order); and g."""
    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(*tensors)
        rng = _rng(9)
        g = rng.integers(1, 5, size=out.shape) if integer else rng.uniform(0.5, 1.5, out.shape)
        g = g.astype(arrays[0].dtype)
        loss = tf.reduce_sum(out * g)
    return out.numpy(), [d.numpy() for d in tape.gradient(loss, tensors)], g


def _ours(fn, *arrays, upstream):
    """Our output and gradients, and the same on |inputs| and |g| in float64: Σ|terms| of each."""
    results = []
    for values, g in ((arrays, upstream), ([np.abs(a).astype("float64") for a in arrays],
                                           np.abs(upstream).astype("float64"))):
        leaves = [Tensor(a, requires_grad=True, dtype=a.dtype) for a in values]
        out = fn(*leaves)
        out.backward(g)
        results.append([out.data] + [leaf.grad for leaf in leaves])
    return results


CONV_CASES = [  # x shape, kernel shape, strides, padding, dilation (TF refuses both > 1)
    ((2, 7, 7, 3), (3, 3, 3, 4), 1, "valid", 1),
    ((2, 7, 7, 3), (3, 3, 3, 4), 2, "same", 1),
    ((2, 8, 8, 3), (3, 3, 3, 4), 2, "same", 1),
    ((1, 8, 9, 2), (2, 4, 2, 5), (2, 3), "same", 1),
    ((2, 9, 9, 2), (3, 3, 2, 3), 1, "same", 2),
    ((2, 9, 10, 2), (3, 2, 2, 3), 1, "valid", (2, 3)),
    ((3, 10, 3), (3, 3, 4), 1, "valid", 1),
    ((3, 10, 3), (4, 3, 4), 2, "same", 1),
    ((3, 11, 3), (3, 3, 4), 1, "same", 2),
    ((4, 28, 28, 1), (5, 5, 1, 8), 1, "same", 1),
    ((2, 8, 8, 16), (3, 3, 16, 32), 1, "valid", 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_conv_matches_tensorflow(tf, dtype, case):
    x_shape, w_shape, strides, padding, dilation = case
    rng = _rng(6)
    x, w = rng.normal(size=x_shape).astype(dtype), rng.normal(size=w_shape).astype(dtype)
    ref, (ref_gx, ref_gw), g = _with_tape(
        tf, lambda a, b: tf.nn.convolution(a, b, strides=strides, padding=padding.upper(),
                                           dilations=dilation), x, w)
    ours, magnitude = _ours(lambda a, b: FC.conv(a, b, strides, padding, dilation), x, w,
                            upstream=g)
    for what, got, want, size in zip(("out", "dx", "dw"), ours, (ref, ref_gx, ref_gw), magnitude):
        _worst(f"conv {case} {what}", dtype, got, want, size)


CONV_T_CASES = [  # output shape, kernel shape (*k, filters, in), strides, padding
    ((2, 8, 8, 3), (3, 3, 3, 4), 2, "same"),
    ((2, 7, 7, 3), (3, 3, 3, 4), 2, "same"),
    ((2, 9, 9, 2), (3, 3, 2, 5), 2, "valid"),
    ((1, 6, 8, 2), (2, 3, 2, 3), (1, 2), "same"),
    ((2, 12, 3), (4, 3, 2), 3, "same"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_T_CASES, ids=[str(c) for c in CONV_T_CASES])
def test_conv_transpose_matches_tensorflow(tf, dtype, case):
    out_shape, w_shape, strides, padding = case
    rank = len(out_shape) - 2
    s = (strides,) * rank if isinstance(strides, int) else strides
    in_spatial = tuple(FC.conv_output_size(n, k, si, 1, padding)
                       for n, k, si in zip(out_shape[1:-1], w_shape[:-2], s))
    rng = _rng(7)
    x = rng.normal(size=(out_shape[0],) + in_spatial + (w_shape[-1],)).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    ref, (ref_gx, ref_gw), g = _with_tape(
        tf, lambda a, b: tf.nn.conv_transpose(a, b, out_shape, strides=strides,
                                              padding=padding.upper()), x, w)
    ours, magnitude = _ours(lambda a, b: FC.conv_transpose(a, b, out_shape[1:-1], strides,
                                                           padding), x, w, upstream=g)
    for what, got, want, size in zip(("out", "dx", "dw"), ours, (ref, ref_gx, ref_gw), magnitude):
        _worst(f"conv_transpose {case} {what}", dtype, got, want, size)


POOL_CASES = [  # x shape, pool size, strides, padding
    ((2, 8, 8, 3), 2, None, "valid"),
    ((2, 7, 7, 3), 2, None, "valid"),
    ((2, 7, 7, 3), 2, None, "same"),
    ((2, 7, 8, 3), 3, 1, "same"),
    ((2, 9, 9, 2), (3, 2), (2, 1), "same"),
    ((2, 9, 9, 2), 3, 2, "valid"),
    ((3, 10, 4), 3, 2, "same"),
    ((3, 10, 4), 2, None, "valid"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=[str(c) for c in POOL_CASES])
def test_pool_matches_tensorflow(tf, dtype, mode, case):
    x_shape, pool, strides, padding = case
    x = _rng(8).normal(size=x_shape).astype(dtype)
    x[x > 1.2] = 1.25  # ties inside windows: TF gives the whole gradient to the first maximum
    ref_fn = tf.nn.max_pool if mode == "max" else tf.nn.avg_pool
    ours_fn = FC.max_pool if mode == "max" else FC.average_pool
    ref, (ref_gx,), g = _with_tape(
        tf, lambda a: ref_fn(a, pool, pool if strides is None else strides, padding.upper()), x)
    ours, magnitude = _ours(lambda a: ours_fn(a, pool, strides, padding), x, upstream=g)
    for what, got, want, size in zip(("out", "dx"), ours, (ref, ref_gx), magnitude):
        _worst(f"{mode}_pool {case} {what}", dtype, got, want, size)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_ties_and_overlaps_route_like_tensorflow(tf, dtype):
    """All-equal windows and overlapping windows: TF's routing exactly (no arithmetic involved)."""
    x = np.ones((1, 5, 5, 1), dtype=dtype)
    x[0, 1, 1, 0] = x[0, 0, 0, 0] = x[0, 3, 2, 0] = 2.0
    for pool, strides, padding in [(2, 2, "VALID"), (3, 1, "SAME"), (2, 1, "VALID")]:
        ref, (ref_gx,), g = _with_tape(tf, lambda a: tf.nn.max_pool(a, pool, strides, padding), x,
                                       integer=True)
        (out, gx), _ = _ours(lambda a: FC.max_pool(a, pool, strides, padding.lower()), x,
                             upstream=g)
        assert np.array_equal(out, ref) and np.array_equal(gx, ref_gx), (pool, strides, padding)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pad_matches_tensorflow(tf, dtype):
    x = _rng(10).normal(size=(2, 3, 4, 2)).astype(dtype)
    pairs = ((2, 1), (0, 3))
    ref, (ref_gx,), g = _with_tape(tf, lambda a: tf.pad(a, ((0, 0),) + pairs + ((0, 0),)), x)
    (out, gx), _ = _ours(lambda a: FC.pad(a, pairs), x, upstream=g)
    assert np.array_equal(out, ref) and np.array_equal(gx, ref_gx)  # copies only: bit-exact
