"""Drawing a graph picture with matplotlib: what ``draw_graph`` does when Graphviz is missing.

The picture is the one ``to_dot`` describes: records ``{ name | shape | data | grad }`` for
tensors (parameters shaded, constants grey), small ellipses for ops, arrows left to right or top
to bottom. ``layout.layered_layout`` places the boxes; this file measures the text, draws the
boxes and the curved arrows, and leaves room for a caption (the animation's text).

Everything is measured in points, so one unit of the axes is one point of the figure: text never
overlaps a box edge at any dpi.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tinygrad_es.viz.layout import RANK_GAP, SWEEPS, Placement, layered_layout

__all__ = ["Node", "Scene", "Style", "scene_of", "place", "figure"]

FONT = "DejaVu Sans"  # ships with matplotlib, has ∂, ², ×, →
TEXT_PT, OP_PT, CAPTION_PT = 9.0, 8.5, 10.0
ROW_H, PAD, OP_H = 15.0, 5.0, 17.0
MARGIN = 8.0
COLOURS = {"value": "white", "param": "#dbe9f6", "const": "white", "layer": "white",
           "op": "white"}
EDGE, GREY, GREY_TEXT = "#333333", "#8c8c8c", "#595959"


@dataclass
class Node:
    """A box of the picture: ``rows`` of cells (a record) or one label (an op)."""

    rows: list[list[str]]
    kind: str  # "value", "param", "const", "layer" (records) or "op" (an ellipse)


@dataclass
class Scene:
    """What to draw: the nodes by id, the edges (tail, head) in order, the direction, a title."""

    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    rankdir: str = "LR"
    title: str = ""


@dataclass
class Style:
    """Per-frame changes (the animation's): node colours, cell texts, edge colours and labels.

    ``node[id]`` may set ``fill``, ``edge``, ``lw`` and ``text`` (a colour); ``rows[id]`` replaces
    a record's cells (same shape); ``edge[k]`` styles the k-th edge (``color``, ``lw``, ``label``).
    """

    node: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, list[list[str]]] = field(default_factory=dict)
    edge: dict[int, dict[str, Any]] = field(default_factory=dict)


# ----- from the Graphviz spec -----

def scene_of(spec: Any) -> Scene:
    """The scene of a ``graph.py`` spec (its nodes carry their cells as ``_rows``/``_kind``)."""
    graph_attr, nodes, edges = spec
    rankdir = graph_attr.get("rankdir", "LR")
    if rankdir in ("RL", "BT"):  # drawn as their mirror images' direction
        rankdir = {"RL": "LR", "BT": "TB"}[rankdir]
    scene_nodes = {nid: Node([list(r) for r in attrs["_rows"]], attrs["_kind"])
                   for nid, attrs in nodes}
    title = graph_attr.get("label", "").replace('\\"', '"')
    return Scene(scene_nodes, list(edges), rankdir, title)


# ----- measuring -----

@lru_cache(maxsize=4096)
def text_width(text: str, size: float = TEXT_PT) -> float:
    """The width of ``text`` in points, as matplotlib will draw it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(family=FONT, size=size), ismath=False)
    return width


def _columns(rows: list[list[str]]) -> list[float] | None:
    """Shared column widths when every row has the same number of cells (a table)."""
    if len({len(r) for r in rows}) != 1:
        return None
    return [max(text_width(r[c]) for r in rows) + 2 * PAD for c in range(len(rows[0]))]


def node_size(node: Node) -> tuple[float, float]:
    """(width, height) in points."""
    if node.kind == "op":
        label = node.rows[0][0]
        return max(text_width(label, OP_PT) + 12, OP_H + 5), OP_H
    rows = node.rows
    columns = _columns(rows)
    if columns is not None:
        width = sum(columns)
    else:
        width = max(sum(text_width(c) + 2 * PAD for c in r) for r in rows)
    return width, ROW_H * len(rows)


def place(scene: Scene, sweeps: float = SWEEPS, versions: list[Style] = (),
          rank_gap: float = RANK_GAP) -> Placement:
    """Measure every node and lay the scene out; ``versions`` are the cell texts of the frames
    of an animation: each box is as wide as its widest version, so one layout serves them all."""
    size = {}
    for nid, n in scene.nodes.items():
        sizes = [node_size(n)] + [node_size(Node(v.rows[nid], n.kind)) for v in versions
                                  if nid in v.rows]
        size[nid] = (max(w for w, _ in sizes), max(h for _, h in sizes))
    return layered_layout(size, scene.edges, scene.rankdir, sweeps, rank_gap)


# ----- drawing -----

def figure(scene: Scene, placement: Placement | None = None, style: Style | None = None,
           caption: list[str] | None = None, dpi: float = 100) -> Any:
    """A matplotlib ``Figure`` of the scene (no pyplot, no GUI), one point per axes unit.

    ``caption`` lines are written under the graph (the animation's explanation of a step).
    """
    from matplotlib.figure import Figure

    placement = placement or place(scene)
    style = style or Style()
    caption = caption or []
    title_h = 22.0 if scene.title else 0.0
    caption_h = (CAPTION_PT * 1.55) * len(caption) + (10 if caption else 0)
    caption_w = max((text_width(c, CAPTION_PT) for c in caption), default=0.0)
    # the boxes' extent, grown to hold the curves (repeated edges bulge) and their labels
    verts = [v for k, e in enumerate(scene.edges) for v in _edge_path(scene, placement, k, e)]
    label_room = 10.0 if any(e.get("label") for e in style.edge.values()) else 0.0
    x0 = min([0.0] + [x - label_room for x, _ in verts])
    x1 = max([placement.width] + [x + label_room for x, _ in verts])
    y0 = min([0.0] + [y - label_room for _, y in verts])
    y1 = max([placement.height] + [y + label_room for _, y in verts])
    graph_w = x1 - x0 + 2 * MARGIN
    width = max(graph_w, caption_w + 2 * MARGIN, text_width(scene.title, 11) + 2 * MARGIN)
    graph_h = y1 - y0 + 2 * MARGIN
    height = graph_h + caption_h + title_h
    fig = Figure(figsize=(width / 72, height / 72), dpi=dpi)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0, (caption_h) / height, 1, graph_h / height))
    ax.set_axis_off()
    pad_x = (width - (x1 - x0)) / 2
    ax.set_xlim(x0 - pad_x, x1 + pad_x)
    ax.set_ylim(y1 + MARGIN, y0 - MARGIN)
    for k, edge in enumerate(scene.edges):
        _draw_edge(ax, scene, placement, k, edge, style.edge.get(k, {}))
    for nid, node in scene.nodes.items():
        _draw_node(ax, nid, node, placement, style)
    for k, edge in enumerate(scene.edges):
        label = style.edge.get(k, {}).get("label")
        if label:
            _draw_edge_label(ax, scene, placement, k, edge, label, style.edge[k])
    if scene.title:
        fig.text(0.5, 1 - 12 / height, scene.title, ha="center", va="center", fontsize=11,
                 family=FONT, parse_math=False)
    for i, line in enumerate(caption):
        y = caption_h - 8 - (i + 0.6) * CAPTION_PT * 1.55
        fig.text(MARGIN / width, y / height, line, ha="left", va="center",
                 fontsize=CAPTION_PT, family=FONT, parse_math=False,
                 weight="bold" if i == 0 else "normal")
    return fig


def _draw_node(ax: Any, nid: str, node: Node, placement: Placement, style: Style) -> None:
    from matplotlib.patches import Ellipse, Rectangle

    (cx, cy), (w, h) = placement.centre[nid], placement.size[nid]
    own = style.node.get(nid, {})
    line = own.get("edge", GREY if node.kind == "const" else EDGE)
    lw = own.get("lw", 0.8)
    fill = own.get("fill", COLOURS[node.kind])
    ink = own.get("text", GREY_TEXT if node.kind == "const" else "black")
    if node.kind == "op":
        ax.add_patch(Ellipse((cx, cy), w, h, facecolor=fill, edgecolor=line, lw=lw, zorder=3))
        ax.text(cx, cy, node.rows[0][0], ha="center", va="center", fontsize=OP_PT, color=ink,
                family=FONT, parse_math=False, zorder=4)
        return
    rows = style.rows.get(nid, node.rows)
    left, top = cx - w / 2, cy - h / 2
    ax.add_patch(Rectangle((left, top), w, h, facecolor=fill, edgecolor=line, lw=lw, zorder=3))
    columns = _columns(rows)
    for r, row in enumerate(rows):
        y = top + (r + 0.5) * ROW_H
        if r:
            ax.plot([left, left + w], [top + r * ROW_H] * 2, color=line, lw=0.6, zorder=4)
        widths = columns or [text_width(c) + 2 * PAD for c in row]
        stretch = w / sum(widths)
        x = left
        for c, cell in enumerate(row):
            cw = widths[c] * stretch
            if c:
                ax.plot([x, x], [top + r * ROW_H, top + (r + 1) * ROW_H], color=line, lw=0.6,
                        zorder=4)
            ax.text(x + cw / 2, y, cell, ha="center", va="center", fontsize=TEXT_PT,
                    color=ink, family=FONT, parse_math=False, zorder=4)
            x += cw


def _edge_path(scene: Scene, placement: Placement, k: int,
               edge: tuple[str, str]) -> list[tuple[float, float]]:
    """The Bézier control points of edge ``k``: out of the tail's far side, into the head's near
    side, through the layout's bends; repeated edges (``a + a``) are spread apart."""
    tail, head = edge
    twins = [j for j, e in enumerate(scene.edges) if e == edge]
    spread = (twins.index(k) - (len(twins) - 1) / 2) * 12.0
    lr = scene.rankdir == "LR"
    bends = placement.bends.get(edge, [])
    (tx, ty), (hx, hy) = placement.centre[tail], placement.centre[head]
    first = bends[0] if bends else (hx, hy)
    last = bends[-1] if bends else (tx, ty)
    start = _port(scene, placement, tail, first, +1, spread)
    end = _port(scene, placement, head, last, -1, spread)
    points = [start] + [(x + (0 if lr else spread), y + (spread if lr else 0))
                        for x, y in bends] + [end]
    bow = 2.5 * spread if len(twins) > 1 else 0.0  # repeated edges bulge apart
    verts = [points[0]]
    for p, q in zip(points, points[1:]):
        if lr:
            mid = (q[0] - p[0]) / 2
            verts += [(p[0] + mid, p[1] + bow), (q[0] - mid, q[1] + bow), q]
        else:
            mid = (q[1] - p[1]) / 2
            verts += [(p[0] + bow, p[1] + mid), (q[0] + bow, q[1] - mid), q]
    return verts


def _port(scene: Scene, placement: Placement, nid: str, toward: tuple[float, float],
          side: int, spread: float) -> tuple[float, float]:
    """Where an edge leaves (side +1, the far side along the ranks) or enters (-1) a node."""
    (cx, cy), (w, h) = placement.centre[nid], placement.size[nid]
    lr = scene.rankdir == "LR"
    # work in (along the layer, along the ranks) coordinates
    a, r, ta, tr = (cy, cx, toward[1], toward[0]) if lr else (cx, cy, toward[0], toward[1])
    half_a, half_r = (h / 2, w / 2) if lr else (w / 2, h / 2)
    if scene.nodes[nid].kind == "op":
        import math

        da, dr = ta - a + spread, tr - r
        dr = dr if abs(dr) > 1e-9 else side * 1e-9
        t = 1 / math.sqrt((da / half_a) ** 2 + (dr / half_r) ** 2)
        pa, pr = a + t * da, r + t * dr
    else:
        dr = tr - r
        slope = (ta - a) / dr if abs(dr) > 1e-9 else 0.0
        pa = a + max(-half_a + 4, min(half_a - 4, slope * side * half_r)) + spread
        pa = max(a - half_a + 2, min(a + half_a - 2, pa))
        pr = r + side * half_r
    return (pr, pa) if lr else (pa, pr)


def _draw_edge(ax: Any, scene: Scene, placement: Placement, k: int, edge: tuple[str, str],
               own: dict[str, Any]) -> None:
    from matplotlib.patches import ArrowStyle, FancyArrowPatch
    from matplotlib.path import Path

    verts = _edge_path(scene, placement, k, edge)
    codes = [Path.MOVETO] + [Path.CURVE4] * (len(verts) - 1)
    lw = own.get("lw", 0.8)
    colour = own.get("color", EDGE)
    head = ArrowStyle("-|>", head_length=4 + 1.5 * lw, head_width=2 + 0.8 * lw)
    ax.add_patch(FancyArrowPatch(path=Path(verts, codes), arrowstyle=head, mutation_scale=1,
                                 color=colour, lw=lw, shrinkA=0, shrinkB=0, zorder=2))


def _draw_edge_label(ax: Any, scene: Scene, placement: Placement, k: int,
                     edge: tuple[str, str], label: str, own: dict[str, Any]) -> None:
    verts = _edge_path(scene, placement, k, edge)
    # on the first curve segment, nearer the tail (the input's side, where the edges into one
    # op are still apart); repeated edges at their bulges
    t = 0.5 if scene.edges.count(edge) > 1 else 0.3
    p, c1, c2, q = verts[0:4]
    b = ((1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3)
    x = b[0] * p[0] + b[1] * c1[0] + b[2] * c2[0] + b[3] * q[0]
    y = b[0] * p[1] + b[1] * c1[1] + b[2] * c2[1] + b[3] * q[1]
    ax.text(x, y, label, ha="center", va="center", fontsize=TEXT_PT - 0.5,
            color=own.get("color", EDGE), family=FONT, parse_math=False, zorder=6,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                  "edgecolor": own.get("color", EDGE), "lw": 0.6})
