"""What the subcommands share: the output folder, the exit codes, positive-number arguments and
the optional packages (matplotlib for plots, Graphviz's ``dot`` for graphs)."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any, Callable

from tinygrad_es.i18n import N_, tr

OUT = "tinygrad_es_output"
EXIT_CODES = N_("exit codes: 0 done, 1 a check failed (compare: a difference above the "
                 "tolerance), 2 bad arguments, 3 a required package is missing")


def positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` (int or float), which must be > 0."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            message = (tr("expected an integer, received {text!r}", text=text) if kind is int
                       else tr("expected a number, received {text!r}", text=text))
            raise argparse.ArgumentTypeError(message) from None
        if not value > 0:
            raise argparse.ArgumentTypeError(tr("expected a positive number, received {text!r}",
                                                text=text))
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


# ----- optional packages -----

def figure_class(what: str) -> Any:
    """matplotlib's ``Figure`` class (no GUI backend needed), or None with a message.

    ``what`` is an English message marked with ``N_`` (e.g. ``N_("the loss plot")``)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(tr("matplotlib is not installed: skipping {what} (pip install matplotlib)",
                 what=tr(what)))
        return None
    return Figure


def render(source: str, path: Path, fmt: str = "png") -> Path:
    """Render Graphviz source; without ``dot``, keep the .dot file and say how to get Graphviz."""
    from tinygrad_es.viz.graph import GraphvizMissing, render as render_graph

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizMissing)
        out = render_graph(source, path, format=fmt)
    if any(issubclass(w.category, GraphvizMissing) for w in caught):
        print(tr("Graphviz's dot program is not installed: wrote {out} only (apt-get install "
                 "graphviz, brew install graphviz or conda install graphviz; then dot -T{fmt} "
                 "{out} -o {path}.{fmt})", out=out, fmt=fmt, path=path))
    return out
