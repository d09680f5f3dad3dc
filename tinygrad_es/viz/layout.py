"""A layered (Sugiyama) layout of a graph picture, with no system program: grandalf's.

The layout is the one Graphviz's ``dot`` draws: every node on a layer by its topological depth
(inputs first, each tensor beside the op that first uses it), the nodes of each layer ordered to
reduce edge crossings (barycenter sweeps), then placed so that edges run as straight as they can
(Brandes & Köpf). ``grandalf`` (pure Python, ``pip install grandalf``) does all three steps; this
file only hands it the boxes and reads back the centres and the bends of long edges.

Sizes and positions are in points; the rank axis points down (``"TB"``) or right (``"LR"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Placement", "layered_layout"]

# Space between neighbours in a layer, and between layers (points).
NODE_GAP = 14.0
RANK_GAP = 26.0
SWEEPS = 6.5  # grandalf's rounds of crossing reduction (a round sweeps down, then up)


@dataclass
class Placement:
    """Where ``layered_layout`` put everything.

    Attributes:
        centre: node id -> (x, y) of its centre, y pointing down.
        size: node id -> (width, height), as given.
        bends: (tail, head) -> the points a long edge passes through between its two ends.
        width, height: the extent of the drawing (every node inside [0, width] x [0, height]).
    """

    centre: dict[str, tuple[float, float]]
    size: dict[str, tuple[float, float]]
    bends: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0


class _View:
    """The box grandalf reads (``w``, ``h``) and writes (``xy``) for a vertex."""

    def __init__(self, w: float, h: float):
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


class _EdgeView:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list) -> None:
        self.points = [tuple(p) for p in points]


def layered_layout(size: dict[str, tuple[float, float]], edges: list[tuple[str, str]],
                   rankdir: str = "TB", sweeps: float = SWEEPS,
                   rank_gap: float = RANK_GAP) -> Placement:
    """Place boxes of the given sizes on layers, inputs first, crossings reduced.

    Args:
        size: node id -> (width, height) in points, in the picture's own orientation.
        edges: (tail, head) pairs; repeated pairs (``a + a``) are laid out once.
        rankdir: ``"TB"`` (layers top to bottom) or ``"LR"`` (left to right).
        sweeps: rounds of crossing reduction (0: the layers keep the order the nodes came in).
        rank_gap: the space between two layers (room for labels on the edges).

    Example:
        >>> p = layered_layout({"a": (30, 10), "b": (30, 10)}, [("a", "b")])
        >>> p.centre["a"][1] < p.centre["b"][1]
        True
    """
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
    except ImportError as err:
        raise ImportError(
            "drawing a graph without Graphviz needs the Python package grandalf (pip install "
            f"grandalf, or pip install 'tinygrad_es[viz]') ({err})") from None
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"layered_layout draws 'TB' or 'LR', received {rankdir!r}")
    across = 0 if rankdir == "TB" else 1  # which of (width, height) lies along a layer
    vertices = {}
    for nid, (w, h) in size.items():
        v = Vertex(nid)
        v.view = _View(w, h) if across == 0 else _View(h, w)
        vertices[nid] = v
    unique = list(dict.fromkeys(edges))
    grandalf_edges = []
    for tail, head in unique:
        e = Edge(vertices[tail], vertices[head])
        e.view = _EdgeView()
        grandalf_edges.append(e)
    graph = Graph(list(vertices.values()), grandalf_edges)

    centre: dict[str, tuple[float, float]] = {}
    bends: dict[tuple[str, str], list[tuple[float, float]]] = {}
    offset = 0.0  # separate components side by side, along the layers
    for component in graph.C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = NODE_GAP, rank_gap
        sugiyama.init_all(optimize=True)
        sugiyama.draw(sweeps)
        low = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        high = max(v.view.xy[0] + v.view.w / 2 for v in component.sV)
        for v in component.sV:
            along, rank = v.view.xy[0] - low + offset, v.view.xy[1]
            centre[v.data] = (along, rank) if across == 0 else (rank, along)
        for e in component.sE:
            inner = [(p[0] - low + offset, p[1]) for p in e.view.points[1:-1]]
            bends[(e.v[0].data, e.v[1].data)] = (inner if across == 0
                                                 else [(y, x) for x, y in inner])
        offset += high - low + 2 * NODE_GAP
    # Shift everything to start at (0, 0).
    x0 = min(centre[n][0] - size[n][0] / 2 for n in centre)
    y0 = min(centre[n][1] - size[n][1] / 2 for n in centre)
    centre = {n: (x - x0, y - y0) for n, (x, y) in centre.items()}
    bends = {k: [(x - x0, y - y0) for x, y in pts] for k, pts in bends.items()}
    width = max(centre[n][0] + size[n][0] / 2 for n in centre)
    height = max(centre[n][1] + size[n][1] / 2 for n in centre)
    return Placement(centre, dict(size), bends, width, height)
