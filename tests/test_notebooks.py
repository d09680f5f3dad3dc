"""The lesson notebooks (notebooks/*.ipynb) run from top to bottom in a real Jupyter kernel, in quick
mode, and what a person sees there is right: pictures inline, the trace and the gradient table as
HTML tables, and the progress bar written to the notebook exactly as Keras's is.

One test per notebook (they run in parallel under pytest-xdist); a failing cell is reported with
its number, its source and the error. The notebooks are committed without outputs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("leccion*.ipynb"))
TIMEOUT = 240  # seconds per cell


def kernel_env() -> dict[str, str]:
    """The kernel's environment: quick sizes, Jupyter's own matplotlib backend (inline: the
    suite's MPLBACKEND=Agg would hide the pictures) and no TensorFlow log noise."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(TINYGRAD_ES_QUICK="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    return env


def execute(nb, cwd: Path):
    """Run ``nb`` in a fresh kernel in ``cwd``; a failing cell fails the test with its source."""
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute(env=kernel_env())
    except nbclient.exceptions.CellExecutionError as err:
        failed = next((k for k, c in enumerate(nb.cells) if c.cell_type == "code" and any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        source = nb.cells[failed].source if failed is not None else "?"
        pytest.fail(f"cell {failed} raised {err.ename}: {err.evalue}\n--- cell source ---\n"
                    f"{source}\n--- traceback ---\n{err.traceback}", pytrace=False)
    return nb


def outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def new_notebook(*sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


# ----- the lessons -----

def test_there_is_one_notebook_per_lesson():
    lessons = sorted(p.name.split("_")[0] for p in (NOTEBOOKS.parent / "examples").glob(
        "lesson[0-9]*.py"))
    assert sorted(p.name.split("_")[0].replace("leccion", "lesson") for p in LESSONS) == lessons


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {k} has outputs"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_notebook_runs(path, tmp_path):
    nb = execute(nbformat.read(path, as_version=4), tmp_path)
    outs = outputs(nb)
    # Each lesson draws: its pictures appear inline (PNG from matplotlib, SVG from Graphviz).
    pictures = [o for o in outs if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
    assert pictures, f"{path.name} showed no picture"
    # Spanish throughout, and quiet: no warnings written to the notebook.
    stderr = "".join(o.get("text", "") for o in outs if o.get("name") == "stderr")
    assert "Warning" not in stderr, stderr[:2000]


# ----- what a notebook shows -----

def test_trace_and_gradient_table_show_as_html_tables(tmp_path):
    nb = execute(new_notebook(
        "from tinygrad_es import Tensor\n"
        "from tinygrad_es.viz import trace_backward, compare_gradients, draw_graph\n"
        "w = Tensor(0.5, requires_grad=True, name='w_2'); x = Tensor(2.0, name='x')\n"
        "L = (w * x).sigmoid()",
        "trace_backward(L, lang='es')",
        "compare_gradients(lambda: (w * x).sigmoid(), [w])",
        "draw_graph(L)",
        "L.backward()\ntrace_backward(L, lang='es')"), tmp_path)
    trace, table, graph, after = (c.outputs[0]["data"] for c in nb.cells[1:])
    assert "<table" in trace["text/html"] and "∂L/∂w_2" in trace["text/html"]
    # the plain-text view is the trace itself, not a repr of a str with \n in it
    assert trace["text/plain"].startswith("Retropropagación") and "\\n" not in trace["text/plain"]
    assert after == trace                  # after backward(): the same trace
    assert "<table" in table["text/html"] and "w_2" in table["text/html"]
    assert table["text/plain"].startswith("Backprop")
    assert {"image/png", "image/svg+xml"} & set(graph)


def _masked(text: str) -> str:
    """A progress bar's output with its times replaced: they differ from run to run, and so do
    the widths of the lines, hence the number of backspaces and of padding spaces."""
    text = re.sub(r"\d+(ms|us|s)/step", "T/step", text)
    text = re.sub(r"(\x1b\[1m)?\b\d+(:\d\d)*s\b(\x1b\[0m)?", "ETA", text)
    return re.sub(r" *\x08+", "<backspaces>", re.sub(r" +\n", "\n", text))


def test_progress_bar_writes_what_keras_writes_in_jupyter(keras, capsys, tmp_path):
    """In a notebook Keras redraws the bar in place (``\\b``/``\\r``, ANSI colours: its
    ``_dynamic_display``); ours, running in a real kernel, must write the same stream."""
    updates = "[(k, [('loss', 1.0 / k), ('accuracy', 0.1 * k)]) for k in range(1, 6)]"
    bar = keras.utils.Progbar(5, interval=0)
    for k, values in eval(updates):
        bar.update(k, values)
    theirs = capsys.readouterr().out
    nb = execute(new_notebook(
        "from tinygrad_es.utils.progbar import Progbar\n"
        f"bar = Progbar(5, interval=0)\nfor k, values in {updates}:\n    bar.update(k, values)"),
        tmp_path)
    ours = "".join(o["text"] for o in outputs(nb) if o.get("name") == "stdout")
    assert "\r" in ours and "\x1b[32m" in ours          # redrawn in place, in colour
    assert _masked(ours) == _masked(theirs)
