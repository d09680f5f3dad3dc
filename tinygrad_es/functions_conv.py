"""Convolution and pooling primitives (channels_last), and the functions that run them.

A convolution is a matrix product in disguise. ``_im2col`` lays every window of the (padded)
input out as one row — the kernel taps times the input channels — so the whole convolution is one
matmul with the kernel flattened to (taps·channels, filters). Its adjoint ``_col2im`` adds each
row back where it was read from; it loops over the kernel's taps (9 for a 3×3 kernel), never over
pixels. Backward of a convolution is then a matmul and a col2im, and a transposed convolution is
the same two steps the other way round.

Shapes: inputs are (batch, *spatial, channels), kernels (*kernel_size, in_channels, filters) as in
Keras; 1-D and 2-D (and 3-D) alike. Padding reaches the primitives as explicit (before, after)
pairs per spatial axis; ``conv_padding`` turns Keras's "valid" / "same" / "causal" into them with
TensorFlow's rule (for "same", the odd pixel goes after: keras-semantics.md has no section on it,
so the rule is TF's ``get_windowed_output_size``, checked against TF in tests/test_conv.py).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tinygrad_es.autograd import Function
from tinygrad_es.i18n import tr

__all__ = ["Conv", "ConvTranspose", "MaxPool", "AvgPool", "Pad", "conv", "conv_transpose",
           "max_pool", "average_pool", "pad", "conv_padding", "conv_output_size"]

Pairs = tuple[tuple[int, int], ...]


# ----- windows: im2col and its adjoint col2im -----

def _windows(xp: np.ndarray, kernel: tuple, strides: tuple, dilation: tuple) -> np.ndarray:
    """A view (batch, *out, *kernel, channels) of every window of ``xp`` (no copy)."""
    rank = len(kernel)
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    view = np.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(range(1, rank + 1)))
    # view: (batch, *positions, channels, *span); keep every stride-th position, every d-th tap
    view = view[(slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),)
                + tuple(slice(None, None, d) for d in dilation)]
    return np.moveaxis(view, rank + 1, -1)


def _im2col(xp: np.ndarray, kernel: tuple, strides: tuple,
            dilation: tuple) -> tuple[np.ndarray, tuple]:
    """The windows as a matrix: one row per output position, (taps·channels) columns."""
    windows = _windows(xp, kernel, strides, dilation)
    out = windows.shape[1:1 + len(kernel)]
    return windows.reshape(-1, math.prod(kernel) * xp.shape[-1]), out  # the one copy


def _col2im(cols: np.ndarray, padded_shape: tuple, kernel: tuple, strides: tuple,
            dilation: tuple) -> np.ndarray:
    """The adjoint of im2col: add each window (batch, *out, *kernel, channels) back in place."""
    rank = len(kernel)
    out = cols.shape[1:1 + rank]
    grad = np.zeros(padded_shape, dtype=cols.dtype)
    for tap in np.ndindex(*kernel):  # one strided slice per kernel tap: a loop over taps only
        grad[_tap(tap, out, strides, dilation)] += cols[(slice(None),) * (rank + 1) + tap]
    return grad


def _tap(tap: tuple, out: tuple, strides: tuple, dilation: tuple | None = None) -> tuple:
    """The index of one kernel tap's pixels over every window: ``xp[_tap(...)]`` is
    (batch, *out, channels)."""
    dilation = dilation or (1,) * len(tap)
    return (slice(None),) + tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                                  for t, d, o, s in zip(tap, dilation, out, strides))


def _pad(x: np.ndarray, padding: Pairs, value: float = 0.0) -> np.ndarray:
    if not any(lo or hi for lo, hi in padding):
        return x
    return np.pad(x, ((0, 0),) + tuple(padding) + ((0, 0),), constant_values=value)


def _crop(xp: np.ndarray, padding: Pairs) -> np.ndarray:
    if not any(lo or hi for lo, hi in padding):
        return xp
    return xp[(slice(None),) + tuple(slice(lo, n - hi) for (lo, hi), n in
                                     zip(padding, xp.shape[1:-1]))]


# ----- convolution -----

class Conv(Function):
    """Convolution: z[n,o,f] = Σ_{k,c} xp[n, o·s + k·d, c] · w[k,c,f], xp = x zero-padded.

    As matrices, Z = im2col(x) @ W.  dL/dW = im2col(x)ᵀ @ G: each weight w[k] adds up, over every
    window o it was slid to, the pixel it met times that window's gradient g[o].  dL/dx =
    col2im(G @ Wᵀ), cropped to x: each pixel p gets back g[o]·w[k] from every window o that read
    it with tap k (o·s + k·d = p). o runs over output positions, k over kernel taps, s is the
    stride and d the dilation. The trace writes both as formulas, so they read the same in every
    language.
    """

    elementwise = False
    derivatives = ("p ↦ Σ_(o,k: o·s+k·d = p) {g}[o]·{y}[k] = col2im({g} @ {y}ᵀ)",
                   "k ↦ Σ_(n,o) {x}[n, o·s+k·d]·{g}[n, o] = im2col({x})ᵀ @ {g}")

    def forward(self, x, w, padding, strides, dilation):
        self.padding, self.strides, self.dilation = padding, strides, dilation
        xp = _pad(x, padding)
        cols, out = _im2col(xp, w.shape[:-2], strides, dilation)
        self.padded_shape = xp.shape
        self.save_for_backward(cols, w)
        return (cols @ w.reshape(-1, w.shape[-1])).reshape((x.shape[0],) + out + w.shape[-1:])

    def backward(self, grad_output):
        cols, w = self.saved_tensors
        kernel, filters = w.shape[:-2], w.shape[-1]
        g = grad_output.reshape(-1, filters)
        gx = gw = None
        if self.needs_input_grad[0]:
            # a contiguous Wᵀ (a small copy): multithreaded OpenBLAS is slow on a transposed view
            w_t = np.ascontiguousarray(w.reshape(-1, filters).T)
            taps = (g @ w_t).reshape(grad_output.shape[:-1] + w.shape[:-1])
            gx = _crop(_col2im(taps, self.padded_shape, kernel, self.strides, self.dilation),
                       self.padding)
        if self.needs_input_grad[1]:
            gw = (cols.T @ g).reshape(w.shape)
        return gx, gw


class ConvTranspose(Function):
    """Transposed convolution, the adjoint of Conv: Z = col2im(X @ Wᵀ), cropped by the padding.

    w is (*kernel, filters, in_channels) as Keras's Conv2DTranspose kernel. It is Conv's gradient
    with respect to its input, so its own derivatives are Conv's forward: dL/dx = im2col(gp) @ W
    and dL/dW = im2col(gp)ᵀ @ X, gp = G zero-padded.
    """

    elementwise = False
    derivatives = ("conv({g}, {y}) = im2col({g}) @ {y}", "im2col({g})ᵀ @ {x}")

    def forward(self, x, w, padding, strides, dilation, output_size):
        self.padding, self.strides, self.dilation = padding, strides, dilation
        kernel, channels = w.shape[:-2], w.shape[-1]
        self.save_for_backward(x, w)
        taps = (x.reshape(-1, channels) @ w.reshape(-1, channels).T).reshape(
            x.shape[:-1] + w.shape[:-1])
        padded = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in
                                       zip(output_size, padding)) + (w.shape[-2],)
        return _crop(_col2im(taps, padded, kernel, strides, dilation), padding)

    def backward(self, grad_output):
        x, w = self.saved_tensors
        kernel, channels = w.shape[:-2], w.shape[-1]
        cols, _ = _im2col(_pad(grad_output, self.padding), kernel, self.strides, self.dilation)
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = (cols @ w.reshape(-1, channels)).reshape(x.shape)
        if self.needs_input_grad[1]:
            gw = (cols.T @ x.reshape(-1, channels)).reshape(w.shape)
        return gx, gw


# ----- pooling -----

class MaxPool(Function):
    """Max pooling: z[n,o,c] = max_k xp[n, o·s + k, c], xp = x padded with -inf.

    dz/dx = 1 at the first maximum of each window (row-major order), 0 elsewhere: each window's
    gradient g[o] goes whole to its largest pixel and the others get 0 (TF never splits it among
    ties); where windows overlap, a pixel adds up what it gets from each.
    """

    elementwise = False
    derivatives = ("p ↦ Σ_o ({g}[o] if p = argmax(window_o({x})) else 0)",)

    def forward(self, x, pool_size, strides, padding):
        self.padding, self.strides, self.pool_size = padding, strides, pool_size
        xp = _pad(x, padding, -np.inf)
        out = tuple((n - k) // s + 1 for n, k, s in zip(xp.shape[1:-1], pool_size, strides))
        # one strided view per tap of the window (4 for 2×2), never a loop over pixels
        taps = [xp[_tap(tap, out, strides)] for tap in np.ndindex(*pool_size)]
        # np.maximum returns its second argument on a tie (+0 against -0): from the last tap
        # back, so a tie keeps the first tap's value, as argmax's first maximum would
        z = taps[-1].copy() if len(taps) == 1 else np.maximum(taps[-1], taps[-2])
        for t in taps[-3::-1]:
            np.maximum(z, t, out=z)
        # NOTE: ties go to the first, as TF's kernel: from the last tap back, the first match wins
        first = np.zeros(z.shape, np.uint8 if len(taps) < 256 else np.intp)
        for k in range(len(taps) - 1, -1, -1):
            np.putmask(first, taps[k] == z, k)
        # NOTE: a NaN propagates, as numpy's max: TF's kernel skips NaNs (and starts from the
        # dtype's lowest value, so a window of only NaN or -inf gives -3.4e38 in float32); with a
        # NaN in the activations the training has diverged either way
        nan = np.isnan(z)
        if nan.any():   # a NaN matches nothing: the first NaN of the window is its maximum
            for k in range(len(taps) - 1, -1, -1):
                np.putmask(first, nan & np.isnan(taps[k]), k)
        self.padded_shape, self.out = xp.shape, out
        self.save_for_backward(first)
        return z

    def backward(self, grad_output):
        first = self.saved_tensors[0]
        grad = np.zeros(self.padded_shape, dtype=grad_output.dtype)
        for k, tap in enumerate(np.ndindex(*self.pool_size)):
            grad[_tap(tap, self.out, self.strides)] += np.where(first == k, grad_output, 0)
        return _crop(grad, self.padding)


class AvgPool(Function):
    """Average pooling: z[n,o,c] = (1/m_o) Σ_t xp[n, o·s + t, c], m_o = real pixels in window o.

    Padding is not counted (TF's "same" average). dz/dx = 1/m_o for every pixel of window o,
    summed over the windows that contain it.
    """

    elementwise = False
    derivatives = ("p ↦ Σ_o ({g}[o]/m_o if p ∈ window_o else 0)",)

    def forward(self, x, pool_size, strides, padding):
        self.padding, self.strides, self.pool_size = padding, strides, pool_size
        rank = len(pool_size)
        xp = _pad(x, padding)
        windows = _windows(xp, pool_size, strides, (1,) * rank)
        # the pixels each window really covers: per axis, then their outer product
        counts = np.ones((), dtype=x.dtype)
        for axis, (n, (lo, hi)) in enumerate(zip(x.shape[1:-1], padding)):
            inside = np.pad(np.ones(n, dtype=x.dtype), (lo, hi))
            per_axis = _windows(inside[None, :, None], pool_size[axis:axis + 1],
                                strides[axis:axis + 1], (1,)).sum(axis=(-2, -1))[0]
            counts = np.multiply.outer(counts, per_axis)
        self.counts = counts[..., None]
        self.padded_shape, self.windows_shape = xp.shape, windows.shape
        return windows.sum(axis=tuple(range(-rank - 1, -1))) / self.counts

    def backward(self, grad_output):
        rank = len(self.pool_size)
        share = (grad_output / self.counts)[(Ellipsis,) + (None,) * rank + (slice(None),)]
        taps = np.broadcast_to(share, self.windows_shape)
        grad = _col2im(taps, self.padded_shape, self.pool_size, self.strides, (1,) * rank)
        return _crop(grad, self.padding)


class Pad(Function):
    """Zero padding of the spatial axes: z = x surrounded by zeros.  dL/dx = g cropped back."""

    elementwise = False
    derivatives = ("crop({g}, padding)",)

    def forward(self, x, padding):
        self.padding = padding
        return _pad(x, padding)

    def backward(self, grad_output):
        return _crop(grad_output, self.padding)


# ----- padding rules (TensorFlow's) -----

def conv_output_size(size: int | None, kernel: int, stride: int, dilation: int,
                     padding: str) -> int | None:
    """Output length of one spatial axis: ⌊(n - (k-1)d - 1)/s⌋ + 1 for "valid", ⌈n/s⌉ otherwise.

    Example:
        >>> conv_output_size(8, 3, 1, 1, "valid"), conv_output_size(8, 3, 2, 1, "same")
        (6, 4)
    """
    if size is None:
        return None
    if padding == "valid":
        return (size - (kernel - 1) * dilation - 1) // stride + 1
    return (size - 1) // stride + 1  # "same" and "causal"


def conv_padding(spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
                 dilation: Sequence[int], padding: str) -> Pairs:
    """(before, after) zero padding per spatial axis for Keras's ``padding`` argument.

    "valid" pads nothing; "same" pads (out-1)·s + (k-1)·d + 1 - n in total, the odd one after
    (TensorFlow's rule); "causal" (1-D) pads (k-1)·d before, so no output sees the future.

    Example:
        >>> conv_padding((8, 8), (3, 4), (1, 1), (1, 1), "same")
        ((1, 1), (1, 2))
    """
    if padding not in ("valid", "same", "causal"):
        raise ValueError(tr("padding must be 'valid', 'same' or 'causal', received {padding!r}",
                            padding=padding))
    pairs = []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        span = (k - 1) * d + 1
        if padding == "valid":
            pairs.append((0, 0))
        elif padding == "causal":
            pairs.append((span - 1, 0))
        else:
            total = max(((n - 1) // s) * s + span - n, 0)
            pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def _tuple(value: Any, rank: int, what: str, op: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank or not all(isinstance(v, (int, np.integer)) and v > 0
                                      for v in values):
        raise ValueError(tr("{op}: `{what}` must be a positive integer or a tuple of {rank}, "
                            "received {what}={value!r}", op=op, what=what, rank=rank, value=value))
    return tuple(int(v) for v in values)


def _spatial_rank(x: Any, op: str, least: int = 1) -> int:
    rank = len(x.shape) - 2
    if rank < least:
        raise ValueError(tr("{op} expects input shaped (batch, *spatial, channels), received "
                            "shape {shape}", op=op, shape=tuple(x.shape)))
    return rank


# ----- the functions layers call -----

def conv(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         dilation_rate: Any = 1) -> Any:
    """N-d convolution of channels_last ``x`` with ``kernel`` (*kernel_size, in, filters).

    Example:
        >>> from tinygrad_es import Tensor
        >>> x = Tensor(np.arange(16.0).reshape(1, 4, 4, 1))
        >>> conv(x, Tensor(np.ones((2, 2, 1, 1))), strides=2).data[0, :, :, 0]
        array([[10., 18.],
               [42., 50.]], dtype=float32)
    """
    rank = _spatial_rank(x, "conv")
    if len(kernel.shape) != rank + 2 or kernel.shape[-2] != x.shape[-1]:
        raise ValueError(tr("conv: a kernel for input of shape {shape} must be shaped "
                            "(*kernel_size, {shape2}, filters), received {shape3}",
                            shape=tuple(x.shape), shape2=x.shape[-1], shape3=tuple(kernel.shape)))
    strides = _tuple(strides, rank, "strides", "conv")
    dilation = _tuple(dilation_rate, rank, "dilation_rate", "conv")
    size = kernel.shape[:-2]
    pads = conv_padding(x.shape[1:-1], size, strides, dilation, padding)
    for n, (lo, hi), k, d in zip(x.shape[1:-1], pads, size, dilation):
        if n + lo + hi < (k - 1) * d + 1:
            raise ValueError(tr("conv: input of shape {shape} is smaller than the kernel "
                                "{size} (dilation {dilation}) with padding={padding!r}",
                                shape=tuple(x.shape), size=tuple(size), dilation=dilation,
                                padding=padding))
    return Conv.apply(x, kernel, padding=pads, strides=strides, dilation=dilation)


def conv_transpose(x: Any, kernel: Any, output_size: Sequence[int], strides: Any = 1,
                   padding: str = "valid", dilation_rate: Any = 1) -> Any:
    """Transposed convolution (the gradient of ``conv`` with respect to its input).

    ``kernel`` is (*kernel_size, filters, in_channels), as Keras's ``Conv2DTranspose`` holds it;
    ``output_size`` is the spatial shape of the result (the input that ``conv`` would map to x).

    Example:
        >>> from tinygrad_es import Tensor
        >>> y = conv_transpose(Tensor(np.ones((1, 2, 2, 1))), Tensor(np.ones((2, 2, 1, 1))),
        ...                    (4, 4), strides=2)
        >>> y.data[0, :, :, 0].tolist()[0]
        [1.0, 1.0, 1.0, 1.0]
    """
    rank = _spatial_rank(x, "conv_transpose")
    if len(kernel.shape) != rank + 2 or kernel.shape[-1] != x.shape[-1]:
        raise ValueError(tr("conv_transpose: a kernel for input of shape {shape} must be "
                            "shaped (*kernel_size, filters, {shape2}), received {shape3}",
                            shape=tuple(x.shape), shape2=x.shape[-1], shape3=tuple(kernel.shape)))
    strides = _tuple(strides, rank, "strides", "conv_transpose")
    dilation = _tuple(dilation_rate, rank, "dilation_rate", "conv_transpose")
    output_size = tuple(int(n) for n in output_size)
    pads = conv_padding(output_size, kernel.shape[:-2], strides, dilation, padding)
    for n, m, (lo, hi), k, s, d in zip(x.shape[1:-1], output_size, pads, kernel.shape[:-2],
                                       strides, dilation):
        if (m + lo + hi - (k - 1) * d - 1) // s + 1 != n:
            raise ValueError(tr("conv_transpose: output_size {output_size} does not give back "
                                "input of shape {shape} under conv with padding={padding!r}, "
                                "strides {strides}", output_size=output_size, shape=tuple(x.shape),
                                padding=padding, strides=strides))
    return ConvTranspose.apply(x, kernel, padding=pads, strides=strides, dilation=dilation,
                               output_size=output_size)


def _pool(fn: type[Function], op: str, x: Any, pool_size: Any, strides: Any,
          padding: str) -> Any:
    rank = _spatial_rank(x, op)
    pool_size = _tuple(pool_size, rank, "pool_size", op)
    strides = pool_size if strides is None else _tuple(strides, rank, "strides", op)
    if padding not in ("valid", "same"):
        raise ValueError(tr("{op}: padding must be 'valid' or 'same', received {padding!r}", op=op,
                            padding=padding))
    pads = conv_padding(x.shape[1:-1], pool_size, strides, (1,) * rank, padding)
    if padding == "valid" and any(n < k for n, k in zip(x.shape[1:-1], pool_size)):
        raise ValueError(tr("{op}: input of shape {shape} is smaller than the window "
                            "{pool_size} with padding='valid'", op=op, shape=tuple(x.shape),
                            pool_size=pool_size))
    return fn.apply(x, pool_size=pool_size, strides=strides, padding=pads)


def max_pool(x: Any, pool_size: Any = 2, strides: Any = None, padding: str = "valid") -> Any:
    """The largest value of each window (channels_last; strides default to pool_size).

    Example:
        >>> from tinygrad_es import Tensor
        >>> max_pool(Tensor(np.arange(16.0).reshape(1, 4, 4, 1))).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """
    return _pool(MaxPool, "max_pool", x, pool_size, strides, padding)


def average_pool(x: Any, pool_size: Any = 2, strides: Any = None, padding: str = "valid") -> Any:
    """The mean of each window, padding not counted (channels_last; strides default to pool_size).

    Example:
        >>> from tinygrad_es import Tensor
        >>> average_pool(Tensor(np.arange(16.0).reshape(1, 4, 4, 1))).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """
    return _pool(AvgPool, "average_pool", x, pool_size, strides, padding)


def pad(x: Any, padding: Sequence[tuple[int, int]]) -> Any:
    """Zeros around the spatial axes: ``padding`` is one (before, after) pair per spatial axis.

    Example:
        >>> from tinygrad_es import Tensor
        >>> pad(Tensor(np.ones((1, 2, 2, 1))), ((1, 0), (0, 1))).shape
        (1, 3, 3, 1)
    """
    rank = _spatial_rank(x, "pad")
    pairs = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len(pairs) != rank or any(lo < 0 or hi < 0 for lo, hi in pairs):
        raise ValueError(tr("pad: expected {rank} (before, after) pairs of non-negative "
                            "integers for input of shape {shape}, received padding={padding!r}",
                            rank=rank, shape=tuple(x.shape), padding=padding))
    return Pad.apply(x, padding=pairs)
