"""What the subcommands share: the output folder, the exit codes, positive-number arguments and
the optional packages (matplotlib for plots, Graphviz's ``dot`` for graphs)."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any, Callable

OUT = "tinygrad_es_output"
EXIT_CODES = ("exit codes: 0 done, 1 a check failed (compare: a difference above the tolerance), "
              "2 bad arguments, 3 a required package is missing")


def positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` (int or float), which must be > 0."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, received {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, received {text!r}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


# ----- optional packages -----

def figure_class(what: str) -> Any:
    """matplotlib's ``Figure`` class (no GUI backend needed), or None with a message."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(f"matplotlib is not installed: skipping {what} (pip install matplotlib)")
        return None
    return Figure


def render(source: str, path: Path, fmt: str = "png") -> Path:
    """Render Graphviz source; without ``dot``, keep the .dot file and say how to get Graphviz."""
    from tinygrad_es.viz.graph import GraphvizMissing, render as render_graph

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizMissing)
        out = render_graph(source, path, format=fmt)
    if any(issubclass(w.category, GraphvizMissing) for w in caught):
        print(f"Graphviz's dot program is not installed: wrote {out} only (apt-get install "
              f"graphviz, brew install graphviz or conda install graphviz; then dot -T{fmt} "
              f"{out} -o {path}.{fmt})")
    return out
