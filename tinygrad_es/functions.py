"""The primitives: one ``Function`` per op, forward and backward side by side.

Every ``forward`` works on raw ndarrays; every ``backward`` returns one gradient per input, in
order, *before* unbroadcasting (the engine reduces each gradient to its parent's shape). Where the
derivative at a kink or the formula departs from the textbook, it is TensorFlow's choice, marked
``# NOTE:`` (see keras-semantics.md section 9).
"""

from __future__ import annotations

import numpy as np

from tinygrad_es.autograd import Function
from tinygrad_es.special import erfc
from tinygrad_es.tfcast import tf_constant

# NOTE: SELU constants to full precision, as TensorFlow's kernel uses them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768599402175208123  # λα as TF's kernel spells it (not λ*α)
_SQRT_PI = float(np.sqrt(np.pi))  # a Python float: np.float64 would make float32 grads float64


class _PublicErrState:
    """numpy's floating-point error state through ``np.errstate`` (a numpy without the
    context variable below): ``set`` enters one, ``reset`` leaves it."""

    @staticmethod
    def set(_state):
        quiet = np.errstate(over="ignore")
        quiet.__enter__()
        return quiet

    @staticmethod
    def reset(quiet):
        quiet.__exit__(None, None, None)


# Sigmoid's overflow is expected and silenced. ``with np.errstate(over="ignore")`` costs ~0.9 us
# a call (a new context manager and its dict of settings) in every step of a small network; the
# state it installs is a value of numpy's context variable, made once here and set directly.
# (It holds numpy's default settings for the other errors: sigmoid's numpy calls raise none.)
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _ERR_STATE
    with np.errstate(over="ignore"):
        _OVERFLOW_QUIET = _ERR_STATE.get()
except ImportError:  # pragma: no cover (numpy's private layout changed)
    _ERR_STATE, _OVERFLOW_QUIET = _PublicErrState, None

# np.add.reduce(a, axis=..., keepdims=...) below is the very call ``a.sum(...)`` makes, without
# its Python wrapper (~1 us each, in every backward of a small network): the same bits; likewise
# np.maximum.reduce for ``a.max(...)``.

# ----- binary arithmetic -----

class Add(Function):
    """Add: z = x + y.  dz/dx = 1, dz/dy = 1."""

    elementwise = True
    derivatives = ("1", "1")

    def forward(self, x, y):
        return x + y

    def backward(self, grad_output):
        return grad_output, grad_output


class Sub(Function):
    """Sub: z = x - y.  dz/dx = 1, dz/dy = -1."""

    elementwise = True
    derivatives = ("1", "-1")

    def forward(self, x, y):
        return x - y

    def backward(self, grad_output):
        return grad_output, -grad_output if self.needs_input_grad[1] else None


class Mul(Function):
    """Mul: z = x * y.  dz/dx = y, dz/dy = x."""

    elementwise = True
    derivatives = ("{y}", "{x}")

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad_output):
        x, y = self.saved_tensors
        return (grad_output * y if self.needs_input_grad[0] else None,
                grad_output * x if self.needs_input_grad[1] else None)


class Div(Function):
    """Div: z = x / y.  dz/dx = 1/y, dz/dy = -x/y²."""

    elementwise = True
    derivatives = ("1/{y}", "-{x}/{y}²")

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x / y

    def backward(self, grad_output):
        x, y = self.saved_tensors
        # NOTE: TF's RealDiv gradient order: g/y and g * ((-x/y)/y).
        return (grad_output / y if self.needs_input_grad[0] else None,
                grad_output * (-x / y / y) if self.needs_input_grad[1] else None)


class Pow(Function):
    """Pow: z = x ** y.  dz/dx = y·x^(y-1), dz/dy = z·log(x) (0 where x <= 0, as in TF)."""

    elementwise = True
    derivatives = ("{y}·{x}^({y}-1)", "{z}·ln({x})")

    def forward(self, x, y):
        out = x ** y
        self.save_for_backward(x, y, out)
        return out

    def backward(self, grad_output):
        x, y, out = self.saved_tensors
        gx = grad_output * (y * x ** (y - 1)) if self.needs_input_grad[0] else None
        gy = None
        if self.needs_input_grad[1]:
            positive = x > 0
            gy = grad_output * out * np.where(positive, np.log(np.where(positive, x, 1)), 0)
        return gx, gy


class MatMul(Function):
    """MatMul: Z = X @ Y (1-D, 2-D or batched).  dL/dX = G @ Yᵀ, dL/dY = Xᵀ @ G."""

    elementwise = False
    derivatives = ("{g} @ {y}ᵀ", "{x}ᵀ @ {g}")

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x @ y

    def backward(self, grad_output):
        x, y = self.saved_tensors
        g = grad_output
        if y.ndim == 1:  # put back the axes matmul dropped: the column of y first, then x's row
            g = np.expand_dims(g, -1)
        if x.ndim == 1:
            g = np.expand_dims(g, -2)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = g @ (np.swapaxes(y, -1, -2) if y.ndim > 1 else y[None, :])
            if x.ndim == 1:
                gx = gx[..., 0, :]
        if self.needs_input_grad[1]:
            gy = (np.swapaxes(x, -1, -2) if x.ndim > 1 else x[:, None]) @ g
            if y.ndim == 1:
                gy = gy[..., 0]
        return gx, gy


class Linear(Function):
    """Linear: Z = X @ W + b, a Dense layer's affine map.  dL/dX = G Wᵀ, dL/dW = Xᵀ G, dL/db = Σ G.

    The same arithmetic as MatMul followed by Add (Keras's matmul then bias add), as one node.
    """

    elementwise = False
    derivatives = ("{g} @ {y}ᵀ", "{x}ᵀ @ {g}", "Σ {g} over the rows")
    # A captured step (jit_codegen.py) hands backward the arrays where the gradients of W and b
    # belong (views of the optimizer's packed gradient buffers): matmul and the sum write them
    # there, the values they would give in a new array, and no copy follows.
    gradients_out = True

    def forward(self, x, w, b):
        self.save_for_backward(x, w)
        out = x @ w
        if out.dtype == b.dtype and out.ndim:
            out += b  # the fresh matmul result is ours: add the bias in place
            return out
        return out + b

    def backward(self, grad_output, out=(None, None, None)):
        x, w = self.saved_tensors
        g = grad_output
        gx = g @ w.T if self.needs_input_grad[0] else None
        if x.ndim != 2:  # fold the batch axes (or lift a 1-D x): W and b see every row
            x, g = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
        gw = np.matmul(x.T, g, out=out[1]) if self.needs_input_grad[1] else None  # = x.T @ g
        gb = np.add.reduce(g, axis=0, out=out[2]) if self.needs_input_grad[2] else None
        return gx, gw, gb


class Maximum(Function):
    """Maximum: z = max(x, y).  dz/dx = [x >= y], dz/dy = [x < y]."""

    elementwise = True
    derivatives = ("1 if {x} >= {y} else 0", "1 if {x} < {y} else 0")

    def forward(self, x, y):
        # NOTE: a tie sends all the gradient to the first input, as TF's Maximum gradient does.
        self.save_for_backward(x >= y)
        return np.maximum(x, y)

    def backward(self, grad_output):
        mask = self.saved_tensors[0]
        return np.where(mask, grad_output, 0), np.where(mask, 0, grad_output)


class Minimum(Function):
    """Minimum: z = min(x, y).  dz/dx = [x <= y], dz/dy = [x > y]."""

    elementwise = True
    derivatives = ("1 if {x} <= {y} else 0", "1 if {x} > {y} else 0")

    def forward(self, x, y):
        self.save_for_backward(x <= y)
        return np.minimum(x, y)

    def backward(self, grad_output):
        mask = self.saved_tensors[0]
        return np.where(mask, grad_output, 0), np.where(mask, 0, grad_output)


class Where(Function):
    """Where: z = cond ? x : y.  dz/dx = [cond], dz/dy = [not cond]; cond gets no gradient."""

    elementwise = True
    derivatives = ("", "1 where {x} else 0", "0 where {x} else 1")

    def forward(self, cond, x, y):
        self.cond = cond.astype(bool, copy=False)
        return np.where(self.cond, x, y)

    def backward(self, grad_output):
        return None, np.where(self.cond, grad_output, 0), np.where(self.cond, 0, grad_output)


# ----- unary math -----

class Neg(Function):
    """Neg: z = -x.  dz/dx = -1."""

    elementwise = True
    derivatives = ("-1",)

    def forward(self, x):
        return -x

    def backward(self, grad_output):
        return -grad_output


class Exp(Function):
    """Exp: z = eˣ.  dz/dx = eˣ = z."""

    elementwise = True
    derivatives = ("e^{x} = {z}",)

    def forward(self, x):
        out = np.exp(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        return grad_output * self.saved_tensors[0]


class Log(Function):
    """Log: z = ln x.  dz/dx = 1/x."""

    elementwise = True
    derivatives = ("1/{x}",)

    def forward(self, x):
        self.save_for_backward(x)
        return np.log(x)

    def backward(self, grad_output):
        return grad_output / self.saved_tensors[0]


class Sqrt(Function):
    """Sqrt: z = √x.  dz/dx = 1/(2√x) = 0.5/z."""

    elementwise = True
    derivatives = ("1/(2·√{x}) = 0.5/{z}",)

    def forward(self, x):
        out = np.sqrt(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        return grad_output * 0.5 / self.saved_tensors[0]


class Square(Function):
    """Square: z = x².  dz/dx = 2x."""

    elementwise = True
    derivatives = ("2·{x}",)

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad_output):
        return grad_output * (2 * self.saved_tensors[0])


class PowScalar(Function):
    """PowScalar: z = xᵖ for a constant p.  dz/dx = p·x^(p-1)."""

    elementwise = True
    derivatives = ("{p}·{x}^({p}-1)",)

    def forward(self, x, p):
        self.p = p
        self.save_for_backward(x)
        return x ** p

    def backward(self, grad_output):
        x = self.saved_tensors[0]
        return grad_output * (self.p * x ** (self.p - 1))


class Abs(Function):
    """Abs: z = |x|.  dz/dx = sign(x), which is 0 at x = 0 (TF's choice)."""

    elementwise = True
    derivatives = ("sign({x})",)

    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, grad_output):
        return grad_output * np.sign(self.saved_tensors[0])


class Clip(Function):
    """Clip: z = min(max(x, lo), hi).  dz/dx = 1 on [lo, hi] (endpoints included), else 0."""

    elementwise = True
    derivatives = ("1 if lo <= {x} <= hi else 0",)

    def forward(self, x, lo, hi):
        # NOTE: TF's clip_by_value passes the gradient at the bounds themselves.
        self.save_for_backward((x >= lo) & (x <= hi))
        return np.clip(x, lo, hi)

    def backward(self, grad_output):
        return grad_output * self.saved_tensors[0]  # multiplying by a bool mask beats np.where


# ----- activations -----

class Relu(Function):
    """ReLU: z = max(x, 0).  dz/dx = [x > 0], so 0 at x = 0 (TF's choice)."""

    elementwise = True
    derivatives = ("1 if {x} > 0 else 0",)

    def forward(self, x):
        out = np.maximum(x, 0)
        self.save_for_backward(x > 0)
        return out

    def backward(self, grad_output):
        return grad_output * self.saved_tensors[0]  # NOTE: TF's ReluGrad multiplies by the mask


class Relu6(Function):
    """ReLU6: z = min(max(x, 0), 6).  dz/dx = [0 < x < 6] (0 at both kinks, as TF)."""

    elementwise = True
    derivatives = ("1 if 0 < {x} < 6 else 0",)

    def forward(self, x):
        self.save_for_backward((x > 0) & (x < 6))
        return np.clip(x, 0, 6)

    def backward(self, grad_output):
        return grad_output * self.saved_tensors[0]  # NOTE: TF's ReluGrad multiplies by the mask


class LeakyRelu(Function):
    """LeakyReLU: z = x if x > 0 else a·x.  dz/dx = 1 if x > 0 else a (a at x = 0)."""

    elementwise = True
    derivatives = ("1 if {x} > 0 else {a}",)

    def forward(self, x, negative_slope):
        self.a = tf_constant(float(negative_slope), x.dtype)  # NOTE: TF's alpha is float32.
        self.save_for_backward(x > 0)
        return np.where(x > 0, x, x * self.a)

    def backward(self, grad_output):
        return np.where(self.saved_tensors[0], grad_output, grad_output * self.a)


class Sigmoid(Function):
    """Sigmoid: s(x) = 1/(1+e⁻ˣ).  ds/dx = s(x)(1-s(x))."""

    elementwise = True
    derivatives = ("σ({x})·(1-σ({x})) = {z}·(1-{z})",)

    def forward(self, x):
        # NOTE: TF's formula. For x < -88 (float32) e⁻ˣ overflows to inf and s = 1/inf = 0, the
        # value TF gives too; the overflow is expected, so it is not reported. 4 numpy calls.
        token = _ERR_STATE.set(_OVERFLOW_QUIET)
        try:
            out = 1 / (1 + np.exp(-x))
        finally:
            _ERR_STATE.reset(token)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        s = self.saved_tensors[0]
        return grad_output * s * (1 - s)


class Tanh(Function):
    """Tanh: t(x) = (eˣ-e⁻ˣ)/(eˣ+e⁻ˣ).  dt/dx = 1 - t²."""

    elementwise = True
    derivatives = ("1-tanh²({x}) = 1-{z}²",)

    def forward(self, x):
        out = np.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        t = self.saved_tensors[0]
        return grad_output * (1 - t * t)


class Elu(Function):
    """ELU: z = x if x > 0 else a(eˣ-1).  dz/dx = 1 if x > 0 else z + a (1 at x = 0)."""

    elementwise = True
    derivatives = ("1 if {x} > 0 else {z} + {alpha}",)

    def forward(self, x, alpha):
        self.alpha = alpha
        out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        self.save_for_backward(x > 0, out)
        return out

    def backward(self, grad_output):
        positive, out = self.saved_tensors
        return np.where(positive, grad_output, grad_output * (out + self.alpha))


class Selu(Function):
    """SELU: z = λx if x > 0 else λα(eˣ-1).  dz/dx = λ if z >= 0 else z + λα (λ at x = 0).

    λ = 1.0507009873554804934, α = 1.6732632423543772848 (Klambauer et al. 2017).
    """

    elementwise = True
    derivatives = ("λ if {z} >= 0 else {z} + λα",)

    def forward(self, x):
        # NOTE: TF's kernel computes eˣ-1 (not expm1) and its gradient picks the branch by the sign
        # of the *output*: in float32 a tiny negative x (eˣ rounds to 1, so z = 0) gets λ, as here.
        out = np.where(x < 0, SELU_SCALE_ALPHA * (np.exp(np.minimum(x, 0)) - 1), SELU_SCALE * x)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        out = self.saved_tensors[0]
        return np.where(out < 0, grad_output * (out + SELU_SCALE_ALPHA), grad_output * SELU_SCALE)


class Softplus(Function):
    """Softplus: z = ln(1+eˣ), computed as max(x,0) + ln(1+e⁻|ˣ|).  dz/dx = s(x) (sigmoid)."""

    elementwise = True
    derivatives = ("σ({x})",)

    def forward(self, x):
        e = np.exp(-np.abs(x))
        self.save_for_backward(x, e)
        return np.maximum(x, 0) + np.log1p(e)

    def backward(self, grad_output):
        x, e = self.saved_tensors
        return grad_output * np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Softsign(Function):
    """Softsign: z = x/(1+|x|).  dz/dx = 1/(1+|x|)²."""

    elementwise = True
    derivatives = ("1/(1+|{x}|)²",)

    def forward(self, x):
        d = 1 + np.abs(x)
        self.save_for_backward(d)
        return x / d

    def backward(self, grad_output):
        d = self.saved_tensors[0]
        return grad_output / (d * d)


class Silu(Function):
    """SiLU / swish: z = x·s(x).  dz/dx = s(x)(1 + x(1-s(x)))."""

    elementwise = True
    derivatives = ("σ({x})·(1 + {x}·(1-σ({x})))",)

    def forward(self, x):
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(x, s)
        return x * s

    def backward(self, grad_output):
        x, s = self.saved_tensors
        return grad_output * (s * (1 + x * (1 - s)))


class Gelu(Function):
    """GELU, exact: z = ½x·erfc(-x/√2).  dz/dx = ½erfc(-x/√2) + x·e^(-x²/2)/√(2π).

    With ``approximate=True``: z = ½x(1 + tanh(√(2/π)(x + 0.044715x³))), differentiated exactly.
    """

    elementwise = True

    @property
    def derivatives(self) -> tuple[str, ...]:
        if getattr(self, "approximate", False):
            return ("½(1 + t) + ½{x}(1 - t²)·√(2/π)(1 + 3·0.044715{x}²), t = tanh(√(2/π)({x} + "
                    "0.044715{x}³))",)
        return ("½erfc(-{x}/√2) + {x}·e^(-{x}²/2)/√(2π)",)

    def forward(self, x, approximate):
        self.approximate = approximate
        if approximate:
            # NOTE: TF casts 0.044715 through float32; 0.7978845608028654 stays exact.
            c = tf_constant(0.044715, x.dtype)
            inner = 0.7978845608028654 * (x + c * x ** 3)
            t = np.tanh(inner)
            self.save_for_backward(x, t)
            self.c = c
            return 0.5 * x * (1 + t)
        # NOTE: 1/√2 goes through float32 in TF, so in float64 it is 0.70710676908493042.
        k = tf_constant(0.7071067811865476, x.dtype)
        cdf2 = erfc(-x * k)
        self.save_for_backward(x, cdf2)
        self.k = k
        return 0.5 * x * cdf2

    def backward(self, grad_output):
        x, aux = self.saved_tensors
        if self.approximate:
            t = aux
            dinner = 0.7978845608028654 * (1 + 3 * self.c * x * x)
            return grad_output * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)
        # d/dx erfc(-kx) = 2k/√π · e^(-k²x²)
        pdf = (2 * self.k / _SQRT_PI) * np.exp(-(self.k * x) ** 2)
        return grad_output * (0.5 * aux + 0.5 * x * pdf)


class Softmax(Function):
    """Softmax: sᵢ = e^(xᵢ-max) / Σⱼ e^(xⱼ-max).  dL/dx = s ⊙ (g - Σ g⊙s)."""

    elementwise = False
    derivatives = ("{z} ⊙ ({g} - Σ {g}⊙{z})",)

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
        out = e / np.add.reduce(e, axis=axis, keepdims=True)
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        s = self.saved_tensors[0]
        return s * (grad_output - np.add.reduce(grad_output * s, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """LogSoftmax: zᵢ = xᵢ - max - ln Σⱼ e^(xⱼ-max).  dL/dx = g - softmax(x)·Σ g."""

    elementwise = False
    derivatives = ("{g} - softmax({x})·Σ {g}",)

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
        out = shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
        self.save_for_backward(out)
        return out

    def backward(self, grad_output):
        softmax = np.exp(self.saved_tensors[0])
        return grad_output - softmax * np.add.reduce(grad_output, axis=self.axis, keepdims=True)


class SoftmaxCrossEntropy(Function):
    """Softmax cross-entropy from logits z against target rows y (last axis), one value per row:
    L = Σⱼ yⱼ (lse(z) - zⱼ), lse(z) = m + ln Σⱼ e^(zⱼ-m).  dL/dz = softmax(z)·Σⱼyⱼ - y.

    TF's ``softmax_cross_entropy_with_logits`` kernel, which Keras's crossentropy uses on the logits
    of a softmax output. y gets no gradient.

    NOTE: TF's kernel back-propagates softmax(z) - y, the derivative above only when the rows of y
    sum to 1 (one-hot, label smoothing). Keras trains multi-hot targets (the functional API guide's
    ticket classifier) with it, so this op does too.
    """

    elementwise = False
    derivatives = ("{g}·(softmax({x}) - y)", "")

    def forward(self, z, y):
        shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)
        e = np.exp(shifted)
        total = np.add.reduce(e, axis=-1, keepdims=True)
        self.save_for_backward(e / total, y)
        return np.add.reduce(y * (np.log(total) - shifted), axis=-1)

    def backward(self, grad_output):
        softmax, y = self.saved_tensors
        return (softmax - y) * grad_output[..., None], None


class SparseSoftmaxCrossEntropy(Function):
    """Softmax cross-entropy from logits z against integer labels k, one value per row:
    L = lse(z) - z_k, lse(z) = m + ln Σⱼ e^(zⱼ-m).  dL/dz = softmax(z) - onehot(k).

    TF's ``sparse_softmax_cross_entropy_with_logits`` kernel, which Keras's sparse crossentropy
    uses: only z_k is read, so a logit whose z_j - m overflows to -inf leaves L finite (the dense
    form's 0·inf is NaN there). Otherwise equal, bit for bit, to SoftmaxCrossEntropy of one-hot
    rows. The labels are a keyword argument and get no gradient.
    """

    elementwise = False
    derivatives = ("{g}·(softmax({x}) - onehot(labels))",)

    def forward(self, z, labels):
        shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)
        e = np.exp(shifted)
        total = np.add.reduce(e, axis=-1, keepdims=True)
        index = labels[..., None]
        self.save_for_backward(e / total, index)
        return (np.log(total) - np.take_along_axis(shifted, index, axis=-1))[..., 0]

    def backward(self, grad_output):
        softmax, index = self.saved_tensors
        grad = softmax.copy()
        np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - 1, axis=-1)
        return grad * grad_output[..., None]


# ----- reductions -----

def _expand_reduced(grad: np.ndarray, axis, keepdims: bool, shape: tuple) -> np.ndarray:
    """Spread a reduction's gradient back over the input's shape (a fresh, writeable array)."""
    if axis is not None and not keepdims:  # put back the reduced axes, as size 1
        axes = (axis,) if isinstance(axis, int) else axis
        kept = [1 if (i in axes or i - len(shape) in axes) else n for i, n in enumerate(shape)]
        grad = grad.reshape(kept)
    out = np.empty(shape, dtype=grad.dtype)
    out[...] = grad  # cheaper than np.broadcast_to's Python-level checks
    return out


class Sum(Function):
    """Sum: z = Σᵢ xᵢ (over axis).  dz/dxᵢ = 1."""

    elementwise = True
    derivatives = ("1",)

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims, self.shape = axis, keepdims, x.shape
        return np.add.reduce(x, axis=axis, keepdims=keepdims)

    def backward(self, grad_output):
        return _expand_reduced(grad_output, self.axis, self.keepdims, self.shape)


class Mean(Function):
    """Mean: z = (1/n) Σᵢ xᵢ (over axis).  dz/dxᵢ = 1/n."""

    elementwise = True
    derivatives = ("1/{n}",)

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims, self.shape = axis, keepdims, x.shape
        out = np.add.reduce(x, axis=axis, keepdims=keepdims)  # np.mean's sum, minus its wrapper
        self.n = x.size // max(out.size, 1) if x.size else 1
        return out / self.n

    def backward(self, grad_output):
        if self.axis is None:   # np.full's two calls, without its Python wrapper
            out = np.empty(self.shape, dtype=grad_output.dtype)
            np.copyto(out, grad_output / self.n, casting="unsafe")
            return out
        return _expand_reduced(grad_output / self.n, self.axis, self.keepdims, self.shape)


class Max(Function):
    """Max: z = maxᵢ xᵢ (over axis).  dz/dxᵢ = [xᵢ = z] / (number of ties), as in TF."""

    elementwise = False
    derivatives = ("{g} to the entries equal to the max, shared among ties",)

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        out = np.maximum.reduce(x, axis=axis, keepdims=True)
        mask = (x == out).astype(x.dtype)  # in x's dtype, so the gradient stays float32 in float32
        self.save_for_backward(mask / np.add.reduce(mask, axis=axis, keepdims=True))
        return out if keepdims else np.squeeze(out, axis=axis)

    def backward(self, grad_output):
        share = self.saved_tensors[0]
        return share * _expand_reduced(grad_output, self.axis, self.keepdims, share.shape)


class Min(Max):
    """Min: z = minᵢ xᵢ (over axis).  dz/dxᵢ = [xᵢ = z] / (number of ties), as in TF."""

    elementwise = False
    derivatives = ("{g} to the entries equal to the min, shared among ties",)

    def forward(self, x, axis, keepdims):
        return -super().forward(-x, axis, keepdims)


# ----- movement -----

class Reshape(Function):
    """Reshape: the same numbers in a new shape.  The gradient is reshaped back."""

    elementwise = False
    derivatives = ("{g} reshaped back to the shape of {x}",)

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad_output):
        return grad_output.reshape(self.in_shape)


class Transpose(Function):
    """Transpose: permute the axes.  The gradient is permuted back by the inverse permutation."""

    elementwise = False
    derivatives = ("{g} with its axes permuted back",)

    def forward(self, x, axes):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, grad_output):
        if self.axes is None:
            return np.transpose(grad_output)
        return np.transpose(grad_output, np.argsort(self.axes))


class BroadcastTo(Function):
    """BroadcastTo: repeat along new or size-1 axes.  The engine sums the gradient back."""

    elementwise = True
    derivatives = ("1",)

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, grad_output):
        return grad_output


class GetItem(Function):
    """Indexing: z = x[idx].  dL/dx scatters g into zeros; repeated indices accumulate."""

    elementwise = False
    derivatives = ("{g} scattered into zeros the shape of {x}",)

    def forward(self, x, idx):
        self.idx, self.shape = idx, x.shape
        return x[idx]

    def backward(self, grad_output):
        grad = np.zeros(self.shape, dtype=grad_output.dtype)
        if _is_basic_index(self.idx):
            grad[self.idx] = grad_output  # slices never repeat an element
        else:
            np.add.at(grad, self.idx, grad_output)
        return grad


def _is_basic_index(idx) -> bool:
    """True for indices made of ints, slices, None and Ellipsis only (no arrays, no lists)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class Concatenate(Function):
    """Concatenate along an axis.  The gradient is split back at the same places."""

    elementwise = False
    derivatives = ("its piece of {g}, split back where it was joined",)

    def forward(self, *xs, axis):
        self.axis = axis
        self.splits = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    def backward(self, grad_output):
        return tuple(np.split(grad_output, self.splits, axis=self.axis))


class Stack(Function):
    """Stack along a new axis.  Each input gets its slice of the gradient."""

    elementwise = False
    derivatives = ("its slice of {g} along the stacked axis",)

    def forward(self, *xs, axis):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, grad_output):
        return tuple(np.moveaxis(grad_output, self.axis, 0))
