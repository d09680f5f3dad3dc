"""tinygrad_es: see and check backpropagation; build small networks with Keras's API on numpy.

Two layers, one depending on the other:

* the engine: ``Tensor`` (reverse-mode autodiff over numpy), ``no_grad``, ``gradcheck``;
* a Keras-compatible API on top: ``import tinygrad_es as keras`` runs a plain Keras script of the
  Sequential/Dense kind and gives TensorFlow's numbers.
"""

import importlib
from typing import Any

from tinygrad_es import config
from tinygrad_es.autograd import is_grad_enabled, no_grad
from tinygrad_es.gradcheck import GradcheckError, gradcheck, numerical_grad
from tinygrad_es.tensor import Tensor, concatenate, maximum, minimum, stack, where
from tinygrad_es.jit import jit

# The Keras side, named as ``keras`` names it, is loaded on first use (PEP 562): ``import
# tinygrad_es`` costs the engine only, and ``keras.layers`` or ``keras.Sequential`` brings in what
# it needs the first time it is touched.
_SUBMODULES = ("activations", "backend", "callbacks", "datasets", "initializers", "layers",
               "losses", "metrics", "models", "ops", "optimizers", "preprocessing", "random",
               "regularizers", "utils")
_NAMES = {"Input": "tinygrad_es.layers", "Model": "tinygrad_es.models",
          "Sequential": "tinygrad_es.models",
          # Keras 3's base classes at the top (``class Linear(keras.Layer)``), as keras.<module>
          "Layer": "tinygrad_es.layers", "Loss": "tinygrad_es.losses",
          "Metric": "tinygrad_es.metrics", "Optimizer": "tinygrad_es.optimizers",
          "Regularizer": "tinygrad_es.regularizers", "Initializer": "tinygrad_es.initializers"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f"tinygrad_es.{name}")
    elif name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    else:
        raise AttributeError(f"module 'tinygrad_es' has no attribute {name!r}")
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled", "jit", "gradcheck", "numerical_grad",
    "GradcheckError", "concatenate", "stack", "where", "maximum", "minimum",
    "Model", "Sequential", "Input", "Layer", "Loss", "Metric", "Optimizer", "Regularizer",
    "Initializer", "activations", "callbacks", "config", "datasets",
    "initializers",
    "layers", "losses", "metrics", "models", "optimizers", "regularizers", "utils",
    "backend", "ops", "preprocessing", "random",
]
