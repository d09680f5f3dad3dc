"""``keras.ops`` on the engine: the numpy-like and neural-network functions Keras programs call on
tensors, so ``from tinygrad_es import ops`` (or ``import tinygrad_es as keras; keras.ops``) runs
them unchanged.

Every op takes Tensors, numbers or arrays and returns a ``Tensor``; built from public Tensor ops, it
is differentiable wherever TensorFlow's is, with TensorFlow's gradients (``tests/test_ops_keras.py``
checks values, dtypes, shapes and ``GradientTape`` gradients against ``keras.ops`` on TensorFlow).
Dtypes follow Keras's rules, not numpy's (``core.py``).

* ``core.py``: convert_to_tensor / convert_to_numpy, cast, shape, dtype, stop_gradient;
* ``elementwise.py``: add … power, exp, log, sqrt, comparisons, where, clip;
* ``reductions.py``: sum, mean, max, argmax, logsumexp, cumsum;
* ``arrays.py``: ones, zeros, arange, reshape, concatenate, split;
* ``indexing.py``: take, take_along_axis, sort, top_k;
* ``products.py``: matmul, dot, tensordot;
* ``linalg.py``: norm;
* ``nn.py``: relu, sigmoid, softmax, gelu, one_hot, moments, normalize.

``ops.numpy``, ``ops.nn`` and ``ops.linalg`` are also modules, as in Keras.

Example:
    >>> from tinygrad_es import Tensor, ops
    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = ops.mean(ops.square(ops.matmul(x, ops.ones((2, 1)))))
    >>> loss.backward(); loss.item(), x.grad.tolist()
    (29.0, [[3.0, 3.0], [7.0, 7.0]])
"""

from tinygrad_es.ops import linalg, nn, numpy  # noqa: F401  (Keras's submodules)
from tinygrad_es.ops.arrays import *  # noqa: F401,F403
from tinygrad_es.ops.arrays import __all__ as _arrays
from tinygrad_es.ops.core import *  # noqa: F401,F403
from tinygrad_es.ops.core import __all__ as _core
from tinygrad_es.ops.elementwise import *  # noqa: F401,F403
from tinygrad_es.ops.indexing import *  # noqa: F401,F403
from tinygrad_es.ops.indexing import __all__ as _indexing
from tinygrad_es.ops.elementwise import __all__ as _elementwise
from tinygrad_es.ops.linalg import *  # noqa: F401,F403
from tinygrad_es.ops.linalg import __all__ as _linalg
from tinygrad_es.ops.nn import *  # noqa: F401,F403
from tinygrad_es.ops.products import *  # noqa: F401,F403
from tinygrad_es.ops.products import __all__ as _products
from tinygrad_es.ops.nn import __all__ as _nn
from tinygrad_es.ops.reductions import *  # noqa: F401,F403
from tinygrad_es.ops.reductions import __all__ as _reductions

__all__ = ["linalg", "nn", "numpy", *_core, *_elementwise, *_reductions, *_arrays, *_indexing,
           *_products, *_linalg, *_nn]
