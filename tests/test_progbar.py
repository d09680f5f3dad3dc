"""The progress bar: Keras's text (checked against keras.utils.Progbar and a real Keras fit).

Timings differ run to run, so both outputs pass through ``_normalize`` (ANSI codes, backspaces
and the times replaced by placeholders) before they are compared.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

from tinygrad_es.utils.progbar import Progbar, format_time_per_unit

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TIMES = re.compile(r"(?<=\s)(\d+:)?\d+(:\d+)?s(?=\s)|\d+(us|ms|s)/step")


def _normalize(text: str) -> list[str]:
    """Lines as seen on screen after the last redraw, timings replaced by 'T'."""
    lines = []
    for raw in _ANSI.sub("", text).split("\n"):
        raw = raw.split("\r")[-1].replace("\b", "").rstrip()
        if raw:
            lines.append(_TIMES.sub("T", raw))
    return lines


def _drive(bar, steps, values):
    for k in range(1, steps + 1):
        bar.update(k, [(name, v[k - 1]) for name, v in values.items()],
                   finalize=k == steps)


VALUES = {"accuracy": [0.25, 0.5, 0.375], "loss": [0.71234, 0.00042, -0.5]}


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("stateful", [True, False])
def test_progbar_text_matches_keras(keras, capsys, verbose, stateful):
    kwargs = {"stateless_metrics": set()} if stateful else {}
    _drive(keras.utils.Progbar(3, verbose=verbose, interval=0.0, **kwargs), 3, VALUES)
    theirs = capsys.readouterr().out
    _drive(Progbar(3, verbose=verbose, interval=0.0, dynamic=True, **kwargs), 3, VALUES)
    ours = capsys.readouterr().out
    assert _normalize(ours) == _normalize(theirs)
    assert _normalize(ours)[-1].startswith("3/3")
    if verbose == 1:  # same escape codes and in-place redraws, byte for byte apart from times
        assert _ANSI.findall(ours) == _ANSI.findall(theirs)
        assert ours.count("\r") == theirs.count("\r") == 3


def test_value_formats_match_keras(keras, capsys):
    # |v| <= 1e-3 -> %.4e; verbose=2 compares the signed value (negatives in e-notation).
    values = {"a": [5e-4], "b": [-0.25], "c": [123.456]}
    for verbose in (1, 2):
        _drive(keras.utils.Progbar(1, verbose=verbose), 1, values)
        theirs = capsys.readouterr().out
        _drive(Progbar(1, verbose=verbose, dynamic=True), 1, values)
        assert _normalize(capsys.readouterr().out) == _normalize(theirs)


@pytest.mark.parametrize("seconds", [0.0, 3e-6, 4.5e-4, 0.0123, 0.9994, 1.0, 12.7])
def test_time_units_match_keras(keras, seconds):
    assert format_time_per_unit(seconds) == keras.utils.Progbar(1)._format_time(seconds, "step")


def test_non_terminal_prints_only_the_final_line_without_escapes(capsys):
    bar = Progbar(5, verbose=1, interval=0.0, dynamic=False)
    for k in range(1, 6):
        bar.update(k, [("loss", 1.0 / k)])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\r" not in out and "\b" not in out and "\x1b" not in out
    # finalize shows the last value as given (Keras)
    assert _normalize(out) == ["5/5 ━━━━━━━━━━━━━━━━━━━━ T T - loss: 0.2000"]


def test_live_redraws_are_throttled_but_the_last_always_prints(capsys):
    bar = Progbar(100, verbose=1, interval=3600.0, dynamic=True)
    for k in range(1, 101):
        bar.update(k, [("loss", 0.5)])
    out = capsys.readouterr().out
    assert out.count("\r") == 2  # the first update (last_update=0) and the final one
    assert out.endswith("\n")


def test_eta_format_and_partial_bar(keras, capsys):
    bar = Progbar(40, verbose=1, interval=0.0, dynamic=True)
    bar._start -= 7200  # pretend two hours passed: the ETA switches to h:mm:ss
    bar.update(10, [("loss", 0.5)])
    line = _ANSI.sub("", capsys.readouterr().out).split("\r")[-1]
    assert re.match(r"10/40 ━{20} \d:\d\d:\d\d \d+s/step - loss: 0.5000$", line)
    kbar = keras.utils.Progbar(40, verbose=1, interval=0.0)
    kbar.update(10, [("loss", 0.5)])
    theirs = capsys.readouterr().out
    ours_bar = Progbar(40, verbose=1, interval=0.0, dynamic=True)
    ours_bar.update(10, [("loss", 0.5)])
    ours = capsys.readouterr().out
    assert _ANSI.findall(ours) == _ANSI.findall(theirs)  # 5 of 20 segments green
    assert "\x1b[32m" + "━" * 5 + "\x1b[0m" in ours


def test_stateless_values_are_averaged_over_steps(capsys):
    bar = Progbar(4, verbose=2)
    for k, v in enumerate([1.0, 2.0, 3.0, 6.0], start=1):
        bar.update(k, [("loss", v)], finalize=False)
    bar.update(4, [("loss", 6.0)], finalize=True)
    assert _normalize(capsys.readouterr().out) == ["4/4 - T - T - loss: 6.0000"]
    bar = Progbar(4, verbose=1, dynamic=True, interval=0.0)
    for k, v in enumerate([1.0, 2.0, 3.0], start=1):
        bar.update(k, [("loss", v)])
    assert _normalize(capsys.readouterr().out)[-1].endswith("loss: 2.0000")


def test_rejects_both_metric_lists():
    with pytest.raises(ValueError, match="not both"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_unknown_target_matches_keras(keras, capsys):
    keras.utils.Progbar(None, verbose=1, interval=0.0).update(3, [("loss", np.float32(0.5))])
    theirs = capsys.readouterr().out
    Progbar(None, verbose=1, interval=0.0, dynamic=True).update(3, [("loss", np.float32(0.5))])
    assert _normalize(capsys.readouterr().out) == _normalize(theirs) == [
        "      3/Unknown T T - loss: 0.5000"]


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_fit_evaluate_predict_print_what_keras_prints(keras, capsys, verbose):
    """Screen lines after the last redraw, timings masked: identical to a real Keras run."""
    from conftest import keras_and_ours

    x = np.linspace(-1, 1, 10, dtype="float32")[:, None]
    y = (x[:, 0] > 0).astype("float32")
    outputs = []
    for model in keras_and_ours(keras, [(2, "tanh"), (1, "sigmoid")], 1):
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=2, batch_size=4, validation_split=0.2, shuffle=False,
                  verbose=verbose)
        model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=verbose)  # no header
        model.evaluate(x, y, verbose=verbose)
        model.predict(x, verbose=verbose)
        outputs.append(_normalize(capsys.readouterr().out))
    theirs, ours = outputs
    assert ours == theirs
    assert theirs[0] == "Epoch 1/2" and "Epoch" not in theirs[3]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_fit_redraws_in_place_like_keras(keras, capsys):
    from conftest import keras_and_ours

    x = np.linspace(-1, 1, 40, dtype="float32")[:, None]
    y = (x[:, 0] > 0).astype("float32")
    km, om = keras_and_ours(keras, [(1, "sigmoid")], 1)
    outputs = []
    for model in (km, om):
        model.compile("sgd", "mse")
        screen = _Terminal()
        with contextlib.redirect_stdout(screen):
            model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=1)
        outputs.append(screen.getvalue())
    theirs, ours = outputs
    assert _normalize(ours) == _normalize(theirs)
    assert ours.count("\n") == theirs.count("\n") == 4  # 2 headers + 2 finished bars
    assert "\r\x1b[1m10/10\x1b[0m \x1b[32m" + "━" * 20 in ours  # in place, bold count, green bar
