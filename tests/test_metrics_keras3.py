"""The Keras 3 metrics added for issue 8, against real Keras in the test.

Part 1 feeds the same batches (several shapes and configurations, with and without sample
weights) to a tinygrad_es metric and to ``keras.metrics.X`` and compares ``result()`` after every
batch and after ``reset_state``, in float32 and float64. Part 2 checks configs, names, strings and
``Metric.variables``/``add_variable`` (a custom metric written the Keras docs' way). Part 3 fits a
Keras and a tinygrad_es model from the same weights with every family in ``compile(metrics=...)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx

from tinygrad_es import layers as L
from tinygrad_es import metrics as M
from tinygrad_es import optimizers
from tinygrad_es.models.sequential import Sequential

SIZES = (5, 8, 3)  # three update_state calls of different batch sizes
BOTH = ("float32", "float64")


def _data(kind: str, dtype: str, seed: int = 0) -> list:
    """[(y_true, y_pred, sample_weight)] batches of one kind."""
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        sw = rng.uniform(0.0, 2.0, n).astype(dtype)
        if kind == "onehot":  # one-hot labels, scores with ties and an all-zero row
            yt = np.eye(4)[rng.integers(0, 4, n)]
            yp = np.round(rng.uniform(0, 1, (n, 4)), 1)
            yp[0] = 0.0
        elif kind == "multilabel":
            yt = rng.integers(0, 2, (n, 3)).astype(float)
            yp = rng.uniform(0, 1, (n, 3))
        elif kind == "reg_multi":
            yt, yp = rng.normal(0, 1, (n, 3)), rng.normal(0, 1, (n, 3))
        elif kind == "reg_col":
            yt, yp = rng.normal(0, 1, (n, 1)), rng.normal(0, 1, (n, 1))
        elif kind == "binary":
            yt = rng.integers(0, 2, (n, 1)).astype(float)
            yp = rng.choice([0.0, 0.3, 0.5, 0.55, 0.7, 0.93, 1.0], (n, 1))
            yp = yp + rng.choice([0.0, 0.0, 0.013], (n, 1))
        elif kind == "sparse_ids":  # class ids, some out of range (dropped)
            yt, yp = rng.integers(0, 3, (n, 2)), rng.integers(-1, 4, (n, 2))
            sw = rng.integers(0, 3, (n, 2))  # integer weights for the integer matrix
            out.append((yt, yp, sw))
            continue
        elif kind == "sparse_scores":
            yt, yp = rng.integers(0, 3, n), rng.uniform(0, 1, (n, 3))
            sw = rng.integers(0, 3, n)
            out.append((yt, yp.astype(dtype), sw))
            continue
        elif kind == "onehot_scores":
            yt, yp = np.eye(3)[rng.integers(0, 3, n)], rng.uniform(0, 1, (n, 3))
            sw = rng.integers(0, 3, n)
        else:
            raise KeyError(kind)
        out.append((np.asarray(yt, dtype), np.asarray(yp, dtype), sw))
    return out


# (id, class name, kwargs, data kind, dtypes, tolerance dtype or None for the run's dtype)
CASES = [
    ("f1", "F1Score", {}, "onehot", BOTH),
    ("f1_thr", "F1Score", {"threshold": 0.5}, "multilabel", BOTH),
    ("f1_micro", "F1Score", {"average": "micro"}, "onehot", BOTH),
    ("f1_macro", "F1Score", {"average": "macro", "threshold": 0.4}, "multilabel", BOTH),
    ("f1_weighted", "F1Score", {"average": "weighted"}, "onehot", BOTH),
    ("fbeta2", "FBetaScore", {"beta": 2.0}, "onehot", BOTH),
    ("fbeta_half", "FBetaScore", {"beta": 0.5, "average": "macro", "threshold": 0.3},
     "multilabel", BOTH),
    ("r2", "R2Score", {}, "reg_multi", BOTH),
    ("r2_col", "R2Score", {}, "reg_col", BOTH),
    ("r2_raw", "R2Score", {"class_aggregation": None}, "reg_multi", BOTH),
    ("r2_var", "R2Score", {"class_aggregation": "variance_weighted_average"}, "reg_multi", BOTH),
    ("r2_adjusted", "R2Score", {"num_regressors": 2}, "reg_multi", BOTH),
    ("pearson", "PearsonCorrelation", {}, "reg_multi", BOTH),
    ("concordance", "ConcordanceCorrelation", {}, "reg_multi", BOTH),
    ("iou", "IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "sparse_ids", BOTH),
    ("mean_iou", "MeanIoU", {"num_classes": 3}, "sparse_ids", BOTH),
    ("mean_iou_ignore", "MeanIoU", {"num_classes": 3, "ignore_class": 1}, "sparse_ids", BOTH),
    ("mean_iou_scores", "MeanIoU", {"num_classes": 3, "sparse_y_pred": False}, "sparse_scores",
     BOTH),
    ("mean_iou_float", "MeanIoU", {"num_classes": 3, "dtype": "float32"}, "sparse_ids", BOTH),
    ("binary_iou", "BinaryIoU", {}, "binary", BOTH),
    ("binary_iou_1", "BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary", BOTH),
    ("one_hot_iou", "OneHotIoU", {"num_classes": 3, "target_class_ids": [1]}, "onehot_scores",
     BOTH),
    ("one_hot_mean_iou", "OneHotMeanIoU", {"num_classes": 3}, "onehot_scores", BOTH),
    ("sens_at_spec", "SensitivityAtSpecificity", {"specificity": 0.5}, "binary", BOTH),
    ("sens_at_spec_7", "SensitivityAtSpecificity", {"specificity": 0.8, "num_thresholds": 7},
     "binary", BOTH),
    ("spec_at_sens", "SpecificityAtSensitivity", {"sensitivity": 0.6}, "binary", BOTH),
    ("prec_at_rec", "PrecisionAtRecall", {"recall": 0.6}, "binary", BOTH),
    ("prec_at_rec_class", "PrecisionAtRecall", {"recall": 0.4, "class_id": 1}, "multilabel",
     BOTH),
    ("rec_at_prec", "RecallAtPrecision", {"precision": 0.7}, "binary", BOTH),
    ("rec_at_prec_1", "RecallAtPrecision", {"precision": 0.5, "num_thresholds": 1}, "binary",
     BOTH),
]
CASE_PARAMS = [pytest.param(dtype, *case[1:4], id=f"{case[0]}-{dtype}")
               for case in CASES for dtype in case[4]]


def _assert_close(ours, theirs, dtype: str, where: str) -> None:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} != Keras {theirs.shape}"
    tol = PARITY_TOL[dtype] * np.maximum(1.0, np.abs(np.nan_to_num(theirs)))
    same_nan = np.isnan(ours) == np.isnan(theirs)
    diff = np.abs(np.nan_to_num(ours) - np.nan_to_num(theirs))
    assert np.all(same_nan & (diff <= tol)), f"{where}: {ours} vs Keras {theirs}"


@pytest.mark.parametrize("dtype,cls_name,kwargs,kind", CASE_PARAMS)
def test_metric_matches_keras(keras, dtype, cls_name, kwargs, kind):
    batches = _data(kind, dtype)
    # IoU results are float32 in Keras whatever floatx is (so are ours): float32 tolerance
    tol_dtype = "float32" if "IoU" in cls_name else dtype
    with keras_floatx(keras, dtype), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's and our "float weights for an int matrix"
        for weighted in (False, True):
            ours = getattr(M, cls_name)(**kwargs)
            theirs = getattr(keras.metrics, cls_name)(**kwargs)
            assert ours.dtype == theirs.dtype
            for i, (yt, yp, sw) in enumerate(batches):
                w = sw if weighted else None
                theirs.update_state(yt, yp, sample_weight=w)
                ours.update_state(yt, yp, sample_weight=w)
                _assert_close(ours.result(), theirs.result(), tol_dtype,
                              f"{cls_name}{kwargs} batch {i} weighted={weighted}")
            ours.reset_state()
            theirs.reset_state()
            _assert_close(ours.result(), theirs.result(), tol_dtype, "after reset_state")


def test_iou_truncates_float_weights_with_a_warning_as_keras(keras):
    y, p, w = [1, 0, 1, 1], [0.7, 0.2, 0.4, 0.9], [0.5, 1.6, 2.0, 1.0]
    theirs = keras.metrics.BinaryIoU()
    with pytest.warns(UserWarning, match="weight as `float`"):
        theirs.update_state(y, p, sample_weight=np.array(w))
    ours = M.BinaryIoU()
    with pytest.warns(UserWarning, match="weight as `float`"):
        ours.update_state(y, p, sample_weight=np.array(w))
    assert np.array_equal(ours.total_cm.numpy(), theirs.total_cm.numpy())
    assert ours.result() == float(theirs.result())


# ----- the function names keras.metrics exports -----

FUNCTIONS = [("pearson_correlation", "reg_multi"), ("concordance_correlation", "reg_multi"),
             ("huber", "reg_multi"), ("binary_focal_crossentropy", "multilabel"),
             ("categorical_focal_crossentropy", "onehot_scores")]


@pytest.mark.parametrize("dtype", BOTH)
@pytest.mark.parametrize("fn_name,kind", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_metric_functions_match_keras(keras, dtype, fn_name, kind):
    with keras_floatx(keras, dtype):
        ours = M.MeanMetricWrapper(getattr(M, fn_name), name=fn_name)
        theirs = keras.metrics.MeanMetricWrapper(getattr(keras.metrics, fn_name), name=fn_name)
        for i, (yt, yp, sw) in enumerate(_data(kind, dtype, seed=1)):
            per_sample = np.asarray(getattr(keras.metrics, fn_name)(yt, yp))
            _assert_close(np.asarray(getattr(M, fn_name)(yt, yp)), per_sample, dtype, fn_name)
            ours.update_state(yt, yp, sample_weight=sw)
            theirs.update_state(yt, yp, sample_weight=sw)
            _assert_close(ours.result(), theirs.result(), dtype, f"{fn_name} batch {i}")
        cfg = M.serialize(ours)
        assert M.deserialize(cfg).get_config() == ours.get_config()


# ----- configs, names, strings, variables -----

CONFIG_CASES = [(c[1], c[2]) for c in CASES]


@pytest.mark.parametrize("cls_name,kwargs", CONFIG_CASES, ids=[c[0] for c in CASES])
def test_config_direction_and_variables_match_keras(keras, cls_name, kwargs):
    ours, theirs = getattr(M, cls_name)(**kwargs), getattr(keras.metrics, cls_name)(**kwargs)
    cfg, ref = ours.get_config(), theirs.get_config()
    cfg["name"], ref["name"] = cfg["name"].rsplit("_", 1)[0], ref["name"].rsplit("_", 1)[0]
    assert cfg == ref
    assert ours._direction == theirs._direction == "up"
    again = M.deserialize(M.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    if cls_name not in ("PearsonCorrelation", "ConcordanceCorrelation"):  # Mean-based: no list
        assert ([(v.name, tuple(v.shape), v.dtype) for v in ours.variables]
                == [(v.name, tuple(v.shape), v.dtype) for v in theirs.variables])


def test_strings_resolve_as_in_keras(keras):
    names = ["F1Score", "f1_score", "FBetaScore", "fbeta_score", "R2Score", "r2_score",
             "BinaryIoU", "binary_io_u", "PearsonCorrelation", "pearson_correlation",
             "ConcordanceCorrelation", "concordance_correlation", "huber",
             "binary_focal_crossentropy", "categorical_focal_crossentropy", "MeanIoU",
             "SensitivityAtSpecificity"]
    for name in names:
        try:
            expected = type(keras.metrics.get(name)).__name__
        except (ValueError, TypeError) as err:
            with pytest.raises(type(err)):
                M.get(name)
            continue
        metric = M.get(name)
        assert type(metric).__name__ == expected and metric.name == name


class _KerasBinaryTruePositives:
    """The Keras docs' custom metric, built on the real keras.metrics.Metric."""

    @staticmethod
    def make(keras):
        ops = keras.ops

        class BinaryTruePositives(keras.metrics.Metric):
            def __init__(self, name="binary_true_positives", **kwargs):
                super().__init__(name=name, **kwargs)
                self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                        name="true_positives")

            def update_state(self, y_true, y_pred, sample_weight=None):
                y_true = ops.cast(y_true, "bool")
                y_pred = ops.greater(y_pred, 0.5)
                values = ops.cast(ops.logical_and(y_true, y_pred), self.dtype)
                if sample_weight is not None:
                    sample_weight = ops.cast(sample_weight, self.dtype)
                    sample_weight = ops.broadcast_to(sample_weight, ops.shape(values))
                    values = ops.multiply(values, sample_weight)
                self.true_positives.assign(self.true_positives + ops.sum(values))

            def result(self):
                return self.true_positives

        return BinaryTruePositives


class BinaryTruePositives(M.Metric):
    """The same custom metric written the same way on tinygrad_es (numpy for keras.ops)."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(bool)
        y_pred = np.asarray(y_pred) > 0.5
        values = np.logical_and(y_true, y_pred).astype(self.dtype)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, self.dtype)
            sample_weight = np.broadcast_to(sample_weight, values.shape)
            values = np.multiply(values, sample_weight)
        self.true_positives.assign(self.true_positives + np.sum(values))

    def result(self):
        return self.true_positives


def test_custom_metric_with_add_variable_matches_keras(keras):
    theirs = _KerasBinaryTruePositives.make(keras)()
    ours = BinaryTruePositives()
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]
    for yt, yp, sw in _data("binary", "float32"):  # (N, 1) data: weights (N, 1) broadcast
        theirs.update_state(yt, yp, sample_weight=sw[:, None])
        ours.update_state(yt, yp, sample_weight=sw[:, None])
        # result() returns the variable, as the Keras code does; fit logs float(...) of it
        assert float(ours.result()) == float(theirs.result())  # same float32 sums, same order
    ours.reset_state()
    theirs.reset_state()
    assert float(ours.result()) == float(theirs.result()) == 0.0
    v = ours.true_positives
    with pytest.raises(ValueError, match=r"shape of the target variable 'true_positives'"):
        v.assign(np.zeros(2))
    v.assign_add(2.5)
    v.assign_sub(0.5)
    assert float(v) == 2.0 and v.numpy().dtype == np.float32 and np.asarray(v) + 1 == 3.0


# ----- through model.fit / model.evaluate -----

def _keras_metrics(keras):
    return {"f_score": ["f1_score", keras.metrics.FBetaScore(beta=2.0, average="macro")],
            "correlation": ["r2_score", "pearson_correlation",
                            keras.metrics.ConcordanceCorrelation()],
            "iou": [keras.metrics.OneHotMeanIoU(num_classes=3),
                    keras.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])],
            "binary_iou": ["binary_io_u", keras.metrics.SensitivityAtSpecificity(0.5),
                           keras.metrics.PrecisionAtRecall(0.5),
                           keras.metrics.RecallAtPrecision(0.6),
                           keras.metrics.SpecificityAtSensitivity(0.5),
                           _KerasBinaryTruePositives.make(keras)()],
            "functions": [keras.metrics.huber, keras.metrics.categorical_focal_crossentropy]}


def _our_metrics():
    return {"f_score": ["f1_score", M.FBetaScore(beta=2.0, average="macro")],
            "correlation": ["r2_score", "pearson_correlation", M.ConcordanceCorrelation()],
            "iou": [M.OneHotMeanIoU(num_classes=3),
                    M.OneHotIoU(num_classes=3, target_class_ids=[0, 2])],
            "binary_iou": ["binary_io_u", M.SensitivityAtSpecificity(0.5),
                           M.PrecisionAtRecall(0.5), M.RecallAtPrecision(0.6),
                           M.SpecificityAtSensitivity(0.5), BinaryTruePositives()],
            "functions": [M.huber, M.categorical_focal_crossentropy]}


# family: (units, activation, labels, loss)
FAMILIES = {"f_score": (3, "softmax", "onehot", "categorical_crossentropy"),
            "correlation": (3, None, "reg", "mse"),
            "iou": (3, "softmax", "onehot", "categorical_crossentropy"),
            "binary_iou": (1, "sigmoid", "binary", "binary_crossentropy"),
            "functions": (3, "softmax", "onehot", "categorical_crossentropy")}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_fit_and_evaluate_log_keras_values(keras, family):
    units, activation, labels, loss = FAMILIES[family]
    dtype = "float64"
    rng = np.random.default_rng(21)
    x = rng.normal(size=(12, 4)).astype(dtype)
    y = {"onehot": np.eye(3)[rng.integers(0, 3, 12)], "reg": rng.normal(size=(12, 3)),
         "binary": rng.integers(0, 2, (12, 1)).astype(float)}[labels].astype(dtype)
    with keras_floatx(keras, dtype):
        km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation)])
        om = Sequential([L.Input((4,)), L.Dense(units, activation)])
        weights = [rng.uniform(-1, 1, w.shape).astype(dtype) for w in km.get_weights()]
        km.set_weights(weights)
        om.set_weights(weights)
        km.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss,
                   metrics=_keras_metrics(keras)[family])
        om.compile(optimizer=optimizers.SGD(0.1), loss=loss, metrics=_our_metrics()[family])
        kh = km.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
        oh = om.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
        k_eval = km.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
        o_eval = om.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    assert sorted(oh) == sorted(kh)
    for key in kh:
        # IoU ratios are float32 in Keras (and ours) even in float64 mode
        tol = "float32" if "io_u" in key else dtype
        _assert_close(np.asarray(oh[key], np.float64), np.asarray(kh[key], np.float64), tol,
                      f"{family} history {key}")
    assert sorted(o_eval) == sorted(k_eval)
    for key in k_eval:
        tol = "float32" if "io_u" in key else dtype
        _assert_close(o_eval[key], k_eval[key], tol, f"{family} evaluate {key}")
