"""TensorFlow's and Keras's own functions used as activations, mapped to ours.

Keras programs write ``Dense(8, activation=tf.nn.relu)``, ``tf.nn.sigmoid``, ``tf.math.tanh``,
``tf.keras.activations.relu`` or ``keras.ops.gelu``. Such a function works on TensorFlow tensors,
not on ours, so ``activations.get`` recognises it by its module and ``__name__`` (TensorFlow is
never imported for it) and uses the tinygrad_es function that computes the same numbers:

* ``keras.activations.*`` (also ``tf.keras.activations``): the activation of the same name.
* ``tf.nn.*`` / ``tf.math.*`` and ``keras.ops.*``: the same (``keras.ops.gelu`` is the tanh
  approximation by default, as there). Their ``sigmoid`` and ``softmax`` outputs carry their
  logits as ours do.

NOTE: Keras sets ``_keras_logits`` only in ``keras.activations``, but inside ``fit`` and
``evaluate`` (a ``tf.function``) its crossentropy also finds the logits of a ``Sigmoid`` or
``Softmax`` graph op (``_get_logits``), so a ``tf.nn.sigmoid`` output trains through its logits
there too, as here. Only an eager call of a Keras loss on such an output clips the probabilities.

Any other TensorFlow or Keras function is a ValueError naming it.
"""

from __future__ import annotations

from typing import Any, Callable

from tinygrad_es.activations import common, extra
from tinygrad_es.i18n import tr
from tinygrad_es.tensor import Tensor

__all__ = ["lookup", "serialized_name"]


_STAND_INS: dict[int, str] = {}  # id of each stand-in below -> TensorFlow's name for it


def _stand_in(name: str, fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` under TensorFlow's ``name`` (so that it is saved as Keras saves that function)."""
    def activation(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        return fn(x, *args, **kwargs)

    activation.__name__ = activation.__qualname__ = name
    activation.__doc__ = f"TensorFlow's ``{name}``, computed as ``{fn.__name__}``."
    _STAND_INS[id(activation)] = name
    return activation


def _gelu_tanh(x: Any, approximate: bool = True) -> Tensor:
    """``keras.ops.gelu``: the tanh approximation unless ``approximate=False``."""
    return common.gelu(x, approximate)


# TensorFlow's function names (tf.nn, tf.math, tf.identity) -> ours.
_TENSORFLOW: dict[str, Callable[..., Tensor]] = {
    "relu": common.relu, "relu6": common.relu6, "elu": common.elu, "selu": common.selu,
    "gelu": common.gelu, "silu": common.silu, "leaky_relu": common.leaky_relu,
    "softplus": common.softplus, "softsign": common.softsign, "tanh": common.tanh,
    "log_sigmoid": extra.log_sigmoid, "log_softmax": common.log_softmax,
    "swish": _stand_in("swish", common.silu), "sigmoid": common.sigmoid,
    "softmax": common.softmax, "softmax_v2": _stand_in("softmax_v2", common.softmax),
    "log_softmax_v2": _stand_in("log_softmax_v2", common.log_softmax),
    "exp": _stand_in("exp", common.exponential), "identity": _stand_in("identity", common.linear)}

# keras.ops names -> ours (keras.activations names go to the registry itself).
_KERAS_OPS: dict[str, Callable[..., Tensor]] = {
    **{name: _TENSORFLOW[name] for name in ("relu", "relu6", "elu", "selu", "silu", "swish",
                                            "leaky_relu", "softplus", "softsign", "tanh",
                                            "log_sigmoid", "log_softmax", "sigmoid", "softmax",
                                            "exp")},
    "gelu": _stand_in("gelu", _gelu_tanh), "hard_sigmoid": common.hard_sigmoid,
    "hard_silu": common.hard_silu, "hard_swish": common.hard_silu, "mish": common.mish}
_SAVED_AS_DICT = {name: _TENSORFLOW[name] for name in ("swish", "softmax_v2", "log_softmax_v2",
                                                        "exp", "identity")}


def _family(fn: Any) -> str | None:
    module = getattr(fn, "__module__", None) or ""
    top = module.split(".")[0]
    if top == "tensorflow":
        return "tensorflow"
    if top in ("keras", "tf_keras"):
        return "keras.ops" if ".ops." in f"{module}." else "keras"
    return None


def lookup(fn: Any, registry: dict[str, Callable[..., Tensor]]) -> Callable[..., Tensor] | None:
    """Our function for a TensorFlow or Keras function, None for anything else.

    Args:
        fn: the callable given as an activation.
        registry: this library's activations by name (``activations.get``'s table).

    Raises:
        ValueError: a TensorFlow or Keras function that has no tinygrad_es counterpart.

    Example:
        >>> def relu(x): ...
        >>> relu.__module__ = "tensorflow.python.ops.gen_nn_ops"
        >>> lookup(relu, {}) is common.relu
        True
    """
    family = _family(fn)
    if family is None:
        return None
    name = getattr(fn, "__name__", None)
    table = {"tensorflow": _TENSORFLOW, "keras.ops": _KERAS_OPS, "keras": registry}[family]
    found = table.get(name) if isinstance(name, str) else None
    if found is None:
        where = "TensorFlow" if family == "tensorflow" else "Keras"
        described = f"{getattr(fn, '__module__', '')}.{name or type(fn).__name__}"
        raise ValueError(tr("The activation {fn} is a {where} function that tinygrad_es does not "
                            "know, and {where} functions cannot run on tinygrad_es Tensors. The "
                            "known ones are tf.nn/tf.math {tf_names} and keras.activations' "
                            "own; otherwise use an activation name such as activation=\"relu\", "
                            "or a function written with Tensor operations.", fn=described,
                            where=where, tf_names=", ".join(sorted(_TENSORFLOW))))
    return found


def serialized_name(fn: Any, registry: dict[str, Callable[..., Tensor]]) -> str | dict | None:
    """What Keras saves for the TensorFlow function ``fn`` stands in for, else None: the name
    when it is one of Keras's activations (``registry``), else Keras's dict naming it.

    Example:
        >>> serialized_name(_TENSORFLOW["swish"], {"silu": None})["config"]
        'swish'
        >>> serialized_name(_TENSORFLOW["softmax_v2"], {})["config"]
        'softmax_v2'
    """
    name = _STAND_INS.get(id(fn))
    if name is None or name in registry:
        return name
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


def from_saved_name(name: Any) -> Callable[..., Tensor] | None:
    """The stand-in for a TensorFlow name that Keras saves in a dict (``softmax_v2``), else None.

    Example:
        >>> from_saved_name("softmax_v2").__name__, from_saved_name("relu")
        ('softmax_v2', None)
    """
    return _SAVED_AS_DICT.get(name) if isinstance(name, str) else None
