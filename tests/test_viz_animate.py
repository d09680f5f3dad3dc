"""Backprop and the forward pass as animations: frames follow the trace, numbers are the engine's,
the GIF and the HTML player are written and well-formed, in English and Spanish."""

from __future__ import annotations

import base64
import html.parser
import io
import re

import numpy as np
import pytest
from conftest import micrograd_expression

pytest.importorskip("matplotlib")
pytest.importorskip("grandalf")
PIL = pytest.importorskip("PIL")

from tinygrad_es import cli  # noqa: E402
from tinygrad_es.cli.pictures import _expression  # noqa: E402
from tinygrad_es.tensor import Tensor  # noqa: E402
from tinygrad_es.viz import animate_backward, animate_forward, trace_backward  # noqa: E402
from tinygrad_es.viz._common import summary, walk  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
WORDS = {"en": ("Backpropagation of", "upstream gradient", "local derivative"),
         "es": ("Retropropagación de", "gradiente que llega", "derivada local")}


def _reuse():
    a = Tensor(3.0, requires_grad=True, name="a")
    b = a + a
    b.name = "b"
    return b * b, a


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("what", ["micrograd", "neuron", "course"])
def test_backward_frames_follow_the_trace_and_end_at_the_grads(what, lang):
    L = micrograd_expression()[0] if what == "micrograd" else _expression(what, rows=1)
    movie = animate_backward(L, lang=lang)
    trace = trace_backward(L, lang=lang)
    step = "Step" if lang == "en" else "Paso"
    order = re.findall(rf"^\[{step} \d+\] (\S+) = ", trace, re.MULTILINE)
    n_ops = sum(1 for t in walk(L) if t._ctx is not None)
    assert len(order) == n_ops and len(movie) == n_ops + 2  # a start and an end frame
    assert [f.kind for f in movie.frames] == ["start"] + ["step"] * n_ops + ["end"]
    assert [f.node for f in movie.frames[1:-1]] == order
    captions = "\n".join(line for f in movie.frames for line in f.caption)
    assert all(word in captions for word in WORDS[lang])
    for k, frame in enumerate(movie.frames[1:-1], start=1):
        assert frame.caption[0].startswith(f"{step} {k}/{n_ops}: {order[k - 1]} = ")
    # the numbers on the last frame are the engine's .grad, in the boxes too
    L.backward()
    last = movie.frames[-1]
    leaves = [t for t in walk(L) if t.requires_grad]
    names = {t.name: t for t in leaves if t.name}
    assert names, "the expressions name their parameters"
    cells = {c for rows in last.style.rows.values() for row in rows for c in row}
    for name, t in names.items():
        assert np.array_equal(last.grads[name], t.grad), name
        assert "grad " + summary(t.grad, 4) in cells, name
    # before its first arrival a gradient is unknown ("grad ?"), then it is the running sum
    first = movie.frames[0]
    assert first.grads[L.name] == 1 and all(first.grads[n] is None for n in names if n != L.name)
    assert movie.png(3).startswith(PNG)


def test_reuse_shows_two_arrows_adding_up():
    c, a = _reuse()
    movie = animate_backward(c, lang="en")
    assert [f.node for f in movie.frames] == [None, "L", "b", None]
    add = movie.frames[2]
    labelled = [e for e in add.style.edge.values() if e.get("label")]
    assert [e["label"] for e in labelled] == ["12", "12"]         # ∂L/∂b · 1, twice
    assert float(add.grads["a"]) == 24.0 and movie.frames[1].grads["a"] is None
    assert "a.grad = 12 + 12 = 24  (the 2 paths add up)" in [c.strip() for c in add.caption]
    c.backward()
    assert np.array_equal(movie.frames[-1].grads["a"], a.grad)
    es = animate_backward(_reuse()[0], lang="es")
    assert "a.grad = 12 + 12 = 24  (se suman los 2 caminos)" in [c.strip() for c in
                                                                  es.frames[2].caption]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_forward_values_appear_node_by_node(lang):
    L = _expression("neuron")
    movie = animate_forward(L, lang=lang)
    ops = [t for t in walk(L) if t._ctx is not None]
    assert len(movie) == len(ops) + 2
    assert [f.node for f in movie.frames[1:-1]] == ["t1", "t2", "t3", "n", "o"]  # forward order
    for k, frame in enumerate(movie.frames):
        done = ops[:k] if frame.kind != "end" else ops
        known = [n for n, v in frame.values.items() if v is not None]
        assert len(known) == 5 + len(done)                       # the 5 inputs, then the ops
        if frame.kind == "step":  # the value that appears is the op's own output
            assert np.array_equal(frame.values[frame.node], ops[k - 1].data)
    step = movie.frames[1].caption[0]
    assert step == (("Step" if lang == "en" else "Paso")
                    + " 1/5: t1 = x1 * w1 = 2 * (-3) = -6   (Mul)")
    assert movie.frames[-1].values["o"] == L.data
    assert (("Forward pass of o" if lang == "en" else "Propagación hacia delante de o") in
            movie.frames[0].caption[0])


def test_gif_and_html_are_written_and_well_formed(tmp_path):
    L, _ = micrograd_expression()
    movie = animate_backward(L, lang="es")
    gif = movie.save(tmp_path / "sub" / "backward.gif")
    with PIL.Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == len(movie) == 5
    page = movie.save(tmp_path / "backward.html").read_text(encoding="utf-8")
    player = page.split("var images = [", 1)[1]
    frames = re.findall(r'"data:image/png;base64,([A-Za-z0-9+/=]+)"', player.split("]", 1)[0])
    assert len(frames) == len(movie)
    assert all(base64.b64decode(f).startswith(PNG) for f in frames)
    assert base64.b64decode(frames[2]) == movie.png(2)
    assert page.startswith("<!DOCTYPE html>") and 'type="range"' in page and "max=\"4\"" in page

    class Tags(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.open = []

        def handle_starttag(self, tag, attrs):
            if tag not in ("meta", "input", "img"):
                self.open.append(tag)

        def handle_endtag(self, tag):
            assert self.open.pop() == tag

    parser = Tags()
    parser.feed(page)
    assert parser.open == []
    assert movie._repr_html_().startswith("<div id=")          # Jupyter: the player, inline
    with pytest.raises(ValueError, match=r"writes \.gif or \.html"):
        movie.save(tmp_path / "x.mp4")


def test_bad_arguments():
    L, _ = micrograd_expression()
    with pytest.raises(ValueError, match="lang must be 'en' or 'es', received 'fr'"):
        animate_backward(L, lang="fr")
    with pytest.raises(ValueError, match="does not require grad"):
        animate_backward(Tensor(1.0) * 2)
    frames = len(animate_backward(L).frames)
    L.backward()  # frees the saved arrays: the animation replays the ops, as the trace does
    assert len(animate_backward(L).frames) == frames


def test_explain_animate_writes_gif_and_html(tmp_path, capsys):
    assert cli.main(["explain", "neuron", "--animate", "--lang", "es", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["neuron_backward.gif", "neuron_backward.html", "neuron_forward.gif",
                     "neuron_forward.html"]
    assert all(str(tmp_path / n) in out for n in names)
    with PIL.Image.open(io.BytesIO((tmp_path / "neuron_backward.gif").read_bytes())) as image:
        assert image.n_frames == 7                                # 5 ops + start + end
