"""One rate at the best threshold that keeps another rate above a target.

``SensitivityAtSpecificity(0.9)`` is the best recall among the thresholds whose specificity is at
least 0.9; likewise ``SpecificityAtSensitivity``, ``PrecisionAtRecall`` and ``RecallAtPrecision``.
The confusion counts accumulate at ``num_thresholds`` evenly spaced thresholds
``0, 1/(T-1), ..., 1`` (just 0.5 when T = 1), with Keras's bucketing (see ``confusion.py``); a
prediction is positive when ``y_pred > threshold``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es.metrics.base import Metric, _divide_no_nan
from tinygrad_es.metrics.confusion import confusion_counts
from tinygrad_es.tfcast import tf_constant

_COUNTS = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
           "fn": "false_negatives"}


class _RateAtRate(Metric):
    """Shared state: the four confusion counts per threshold; ``_value_arg`` names the target."""

    _direction = "up"
    _value_arg = ""

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self._value_arg}` must be in the range [0, 1]. "
                             f"Received: {self._value_arg}={value}")
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds}")
        super().__init__(name=name, dtype=dtype)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        for attr in _COUNTS.values():
            setattr(self, attr, self.add_variable((len(self.thresholds),), "zeros", name=attr))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._dtype,
                                  evenly=self._evenly, class_id=self.class_id,
                                  sample_weight=sample_weight)
        for key, attr in _COUNTS.items():
            variable = getattr(self, attr)
            variable.assign(variable + counts[key])

    def _rates(self) -> dict[str, np.ndarray]:
        tp, fp, tn, fn = (getattr(self, a).numpy() for a in _COUNTS.values())
        return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def _best(self, constrained: np.ndarray, dependent: np.ndarray) -> float:
        """max(dependent where constrained >= value, and 0)."""
        # NOTE: Keras compares against the value as a float32 constant, in float64 too.
        feasible = constrained >= tf_constant(float(self.value), constrained.dtype)
        return float(np.max(np.where(feasible, dependent, 0), initial=0))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._value_arg: self.value}


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall) with specificity >= ``specificity``.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0.0, 0.3, 0.8, 0.3, 0.8]); m.result()
        0.5
    """

    _value_arg = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        self.specificity = specificity
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._best(rates["specificity"], rates["sensitivity"])


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity with sensitivity (recall) >= ``sensitivity``.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0.0, 0.3, 0.8, 0.3, 0.8]); round(m.result(), 4)
        0.6667
    """

    _value_arg = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        self.sensitivity = sensitivity
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._best(rates["sensitivity"], rates["specificity"])


class PrecisionAtRecall(_RateAtRate):
    """The best precision with recall >= ``recall``.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0.0, 0.3, 0.8, 0.3, 0.8]); m.result()
        0.5
    """

    _value_arg = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        self.recall = recall
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._best(rates["recall"], rates["precision"])


class RecallAtPrecision(_RateAtRate):
    """The best recall with precision >= ``precision``.

    Example:
        >>> m = RecallAtPrecision(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0.0, 0.3, 0.8, 0.3, 0.8]); m.result()
        1.0
    """

    _value_arg = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None):
        self.precision = precision
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        rates = self._rates()
        return self._best(rates["precision"], rates["recall"])
