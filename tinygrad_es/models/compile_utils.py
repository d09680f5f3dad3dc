"""What ``compile`` resolves and saves: the compiled metrics, and the compile arguments as JSON.

Keras's ``trainers/compile_utils.py``: ``"accuracy"`` becomes the accuracy class the shapes call
for, a metric named twice gets ``weighted_``, and a Loss or Metric object in ``compile`` is saved
by its config so ``load_model`` compiles the model again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import losses as losses_module, metrics as metrics_module


def resolve_metrics(ids: tuple[list, list], y: np.ndarray, output_shape: tuple) -> list:
    """[(log name, Metric, weighted)]; a name used by both lists gets ``weighted_`` (as Keras)."""
    entries, seen = [], set()
    for weighted, group in ((False, ids[0]), (True, ids[1])):
        for identifier in group:
            metric = metrics_module.get(identifier, y_true=y, y_pred=output_shape)
            name = metric.name
            if name in seen:
                name = f"weighted_{name}" if weighted else name
                k, base = 1, name
                while name in seen:
                    name, k = f"{base}_{k}", k + 1
            seen.add(name)
            entries.append((name, metric, weighted))
    return entries


def serialize_compile_arg(value: Any) -> Any:
    """A compile argument as JSON: names as they are, a Loss or Metric by its config."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [serialize_compile_arg(v) for v in value]
    if isinstance(value, dict):
        return {k: serialize_compile_arg(v) for k, v in value.items()}
    if isinstance(value, losses_module.Loss):
        return {"kind": "loss", "value": losses_module.serialize(value)}
    if isinstance(value, metrics_module.Metric):
        return {"kind": "metric", "value": metrics_module.serialize(value)}
    raise TypeError(f"cannot save the compile argument {value!r}: use a string name, a Loss or "
                    "a Metric object")


def deserialize_compile_arg(value: Any) -> Any:
    """The inverse of :func:`serialize_compile_arg`."""
    if isinstance(value, list):
        return [deserialize_compile_arg(v) for v in value]
    if isinstance(value, dict) and value.get("kind") == "loss":
        return losses_module.deserialize(value["value"])
    if isinstance(value, dict) and value.get("kind") == "metric":
        return metrics_module.deserialize(value["value"])
    return value
