"""``GraphPicture``: what ``draw_graph`` and ``draw_model`` return, drawn by Graphviz or by
matplotlib, shown inline in Jupyter and saved with ``.save("g.png")``.

The engine is Graphviz's ``dot`` program when it is installed (the picture is then exactly the
one ``dot`` draws from ``to_dot``), and matplotlib otherwise (``pip install matplotlib grandalf``,
both in ``tinygrad_es[viz]``): a newcomer's notebook shows the graph either way.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tinygrad_es.i18n import tr

__all__ = ["GraphPicture", "ENGINES", "dot_program"]

ENGINES = ("auto", "graphviz", "matplotlib")
_FORMATS = ("png", "svg", "pdf")


def dot_program() -> str | None:
    """The path of Graphviz's ``dot`` program, or None where it is not installed."""
    return shutil.which("dot")


class GraphPicture:
    """A graph picture: displays itself in Jupyter, ``.save(path)`` writes PNG/SVG/PDF/.dot.

    ``engine="auto"`` draws with Graphviz's ``dot`` where it is installed, else with matplotlib;
    ``"graphviz"`` or ``"matplotlib"`` choose. ``.source`` is the Graphviz text (``to_dot``'s) and
    ``.digraph`` the ``graphviz.Digraph`` that ``draw_graph`` returned before (it needs the
    ``graphviz`` package). ``render``, ``pipe`` and ``save`` take a Digraph's arguments but draw
    with either engine; any other attribute of a Digraph (``view``, ``node``, ``attr``) is passed
    on to ``.digraph``, so code written for the Digraph keeps working.

    Example:
        >>> from tinygrad_es import Tensor
        >>> from tinygrad_es.viz import draw_graph
        >>> a = Tensor(2.0, requires_grad=True, name="a")
        >>> picture = draw_graph(a * 3, engine="matplotlib")
        >>> picture.engine
        'matplotlib'
        >>> picture.save("out/graph.png")  # doctest: +SKIP
        PosixPath('out/graph.png')
    """

    def __init__(self, spec: Any, engine: str = "auto"):
        if engine not in ENGINES:
            raise ValueError(tr("engine must be one of {ENGINES}, received {engine!r}",
                                ENGINES=ENGINES, engine=engine))
        self._spec = spec
        self._engine = engine
        self._cache: dict[str, bytes] = {}

    # ----- what it is -----

    @property
    def engine(self) -> str:
        """``"graphviz"`` or ``"matplotlib"``: who draws it (``"auto"`` resolved now)."""
        if self._engine == "auto":
            return "graphviz" if dot_program() else "matplotlib"
        return self._engine

    @property
    def source(self) -> str:
        """The Graphviz source (the text ``to_dot`` writes)."""
        from tinygrad_es.viz.graph import _dot_source

        return _dot_source(self._spec)

    @property
    def digraph(self) -> Any:
        """The picture as a ``graphviz.Digraph`` (needs ``pip install graphviz``)."""
        from tinygrad_es.viz.graph import _digraph

        return _digraph(self._spec)

    def figure(self, dpi: float = 100) -> Any:
        """The matplotlib ``Figure`` of the picture (whatever the engine)."""
        from tinygrad_es.viz.draw_mpl import figure, scene_of

        return figure(scene_of(self._spec), dpi=dpi)

    # ----- writing it -----

    def pipe(self, format: str = "png") -> bytes:  # noqa: A002 (graphviz's own argument name)
        """The picture's bytes in ``format`` (``"png"``, ``"svg"``, ``"pdf"``)."""
        if format not in _FORMATS:
            raise ValueError(tr("format must be one of {FORMATS}, received {format!r}",
                                FORMATS=_FORMATS, format=format))
        if format not in self._cache:
            self._cache[format] = (self._dot_bytes(format) if self.engine == "graphviz"
                                   else self._mpl_bytes(format))
        return self._cache[format]

    def save(self, path: str | Path, format: str | None = None) -> Path:  # noqa: A002
        """Write the picture to ``path``; the format is ``format`` or the extension (``.png``,
        ``.svg``, ``.pdf``; ``.dot``/``.gv`` write the Graphviz source). Returns the path."""
        path = Path(path)
        kind = format or path.suffix.lstrip(".").lower() or "png"
        if not path.suffix:
            path = path.with_suffix(f".{kind}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        else:
            path.write_bytes(self.pipe(kind))
        return path

    def render(self, filename: str | Path = "graph", directory: str | Path | None = None,
               format: str = "png", cleanup: bool = False) -> str:  # noqa: A002
        """``graphviz.Digraph.render``'s call, with either engine: writes the source to
        ``filename`` and the picture to ``filename.<format>``; returns the picture's path."""
        source = Path(directory or ".") / filename
        source.parent.mkdir(parents=True, exist_ok=True)
        out = source.with_name(source.name + f".{format}")
        out.write_bytes(self.pipe(format))
        if not cleanup:
            source.write_text(self.source, encoding="utf-8")
        return str(out)

    def _dot_bytes(self, format: str) -> bytes:  # noqa: A002
        program = dot_program()
        if program is None:
            raise RuntimeError(tr("engine='graphviz' needs Graphviz's `dot` program, which is "
                                  "not installed (apt-get install graphviz, brew install "
                                  "graphviz); engine='auto' or 'matplotlib' draws without it"))
        done = subprocess.run([program, f"-T{format}"], input=self.source.encode("utf-8"),
                              capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(tr("`dot -T{format}` failed (exit {returncode}): {stderr}",
                                  format=format, returncode=done.returncode,
                                  stderr=done.stderr.decode(errors='replace').strip()))
        return done.stdout

    def _mpl_bytes(self, format: str) -> bytes:  # noqa: A002
        import io

        buffer = io.BytesIO()
        self.figure().savefig(buffer, format=format, dpi=100)
        return buffer.getvalue()

    # ----- Jupyter -----

    def _repr_png_(self) -> bytes:
        return self.pipe("png")

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode("utf-8")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # One picture, not two: Graphviz's SVG (sharp at any zoom), matplotlib's PNG (faster).
        if self.engine == "graphviz":
            return {"image/svg+xml": self._repr_svg_()}
        return {"image/png": self._repr_png_()}

    def __repr__(self) -> str:
        nodes = sum(1 for _, attrs in self._spec[1] if attrs.get("_kind") != "op")
        return f"<GraphPicture: {nodes} boxes, engine={self._engine!r}>"

    def __getattr__(self, name: str) -> Any:
        # The graphviz.Digraph API (render, view, node, edge, attr, ...) for code written for it.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.digraph, name)
