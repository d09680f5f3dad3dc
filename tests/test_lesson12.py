"""Lesson 12 (issue 12 §3): the digits network, convolutional. In quick mode the lesson writes its
pictures and traces, prints what it computed, and its convnet trains as real Keras's does from the
same weights; the trace and the graph show the convolution."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import PARITY_TOL, keras_floatx, max_abs_diff

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import lesson12_convnet_digits as lesson12  # noqa: E402

from tinygrad_es import Tensor  # noqa: E402
from tinygrad_es.i18n import language, tr  # noqa: E402
from tinygrad_es.viz import to_dot  # noqa: E402
from tinygrad_es.viz._common import summary  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
PICTURES = ["lesson12_learning_curves.png", "lesson12_filters.png", "lesson12_feature_maps.png",
            "lesson12_convnet_graph.png"]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick run of the lesson (in Spanish), shared by the tests below, and what it printed."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("lesson12")
    printed = io.StringIO()
    before = language()
    with contextlib.redirect_stdout(printed):
        result = lesson12.main(out, quick=True, lang="es")
    assert language() == before                      # the language is put back
    return out, result, printed.getvalue()


def test_pictures_and_traces_are_written(quick):
    out, result, printed = quick
    assert [p.name for p in result["pictures"]] == PICTURES
    for path in result["pictures"]:
        assert path.parent == out and path.stat().st_size > 2000, path
        assert path.read_bytes()[:8] == PNG, path
    for path, lang in zip(result["texts"], ("en", "es")):
        assert path.name == f"lesson12_convnet_trace_{lang}.txt"
        assert path.read_text(encoding="utf-8") == result["traces"][lang]
    for path in result["pictures"] + result["texts"]:
        assert tr("wrote {path}", lang="es", path=path) in printed


def test_the_numbers_printed_are_the_ones_computed(quick):
    _, result, printed = quick
    x_train, y_train, x_test, y_test = lesson12.digits_split(quick=True)
    assert len(x_train) + len(x_test) == lesson12.QUICK["images"]
    assert len(x_test) == round(lesson12.HELD_OUT * lesson12.QUICK["images"])
    for name, run in result["runs"].items():
        model, logs = run["model"], run["history"]
        assert run["params"] == sum(w.size for w in model.get_weights())
        assert len(logs["loss"]) == lesson12.QUICK["epochs"]
        # the held-out score is the model's on the held-out images, and the last epoch's
        shape = (-1,) + lesson12.MODELS[name][1]
        p = model.predict(x_test.reshape(shape), verbose=0)
        assert run["accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == y_test), abs=1e-7)
        assert run["accuracy"] == pytest.approx(logs["val_accuracy"][-1], abs=1e-7)
        assert run["loss"] == pytest.approx(logs["val_loss"][-1], rel=1e-6)
        assert 0 < run["seconds_per_epoch"] < 60
        line = tr("{model}: {params:,} parameters, held-out accuracy {accuracy:.4f}, loss "
                  "{loss:.4f}, {seconds:.3f} s per epoch", lang="es",
                  model=tr(lesson12.LABELS[name], lang="es"), params=run["params"],
                  accuracy=run["accuracy"], loss=run["loss"], seconds=run["seconds_per_epoch"])
        assert line in printed.splitlines(), line
    # about the same size, as the lesson says
    dense, conv = (result["runs"][k]["params"] for k in ("dense", "convnet"))
    assert dense == 19354 == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 32 + 32 + 32 * 16 + 16 + 170
    assert abs(conv - dense) < 0.01 * dense


def test_feature_maps_are_the_convolution_of_the_digit(quick):
    """The pictured maps, recomputed with numpy from the learned kernel: relu(Σ w·window + b),
    then the max of each 2×2 block."""
    _, result, printed = quick
    x_test, y_test = lesson12.digits_split(quick=True)[2:]
    conv = result["runs"]["convnet"]["model"].get_layer("conv")
    w, b = conv.kernel.data[:, :, 0, :], conv.bias.data
    image = x_test[result["digit"]].reshape(8, 8)
    windows = np.lib.stride_tricks.sliding_window_view(image, (3, 3))  # (6, 6, 3, 3)
    relu = np.maximum(np.einsum("ijkl,klf->ijf", windows.astype(np.float64), w) + b, 0)
    pooled = relu.reshape(3, 2, 3, 2, -1).max(axis=(1, 3))
    maps_relu, maps_pooled = result["feature_maps"]
    assert maps_relu.shape == (6, 6, lesson12.FILTERS) and maps_pooled.shape == (3, 3, 32)
    np.testing.assert_allclose(maps_relu, relu, atol=1e-6)   # float32 sums of nine products
    np.testing.assert_allclose(maps_pooled, pooled, atol=1e-6)
    assert f"{result['digit']}" in printed and f"{int(y_test[result['digit']])}" in printed


def test_the_trace_shows_the_convolution_in_both_languages(quick):
    _, result, _ = quick
    grads = result["grads"]
    assert set(grads) == {"conv/kernel", "conv/bias", "hidden/kernel", "hidden/bias",
                          "output/kernel", "output/bias"}
    words = {"en": ("Step", "mean", "norm", "shape"), "es": ("Paso", "media", "norma", "forma")}
    for lang, trace in result["traces"].items():
        step, mean, norm, shape = words[lang]
        lines = trace.splitlines()
        conv = next(k for k, line in enumerate(lines) if line.endswith("(Conv)"))
        pool = next(k for k, line in enumerate(lines) if line.endswith("(MaxPool)"))
        assert lines[conv].startswith(f"[{step} ") and "conv(x, conv/kernel)" in lines[conv]
        assert "Σ_(n,o) x[n, o·s+k·d]·∂L/∂t1[n, o] = im2col(x)ᵀ @ ∂L/∂t1" in lines[conv + 2]
        assert "argmax(window_o(t3))" in lines[pool + 2]
        assert f" {shape} (1, 6, 6, 32)" in lines[pool + 3]
        # the trace's numbers are what backward() put in .grad, summarised in the trace's language
        for name, g in grads.items():
            printed = re.search(rf"^\s+{re.escape(name)}\.grad\s+= (.+)$", trace, re.M)[1]
            assert printed == (f"{summary(g, 6, lang)}  {shape} {g.shape}"), name
            assert printed.startswith(f"{mean} ") and f", {norm} " in printed
    assert result["traces"]["es"].startswith("Retropropagación")
    # the English words of the conv primitives are gone from the Spanish trace
    assert not re.search(r"first maximum|each tap|window, summed", result["traces"]["es"])


def test_the_graph_summarises_the_arrays(quick):
    _, result, _ = quick
    model = result["runs"]["convnet"]["model"]
    x_test, y_test = lesson12.digits_split(quick=True)[2:]
    loss = lesson12.traced_loss(model, x_test[result["digit"]], int(y_test[result["digit"]]))
    loss.backward()
    dot = to_dot(loss, rankdir="TB")
    for op in ("conv", "maxpool", "reshape", "linear", "relu"):
        assert f'label="{op}"' in dot, op
    assert "(1, 6, 6, 32)" in dot and "(3, 3, 1, 32)" in dot
    # no array is dumped: every data/grad field is a number or a mean and a norm
    fields = re.findall(r"(?:data|grad) ([^|}\"]+)", dot)
    assert fields and all(len(f) < 40 for f in fields), max(fields, key=len)


# ----- Keras: the same convnet from the same weights -----

def _keras_convnet(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(lesson12.FILTERS, lesson12.KERNEL, activation="relu"),
        layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(lesson12.HIDDEN, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_convnet_trains_as_keras_does(keras, dtype):
    """The lesson's convnet and Keras's, from the lesson's initial weights: the same losses and
    accuracies per epoch (training and held out) and the same final weights, on the quick data
    with the lesson's optimizer, batch and epochs; shuffle=False (the two libraries shuffle with
    different generators)."""
    x_train, y_train, x_test, y_test = (a.reshape(-1, 8, 8, 1) if a.ndim == 2 else a
                                        for a in lesson12.digits_split(quick=True))
    fit = dict(epochs=lesson12.QUICK["epochs"], batch_size=lesson12.BATCH_SIZE, shuffle=False,
               validation_data=(x_test, y_test), verbose=0)
    with keras_floatx(keras, dtype):
        ours = lesson12.compiled("convnet")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _keras_convnet(keras)
        theirs.set_weights(ours.get_weights())
        theirs.compile(optimizer=keras.optimizers.Adam(lesson12.LEARNING_RATE),
                       loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        oh = ours.fit(x_train, y_train, **fit).history
        kh = theirs.fit(x_train, y_train, **fit).history
    assert sorted(oh) == sorted(kh) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert oh["loss"][-1] < oh["loss"][0]                      # it did learn something
    tol = PARITY_TOL[dtype]
    history = max(max_abs_diff(oh[k], kh[k]) for k in kh)
    rel = max(np.max(np.abs(np.subtract(oh[k], kh[k])) / np.abs(kh[k])) for k in ("loss",
                                                                               "val_loss"))
    weights = max(max_abs_diff(a, b) for a, b in zip(ours.get_weights(), theirs.get_weights()))
    print(f"\nPARITY lesson 12 convnet {dtype}: worst history diff {history:.1e} (loss rel "
          f"{rel:.1e}), worst weight diff {weights:.1e}")
    assert history <= tol and weights <= tol
    assert all(w.dtype == np.dtype(dtype) for w in ours.get_weights())



def test_a_trace_speaks_its_lang_even_in_its_summaries():
    """``trace_backward(lang="es")`` while the package speaks English: the arrays' summaries
    (mean, norm, shape) are Spanish too, in the text and in the notebook's table (they used to
    follow the current language)."""
    from tinygrad_es.viz import trace_backward

    w = Tensor(np.linspace(-1, 1, 8).reshape(2, 4), requires_grad=True, name="w")
    loss = (w * w).sum()
    assert language() == "en"
    for lang, words in (("es", ("media", "norma", "forma")), ("en", ("mean", "norm", "shape"))):
        trace = trace_backward(loss, lang=lang)
        expected = f"{summary(2 * w.data, 6, lang)}  {words[2]} (2, 4)"
        assert f"w.grad = {expected}" in trace
        assert expected.startswith(f"{words[0]} ") and f", {words[1]} " in expected
        assert expected in trace._repr_html_()
