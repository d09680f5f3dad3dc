"""``keras.ops.numpy``: the numpy-like ops, gathered from the files that define them (the same
functions as ``tinygrad_es.ops.<name>``). Keras keeps ``logsumexp``, ``rsqrt``, ``top_k`` and
``unstack`` outside this namespace (its ``math`` and ``core`` ops), and so does this module."""

from tinygrad_es.ops import arrays as _arrays
from tinygrad_es.ops import elementwise as _elementwise
from tinygrad_es.ops import indexing as _indexing
from tinygrad_es.ops import products as _products
from tinygrad_es.ops import reductions as _reductions

_NOT_NUMPY = {"logsumexp", "rsqrt", "top_k", "unstack"}
__all__ = [n for m in (_arrays, _elementwise, _indexing, _reductions) for n in m.__all__
           if n not in _NOT_NUMPY] + _products.__all__

for _module in (_arrays, _elementwise, _indexing, _reductions, _products):
    globals().update({n: getattr(_module, n) for n in _module.__all__ if n in __all__})
del _module
