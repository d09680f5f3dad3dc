"""Losses against real Keras: value and gradient w.r.t. y_pred (tf.GradientTape) over reductions,
sample weights, rank alignment, label smoothing, from_logits and the automatic logits path, in
float32 and float64; names, configs and label checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PARITY_TOL, keras_floatx
from tinygrad_es import activations, losses
from tinygrad_es.autograd import toposort
from tinygrad_es.tensor import Tensor

N, C = 6, 4
RNG = np.random.default_rng(7)


def _probs(shape):
    p = RNG.uniform(0.05, 0.95, size=shape)
    p.flat[0], p.flat[1] = 0.0, 1.0  # the clip bounds
    return p


def _onehot(n=N, c=C):
    return np.eye(c)[RNG.integers(0, c, size=n)]


# Data per family: (y_true, y_pred) as float64 arrays, with kinks built in.
def _regression():
    y = RNG.normal(size=(N, C))
    p = RNG.normal(size=(N, C))
    p[0, 0] = y[0, 0]          # zero error: abs/sign gradient 0
    p[1, 0] = y[1, 0] + 1.0    # |r| = delta for Huber
    return y, p


def _positive():
    y, p = RNG.uniform(0.0, 3.0, size=(N, C)), RNG.uniform(0.01, 3.0, size=(N, C))
    y[0, 0], p[0, 1] = 0.0, 0.0  # below eps: the max(., eps) floors
    return y, p


def _binary():
    return RNG.integers(0, 2, size=(N, C)).astype(float), _probs((N, C))


def _hinge():
    y = RNG.integers(0, 2, size=(N, C)).astype(float)
    p = RNG.normal(size=(N, C))
    p[0, 0] = 0.0 if y[0, 0] else -0.0  # margin exactly 1 after y -> 2y - 1
    return y, p


def _categorical():
    return _onehot(), _probs((N, C))


def _sparse():
    return RNG.integers(0, C, size=(N,)).astype(float), _probs((N, C))


DATA = {"regression": _regression(), "positive": _positive(), "binary": _binary(),
        "hinge": _hinge(), "categorical": _categorical(), "sparse": _sparse(),
        "distribution": (_onehot() * 0.7 + 0.075 * (np.arange(C) != 1), _probs((N, C)))}

# (class name, kwargs, data family)
LOSSES = [
    ("MeanSquaredError", {}, "regression"), ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"), ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.3}, "regression"), ("LogCosh", {}, "regression"),
    ("CosineSimilarity", {}, "regression"), ("CosineSimilarity", {"axis": 0}, "regression"),
    ("Hinge", {}, "hinge"), ("Hinge", {}, "regression"), ("SquaredHinge", {}, "hinge"),
    ("CategoricalHinge", {}, "categorical"), ("KLDivergence", {}, "distribution"),
    ("Poisson", {}, "positive"), ("Dice", {}, "binary"), ("Dice", {"axis": 1}, "binary"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": 1}, "binary"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "regression"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.7,
                                 "label_smoothing": 0.2}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True}, "regression"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True}, "categorical"),
    ("CategoricalFocalCrossentropy", {}, "categorical"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 1.5, "label_smoothing": 0.1},
     "categorical"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse"),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]
WEIGHTS = {"none": None, "(N,)": RNG.uniform(0, 2, size=N) * (np.arange(N) != 2),
           "(N,1)": RNG.uniform(0, 2, size=(N, 1))}
WORST = {"float32": 0.0, "float64": 0.0}


@pytest.fixture(scope="module", autouse=True)
def _report_worst():
    """After the module: the worst error seen against Keras (shown with pytest -s)."""
    yield
    print(f"\nlosses: worst difference vs Keras: float32 {WORST['float32']:.3g}, "
          f"float64 {WORST['float64']:.3g}")


def _rel_err(ours, ref) -> float:
    """max |a - b| / max(1, |b|): absolute up to 1, relative above (MAPE is ~100)."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"shape {ours.shape} != {ref.shape}"
    return float(np.max(np.abs(ours - ref) / np.maximum(1.0, np.abs(ref)), initial=0.0))


def _compare(tf, keras, make, y_true, y_pred, dtype, sample_weight=None, transform=None):
    """Value and d(loss)/d(y_pred) of ``make(module)`` in Keras and here; returns the error."""
    with keras_floatx(keras, dtype):
        k_loss, o_loss = make(keras.losses), make(losses)
        var = tf.Variable(np.asarray(y_pred, dtype))
        with tf.GradientTape() as tape:
            pred = getattr(keras.activations, transform)(var) if transform else var
            k_val = k_loss(y_true, pred, sample_weight=sample_weight)
            upstream = np.linspace(0.5, 1.5, int(np.prod(k_val.shape))).reshape(k_val.shape)
            k_sum = tf.reduce_sum(k_val * upstream.astype(dtype))
        k_grad = tape.gradient(k_sum, var).numpy()
        t = Tensor(y_pred, requires_grad=True, dtype=dtype)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            pred = getattr(activations, transform)(t) if transform else t
            o_val = o_loss(y_true, pred, sample_weight=sample_weight)
            o_val.backward(upstream.astype(dtype))
    assert o_val.dtype == np.dtype(dtype)
    err = max(_rel_err(o_val.data, k_val.numpy()), _rel_err(t.grad, k_grad))
    WORST[dtype] = max(WORST[dtype], err)
    assert err <= PARITY_TOL[dtype], f"{dtype}: error {err:.3g}"
    return err


def _maker(name, kwargs, **extra):
    return lambda mod: getattr(mod, name)(**kwargs, **extra)


def _ids(case):
    name, kwargs, family = case
    return name + "".join(f",{k}={v}" for k, v in kwargs.items()) + f"[{family}]"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", LOSSES, ids=_ids)
def test_each_loss(tf, keras, case, dtype):
    """Default reduction, and the weighted per-sample values (reduction None)."""
    name, kwargs, family = case
    y, p = DATA[family]
    _compare(tf, keras, _maker(name, kwargs), y, p, dtype)
    weights = WEIGHTS["(N,)"] if kwargs.get("axis") != 0 else None
    _compare(tf, keras, _maker(name, kwargs, reduction=None), y, p, dtype, sample_weight=weights)


# The reduction code is shared; it is checked in full on losses that reach it differently: the
# fused mean (MSE), the logits path (BCE), a mask (SCCE ignore_class), a sum over the last axis
# (cosine) and a single number per batch (Dice with axis=None).
FULL = [("MeanSquaredError", {}, "regression"), ("BinaryCrossentropy", {}, "binary"),
        ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse"),
        ("CosineSimilarity", {}, "regression"), ("Dice", {}, "binary")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", FULL, ids=_ids)
def test_reductions_and_sample_weights(tf, keras, case, dtype):
    name, kwargs, family = case
    y, p = DATA[family]
    for reduction in REDUCTIONS:
        _compare(tf, keras, _maker(name, kwargs, reduction=reduction), y, p, dtype)
    for shape in ("(N,)", "(N,1)"):
        for reduction in ("sum_over_batch_size", "mean_with_sample_weight", "sum", "none"):
            _compare(tf, keras, _maker(name, kwargs, reduction=reduction), y, p, dtype,
                     sample_weight=WEIGHTS[shape])


ALIGN = [  # (y_true shape, y_pred shape): Keras expands (N,) against (N,1), squeezes otherwise
    ((N,), (N, 1)), ((N, 1), (N,)), ((N, 3), (N, 3, 1)), ((N, 3, 1), (N, 3)), ((N,), (N,)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["MeanAbsoluteError", "BinaryCrossentropy", "Hinge", "Poisson"])
def test_rank_alignment(tf, keras, name, dtype):
    for t_shape, p_shape in ALIGN:
        y = RNG.integers(0, 2, size=t_shape).astype(float)
        p = RNG.uniform(0.05, 0.95, size=p_shape)
        _compare(tf, keras, _maker(name, {}), y, p, dtype)


SATURATED = np.array([[40.0], [80.0], [-40.0], [20.0], [0.0], [-3.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", [
    ("BinaryCrossentropy", {}), ("BinaryCrossentropy", {"label_smoothing": 0.1}),
    ("BinaryCrossentropy", {"reduction": "none"}), ("BinaryFocalCrossentropy", {}),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True}),
])
def test_sigmoid_output_takes_the_logits_path(tf, keras, name, kwargs, dtype):
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    err = _compare(tf, keras, _maker(name, kwargs), y, SATURATED, dtype, transform="sigmoid")
    assert err <= PARITY_TOL[dtype]
    # Keras's number differs from the clipped one, so the path really was the logits one.
    with keras_floatx(keras, dtype):
        z = Tensor(SATURATED, dtype=dtype)
        via_logits = float(getattr(losses, name)(**kwargs)(y, activations.sigmoid(z)).data.sum())
        clipped = float(getattr(losses, name)(**kwargs)(y, z.sigmoid()).data.sum())
    assert abs(via_logits - clipped) > 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs,labels", [
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
    ("CategoricalFocalCrossentropy", {}, "onehot"),
])
def test_softmax_output_takes_the_logits_path(tf, keras, name, kwargs, labels, dtype):
    z = np.array([[40.0, 0.0, -3.0], [80.0, 1.0, 0.0], [-40.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    sparse = np.array([1, 0, 0, 2])
    y = sparse.astype(float) if labels == "sparse" else np.eye(3)[sparse]
    _compare(tf, keras, _maker(name, kwargs), y, z, dtype, transform="softmax")


def test_logits_path_under_no_grad_gives_keras_number(tf, keras):
    from tinygrad_es import no_grad
    z = np.array([[40.0], [80.0], [-40.0], [20.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    k = float(keras.losses.BinaryCrossentropy()(y, keras.activations.sigmoid(tf.constant(z,
                                                                               "float32"))))
    with no_grad():
        ours = float(losses.BinaryCrossentropy()(y, activations.sigmoid(Tensor(z))))
    assert ours == pytest.approx(k, abs=1e-6) and k == pytest.approx(25.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_labels_shapes(tf, keras, dtype):
    p = _probs((N, C))
    labels = RNG.integers(0, C, size=N)
    for y in (labels, labels.reshape(N, 1), labels.astype(float)):
        _compare(tf, keras, _maker("SparseCategoricalCrossentropy", {}), y, p, dtype)


def test_function_forms_match_keras(tf, keras):
    for fn in ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
               "mean_squared_logarithmic_error", "huber", "log_cosh", "cosine_similarity",
               "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
               "binary_crossentropy", "categorical_crossentropy", "binary_focal_crossentropy",
               "categorical_focal_crossentropy", "dice", "tversky"]:
        y, p = DATA["categorical"]
        k = getattr(keras.losses, fn)(y.astype("float32"), p.astype("float32")).numpy()
        ours = getattr(losses, fn)(y, Tensor(p)).data
        assert _rel_err(ours, k) <= 1e-6, fn
    y, p = DATA["sparse"]
    k = keras.losses.sparse_categorical_crossentropy(y, p.astype("float32")).numpy()
    assert _rel_err(losses.sparse_categorical_crossentropy(y, Tensor(p)).data, k) <= 1e-6


@pytest.mark.filterwarnings("ignore:In loss categorical_crossentropy:SyntaxWarning")
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 9), c=st.integers(1, 5), seed=st.integers(0, 2**16),
       name=st.sampled_from(["MeanSquaredError", "BinaryCrossentropy", "CategoricalCrossentropy",
                             "MeanAbsoluteError"]))
def test_shapes_hypothesis(tf, keras, n, c, seed, name):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=(n, c)).astype(float)
    p = rng.uniform(0.01, 0.99, size=(n, c))
    _compare(tf, keras, _maker(name, {}), y, p, "float32", sample_weight=rng.uniform(0, 1, n))


# ----- names, configs, errors -----

NOT_IMPLEMENTED = {"Circle", "circle", "CTC", "ctc"}  # Keras names we do not provide (report)


def test_accepted_names_equal_keras(keras):
    from keras.src.losses import ALL_OBJECTS_DICT
    rejected = {"huber_loss", "logcosh", "cce", "scce", "kullback_leibler_divergence",
                "crossentropy", "ce", "LossFunctionWrapper", "Mse", "categorical_generalized_"
                "cross_entropy", "CategoricalGeneralizedCrossEntropy"}
    candidates = set(ALL_OBJECTS_DICT) | set(losses._names()) | rejected
    for name in sorted(candidates - NOT_IMPLEMENTED):
        try:
            keras.losses.get(name)
            keras_ok = True
        except (ValueError, TypeError):
            keras_ok = False
        try:
            ours_ok = isinstance(losses.get(name), losses.Loss)
        except ValueError:
            ours_ok = False
        assert ours_ok == keras_ok, name
    assert NOT_IMPLEMENTED <= set(ALL_OBJECTS_DICT)


def test_configs_and_names_equal_keras(keras):
    for cls in losses._CLASSES:
        if cls == "Loss":
            continue
        k, o = getattr(keras.losses, cls)(), getattr(losses, cls)()
        assert o.name == k.name
        extra = {"Huber": {"delta"}, "CosineSimilarity": {"axis"}}.get(cls, set())
        assert ({key: v for key, v in o.get_config().items() if key not in extra}
                == k.get_config()), cls
        assert type(losses.deserialize(losses.serialize(o))) is type(o)
    h = losses.deserialize(losses.serialize(losses.Huber(delta=2.5, reduction="sum")))
    assert h.get_config() == {"name": "huber_loss", "reduction": "sum", "delta": 2.5}
    assert losses.get("mse").name == "mean_squared_error"
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)


def test_plain_function_and_repr():
    def l1(y_true, y_pred):
        return (y_pred - y_true).abs().sum(axis=-1)

    loss = losses.get(l1)
    assert loss.name == "l1"
    assert float(loss(np.array([[0.0, 0.0]]), Tensor([[1.0, -2.0]]))) == 3.0
    assert repr(losses.LossFunctionWrapper(l1)).startswith("<LossFunctionWrapper(<function")
    with pytest.raises(ValueError, match="Cannot serialize"):
        losses.serialize(loss)


def test_resolve_crossentropy_like_compile(keras):
    from keras.src.trainers.compile_utils import get_loss
    for t_shape, p_shape in [((8,), (8, 1)), ((8, 1), (8, 1)), ((8,), (8, 3)), ((8, 1), (8, 3)),
                             ((8, 3), (8, 3))]:
        k = get_loss("crossentropy", np.zeros(t_shape), np.zeros(p_shape))
        ours = losses.resolve_crossentropy(np.zeros(t_shape), p_shape)
        assert ours.fn is getattr(losses, k.fn.__name__)


def test_errors_are_clear():
    with pytest.raises(ValueError, match=r"Unknown loss 'mean_squared_eror'\. Did you mean "
                                         r"'mean_squared_error'\? Valid names: BCE"):
        losses.get("mean_squared_eror")
    with pytest.raises(ValueError, match="reduction.*received 'avg'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3, 2\) does not match"):
        losses.MeanSquaredError()(np.zeros((3, 2)), Tensor(np.ones((3, 2))), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"received label 4 at row 1, but y_pred has 3 classes"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 4]), Tensor(np.ones((2, 3)) / 3))
    with pytest.raises(ValueError, match=r"received label -1 at row 0"):
        losses.sparse_categorical_crossentropy(np.array([-1, 0]), Tensor(np.ones((2, 3)) / 3))
    with pytest.raises(ValueError, match=r"y_true.shape=\(2,\) and y_pred.shape=\(2, 3\)\. For "
                                         "integer class labels use sparse"):
        losses.CategoricalCrossentropy()(np.array([0, 1]), Tensor(np.ones((2, 3)) / 3))
    with pytest.warns(UserWarning, match="received `from_logits=True`, but the `output`"):
        losses.BinaryCrossentropy(from_logits=True)(np.ones(2), activations.sigmoid(Tensor([1, 2])))
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        losses.CategoricalCrossentropy()(np.ones((2, 1)), Tensor(np.ones((2, 1))))
    with pytest.raises(ValueError, match="binary_crossentropy expects y_true and y_pred of the "
                                         r"same shape, received y_true.shape=\(2, 3\)"):
        losses.BinaryCrossentropy()(np.zeros((2, 3)), Tensor(np.ones((2, 2)) / 2))


def test_check_targets():
    scce, cce, bce = (losses.get(n) for n in ("sparse_categorical_crossentropy",
                                              "CategoricalCrossentropy", "bce"))
    losses.check_targets(scce, np.array([0, 2, 1]), (None, 3))
    losses.check_targets(scce, np.array([[0], [2]]), np.zeros((2, 3)))
    losses.check_targets(cce, np.eye(3), (None, 3))
    losses.check_targets(bce, np.array([0.0, 1.0]), (None, 1))
    losses.check_targets("binary_crossentropy", np.array([[0.0], [1.0]]), (None, 1))
    losses.check_targets(losses.MeanSquaredError(), np.zeros((4, 7)), (None, 2))  # not checked
    losses.check_targets(losses.SparseCategoricalCrossentropy(ignore_class=-1),
                         np.array([0, -1, 2]), (None, 3))
    with pytest.raises(ValueError, match=r"received label 3 at row 2, but y_pred has 3 classes: "
                                         r"expected integer labels in \[0, 3\)"):
        losses.check_targets(scce, np.array([0, 1, 3]), (None, 3))
    with pytest.raises(ValueError, match="expects integer class labels, received 1.5 at row 1"):
        losses.check_targets(scce, np.array([0.0, 1.5]), (None, 3))
    with pytest.raises(ValueError, match=r"one-hot width of y_true \(4,\) does not match the "
                                         r"model's output \(3,\)"):
        losses.check_targets(cce, np.eye(4), (None, 3))
    with pytest.raises(ValueError, match="For integer class labels use sparse"):
        losses.check_targets(cce, np.array([0, 2]), (None, 3))
    with pytest.raises(ValueError, match=r"target shape of y_true \(2,\)"):
        losses.check_targets(bce, np.zeros((5, 2)), (None, 1))


def test_mse_on_column_is_one_fused_mean():
    """The hot path: MSE/MAE/BCE on (N, 1) without weights is y - p, square, one mean."""
    p = Tensor(np.zeros((32, 1)), requires_grad=True)
    loss = losses.MeanSquaredError()(np.ones(32), p)
    assert [n.op for n in toposort(loss)] == [None, "Sub", "Square", "Mean"]
    loss = losses.MeanAbsoluteError()(np.ones((32, 1)), p)
    assert [n.op for n in toposort(loss)] == [None, "Sub", "Abs", "Mean"]
