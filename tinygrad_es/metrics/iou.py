"""Intersection over union (the Jaccard index), the segmentation metric, from a confusion matrix.

Every batch adds to a ``(num_classes, num_classes)`` confusion matrix ``cm[true, predicted]``
(weighted; pairs with a class out of range or equal to ``ignore_class`` are dropped). Then, for a
class c::

    IoU_c = TP_c / (TP_c + FP_c + FN_c) = cm[c, c] / (column sum + row sum - cm[c, c])

and the result is the mean of IoU_c over the ``target_class_ids`` that occurred. As in Keras the
matrix is integer by default (``dtype="int64"``: float sample weights are truncated, with a
warning) and the result is computed in float32.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_es import config
from tinygrad_es.metrics.base import Metric, as_array


class IoU(Metric):
    """Mean IoU over the classes ``target_class_ids`` (the IoU of one class when given one).

    Args:
        num_classes: the number of classes (the confusion matrix is num_classes²).
        target_class_ids: the classes averaged in the result.
        name: the logged name; default ``"io_u"`` (unique per process).
        dtype: the confusion matrix dtype; default ``"int64"``.
        ignore_class: a label whose pixels are left out (e.g. a void class).
        sparse_y_true: labels are class ids (else one-hot/scores: argmax over ``axis``).
        sparse_y_pred: predictions are class ids (else scores: argmax over ``axis``).
        axis: the class axis for the argmax.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 1, 0, 1], [0, 1, 1, 1]); round(m.result(), 4)
        0.5
    """

    _direction = "up"

    def __init__(self, num_classes: int, target_class_ids: Any, name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(name=name, dtype=dtype or "int64")
        target_class_ids = list(target_class_ids)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.num_classes, self.target_class_ids = num_classes, target_class_ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros",
                                          name="total_confusion_matrix")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = y_true.astype(self._dtype).reshape(-1)  # float labels truncate, as a cast does
        y_pred = y_pred.astype(self._dtype).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} needs one prediction per label, received "
                             f"{y_true.size} labels and {y_pred.size} predictions (after the "
                             f"argmax of one-hot inputs): check sparse_y_true/sparse_y_pred")
        if sample_weight is None:
            weight = np.ones((), self._dtype)
        else:
            weight = as_array(sample_weight)
            if weight.dtype.kind == "f" and self._dtype.kind in "iu":
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                              "result in an incorrect weight due to type casting Consider using "
                              "integer weights.", stacklevel=2)
            weight = weight.astype(self._dtype).reshape(-1)
        weight = np.broadcast_to(weight, y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        current = np.zeros((n, n), self._dtype)
        np.add.at(current, (y_true[valid].astype(np.int64), y_pred[valid].astype(np.int64)),
                  weight[valid])
        self.total_cm.assign(self.total_cm + current)

    def result(self) -> float:
        cm = self.total_cm.numpy()
        predicted = np.sum(cm, axis=0).astype(np.float32)
        actual = np.sum(cm, axis=1).astype(np.float32)
        tp = np.diag(cm).astype(np.float32)
        ids = np.asarray(self.target_class_ids)
        # NOTE: Keras computes the ratios in float32 whatever the metric and floatx dtypes.
        denominator = (predicted + actual - tp)[ids]
        tp = tp[ids]
        valid = denominator > np.float32(1e-9)
        eps = np.float32(config.epsilon())
        iou = np.where(valid, tp / (denominator + eps), np.float32(0))
        return float(np.sum(iou, dtype=np.float32) / (np.sum(valid, dtype=np.float32) + eps))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary labels with predictions thresholded at ``threshold`` (``p >= threshold``).

    Example:
        >>> m = BinaryIoU(target_class_ids=[1])
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.9, 0.6, 0.7]); round(m.result(), 4)
        0.6667
    """

    def __init__(self, target_class_ids: Any = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = as_array(y_true).astype(self._dtype)
        y_pred = as_array(y_pred, np.float32) >= np.float32(self.threshold)
        super().update_state(y_true, y_pred.astype(self._dtype), sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes (the ones that occurred).

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 1, 0, 1], [0, 1, 1, 1]); round(m.result(), 4)
        0.5833
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)),
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (and, by default, score predictions): argmax first.

    Example:
        >>> m = OneHotIoU(num_classes=2, target_class_ids=[1])
        >>> m.update_state(np.eye(2)[[0, 1, 1]], np.array([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2]]))
        >>> round(m.result(), 4)
        0.5
    """

    def __init__(self, num_classes: int, target_class_ids: Any, name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (and, by default, score predictions).

    Example:
        >>> m = OneHotMeanIoU(num_classes=2)
        >>> m.update_state(np.eye(2)[[0, 1, 1]], np.array([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2]]))
        >>> round(m.result(), 4)
        0.5
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
