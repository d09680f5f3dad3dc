"""compile / fit / evaluate / predict: Keras's semantics (against real Keras) and the bad inputs.

The numeric parity runs of issue 4 are in test_fit_parity.py; here: what is logged and returned,
batching (steps_per_epoch, validation_freq, initial_epoch, shuffle), and every bad input failing
before the first update, with nothing changed.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_and_ours, max_abs_diff, ulp_distance

from tinygrad_es import callbacks as C
from tinygrad_es import random as tg_random
from tinygrad_es.layers import Dense, Input
from tinygrad_es.models.sequential import Sequential
from tinygrad_es.optimizers import SGD, RMSprop

TOL = PARITY_TOL["float32"]
X = np.linspace(-1, 1, 10, dtype="float32")[:, None] * np.array([[1.0, -0.5]], "float32")
Y = (X[:, 0] > 0).astype("float32")


def _pair(keras, compile_kw, spec=((3, "sigmoid"), (1, "sigmoid")), n_in=2):
    km, om = keras_and_ours(keras, list(spec), n_in)
    km.compile(**compile_kw(keras.optimizers))
    om.compile(**compile_kw(__import__("tinygrad_es").optimizers))
    return km, om


def _batch_log_recorder(lib):
    class Rec(lib.Callback):
        def __init__(self):
            super().__init__()
            self.logs = []

        def on_train_batch_end(self, batch, logs=None):
            self.logs.append((batch, dict(logs)))
    return Rec()


# ----- what fit logs and returns -----

def test_batch_logs_are_running_means_and_history_matches_keras(keras):
    """Batches 4, 4, 2: batch logs are means since the epoch began; History the epoch value."""
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5), "loss": "mse",
                                     "metrics": ["mae", "acc"]})
    recs = [_batch_log_recorder(keras.callbacks), _batch_log_recorder(C)]
    kh = km.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0, callbacks=[recs[0]])
    oh = om.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0, callbacks=[recs[1]])
    assert ([(b, sorted(logs)) for b, logs in recs[1].logs] ==
            [(b, sorted(logs)) for b, logs in recs[0].logs])
    for (_, ko), (_, oo) in zip(recs[0].logs, recs[1].logs):
        assert max_abs_diff([oo[k] for k in sorted(oo)], [ko[k] for k in sorted(ko)]) <= TOL
    assert list(oh.history) == list(kh.history) == ["acc", "loss", "mae"]
    assert oh.params == kh.params and oh.epoch == kh.epoch and om.history is oh
    assert all(type(v) is float for vals in oh.history.values() for v in vals)


def test_epoch_loss_is_the_batch_size_weighted_mean():
    """With lr=0 the weights stay, so the epoch loss is sum(n_b * L_b) / N over batches 4, 4, 2."""
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    model.compile(SGD(learning_rate=0.0), "mae")
    h = model.fit(X, Y, batch_size=4, shuffle=False, verbose=0)
    batch_losses = [model.test_on_batch(X[a:a + 4], Y[a:a + 4]) for a in (0, 4, 8)]
    weighted = float(np.float32((4 * batch_losses[0] + 4 * batch_losses[1] + 2 *
                                 batch_losses[2]) / 10))
    assert abs(h.history["loss"][0] - weighted) <= 1e-7
    assert abs(h.history["loss"][0] - np.mean(batch_losses)) > 1e-4  # not the plain mean


def test_evaluate_train_test_predict_on_batch_match_keras(keras):
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.1), "loss": "binary_crossentropy",
                                     "metrics": ["acc", "mae"], "weighted_metrics": ["acc"]})
    sw = np.linspace(0.5, 1.5, 10)
    for k_out, o_out in [
        (km.evaluate(X, Y, verbose=0), om.evaluate(X, Y, verbose=0)),
        (km.evaluate(X, Y, sample_weight=sw, verbose=0, return_dict=True),
         om.evaluate(X, Y, sample_weight=sw, verbose=0, return_dict=True)),
        (km.train_on_batch(X, Y, sample_weight=sw), om.train_on_batch(X, Y, sample_weight=sw)),
        (km.train_on_batch(X, Y, class_weight={0: 2.0}, return_dict=True),
         om.train_on_batch(X, Y, class_weight={0: 2.0}, return_dict=True)),
        (km.test_on_batch(X, Y, return_dict=True), om.test_on_batch(X, Y, return_dict=True)),
    ]:
        if isinstance(k_out, dict):
            assert list(o_out) == list(k_out)  # sorted keys, "weighted_acc" for the duplicate
            k_out, o_out = list(k_out.values()), list(o_out.values())
        assert len(o_out) == len(k_out) and max_abs_diff(o_out, k_out) <= TOL
    k_pred, o_pred = km.predict_on_batch(X), om.predict_on_batch(X)
    assert type(o_pred) is np.ndarray and o_pred.dtype == np.float32
    assert max_abs_diff(o_pred, k_pred) <= TOL
    # Batches of 3 rows and of 10 rows are different matmul shapes, for which BLAS may pick
    # different kernels (and sum orders): the last bit of a row can move. 2-3 float32 roundings
    # follow the matmul (bias, sigmoid, the second layer), so allow 4 ulp; same shapes stay equal.
    assert ulp_distance(om.predict(X, batch_size=3, verbose=0), om.predict(X, verbose=0)) <= 4
    assert np.array_equal(om.predict(X, verbose=0), om.predict(X, verbose=0))


def test_evaluate_returns_a_float_without_metrics_and_metrics_names(keras):
    km, om = _pair(keras, lambda o: {"optimizer": "sgd", "loss": "mse"})
    assert isinstance(om.evaluate(X, Y, verbose=0), float)
    assert abs(om.evaluate(X, Y, verbose=0) - km.evaluate(X, Y, verbose=0)) <= TOL
    assert om.metrics_names == km.metrics_names == ["loss"]
    km, om = _pair(keras, lambda o: {"optimizer": "sgd", "loss": "mse", "metrics": ["mae"]})
    assert om.metrics_names == km.metrics_names == ["loss", "compile_metrics"]


@pytest.mark.parametrize("steps, batch_size, epochs", [(2, 4, 3), (5, 4, 2), (3, None, 2)])
def test_steps_per_epoch_consumes_the_data_across_epochs_as_keras(keras, steps, batch_size,
                                                                    epochs):
    """3 batches and steps_per_epoch=2 give 2 + 1 + 2 updates (Keras does not restart a pass)."""
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5), "loss": "mse"})
    kw = {"steps_per_epoch": steps, "batch_size": batch_size, "epochs": epochs, "verbose": 0,
          "shuffle": False}
    ran_out = []
    for model in (km, om):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(X, Y, **kw)
        ran_out.append(sum("ran out of data" in str(w.message) for w in caught))
    kh, oh = km.history, history
    assert ran_out[1] == ran_out[0]  # the same epochs end early, with Keras's warning
    assert int(om.optimizer.iterations) == int(km.optimizer.iterations)
    assert oh.params == kh.params
    assert max_abs_diff(oh.history["loss"], kh.history["loss"]) <= TOL


def test_initial_epoch_and_validation_freq_match_keras(keras):
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5), "loss": "mse"})
    for freq in (2, [1, 4]):
        kw = {"epochs": 5, "initial_epoch": 1, "validation_split": 0.3, "validation_freq": freq,
              "verbose": 0, "shuffle": False, "batch_size": 3}
        kh, oh = km.fit(X, Y, **kw), om.fit(X, Y, **kw)
        assert oh.epoch == kh.epoch == [1, 2, 3, 4]
        assert ({k: len(v) for k, v in oh.history.items()} ==
                {k: len(v) for k, v in kh.history.items()})
        assert max_abs_diff(oh.history["val_loss"], kh.history["val_loss"]) <= TOL


def test_validation_data_and_validation_batch_size_match_keras(keras):
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5), "loss": "mse", "metrics": ["mae"]})
    sw = np.linspace(1.0, 2.0, 4)
    for extra in ({"validation_batch_size": 3}, {"validation_steps": 1}):
        kw = {"epochs": 2, "verbose": 0, "shuffle": False, "batch_size": 3,
              "validation_data": (X[:4], Y[:4], sw), **extra}
        kh, oh = km.fit(X, Y, **kw), om.fit(X, Y, **kw)
        assert list(oh.history) == list(kh.history)
        for k in kh.history:
            assert max_abs_diff(oh.history[k], kh.history[k]) <= TOL


def test_class_weight_weighs_the_training_rows_not_the_validation_split(keras):
    """Keras splits off the validation rows before class_weight becomes sample weights (the
    imbalanced-classification example: class_weight with validation_split)."""
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5), "loss": "binary_crossentropy",
                                     "metrics": ["acc"], "weighted_metrics": ["mae"]})
    kw = {"epochs": 2, "batch_size": 4, "validation_split": 0.4, "class_weight": {0: 0.1, 1: 3.0},
          "shuffle": False, "verbose": 0}
    kh, oh = km.fit(X, Y, **kw), om.fit(X, Y, **kw)
    assert list(oh.history) == list(kh.history)
    for k in kh.history:
        print(k, max_abs_diff(oh.history[k], kh.history[k]))
        assert max_abs_diff(oh.history[k], kh.history[k]) <= TOL, k


def test_validation_split_takes_the_last_rows_before_shuffling():
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    model.compile(SGD(learning_rate=0.3), "mse")
    h = model.fit(X, Y, epochs=1, validation_split=0.3, shuffle=True, verbose=0)
    # validation ran after the last update, on rows 7, 8, 9
    assert h.history["val_loss"] == [model.evaluate(X[7:], Y[7:], verbose=0)]


def test_shuffle_draws_from_the_global_generator():
    def run(seed, shuffle=True):
        tg_random.seed(0)
        model = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
        model.compile(SGD(learning_rate=0.5), "mse")
        tg_random.seed(seed)
        return model.fit(X, Y, epochs=3, batch_size=3, shuffle=shuffle, verbose=0).history["loss"]

    assert run(1) == run(1)
    assert run(1) != run(2) and run(1) != run(1, shuffle=False)
    # "batch" permutes rows only inside each batch: the batch means hardly change
    assert max_abs_diff(run(1, "batch"), run(1, shuffle=False)) <= 1e-6
    # one epoch of fit(shuffle=True) draws exactly one permutation(N) from the global generator
    model = Sequential([Input((2,)), Dense(1)])
    model.compile(SGD(learning_rate=0.1), "mse")
    tg_random.seed(5)
    tg_random.generator().permutation(10)
    expected_next = tg_random.generator().random()
    tg_random.seed(5)
    model.fit(X, Y, epochs=1, batch_size=4, shuffle=True, verbose=0)
    assert tg_random.generator().random() == expected_next


def test_ema_weights_are_finalized_at_the_end_of_fit(keras):
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5, use_ema=True, ema_momentum=0.9),
                                     "loss": "mse"})
    kh = km.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    oh = om.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert max_abs_diff(oh.history["loss"], kh.history["loss"]) <= TOL
    for a, b in zip(om.get_weights(), km.get_weights()):
        assert max_abs_diff(a, b) <= TOL


def test_compile_defaults_and_compile_config_round_trip():
    from tinygrad_es.metrics import MeanAbsoluteError

    model = Sequential([Input((2,)), Dense(1)])
    model.compile(loss="mse", metrics=["acc", MeanAbsoluteError()], loss_weights=[2.0])
    assert isinstance(model.optimizer, RMSprop) and model.compiled
    cfg = json.loads(json.dumps(model.get_compile_config()))
    other = Sequential([Input((2,)), Dense(1)])
    other.set_weights(model.get_weights())
    other.compile_from_config(cfg)
    assert type(other.optimizer) is RMSprop
    assert other.optimizer.get_config() == model.optimizer.get_config()
    assert other.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)
    assert (model.evaluate(X, Y, verbose=0, return_dict=True).keys() ==
            {"acc", "loss", "mean_absolute_error"})
    with pytest.raises(ValueError, match="list or tuple"):
        model.compile(loss="mse", metrics="acc")


def test_fit_with_loss_weights_and_regularization_matches_keras(keras):
    spec = [(3, "tanh", {"kernel_regularizer": "l2"}), (1, "sigmoid")]
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.3), "loss": "mse",
                                     "loss_weights": 3.0}, spec)
    kh = km.fit(X, Y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    oh = om.fit(X, Y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    assert max_abs_diff(oh.history["loss"], kh.history["loss"]) <= TOL
    assert max_abs_diff(om.get_weights()[0], km.get_weights()[0]) <= TOL


# ----- bad input: clear error, before the first update -----

def _fresh():
    model = Sequential([Input((2,)), Dense(3, activation="sigmoid", name="hidden"),
                        Dense(3, activation="softmax")])
    model.compile(SGD(learning_rate=0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


LABELS = np.array([0, 1, 2, 1, 0, 2, 1, 0, 2, 1], dtype="float32")
NAN_X = X.copy()
NAN_X[6, 1] = np.nan
NAN_VAL = (NAN_X[4:8], LABELS[4:8])


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((X, LABELS[:9]), {}, ValueError, r"x has 10 rows .* y has 9"),
    ((np.ones((10, 3), "float32"), LABELS), {}, ValueError,
     r"layer 'hidden' expects .*\(None, 2\)"),
    ((X, LABELS + 1), {}, ValueError, r"label 3 at row 2.* \[0, 3\)"),
    ((X, np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3, 0, 1]]), {}, ValueError, r"labels of shape"),
    ((X, LABELS * 0.5), {}, ValueError, r"integer class labels"),
    ((NAN_X, LABELS), {}, ValueError, r"NaN or inf in x: the first bad row is x\[6\]"),
    ((X, LABELS), {"batch_size": 0}, ValueError, r"batch_size must be a positive integer"),
    ((X, LABELS), {"batch_size": 2.5}, ValueError, r"received batch_size=2.5"),
    ((X, LABELS), {"epochs": -1}, ValueError, r"epochs must be an integer >= 0"),
    ((X, LABELS), {"validation_split": 1.0}, ValueError, r"validation_split must be .*\[0, 1\)"),
    ((X, LABELS), {"validation_split": -0.1}, ValueError, r"received -0.1"),
    ((X, LABELS), {"validation_split": 0.99}, ValueError, r"not sufficient to split"),
    ((np.array([["a", "b"]] * 10), LABELS), {}, TypeError, r"x to be numeric.*dtype <U1"),
    ((X, LABELS), {"class_weight": {0: 2.0}, "sample_weight": np.ones(10)}, ValueError,
     r"cannot be specified at the same time"),
    ((X, LABELS), {"sample_weight": np.ones(7)}, ValueError, r"sample_weight has 7"),
    ((X, LABELS), {"validation_data": NAN_VAL}, ValueError, r"x\[2\]"),
    ((X, LABELS), {"validation_data": (X,)}, ValueError, r"validation_data must be a tuple"),
    ((X, LABELS), {"shuffle": "rows"}, ValueError, r"shuffle must be"),
    ((X, LABELS), {"callbacks": [print]}, TypeError, r"Callback instances"),
    ((X, LABELS), {"steps_per_epoch": 0}, ValueError, r"steps_per_epoch"),
    ((X[:0], LABELS[:0]), {}, ValueError, r"no rows"),
])
def test_bad_fit_input_fails_before_the_first_update(args, kwargs, error, match):
    model = _fresh()
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(*args, verbose=0, **kwargs)
    assert int(model.optimizer.iterations) == 0
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_inf_in_y_warns_once_and_trains_as_keras_does():
    model = Sequential([Input((2,)), Dense(1)])
    model.compile("sgd", "mse")
    y = np.asarray(Y, "float32").copy()
    y[3] = np.inf
    with pytest.warns(UserWarning, match=r"NaN or inf in y \(the first bad row is y\[3\]"):
        model.fit(X, y, batch_size=5, verbose=0)
    assert int(model.optimizer.iterations) == 2


def test_fit_before_compile_and_without_loss():
    model = Sequential([Input((2,)), Dense(1)])
    # Keras's type and first sentence (tests/test_keras_semantics.py checks it against Keras)
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` .* `fit\(\)`"):
        model.fit(X, Y)
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` .* `evaluate\(\)`"):
        model.evaluate(X, Y)
    model.compile("sgd")
    with pytest.raises(ValueError, match="needs a loss"):
        model.fit(X, Y, verbose=0)


def test_one_hot_width_must_match_the_output_units():
    model = Sequential([Input((2,)), Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot width .*\(2,\) .*\(3,\)"):
        model.fit(X, np.eye(2)[Y.astype(int)], verbose=0)


def test_predict_accepts_1d_input_for_a_one_feature_model_and_returns_floatx(keras):
    km, om = _pair(keras, lambda o: {"optimizer": "sgd", "loss": "mae"}, n_in=1)
    x = np.linspace(0, 5, 7)
    assert om.predict(x, verbose=0).shape == km.predict(x, verbose=0).shape == (7, 1)
    assert max_abs_diff(om.predict(x, verbose=0), km.predict(x, verbose=0)) <= TOL
    with pytest.raises(ValueError, match="batch_size"):
        om.predict(x, batch_size=-2)


def test_a_model_without_trainable_weights_warns_and_still_logs(keras):
    km, om = _pair(keras, lambda o: {"optimizer": "sgd", "loss": "mse"})
    for model in (km, om):
        model.trainable = False
        model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        kh = km.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        oh = om.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    assert max_abs_diff(oh.history["loss"], kh.history["loss"]) <= TOL


# ----- train_step / test_step: the one step fit, train_on_batch, evaluate and test_on_batch run -----

def test_train_step_and_test_step_take_keras_data_tuples(keras):
    """train_step((x, y)) and train_step((x, y, sw)) update as Keras's train_on_batch does;
    test_step adds to the running loss as Keras's test_on_batch computes it."""
    sw = np.linspace(0.5, 2.0, len(X)).astype("float32")
    km, om = _pair(keras, lambda o: {"optimizer": o.SGD(0.5), "loss": "mse"})
    for _ in range(2):
        km.train_on_batch(X, Y)
    km.train_on_batch(X, Y, sample_weight=sw)
    k_loss = float(km.test_on_batch(X, Y))
    om.train_on_batch(X, Y)                       # resolves the compiled loss, as fit does
    om.train_step((X, Y[:, None]))                # fit's batches: floatx arrays, y as 2-D
    om.reset_metrics()
    om.train_step((X, Y[:, None], sw))
    for ko, oo in zip(km.get_weights(), om.get_weights()):
        assert max_abs_diff(oo, ko) <= TOL
    om.reset_metrics()
    om.test_step((X, Y[:, None]))
    assert abs(om._logs()["loss"] - k_loss) <= TOL
    with pytest.raises(ValueError, match=r"\(x, y, sample_weight\)`, received a tuple of 4"):
        om.train_step((X, Y, sw, sw))
