"""Backprop as an animation: the graph picture, one frame per op, in English or Spanish.

``animate_backward`` walks the backward pass that ``trace_backward`` prints (the same steps, from
``trace.backward_steps``): each frame highlights the op being processed, writes its local
derivative with the numbers, labels the gradient that each arrow carries back to an input, and
updates the inputs' accumulated gradients (``b = a + a``: two arrows, and ``a.grad`` adds them).
``animate_forward`` shows the values appearing node by node. Both return an :class:`Animation`:
a GIF (Pillow), or a self-contained HTML player (buttons and a slider, no server, no widgets)
that also shows itself in Jupyter.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from tinygrad_es.tensor import Tensor
from tinygrad_es.viz._common import display, expression, summary, walk
from tinygrad_es.i18n import tr
from tinygrad_es.viz.trace import _num, _paren, _text as _trace_text, backward_steps, check_lang

__all__ = ["animate_backward", "animate_forward", "Animation", "Frame"]

_CURRENT = {"fill": "#ffd966", "edge": "#c0392b", "lw": 1.8}
_REACHED = {"fill": "#f8cecc"}
_FINAL = {"fill": "#d5e8d4", "edge": "#2e7d32", "lw": 1.4}
_ARROW = {"color": "#c0392b", "lw": 1.8}


@dataclass
class Frame:
    """One frame: who is highlighted, the caption, and the numbers its boxes show.

    ``grads`` (backward) and ``values`` (forward) map each shown tensor's name to the array its
    box shows (``None`` while not yet known); ``node`` is the op's output being processed.
    """

    kind: str                                  # "start", "step" or "end"
    node: str | None
    caption: list[str]
    grads: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    style: Any = None                          # the draw_mpl.Style of the frame


class Animation:
    """Frames of the graph picture; ``.save("x.gif")`` / ``.save("x.html")``, shown in Jupyter.

    Example:
        >>> a = Tensor(3.0, requires_grad=True, name="a")
        >>> b = a + a; b.name = "b"
        >>> movie = animate_backward(b * 2, lang="en")
        >>> len(movie), [f.node for f in movie.frames]
        (4, [None, 'L', 'b', None])
        >>> movie.save("backward.gif")  # doctest: +SKIP
        PosixPath('backward.gif')
    """

    def __init__(self, scene: Any, frames: list[Frame], dpi: float = 80, ms: int = 1800):
        from tinygrad_es.viz.draw_mpl import place, text_width

        self.scene, self.frames, self.dpi, self.ms = scene, frames, dpi, ms
        labels = [e["label"] for f in frames for e in f.style.edge.values() if e.get("label")]
        # room between the layers for the gradients written on the arrows
        gap = (min(max(text_width(t) for t in labels) + 34, 140.0) if labels and
               scene.rankdir == "LR" else 34.0 if labels else 26.0)
        self.placement = place(scene, versions=[f.style for f in frames], rank_gap=gap)
        self._png: dict[int, bytes] = {}

    def __len__(self) -> int:
        return len(self.frames)

    def figure(self, k: int) -> Any:
        """Frame ``k`` as a matplotlib ``Figure``."""
        from tinygrad_es.viz.draw_mpl import figure

        widest = max(self.frames, key=lambda f: len(f.caption)).caption
        caption = self.frames[k].caption + [""] * (len(widest) - len(self.frames[k].caption))
        return figure(self.scene, self.placement, self.frames[k].style, caption, dpi=self.dpi)

    def png(self, k: int) -> bytes:
        """Frame ``k`` as PNG bytes (drawn once, then kept; 64 colours with Pillow)."""
        if k not in self._png:
            buffer = io.BytesIO()
            self.figure(k).savefig(buffer, format="png", dpi=self.dpi)
            try:
                from PIL import Image
            except ImportError:
                self._png[k] = buffer.getvalue()
            else:  # a palette PNG is a third of the size: the HTML player embeds every frame
                image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
                small = io.BytesIO()
                image.quantize(colors=64, dither=Image.Dither.NONE).save(small, format="png",
                                                                          optimize=True)
                self._png[k] = small.getvalue()
        return self._png[k]

    def save(self, path: str | Path) -> Path:
        """Write ``.gif`` (every frame, looping) or ``.html`` (the player); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".html":
            path.write_text(self.to_html(standalone=True), encoding="utf-8")
        elif path.suffix == ".gif":
            self._gif(path)
        else:
            raise ValueError(tr("Animation.save writes .gif or .html, received {name!r}",
                                name=path.name))
        return path

    def _gif(self, path: Path) -> None:
        try:
            from PIL import Image
        except ImportError as err:
            raise ImportError(tr("a GIF needs Pillow (pip install pillow) ({err})",
                                 err=err)) from None
        images = [Image.open(io.BytesIO(self.png(k))).convert("RGB") for k in range(len(self))]
        size = (max(i.width for i in images), max(i.height for i in images))
        frames = []
        for image in images:  # every frame the same size, on white
            canvas = Image.new("RGB", size, "white")
            canvas.paste(image, (0, 0))
            frames.append(canvas.quantize(colors=64, dither=Image.Dither.NONE))
        durations = [self.ms] * len(frames)
        durations[-1] = 3 * self.ms  # linger on the result before looping
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, optimize=True)

    def to_html(self, standalone: bool = False) -> str:
        """A player with every frame embedded: previous/next/play buttons and a slider."""
        uid = f"tg{next(_players)}"
        sources = [f"data:image/png;base64,{base64.b64encode(self.png(k)).decode()}"
                   for k in range(len(self))]
        images = ",".join(f'"{src}"' for src in sources)
        # JSON string literals (non-ASCII escaped), safe inside <script>
        titles = ",".join(json.dumps(f.caption[0] if f.caption else "").replace("</", "<\\/")
                          for f in self.frames)
        body = _PLAYER.format(uid=uid, n=len(self) - 1, images=images, titles=titles, ms=self.ms,
                              first=sources[0], play=tr("play"), pause=tr("pause"))
        if not standalone:
            return body
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tinygrad_es"
                f"</title></head><body>\n{body}\n</body></html>\n")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"<Animation: {len(self)} frames>"


_players = itertools.count()
_PLAYER = """<div id="{uid}" style="font-family:sans-serif">
<div><button id="{uid}p">&#9664;</button> <button id="{uid}g">&#9654; {play}</button>
<button id="{uid}n">&#9654;</button>
<input id="{uid}s" type="range" min="0" max="{n}" value="0" style="width:50%">
<span id="{uid}t"></span></div>
<img id="{uid}i" src="{first}" style="max-width:100%">
<script>(function() {{
  var images = [{images}], titles = [{titles}], k = 0, timer = null;
  var $ = function(s) {{ return document.getElementById("{uid}" + s); }};
  function show(j) {{
    k = Math.max(0, Math.min({n}, j)); $("i").src = images[k]; $("s").value = k;
    $("t").textContent = (k + 1) + "/" + images.length + "  " + titles[k];
  }}
  function stop() {{ clearInterval(timer); timer = null; $("g").innerHTML = "&#9654; {play}"; }}
  $("p").onclick = function() {{ stop(); show(k - 1); }};
  $("n").onclick = function() {{ stop(); show(k + 1); }};
  $("s").oninput = function() {{ stop(); show(parseInt(this.value)); }};
  $("g").onclick = function() {{
    if (timer) {{ stop(); return; }}
    if (k == {n}) show(0);
    $("g").innerHTML = "&#10074;&#10074; {pause}";
    timer = setInterval(function() {{ if (k == {n}) stop(); else show(k + 1); }}, {ms});
  }};
  show(0);
}})();</script></div>"""


# ----- the two animations -----

def animate_backward(tensor: Tensor, lang: str | None = None,
                     names: Mapping[Any, str] | None = None,
                     grad: Any = None, rankdir: str | None = None, digits: int = 4,
                     dpi: float = 80) -> Animation:
    """The backward pass of ``tensor`` on its graph picture, one frame per op (plus a first
    frame with only ∂L/∂L = 1 and a last one with the inputs' gradients). ``.grad`` is not
    touched: call it before ``backward()``, as :func:`trace_backward`.

    Args:
        tensor: the output, usually a scalar loss.
        lang: ``"es"`` (Spanish) or ``"en"``; default: the current language (``set_language``).
        names: display names keyed by Tensor or by ``.name``.
        grad: the upstream gradient for a non-scalar output.
        rankdir: ``"LR"`` or ``"TB"``; default ``"LR"`` for up to 12 ops, else ``"TB"``.
        digits: significant digits of the numbers on the frames.
        dpi: resolution of the frames.
    """
    text, trace = _texts(lang)
    run = backward_steps(tensor, names=names, grad=grad, caller="animate_backward")
    shown, root = run.names, run.names[id(tensor)]
    num = lambda a: _num(a, digits)  # noqa: E731
    scene, ids, op_edges = _scene(tensor, names, rankdir, show_grad=True, n_ops=len(run.steps))
    nodes = walk(tensor)
    known: dict[int, np.ndarray] = {id(tensor): run.seed}
    title = text["backward"].format(root=root, value=num(tensor.data))
    n = len(run.steps)

    def frame(kind: str, node: Tensor | None, caption: list[str], style: Any) -> Frame:
        for t in nodes:  # every box shows the gradient known so far
            cell = ("grad " + summary(known[id(t)], digits) if id(t) in known else
                    "grad ?" if t.requires_grad else None)
            if cell is not None:
                style.rows[ids[id(t)]] = _with_cell(scene.nodes[ids[id(t)]].rows, "grad", cell)
        return Frame(kind, shown.get(id(node)) if node is not None else None, caption,
                     grads={shown[id(t)]: known.get(id(t)) for t in nodes if id(t) in shown},
                     style=style)

    frames = [frame("start", None, [title, text["start"].format(root=root, seed=num(run.seed))],
                    _style({ids[id(tensor)]: _CURRENT}))]
    for step in run.steps:
        node, name = step.node, shown[id(step.node)]
        style = _style({ids[id(node)]: _CURRENT, ids[id(node)] + "_op": _CURRENT})
        caption = [f"{text['step'].format(k=step.number, n=n)}: {expression(node, shown)} = "
                   f"{num(node.data)}   ({node.op})",
                   f"{trace['upstream']}:  ∂{root}/∂{name} = {num(step.upstream)}"
                   + (" " + trace["sum_of"].format(n=step.n_parts) if step.n_parts > 1 else "")]
        for c in step.contributions:
            pname = display(c.parent, shown)
            known[id(c.parent)] = c.total
            style.node.setdefault(ids[id(c.parent)], _REACHED)
            style.edge[op_edges[id(node)][c.index]] = {**_ARROW, "label": num(c.grad)
                                                       if np.size(c.grad) == 1 else "∂" + root
                                                       + "/∂" + pname}
            local = (trace["vjp"].format(formula=c.formula) if c.local is None else
                     f"∂{name}/∂{pname} = " + (c.formula if c.formula == num(c.local)
                                               else f"{c.formula} = {num(c.local)}"))
            how = (f"{num(step.upstream)} × {_paren(num(c.local))} = " if c.local is not None
                   and np.size(step.upstream) == 1 and np.size(c.local) == 1 else "")
            caption.append(f"{trace['local']}:  {local}")
            caption.append(f"      {trace['to']} {pname}:  ∂{root}/∂{pname} = {how}{num(c.grad)}")
        for parent in dict.fromkeys(c.parent for c in step.contributions):
            parts = [p for p in run.parts[id(parent)]][:_arrived(run, step, parent)]
            if len(parts) > 1 and all(np.size(p) == 1 for p in parts):
                caption.append("      " + text["paths"].format(
                    name=shown[id(parent)], n=len(parts),
                    parts=" + ".join(num(p) for p in parts) + f" = {num(known[id(parent)])}"))
        style.edge[op_edges[id(node)][-1]] = dict(_ARROW)
        frames.append(frame("step", node, caption, style))
    results = [f"{shown[id(leaf)]}.grad = {num(run.grads[id(leaf)])}" for leaf in run.leaves]
    end = [title, trace["result"]] + ["      " + "      ".join(results[i:i + 4])
                                      for i in range(0, len(results), 4)]
    frames.append(frame("end", None, end, _style({ids[id(t)]: _FINAL for t in run.leaves})))
    return Animation(scene, frames, dpi=dpi)


def animate_forward(tensor: Tensor, lang: str | None = None,
                    names: Mapping[Any, str] | None = None,
                    rankdir: str | None = None, digits: int = 4,
                    dpi: float = 80) -> Animation:
    """The forward pass that computed ``tensor``: the inputs first, then one frame per op as
    its value appears (the numbers written into the op), and a last frame with the output.

    Arguments as in :func:`animate_backward`.

    Example:
        >>> w = Tensor(-3.0, requires_grad=True, name="w"); x = Tensor(2.0, name="x")
        >>> movie = animate_forward((w * x).tanh(), lang="es")
        >>> len(movie), movie.frames[1].caption[0]
        (4, 'Paso 1/2: t1 = w * x = (-3) * 2 = -6   (Mul)')
    """
    text, _ = _texts(lang)
    nodes = walk(tensor)
    from tinygrad_es.viz._common import resolve_names

    shown = resolve_names(nodes, names, root=tensor)
    root = shown[id(tensor)]
    num = lambda a: _num(a, digits)  # noqa: E731
    ops = [t for t in nodes if t.grad_fn is not None]
    scene, ids, op_edges = _scene(tensor, names, rankdir, show_grad=False, n_ops=len(ops))
    known = {id(t) for t in nodes if t.grad_fn is None}

    def frame(kind: str, node: Tensor | None, caption: list[str], style: Any) -> Frame:
        for t in nodes:
            if id(t) not in known:
                style.rows[ids[id(t)]] = _with_cell(scene.nodes[ids[id(t)]].rows, "data",
                                                    "data ?")
        return Frame(kind, shown.get(id(node)) if node is not None else None, caption,
                     values={shown[id(t)]: (t.data if id(t) in known else None)
                             for t in nodes if id(t) in shown}, style=style)

    title = text["forward"].format(root=root)
    frames = [frame("start", None, [title, text["inputs"]],
                    _style({ids[id(t)]: _REACHED for t in nodes if t.grad_fn is None}))]
    for k, node in enumerate(ops, start=1):
        known.add(id(node))
        style = _style({ids[id(node)]: _CURRENT, ids[id(node)] + "_op": _CURRENT})
        for j in op_edges[id(node)]:
            style.edge[j] = dict(_ARROW)
        parents = node.parents
        with_values = {id(p): _paren(num(p.data)) for p in parents if np.size(p.data) == 1}
        line = f"{text['step'].format(k=k, n=len(ops))}: {expression(node, shown)}"
        if len(with_values) == len(parents):
            line += " = " + expression(node, {**shown, **with_values}).split(" = ", 1)[1]
        frames.append(frame("step", node, [line + f" = {num(node.data)}   ({node.op})"],
                            style))
    done = text["done"].format(root=root, value=num(tensor.data))
    frames.append(frame("end", None, [title, done], _style({ids[id(tensor)]: _FINAL})))
    return Animation(scene, frames, dpi=dpi)


# ----- helpers -----

def _texts(lang: str | None) -> tuple[dict[str, str], dict[str, str]]:
    check_lang(lang)
    return {"backward": tr("Backpropagation of {root} = {value}", lang),
            "forward": tr("Forward pass of {root}", lang),
            "step": tr("Step {k}/{n}", lang),
            "start": tr("Start: ∂{root}/∂{root} = {seed}; no other gradient is known yet", lang),
            "inputs": tr("Start: the inputs and the weights are known", lang),
            "done": tr("Done: {root} = {value}; the backward pass comes next", lang),
            "paths": tr("{name}.grad = {parts}  (the {n} paths add up)", lang),
            "reached": "→ {name}.grad = {value}"}, _trace_text(lang)


def _scene(tensor: Tensor, names: Mapping[Any, str] | None, rankdir: str | None,
           show_grad: bool, n_ops: int) -> tuple[Any, dict[int, str], dict[int, list[int]]]:
    """The picture's scene, the node id of each tensor, and each op's edges (inputs in order,
    then the edge to its output)."""
    from tinygrad_es.viz.draw_mpl import scene_of
    from tinygrad_es.viz.graph import _tensor_spec

    rankdir = rankdir or ("LR" if n_ops <= 12 else "TB")
    scene = scene_of(_tensor_spec(tensor, rankdir, True, show_grad, names, 2000))
    if rankdir == "TB":  # name and shape over data and grad: half as tall as Graphviz's column
        for node in scene.nodes.values():
            if node.kind != "op" and all(len(r) == 1 for r in node.rows) and len(node.rows) > 2:
                cells = [r[0] for r in node.rows]
                node.rows = [cells[:2], cells[2:]]
    ids = {id(t): f"n{k}" for k, t in enumerate(walk(tensor))}
    op_edges: dict[int, list[int]] = {}
    for t in walk(tensor):
        if t.grad_fn is not None:
            op = ids[id(t)] + "_op"
            op_edges[id(t)] = ([j for j, (_, head) in enumerate(scene.edges) if head == op]
                               + [scene.edges.index((op, ids[id(t)]))])
    return scene, ids, op_edges


def _style(nodes: dict[str, dict[str, Any]]) -> Any:
    from tinygrad_es.viz.draw_mpl import Style

    return Style(node={k: dict(v) for k, v in nodes.items()})


def _with_cell(rows: list[list[str]], field_name: str, text: str) -> list[list[str]]:
    """The record's rows with its ``data ...`` or ``grad ...`` cell replaced by ``text``."""
    prefixes = ("data ",) if field_name == "data" else ("grad ", "no grad")
    return [[text if cell.startswith(prefixes) else cell for cell in row] for row in rows]


def _arrived(run: Any, step: Any, parent: Tensor) -> int:
    """How many contributions ``parent`` has received up to and including ``step``."""
    return sum(1 for s in run.steps[:step.number] for c in s.contributions
               if c.parent is parent)
