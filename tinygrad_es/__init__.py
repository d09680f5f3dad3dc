"""tinygrad_es: see and check backpropagation; build small networks with Keras's API on numpy.

``import tinygrad_es as keras`` runs a plain Keras script of the Sequential/Dense kind.
"""

from tinygrad_es import config, datasets
from tinygrad_es.autograd import is_grad_enabled, no_grad
from tinygrad_es.gradcheck import GradcheckError, gradcheck, numerical_grad
from tinygrad_es.tensor import Tensor, concatenate, maximum, minimum, stack, where

__version__ = "0.1.0"
