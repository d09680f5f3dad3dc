"""Optimizers with Keras's names, defaults and numbers, and the string registry ``compile`` uses.

Example:
    >>> from tinygrad_es import optimizers
    >>> optimizers.get("adam")
    Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False)
"""

from __future__ import annotations

from typing import Any

from tinygrad_es.optimizers import schedules
from tinygrad_es.optimizers.adadelta import Adadelta
from tinygrad_es.optimizers.adafactor import Adafactor
from tinygrad_es.optimizers.adagrad import Adagrad
from tinygrad_es.optimizers.adam import Adam, AdamW
from tinygrad_es.optimizers.adamax import Adamax
from tinygrad_es.optimizers.base import Optimizer
from tinygrad_es.optimizers.ftrl import Ftrl
from tinygrad_es.optimizers.lamb import Lamb
from tinygrad_es.optimizers.lion import Lion
from tinygrad_es.optimizers.loss_scale_optimizer import LossScaleOptimizer
from tinygrad_es.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from tinygrad_es.optimizers.muon import Muon
from tinygrad_es.optimizers.nadam import Nadam
from tinygrad_es.optimizers.rmsprop import RMSprop
from tinygrad_es.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from tinygrad_es.optimizers.sgd import SGD
from tinygrad_es.utils.registry import unknown
from tinygrad_es.i18n import tr

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam",
    "Ftrl", "Lion", "Lamb", "Adafactor", "Muon", "ScheduleFreeAdamW", "LossScaleOptimizer",
    "MultiOptimizer", "OptimizerMap", "schedules", "get", "serialize", "deserialize",
]

# Keras's registry is the lower-cased class name. "lamb" is ours: Keras exports Lamb but leaves it
# out of the registry (so `compile(optimizer="lamb")` fails there); accepting it costs nothing.
ALL_OBJECTS = {cls.__name__.lower(): cls for cls in (
    SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Adafactor, Lamb)}
# Keras 3.15's newer names, tested in tests/test_optimizers_keras3.py. The wrappers need other
# optimizers to be built, so `get("lossscaleoptimizer")` is an error (in Keras a KeyError) and
# only a config dict or an instance gives one; an OptimizerMap is no optimizer.
KERAS3_OBJECTS = {cls.__name__.lower(): cls for cls in (Muon, ScheduleFreeAdamW)}
WRAPPER_OBJECTS = {cls.__name__.lower(): cls for cls in (
    LossScaleOptimizer, MultiOptimizer, OptimizerMap)}


_WRAPPER_EXAMPLES = {
    "LossScaleOptimizer": "LossScaleOptimizer(Adam())",
    "MultiOptimizer": "MultiOptimizer(OptimizerMap(Adam(), {'out/.*': SGD()}))",
    "OptimizerMap": "MultiOptimizer(OptimizerMap(Adam(), {'out/.*': SGD()}))",
}


def _lookup(name: str, custom_objects: dict | None = None) -> type:
    known = {**ALL_OBJECTS, **KERAS3_OBJECTS, **WRAPPER_OBJECTS,
             **{k.lower(): v for k, v in (custom_objects or {}).items()}}
    if not isinstance(name, str) or name.lower() not in known:
        raise unknown(tr("optimizer"), name, known, probe=str(name).lower(), quoted=True)
    return known[name.lower()]


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}``, the shape Keras's ``serialize`` gives.

    Example:
        >>> serialize(SGD(momentum=0.9))["config"]["momentum"]
        0.9
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """The inverse of :func:`serialize` (class names match case-insensitively, as in Keras).

    Example:
        >>> float(deserialize({"class_name": "Adam", "config": {"learning_rate": 0.01}})
        ...       .learning_rate)
        0.009999999776482582
    """
    cls = _lookup(config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config", {})), custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``), a serialized dict or an instance (returned as is).

    Raises:
        ValueError: an unknown name (the message lists the valid ones and the closest) or a
            value that is none of the above.

    Example:
        >>> float(get("sgd").learning_rate)
        0.009999999776482582
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        optimizer = deserialize(identifier)
        if isinstance(optimizer, Optimizer):
            return optimizer
    elif isinstance(identifier, str):
        cls = _lookup(identifier)
        if cls.__name__.lower() in WRAPPER_OBJECTS:
            raise ValueError(tr("{name} wraps other optimizers, so it has no default: create "
                                "it, e.g. {WRAPPER_EXAMPLES}, and pass that (received "
                                "{identifier!r})", name=cls.__name__,
                                WRAPPER_EXAMPLES=_WRAPPER_EXAMPLES[cls.__name__],
                                identifier=identifier))
        return cls()
    raise ValueError(tr("Could not interpret optimizer identifier: {identifier!r} (expected a "
                        "name such as 'adam', a config dict or an Optimizer)",
                        identifier=identifier))
