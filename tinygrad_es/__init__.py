"""tinygrad_es: see and check backpropagation; build small networks with Keras's API on numpy.

Two layers, one depending on the other:

* the engine: ``Tensor`` (reverse-mode autodiff over numpy), ``no_grad``, ``gradcheck``;
* a Keras-compatible API on top: ``import tinygrad_es as keras`` runs a plain Keras script of the
  Sequential/Dense kind and gives TensorFlow's numbers.
"""

from tinygrad_es import config, datasets
from tinygrad_es.autograd import is_grad_enabled, no_grad
from tinygrad_es.gradcheck import GradcheckError, gradcheck, numerical_grad
from tinygrad_es.tensor import Tensor, concatenate, maximum, minimum, stack, where

# The Keras side: module names mirror ``keras``.
from tinygrad_es import (  # noqa: E402  (order: the engine first)
    activations,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from tinygrad_es import backend, ops, random  # noqa: E402  (keras.backend, keras.ops, keras.random)
from tinygrad_es.layers import Input  # noqa: E402
from tinygrad_es.models import Sequential  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled", "gradcheck", "numerical_grad", "GradcheckError",
    "concatenate", "stack", "where", "maximum", "minimum",
    "Sequential", "Input", "activations", "callbacks", "config", "datasets", "initializers",
    "layers", "losses", "metrics", "models", "optimizers", "preprocessing", "regularizers",
    "utils", "backend", "ops", "random",
]
