"""Metrics against real Keras: every metric over several batches, and compile's metric strings.

Part 1 feeds the same batches (several shapes, with and without sample weights) to a tinygrad_es
metric and to ``keras.metrics.X`` and compares ``result()`` after every batch, in float32 and
float64. Part 2 fits tiny real Keras models for one epoch (weights frozen with SGD(0)) and checks
that ``metrics.get`` resolves each compile string to a metric that logs the same key and the same
epoch value as ``history.history``. Expected numbers all come from TensorFlow in this run.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx

from tinygrad_es import activations
from tinygrad_es import metrics as M
from tinygrad_es.tensor import Tensor

SIZES = (5, 8, 3)  # three update_state calls of different batch sizes


# ----- data: a list of (y_true, y_pred, sample_weight) batches -----

def _onehot(rng, n, c, dtype):
    return np.eye(c, dtype=dtype)[rng.integers(0, c, n)]


def _data(kind: str, dtype: str, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        sw = rng.uniform(0.0, 2.0, n).astype(dtype)
        if kind == "reg_col":
            yt, yp = rng.uniform(0.5, 2, (n, 1)), rng.normal(1, 1, (n, 1))
        elif kind == "reg_1d_col":
            yt, yp = rng.uniform(0.5, 2, n), rng.normal(1, 1, (n, 1))
        elif kind == "reg_multi":
            yt, yp, sw = rng.normal(0, 1, (n, 3)), rng.normal(0, 1, (n, 3)), sw[:, None]
        elif kind == "reg_1d":
            yt, yp = rng.normal(0, 1, n), rng.normal(0, 1, n)
        elif kind == "reg_signed":  # zeros and negatives: MAPE's and MSLE's epsilon
            yt, yp = rng.uniform(-0.5, 3, (n, 2)), rng.uniform(-0.5, 3, (n, 2))
            yt[0, 0], yp[1, 0] = 0.0, 0.0
        elif kind in ("binary", "binary_multi", "binary_1d"):
            shape = {"binary": (n, 1), "binary_multi": (n, 3), "binary_1d": (n,)}[kind]
            yt = rng.integers(0, 2, shape).astype(float)
            yp = rng.choice([0.0, 0.5, 0.7, 1.0, 0.2, 0.55, 0.93, 0.31], size=shape)
            yp = yp + rng.choice([0.0, 0.0, 0.013], size=shape)
            yp.flat[:2], yt.flat[:2] = (0.5, 0.7), 0.0  # on the thresholds: strict > matters
            yp = yp[:, None] if kind == "binary_1d" else yp
        elif kind == "binary_pm1":
            yt = rng.choice([-1.0, 1.0], (n, 2))
            yp = rng.normal(0, 1, (n, 2))
        elif kind == "logits":
            yt, yp = rng.integers(0, 2, (n, 2)).astype(float), rng.normal(0, 6, (n, 2))
        elif kind == "exact":
            yt, yp = rng.integers(0, 3, (n, 1)).astype(float), rng.integers(0, 3, (n, 1))
            yp = yp.astype(float)
        elif kind in ("onehot", "onehot_logits"):
            yt = _onehot(rng, n, 4, dtype)
            yp = np.round(rng.uniform(0, 1, (n, 4)), 1)  # ties, unnormalised, some zeros
            yp = rng.normal(0, 5, (n, 4)) if kind == "onehot_logits" else yp
        elif kind in ("sparse", "sparse_col", "sparse_logits"):
            yt = rng.integers(0, 4, n if kind != "sparse_col" else (n, 1))
            yp = np.round(rng.uniform(0, 1, (n, 4)), 1)
            yp = rng.normal(0, 5, (n, 4)) if kind == "sparse_logits" else yp
            out.append((yt, yp.astype(dtype), sw))
            continue
        elif kind == "dist":  # probability vectors with exact zeros (KLD's clipping)
            yt = rng.dirichlet(np.ones(3), n)
            yp = rng.dirichlet(np.ones(3), n)
            yp[0, 1] = 0.0
        elif kind == "counts":
            yt, yp = rng.poisson(2.0, (n, 2)).astype(float), rng.uniform(0.1, 4, (n, 2))
        else:
            raise KeyError(kind)
        out.append((np.asarray(yt, dtype), np.asarray(yp, dtype), sw))
    return out


BOTH, F32, F64 = ("float32", "float64"), ("float32",), ("float64",)
# (id, class name, kwargs, data kind, exact, dtypes)
CASES = [
    ("mean_abs_col", "MeanAbsoluteError", {}, "reg_col", False, BOTH),
    ("mean_abs_1d_col", "MeanAbsoluteError", {}, "reg_1d_col", False, BOTH),
    ("mean_abs_1d", "MeanAbsoluteError", {}, "reg_1d", False, BOTH),
    ("mse_multi", "MeanSquaredError", {}, "reg_multi", False, BOTH),
    ("mse_1d_col", "MeanSquaredError", {}, "reg_1d_col", False, BOTH),
    ("rmse_multi", "RootMeanSquaredError", {}, "reg_multi", False, BOTH),
    ("rmse_1d_col", "RootMeanSquaredError", {}, "reg_1d_col", False, BOTH),
    ("mape", "MeanAbsolutePercentageError", {}, "reg_signed", False, BOTH),
    ("msle", "MeanSquaredLogarithmicError", {}, "reg_signed", False, BOTH),
    ("logcosh", "LogCoshError", {}, "reg_multi", False, BOTH),
    ("cosine", "CosineSimilarity", {}, "reg_multi", False, BOTH),
    ("accuracy_exact", "Accuracy", {}, "exact", True, BOTH),
    ("binary_acc", "BinaryAccuracy", {}, "binary", True, BOTH),
    ("binary_acc_0.7", "BinaryAccuracy", {"threshold": 0.7}, "binary_multi", True, BOTH),
    ("binary_acc_1d", "BinaryAccuracy", {}, "binary_1d", True, BOTH),
    ("categorical_acc", "CategoricalAccuracy", {}, "onehot", True, BOTH),
    ("sparse_acc", "SparseCategoricalAccuracy", {}, "sparse", True, BOTH),
    ("sparse_acc_col", "SparseCategoricalAccuracy", {}, "sparse_col", True, BOTH),
    # Keras's in_top_k rejects float64 predictions, so top-k runs in float32 only.
    ("top_k_2", "TopKCategoricalAccuracy", {"k": 2}, "onehot", True, F32),
    ("top_k_5", "TopKCategoricalAccuracy", {}, "onehot", True, F32),
    ("sparse_top_k_1", "SparseTopKCategoricalAccuracy", {"k": 1}, "sparse", True, F32),
    ("sparse_top_k_2_col", "SparseTopKCategoricalAccuracy", {"k": 2}, "sparse_col", True, F32),
    ("bce", "BinaryCrossentropy", {}, "binary_multi", False, BOTH),
    ("bce_smooth", "BinaryCrossentropy", {"label_smoothing": 0.2}, "binary", False, BOTH),
    ("bce_logits", "BinaryCrossentropy", {"from_logits": True}, "logits", False, BOTH),
    ("cce", "CategoricalCrossentropy", {}, "onehot", False, BOTH),
    ("cce_smooth", "CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot", False, BOTH),
    ("cce_logits", "CategoricalCrossentropy", {"from_logits": True}, "onehot_logits", False, BOTH),
    ("scce", "SparseCategoricalCrossentropy", {}, "sparse", False, BOTH),
    ("scce_col", "SparseCategoricalCrossentropy", {}, "sparse_col", False, BOTH),
    ("scce_logits", "SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits",
     False, BOTH),
    ("scce_ignore", "SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse", False, BOTH),
    ("kld", "KLDivergence", {}, "dist", False, BOTH),
    ("poisson", "Poisson", {}, "counts", False, BOTH),
    ("hinge01", "Hinge", {}, "binary_multi", False, BOTH),
    ("hinge_pm1", "Hinge", {}, "binary_pm1", False, BOTH),
    ("squared_hinge", "SquaredHinge", {}, "binary_pm1", False, BOTH),
    ("categorical_hinge", "CategoricalHinge", {}, "onehot", False, BOTH),
    ("precision", "Precision", {}, "binary", False, BOTH),
    ("precision_multi", "Precision", {"thresholds": [0.3, 0.5, 0.8]}, "binary_multi", False,
     BOTH),
    ("precision_even", "Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary_multi", False, BOTH),
    ("precision_top2", "Precision", {"top_k": 2}, "onehot", False, BOTH),
    ("precision_class1", "Precision", {"class_id": 1}, "onehot", False, BOTH),
    ("recall", "Recall", {}, "binary_1d", False, BOTH),
    ("recall_multi", "Recall", {"thresholds": [0.2, 0.7]}, "binary_multi", False, BOTH),
    ("true_positives", "TruePositives", {}, "binary", False, BOTH),
    ("false_positives", "FalsePositives", {"thresholds": [0.3, 0.6]}, "binary_multi", False, BOTH),
    ("true_negatives", "TrueNegatives", {}, "binary_1d", False, BOTH),
    ("false_negatives", "FalseNegatives", {}, "binary", False, BOTH),
    ("auc_roc", "AUC", {}, "binary", False, BOTH),
    ("auc_roc_7", "AUC", {"num_thresholds": 7}, "binary_multi", False, BOTH),
    ("auc_pr", "AUC", {"curve": "PR"}, "binary_multi", False, BOTH),
    ("auc_pr_minoring", "AUC", {"curve": "PR", "summation_method": "minoring"}, "binary", False,
     BOTH),
    ("auc_roc_majoring", "AUC", {"summation_method": "majoring"}, "binary", False, BOTH),
    ("auc_thresholds", "AUC", {"thresholds": [0.25, 0.6, 0.9]}, "binary", False, BOTH),
    ("auc_prgain", "AUC", {"curve": "PRGAIN", "num_thresholds": 11}, "binary_multi", False,
     BOTH),
    # Keras's multi-label AUC is slow (vectorized_map): one dtype each
    ("auc_multi_label", "AUC", {"multi_label": True}, "binary_multi", False, F64),
    ("auc_label_weights", "AUC", {"multi_label": True, "label_weights": [1.0, 0.5, 2.0]},
     "binary_multi", False, F32),
    ("auc_from_logits", "AUC", {"from_logits": True}, "logits", False, BOTH),
]

CASE_PARAMS = [pytest.param(dtype, *case[1:5], id=f"{case[0]}-{dtype}")
               for case in CASES for dtype in case[5]]


def _assert_close(ours, theirs, dtype: str, exact: bool, where: str) -> None:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} != Keras {theirs.shape}"
    if exact:
        assert np.array_equal(ours, theirs), f"{where}: {ours} != Keras {theirs}"
        return
    # relative for large values (MAPE ~ 100, crossentropy of saturated logits), else absolute
    tol = PARITY_TOL[dtype] * np.maximum(1.0, np.abs(theirs))
    assert np.all(np.abs(ours - theirs) <= tol), f"{where}: {ours} vs Keras {theirs}"


@pytest.mark.parametrize("dtype,cls_name,kwargs,kind,exact", CASE_PARAMS)
def test_metric_matches_keras(keras, dtype, cls_name, kwargs, kind, exact):
    batches = _data(kind, dtype)
    with keras_floatx(keras, dtype):
        for weighted in (False, True):
            ours = getattr(M, cls_name)(**kwargs)
            theirs = getattr(keras.metrics, cls_name)(**kwargs)
            assert ours.dtype == theirs.dtype == dtype
            if not kwargs.get("multi_label"):  # Keras's multi-label AUC cannot report unbuilt
                assert ours.result() == pytest.approx(np.asarray(theirs.result()))  # 0.0
            for i, (yt, yp, sw) in enumerate(batches):
                w = sw if weighted else None
                try:
                    theirs.update_state(yt, yp, sample_weight=w)
                except Exception as err:  # e.g. (N,) weights against one value per batch
                    with pytest.raises(ValueError, match="sample_weight of shape"):
                        ours.update_state(yt, yp, sample_weight=w)
                    assert weighted and "BroadcastTo" in str(err)
                    break
                ours.update_state(yt, yp, sample_weight=w)
                # weighted accuracies are float sums: summation order, so tolerance
                _assert_close(ours.result(), theirs.result(), dtype, exact and not weighted,
                              f"{cls_name}{kwargs} batch {i} weighted={weighted}")
            ours.reset_state()
            theirs.reset_state()
            _assert_close(ours.result(), theirs.result(), dtype, True, "after reset_state")


def test_mean_and_sum_match_keras(keras):
    rng = np.random.default_rng(3)
    for cls_name in ("Mean", "Sum"):
        ours, theirs = getattr(M, cls_name)(), getattr(keras.metrics, cls_name)()
        for values, sw in [(rng.normal(size=(4,)), None), (rng.normal(size=(3, 2)), None),
                           (rng.normal(size=(5,)), rng.uniform(size=5)),
                           (rng.normal(size=(2, 3)), rng.uniform(size=(2, 3))),
                           (np.float32(1.5), None), (rng.normal(size=(4,)), np.float32(2.0))]:
            ours.update_state(values.astype("float32"), sample_weight=sw)
            theirs.update_state(values.astype("float32"), sample_weight=sw)
            _assert_close(ours.result(), theirs.result(), "float32", False, cls_name)


def test_meanmetricwrapper_of_a_function_matches_keras(keras):
    rng = np.random.default_rng(4)
    ours = M.MeanMetricWrapper(lambda t, p: (p - t) ** 2, name="sq")
    theirs = keras.metrics.MeanMetricWrapper(lambda t, p: (p - t) ** 2, name="sq")
    for n in SIZES:
        yt, yp = rng.normal(size=(n, 2)).astype("float32"), rng.normal(size=(n, 2))
        ours.update_state(yt, Tensor(yp.astype("float32")))
        theirs.update_state(yt, yp.astype("float32"))
        _assert_close(ours.result(), theirs.result(), "float32", False, "MeanMetricWrapper")


# ----- Tensor inputs and Keras's logits rule -----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_crossentropy_metrics_use_the_logits_of_sigmoid_and_softmax_outputs(keras, tf, dtype):
    rng = np.random.default_rng(5)
    z1 = rng.normal(0, 30, (6, 1)).astype(dtype)  # saturated: clipping would change the value
    z4 = rng.normal(0, 30, (6, 4)).astype(dtype)
    y1 = rng.integers(0, 2, (6, 1)).astype(dtype)
    y_sparse = rng.integers(0, 4, 6)
    y4 = np.eye(4, dtype=dtype)[y_sparse]
    cases = [("BinaryCrossentropy", {}, y1, "sigmoid", z1),
             ("BinaryCrossentropy", {"label_smoothing": 0.1}, y1, "sigmoid", z1),
             ("CategoricalCrossentropy", {}, y4, "softmax", z4),
             ("SparseCategoricalCrossentropy", {}, y_sparse, "softmax", z4),
             ("BinaryAccuracy", {}, y1, "sigmoid", z1),
             ("MeanSquaredError", {}, y4, "softmax", z4)]
    with keras_floatx(keras, dtype):
        for cls_name, kwargs, y, act, z in cases:
            ours = getattr(M, cls_name)(**kwargs)
            theirs = getattr(keras.metrics, cls_name)(**kwargs)
            ours.update_state(y, activations.get(act)(Tensor(z)))
            theirs.update_state(y, getattr(keras.activations, act)(tf.constant(z)))
            _assert_close(ours.result(), theirs.result(), dtype, False, f"{cls_name} {act}")
            # the same numbers as plain arrays take the clipped path, as Keras's predict() output
            probs = getattr(keras.activations, act)(tf.constant(z)).numpy()
            plain, ref = getattr(M, cls_name)(**kwargs), getattr(keras.metrics, cls_name)(**kwargs)
            plain.update_state(y, probs)
            ref.update_state(y, probs)
            _assert_close(plain.result(), ref.result(), dtype, False, f"{cls_name} plain")
        bce = M.BinaryCrossentropy()
        bce.update_state(y1, activations.get("sigmoid")(Tensor(z1)))
        clipped = M.BinaryCrossentropy()
        clipped.update_state(y1, activations.get("sigmoid")(Tensor(z1)).data)
        assert abs(bce.result() - clipped.result()) > 1.0  # the test data does discriminate


def test_bad_shapes_and_labels_raise_clear_errors():
    with pytest.raises(ValueError, match=r"same shape.*y_true.shape=\(4,\), y_pred.shape=\(4, 1\)"):
        M.BinaryCrossentropy().update_state(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="label value of 3, outside the valid range"):
        M.SparseCategoricalCrossentropy().update_state([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="Threshold values must be in"):
        M.Precision(thresholds=1.5)


# ----- configs, directions, get/serialize -----

CONFIG_CASES = [(c[1], c[2]) for c in CASES if c[0] in (
    "binary_acc_0.7", "top_k_2", "bce_smooth", "cce_smooth", "scce_ignore", "precision_multi",
    "precision_top2", "auc_thresholds", "auc_pr", "mape", "rmse_multi", "logcosh", "cosine",
    "false_positives", "kld")] + [("Mean", {}), ("Sum", {}), ("Recall", {"class_id": 2})]


@pytest.mark.parametrize("cls_name,kwargs", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_config_name_and_direction_match_keras(keras, cls_name, kwargs):
    ours, theirs = getattr(M, cls_name)(**kwargs), getattr(keras.metrics, cls_name)(**kwargs)
    cfg, ref = ours.get_config(), theirs.get_config()
    name_keys = ("name",) if cls_name in ("Precision", "Recall", "AUC") else ()
    for key in name_keys:  # per-process unique names: compare the stem
        cfg[key], ref[key] = cfg[key].split("_")[0], ref[key].split("_")[0]
    assert cfg == ref
    assert getattr(ours, "_direction") == getattr(theirs, "_direction", None)
    again = M.deserialize(M.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_get_identifiers_and_errors(keras):
    assert M.get(None) is None
    m = M.Precision(name="p")
    assert M.get(m) is m and M.get(M.Recall).name.startswith("recall")
    assert isinstance(M.get({"class_name": "AUC", "config": {"num_thresholds": 7}}), M.AUC)

    def my_metric(y_true, y_pred):
        return (y_pred - y_true) ** 2
    assert M.get(my_metric).name == "my_metric"
    assert M.get(lambda t, p: t).name == "lambda"
    for rejected in ("crossentropy", "ce", "rmse", "huber", "acc"):  # no shapes for "acc"
        with pytest.raises(ValueError):
            keras.metrics.get(rejected)  # what compile calls for every non-accuracy string
        with pytest.raises(ValueError, match=repr(rejected)):
            M.get(rejected)
    with pytest.raises(ValueError, match="Did you mean 'precision'"):
        M.get("precison")
    with pytest.raises(ValueError, match="custom function"):
        M.serialize(M.get(my_metric))


# ----- compile strings against real fits -----

def _squares(y_true, y_pred):
    return (y_pred - y_true) ** 2


# case: (units, activation, labels, dtype, run_eagerly, metrics). One fit runs in Keras's default
# graph mode; the others run eagerly, which logs the same (compile_utils is shared) and is ~4x
# faster to start. "objects" adds metric objects and a plain function.
FITS = {
    "binary_graph": (1, "sigmoid", "binary", "float64", False, ["acc", "bce", "accuracy"]),
    "binary": (1, "sigmoid", "binary", "float64", True, [
        "ACC", "Accuracy", "BCE", "binary_crossentropy", "mae", "MAE", "mse", "mape", "msle",
        "root_mean_squared_error", "precision", "recall", "auc", "binary_accuracy", "hinge",
        "poisson", "log_cosh_error", "true_negatives", "squared_hinge"]),
    "sparse": (3, "softmax", "sparse", "float64", True, [
        "accuracy", "acc", "sparse_categorical_crossentropy", "sparse_categorical_accuracy"]),
    "onehot": (3, "softmax", "onehot", "float64", True, [
        "accuracy", "categorical_crossentropy", "categorical_accuracy", "precision", "AUC",
        "categorical_hinge", "kl_divergence", "cosine_similarity"]),
    "linear": (1, None, "reg", "float64", True, [
        "accuracy", "bce", "mae", "mse", "mape", "msle", "objects"]),
    "top_k": (6, "softmax", "onehot", "float32", True, ["top_k_categorical_accuracy", "acc"]),
}


def _fit_data(units: int, ylabel: str, dtype: str):
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, (10, 2)).astype(dtype)
    kernel = rng.normal(0, 40, (2, units)).astype(dtype)  # saturated sigmoids/softmaxes
    bias = rng.normal(0, 1, units).astype(dtype)
    labels = rng.integers(0, max(units, 2), 10)
    y = {"binary": labels[:, None], "sparse": labels, "reg": rng.uniform(0.2, 2, (10, 1))}
    y = np.eye(units)[labels] if ylabel == "onehot" else y[ylabel]
    return x, y.astype(dtype), kernel, bias


@pytest.fixture(scope="module")
def keras_fits(keras):
    """One-epoch fits (batches 4, 4, 2; SGD(0)) -> {case: history dict}."""
    results = {}
    for case, (units, act, ylabel, dtype, eager, names) in FITS.items():
        with keras_floatx(keras, dtype):
            x, y, kernel, bias = _fit_data(units, ylabel, dtype)
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units, act)])
            metrics = [m for m in names if m != "objects"]
            if "objects" in names:
                metrics += [keras.metrics.MeanSquaredError(), _squares,
                            keras.metrics.MeanAbsoluteError(name="mae_obj")]
            loss = "sparse_categorical_crossentropy" if ylabel == "sparse" else "mse"
            model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss, metrics=metrics,
                          run_eagerly=eager)
            model.set_weights([kernel, bias])
            hist = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
            results[case] = {k: v[0] for k, v in hist.items() if k != "loss"}
            if case == "binary_graph":  # the data discriminates logits from clipped probabilities
                clipped = keras.metrics.BinaryCrossentropy()
                clipped.update_state(y, model.predict(x, verbose=0))
                results["clipped_bce"] = float(clipped.result())
    return results


def test_fit_logs_crossentropy_metrics_from_the_logits(keras_fits):
    assert abs(keras_fits["binary_graph"]["bce"] - keras_fits["clipped_bce"]) > 0.1


@pytest.mark.parametrize("case", list(FITS))
def test_compile_strings_log_keras_names_and_values(keras, keras_fits, case):
    units, act, ylabel, dtype, _, names = FITS[case]
    x, y, kernel, bias = _fit_data(units, ylabel, dtype)
    with keras_floatx(keras, dtype):
        identifiers = [m for m in names if m != "objects"]
        if "objects" in names:
            identifiers += [M.MeanSquaredError(), _squares, M.MeanAbsoluteError(name="mae_obj")]
        logged = None
        for start in range(0, 10, 4):
            yb = y[start:start + 4]
            y_pred = activations.get(act)(Tensor(x[start:start + 4] @ kernel + bias))
            if logged is None:  # Keras builds compile metrics from the first batch's shapes
                logged = [M.get(m, yb, y_pred) for m in identifiers]
            for m in logged:
                m.update_state(yb, y_pred)
    expected = keras_fits[case]
    assert sorted(m.name for m in logged) == sorted(expected)
    for m in logged:
        exact = "acc" in m.name.lower()
        _assert_close(m.result(), expected[m.name], dtype, exact, f"{case}: {m.name}")


SHAPES = [((8, 1), (8, 1)), ((8,), (8, 1)), ((8,), (8, 3)), ((8, 1), (8, 3)), ((8, 3), (8, 3)),
          ((8, 5, 1), (8, 5, 3)), ((8, 5), (8, 5, 3)), ((8, 2), (8, 2)), ((8, 3), (8, 1))]


@pytest.mark.parametrize("t,p", SHAPES, ids=[f"{t}-{p}" for t, p in SHAPES])
def test_accuracy_resolution_matches_keras_rule(keras, t, p):
    from keras.src.trainers.compile_utils import is_binary_or_sparse_categorical

    binary, sparse = is_binary_or_sparse_categorical(np.zeros(t), np.zeros(p))
    expected = "BinaryAccuracy" if binary else (
        "SparseCategoricalAccuracy" if sparse else "CategoricalAccuracy")
    assert type(M.get("acc", np.zeros(t), np.zeros(p))).__name__ == expected
    assert M.resolve_accuracy(t, p).__name__ == expected
