"""AUC: the area under the ROC or precision-recall curve, approximated over fixed thresholds.

Keras's ``keras.metrics.AUC``: confusion counts at ``num_thresholds`` thresholds
``[-eps, 1/(T-1), ..., (T-2)/(T-1), 1+eps]`` accumulate over batches; ``result()`` sums a Riemann
sum over the curve, with ``"interpolation"`` (trapezoids; for PR the interpolation of Davis &
Goadrich 2006), ``"minoring"`` or ``"majoring"`` heights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.metrics.base import Metric, _divide_no_nan, as_array
from tinygrad_es.metrics.confusion import _evenly_distributed, confusion_counts

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Area under the ROC (default) or PR curve over all samples seen.

    Args:
        num_thresholds: Number of thresholds (> 1) when ``thresholds`` is not given.
        curve: ``"ROC"``, ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: Logged name; default ``"auc"`` (unique per process).
        dtype: Accumulator dtype.
        thresholds: Explicit thresholds in [0, 1]; ``-eps`` and ``1+eps`` are added.
        multi_label: One curve per label column, averaged (weighted by ``label_weights``).
        num_labels: Number of label columns when ``multi_label`` (else taken from the data).
        label_weights: Per-label weights.
        from_logits: Apply a sigmoid to ``y_pred`` first.

    Example:
        >>> m = AUC(); m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); round(m.result(), 4)
        0.75
    """

    _direction = "up"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False):
        if str(curve).lower() not in _CURVES:
            raise ValueError(f'Invalid AUC curve value "{curve}". Expected one of: '
                             f"{list(_CURVES.values())}")
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation_method value "{summation_method}". '
                             f"Expected one of: {list(_SUMMATIONS)}")
        if not multi_label and num_labels:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            thresholds = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(thresholds) + 2
            self._evenly = _evenly_distributed(np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + thresholds + [1.0 + eps])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.multi_label, self.num_labels, self._num_labels = multi_label, num_labels, num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        self._from_logits = from_logits
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, including ``-eps`` and ``1 + eps`` at the ends."""
        return list(self._thresholds)

    def reset_state(self) -> None:
        labels = self._num_labels
        shape = (self.num_thresholds,) if not self.multi_label else (self.num_thresholds, labels)
        self._state = None if self.multi_label and not labels else {
            c: np.zeros(shape, self._dtype) for c in ("tp", "fp", "tn", "fn")}

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = as_array(y_pred)
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                             f"{y_pred.ndim}. Full shape received for `y_pred`: {y_pred.shape}")
        if self._state is None:
            self._num_labels = y_pred.shape[1]
            self.reset_state()
        if self._from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        counts = confusion_counts(y_true, y_pred, self._thresholds, self._dtype,
                                  evenly=self._evenly, sample_weight=sample_weight,
                                  multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights)
        for c, v in counts.items():
            self._state[c] += v

    def _average(self, by_threshold: np.ndarray) -> float:
        if not self.multi_label:
            return float(np.sum(by_threshold, dtype=self._dtype))
        by_label = np.sum(by_threshold, axis=0, dtype=self._dtype)
        if self.label_weights is None:
            return float(np.mean(by_label, dtype=self._dtype))
        w = np.asarray(self.label_weights, self._dtype)
        return float(_divide_no_nan(np.sum(by_label * w), np.sum(w)))

    def _interpolate_pr_auc(self) -> float:
        tp, fp, fn = self._state["tp"], self._state["fp"], self._state["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0),
                         _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), np.ones_like(p[1:]))
        increment = _divide_no_nan(prec_slope * (dtp + intercept * np.log(ratio)),
                                   np.maximum(tp[1:] + fn[1:], 0))
        return self._average(increment.astype(self._dtype))

    def result(self) -> float:
        if self._state is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self._state[c] for c in ("tp", "fp", "tn", "fn"))
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:
            scale = _divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average(((x[:-1] - x[1:]) * heights).astype(self._dtype))

    def get_config(self) -> dict:
        cfg = {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
               "curve": self.curve, "summation_method": self.summation_method,
               "multi_label": self.multi_label, "num_labels": self.num_labels,
               "label_weights": self.label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            cfg["thresholds"] = self.thresholds[1:-1]
        return cfg
