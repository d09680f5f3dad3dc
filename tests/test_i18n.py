"""The message catalogue: every message in the source has its Spanish, the committed ``.mo`` is the
compiled ``.po``, and the package speaks Spanish when asked (CLI, tables, errors) and English again
after ``set_language("en")``."""

from __future__ import annotations

import gettext
import io
import re

import numpy as np
import pytest

from tinygrad_es import cli, i18n, i18n_tools
from tinygrad_es.i18n import set_language, tr


@pytest.fixture
def spanish():
    set_language("es")
    yield
    set_language("en")


@pytest.fixture(scope="module")
def catalogue():
    entries = i18n_tools.parse_po(i18n_tools.PO_FILE.read_text(encoding="utf-8"))
    found, errors = i18n_tools.extract()
    return entries, found, errors


# ----- the catalogue and its tools -----

def test_committed_mo_is_the_compiled_po(catalogue):
    entries, _, _ = catalogue
    assert i18n_tools.MO_FILE.read_bytes() == i18n_tools.compile_mo(entries), (
        "run: python -m tinygrad_es.i18n_tools compile")


def test_every_message_is_a_literal(catalogue):
    _, found, errors = catalogue
    assert not errors
    assert len(found) > 100  # the extractor does see the package's messages


def test_every_message_has_spanish(catalogue):
    entries, found, _ = catalogue
    spanish = {e.msgid: e.msgstr for e in entries}
    missing = [f"{m!r} ({found[m][0]})" for m in found if not spanish.get(m, "").strip()]
    assert not missing, ("messages without Spanish (python -m tinygrad_es.i18n_tools update, then "
                         "translate them in the .po):\n" + "\n".join(missing))


def test_no_stale_entries(catalogue):
    entries, found, _ = catalogue
    stale = [e.msgid for e in entries if e.msgid and e.msgid not in found]
    assert not stale, "run python -m tinygrad_es.i18n_tools update:\n" + "\n".join(stale)


def test_placeholders_match(catalogue):
    entries, _, _ = catalogue
    bad = [(e.msgid, e.msgstr) for e in entries
           if e.msgid and e.msgstr and i18n_tools.placeholders(e.msgid)
           != i18n_tools.placeholders(e.msgstr)]
    assert not bad


def test_gettext_reads_every_compiled_entry(catalogue):
    entries, _, _ = catalogue
    reader = gettext.GNUTranslations(io.BytesIO(i18n_tools.compile_mo(entries)))
    for e in entries:
        if e.msgid and e.msgstr:
            assert reader.gettext(e.msgid) == e.msgstr
            assert tr(e.msgid, lang="es") == e.msgstr


def test_po_round_trip_keeps_every_character():
    tricky = ['say "hi"\\n', "two\nlines\n", "tab\there", "∂L/∂w_2 = ½·(y−ŷ)²", "{n:>6} ok"]
    entries = [i18n_tools.Entry(m, m.upper(), [f"x.py:{k}"], ["note"])
               for k, m in enumerate(tricky)]
    again = i18n_tools.parse_po(i18n_tools.format_po(entries))
    assert ([(e.msgid, e.msgstr, e.references, e.comments) for e in again[1:]] ==
            [(e.msgid, e.msgstr, e.references, e.comments) for e in entries])
    assert again[0].msgid == "" and "charset=UTF-8" in again[0].msgstr


def test_extractor_finds_literals_and_rejects_the_rest(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("from x import tr, N_\n"
                              "A = N_('kept in a table')\n"
                              "def f(v):\n"
                              "    print(tr('shown {v}', v=v))\n"
                              "    print(i18n.tr('one ' 'string'))\n"
                              "    print(tr(f'no {v}'))\n", encoding="utf-8")
    found, errors = i18n_tools.extract(pkg)
    assert found == {"kept in a table": ["pkg/a.py:2"], "shown {v}": ["pkg/a.py:4"],
                     "one string": ["pkg/a.py:5"]}
    assert len(errors) == 1 and "pkg/a.py:6" in errors[0] and "string literal" in errors[0]


def test_merge_keeps_translations_and_drops_stale():
    old = [i18n_tools.Entry("", "header"), i18n_tools.Entry("kept", "guardado", ["a:1"]),
           i18n_tools.Entry("gone", "ido")]
    merged, stale = i18n_tools.merge(old, {"new": ["b:2"], "kept": ["a:9"]})
    assert ([(e.msgid, e.msgstr, e.references) for e in merged] ==
            [("new", "", ["b:2"]), ("kept", "guardado", ["a:9"])])
    assert stale == ["gone"]


def test_placeholder_mismatch_is_reported():
    entries = [i18n_tools.Entry("{n} epochs", "{m} épocas"), i18n_tools.Entry("x", "")]
    report = i18n_tools.problems(entries, {"{n} epochs": ["a:1"], "x": ["a:2"]})
    assert any("placeholders differ" in r for r in report)
    assert any("no Spanish for 'x'" in r for r in report)


# ----- the switch -----

def test_set_language_switches_and_restores():
    message = "{prog}: error: {message} (see {prog} --help)"
    assert tr(message, prog="p", message="m") == "p: error: m (see p --help)"
    set_language("es")
    try:
        assert i18n.language() == "es"
        assert tr(message, prog="p", message="m") != "p: error: m (see p --help)"
    finally:
        set_language("en")
    assert tr(message, prog="p", message="m") == "p: error: m (see p --help)"
    with pytest.raises(ValueError, match="received 'fr'"):
        set_language("fr")


# ----- the package speaks Spanish -----

# Common English words: none may be left in Spanish output once code (names, quoted values,
# formulas, paths) is taken out.
ENGLISH = {"the", "and", "of", "with", "to", "from", "at", "by", "is", "are", "not", "for", "or",
           "written", "weights", "epochs", "epoch", "gradients", "differences", "pictures",
           "course", "our", "after", "largest", "first", "last", "installed", "skipping",
           "mean", "step", "steps", "usage", "options", "show", "help", "message", "exit",
           "expected", "received", "draw", "train", "network", "default", "folder", "shape",
           "must", "needs", "graph", "loss", "backward", "pass", "input", "output"}
CODE = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|--?[\w-]+|\S*[/_.(=\[|∂]\S*|\{[^}]*\}"
                  r"|\b(tinygrad-es|demo|compare|graph|explain|paths|COMANDO|Keras|SGD|"
                  r"Sequential|Dense|MAE|GIF|HTML|PNG|numpy|micrograd|Graphviz|course|neuron|"
                  r"model|train|iris|digits|cubic|rosenbrock|squares)\b")


def english_words(text: str) -> set[str]:
    """The English words of ``ENGLISH`` in ``text`` outside code (and argparse's upper-case
    METAVARS)."""
    return {w for w in re.findall(r"[A-Za-z]+", CODE.sub(" ", text))
            if w.lower() in ENGLISH and not w.isupper()}


def test_the_word_check_catches_english():
    assert english_words("Pictures written to /tmp/x: the loss") == {"Pictures", "written",
                                                                      "to", "the", "loss"}
    assert not english_words("Imágenes escritas en /tmp/x, loss='mae', --epochs, w_2.grad")


def test_demo_in_spanish(tmp_path, capsys):
    assert cli.main(["--lang", "es", "demo", "--epochs", "2", "--verbose", "0", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "diferencias hacia delante" in out and "pérdida" in out
    assert not english_words(out), out
    assert i18n.language() == "en"  # the command's language ends with it
    assert cli.main(["demo", "--epochs", "2", "--verbose", "0", "--out", str(tmp_path)]) == 0
    assert "forward differences" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--lang", "es", "explain", "neuron"],
                                  ["explain", "neuron", "--lang", "es"]])
def test_explain_in_spanish_either_way(argv, capsys):
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Retropropagación") and "regla de la cadena" in out.lower()
    assert not english_words(out), out


@pytest.mark.parametrize("command", ["", "demo", "train", "compare", "graph", "explain", "paths"])
def test_help_in_spanish(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--lang", "es"] + ([command] if command else []) + ["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("uso: tinygrad-es") and "muestra esta ayuda y termina" in out
    assert "códigos de salida" in out
    assert not english_words(out), out


@pytest.mark.parametrize("argv, spanish", [
    (["frobnicate"], "opción no válida: 'frobnicate'"),
    (["demo", "--epochs", "0"], "argumento --epochs: se esperaba un número positivo, se "
                                "recibió '0' (consulta tinygrad-es demo --help)"),
    (["train", "--validation-split", "1"], "se esperaba una fracción en [0, 1), se recibió '1'"),
])
def test_argument_errors_in_spanish(argv, spanish, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--lang", "es"] + argv)
    assert exit_info.value.code == 2
    assert spanish in capsys.readouterr().err


def test_environment_variable_sets_the_language():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, TINYGRAD_ES_LANG="es", PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "tinygrad_es", "--help"], capture_output=True,
                          text=True, cwd=root, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("uso: tinygrad-es")
    env["TINYGRAD_ES_LANG"] = "en"
    done = subprocess.run([sys.executable, "-m", "tinygrad_es", "--lang", "es", "explain",
                           "neuron"], capture_output=True, text=True, cwd=root, env=env,
                          timeout=120)
    assert done.stdout.startswith("Retropropagación")  # --lang beats the variable


def _errors() -> list[Exception]:
    """A learner's first errors: shapes, backward, fit before compile, wrong labels."""
    from tinygrad_es import Sequential, Tensor, layers

    caught = []
    for attempt in (lambda: Tensor([[1.0, 2.0, 3.0]]) + Tensor([[1.0, 2.0]]),
                    lambda: Tensor([[1.0, 2.0, 3.0]]) @ Tensor([[1.0, 2.0]]),
                    lambda: Tensor([1.0, 2.0]).backward(),
                    lambda: (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(),
                    lambda: Sequential([layers.Dense(2)]).fit(np.ones((4, 3)), np.ones(4)),
                    lambda: layers.Dense(0)):
        with pytest.raises(Exception) as info:
            attempt()
        caught.append(info.value)
    return caught


def test_errors_in_spanish_and_back_to_english(spanish):
    spanish_errors = [str(e) for e in _errors()]
    assert "no puede combinar las formas (1, 3) y (1, 2)" in spanish_errors[0]
    assert "penúltimo eje" in spanish_errors[1]
    assert "requires_grad" in spanish_errors[2] and "crea las entradas" in spanish_errors[2]
    assert "escalar" in spanish_errors[3]
    assert "compile()" in spanish_errors[4] and "Hay que llamar" in spanish_errors[4]
    assert "entero positivo" in spanish_errors[5]
    for text in spanish_errors:
        assert not english_words(text), text
    set_language("en")
    english = [str(e) for e in _errors()]
    assert "Add cannot combine shapes (1, 3) and (1, 2)" in english[0]
    assert all(a != b for a, b in zip(english, spanish_errors))


def test_keras_output_in_spanish(spanish, capsys):
    from tinygrad_es import Sequential, layers

    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.summary()
    model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Capa (tipo)" in out and "Parámetros totales: 8" in out and "Época 2/2" in out
    assert "/paso" in out and " - loss: " in out  # the key names stay Keras's
