"""Draw the book's diagrams into book/figures/ (PNG, matplotlib only).

    python scripts/make_figures.py            # every figure
    python scripts/make_figures.py gru_cell   # only the named ones

Every figure is drawn on a canvas whose data units are inches, so sizes and gaps
read the same in all of them. The PNGs carry no software version or date: running
the script again gives the same bytes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import (Circle, FancyArrowPatch, FancyBboxPatch,  # noqa: E402
                                Rectangle)
from matplotlib.path import Path as MplPath  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "book" / "figures"
DPI = 110
FONT_SIZE = 14

# One fill colour per kind of node, the same in every figure.
FILL = {
    "input": "#dbe8f6",     # x_t
    "hidden": "#d7efd2",    # h_t, the state
    "backward": "#fde3c8",  # the backward direction of a bidirectional RNN
    "output": "#e9dcf2",    # o_t
    "loss": "#f9d3da",      # L_t
    "gate": "#fff1b8",      # sigmoid gates
    "candidate": "#d7efd2",  # tanh layers
    "op": "#ffffff",        # elementwise operations
    "cell": "#f4f4f4",      # the frame of a cell
    "text": "#ffffff",      # a token of the raw stream
    "target": "#cdeeea",    # y_t, the token a model must predict
    "pad": "#ececec",       # a padding token, or a step that is not read
    "weights": "#ead9c0",   # parameters: a weight matrix, a copy of a model
}
INK = "#222222"
GRAD = "#c0392b"      # gradient (backward pass) arrows
MUTED = "#666666"

# Parameter names on the BPTT graph (input-to-hidden, hidden-to-hidden,
# hidden-to-output), as the RNN chapter writes them.
W_INPUT, W_HIDDEN, W_OUTPUT = r"$W_{xh}$", r"$W_{hh}$", r"$W_{qh}$"


# ----------------------------------------------------------------------- drawing kit


def canvas(width: float, height: float):
    """A blank figure whose data coordinates are inches, origin bottom left."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def cell_frame(ax, corner: tuple, width: float, height: float) -> None:
    """The rounded, shaded box that marks the inside of a recurrent cell."""
    ax.add_patch(FancyBboxPatch(corner, width, height,
                                boxstyle="round,pad=0,rounding_size=0.25",
                                facecolor=FILL["cell"], edgecolor=MUTED, lw=1.2,
                                zorder=0))


class Node:
    """A labelled box (or circle) and the points where arrows meet its border."""

    def __init__(self, ax, x, y, text, kind, w=0.9, h=0.55, round_=False,
                 fontsize=FONT_SIZE, lw=1.4, color=INK, edge=INK, rounding=0.1):
        self.x, self.y, self.w, self.h = x, y, w, h
        if round_:
            self.w = self.h = w
            ax.add_patch(Circle((x, y), w / 2, facecolor=FILL[kind], edgecolor=edge,
                                lw=lw, zorder=3))
        else:
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                        boxstyle=f"round,pad=0,rounding_size={rounding}",
                                        facecolor=FILL[kind], edgecolor=edge, lw=lw,
                                        zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4,
                color=color, linespacing=1.15)

    def top(self, dx=0.0):
        return (self.x + dx, self.y + self.h / 2)

    def bottom(self, dx=0.0):
        return (self.x + dx, self.y - self.h / 2)

    def left(self, dy=0.0):
        return (self.x - self.w / 2, self.y + dy)

    def right(self, dy=0.0):
        return (self.x + self.w / 2, self.y + dy)


def op(ax, x, y, symbol, r=0.22):
    """A small circle holding an elementwise operation (⊙, +, 1−, tanh)."""
    size = FONT_SIZE if len(symbol) == 1 else FONT_SIZE - 3
    return Node(ax, x, y, symbol, "op", w=2 * r, round_=True, fontsize=size)


def arrow(ax, *points, color=INK, lw=1.6, style="-|>", dashed=False, head=True,
          zorder=2.0):
    """An arrow along a polyline through ``points`` (head at the last point)."""
    codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1)
    patch = FancyArrowPatch(path=MplPath(points, codes),
                            arrowstyle=style if head else "-", color=color, lw=lw,
                            mutation_scale=16, linestyle="--" if dashed else "-",
                            shrinkA=0, shrinkB=0, zorder=zorder, joinstyle="miter",
                            capstyle="butt")
    ax.add_patch(patch)
    return patch


def line(ax, *points, **kwargs):
    """A polyline without a head (a wire that splits or joins)."""
    return arrow(ax, *points, head=False, **kwargs)


def over(ax, *points, crossings=(), background="white", **kwargs):
    """An arrow that passes over other wires: they break where it crosses them."""
    for x, y in crossings:
        ax.add_patch(Rectangle((x - 0.09, y - 0.09), 0.18, 0.18, facecolor=background,
                               edgecolor="none", zorder=2.3))
    return arrow(ax, *points, zorder=2.5, **kwargs)


def dot(ax, x, y):
    """A junction: the wires meeting here are connected."""
    ax.add_patch(Circle((x, y), 0.055, color=INK, zorder=5))


def label(ax, x, y, text, size=FONT_SIZE - 1, color=INK, **kwargs):
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    ax.text(x, y, text, fontsize=size, color=color, zorder=6, **kwargs)


def save(fig, name: str) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.png"
    fig.savefig(path, dpi=DPI, facecolor="white",
                metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(fig)
    return path


# ----------------------------------------------------------------------- figures


def rnn_unrolled():
    """A recurrent network drawn folded (a loop) and unrolled over three steps."""
    fig, ax = canvas(9.0, 3.9)
    rows = {"x": 0.55, "h": 1.85, "o": 3.15}
    # Folded: one cell with a loop on its state.
    x0 = 1.0
    xs = Node(ax, x0, rows["x"], r"$\mathbf{x}_t$", "input")
    hs = Node(ax, x0, rows["h"], r"$\mathbf{h}_t$", "hidden")
    os_ = Node(ax, x0, rows["o"], r"$\mathbf{o}_t$", "output")
    arrow(ax, xs.top(), hs.bottom())
    arrow(ax, hs.top(), os_.bottom())
    loop_x = hs.right()[0] + 0.4
    arrow(ax, hs.right(0.1), (loop_x, rows["h"] + 0.1), (loop_x, rows["h"] + 0.62),
          (x0 + 0.2, rows["h"] + 0.62), hs.top(0.2))
    label(ax, loop_x + 0.1, rows["h"] + 0.36, "delay", size=FONT_SIZE - 4,
          color=MUTED, ha="left")
    label(ax, 2.5, rows["h"] + 0.05, "unroll", size=FONT_SIZE - 2, color=MUTED,
          va="bottom")
    arrow(ax, (2.1, rows["h"] - 0.05), (2.9, rows["h"] - 0.05), color=MUTED, lw=1.4)
    # Unrolled: three steps that share the same weights.
    steps = [(4.55, "t-1"), (6.25, "t"), (7.95, "t+1")]
    prev = None
    for x, t in steps:
        xn = Node(ax, x, rows["x"], rf"$\mathbf{{x}}_{{{t}}}$", "input", w=1.05)
        hn = Node(ax, x, rows["h"], rf"$\mathbf{{h}}_{{{t}}}$", "hidden", w=1.05)
        on = Node(ax, x, rows["o"], rf"$\mathbf{{o}}_{{{t}}}$", "output", w=1.05)
        arrow(ax, xn.top(), hn.bottom())
        arrow(ax, hn.top(), on.bottom())
        arrow(ax, prev.right() if prev else (hn.left()[0] - 0.5, rows["h"]), hn.left())
        prev = hn
    label(ax, prev.right()[0] + 0.3, rows["h"], "…", size=FONT_SIZE + 2)
    label(ax, 3.3, rows["h"], "…", size=FONT_SIZE + 2)
    label(ax, 6.25, 3.72, "the same weights at every step", size=FONT_SIZE - 3,
          color=MUTED)
    return save(fig, "rnn_unrolled")


def bptt():
    """The computation graph of three steps, with the paths gradients flow back on."""
    fig, ax = canvas(8.8, 5.5)
    rows = {"x": 0.55, "h": 2.05, "o": 3.45, "L": 4.75}
    cols = [2.0, 4.6, 7.2]
    h0 = Node(ax, 0.55, rows["h"], r"$\mathbf{h}_0$", "hidden", w=0.75)
    prev = h0
    for i, x in enumerate(cols, start=1):
        xn = Node(ax, x, rows["x"], rf"$\mathbf{{x}}_{i}$", "input")
        hn = Node(ax, x, rows["h"], rf"$\mathbf{{h}}_{i}$", "hidden")
        on = Node(ax, x, rows["o"], rf"$\mathbf{{o}}_{i}$", "output")
        ln = Node(ax, x, rows["L"], rf"$L_{i}$", "loss")
        arrow(ax, xn.top(-0.2), hn.bottom(-0.2))
        label(ax, x - 0.3, (rows["x"] + rows["h"]) / 2, W_INPUT, size=FONT_SIZE - 2,
              ha="right")
        arrow(ax, hn.top(-0.2), on.bottom(-0.2))
        label(ax, x - 0.3, (rows["h"] + rows["o"]) / 2, W_OUTPUT, size=FONT_SIZE - 2,
              ha="right")
        arrow(ax, on.top(-0.2), ln.bottom(-0.2))
        arrow(ax, prev.right(0.1), hn.left(0.1))
        label(ax, (prev.right()[0] + hn.left()[0]) / 2, rows["h"] + 0.33, W_HIDDEN,
              size=FONT_SIZE - 2)
        # Gradients: down from the loss, and back along the chain of states.
        arrow(ax, ln.bottom(0.2), on.top(0.2), color=GRAD, dashed=True, lw=1.4)
        arrow(ax, on.bottom(0.2), hn.top(0.2), color=GRAD, dashed=True, lw=1.4)
        if prev is not h0:
            arrow(ax, hn.left(-0.12), prev.right(-0.12), color=GRAD, dashed=True,
                  lw=1.4)
        prev = hn
    label(ax, 4.6, 5.3, r"$L = \frac{1}{3}\,(L_1 + L_2 + L_3)$", size=FONT_SIZE - 1)
    # Legend.
    arrow(ax, (0.25, 3.95), (0.85, 3.95))
    label(ax, 0.25, 4.2, "forward", size=FONT_SIZE - 4, ha="left")
    arrow(ax, (0.25, 3.25), (0.85, 3.25), color=GRAD, dashed=True, lw=1.4)
    label(ax, 0.25, 3.5, "gradient", size=FONT_SIZE - 4, ha="left", color=GRAD)
    return save(fig, "bptt")


def gru_cell():
    """The GRU cell: reset and update gates, candidate state, and the mix."""
    fig, ax = canvas(9.4, 5.3)
    top, bus, gates = 4.45, 0.95, 2.05
    cell_frame(ax, (0.75, 0.45), 7.9, 4.35)
    label(ax, 0.3, top + 0.35, r"$\mathbf{H}_{t-1}$", ha="left")
    label(ax, 9.0, top + 0.35, r"$\mathbf{H}_{t}$", ha="center")
    label(ax, 1.75, 0.1, r"$\mathbf{X}_{t}$", va="bottom", ha="right")
    r_gate = Node(ax, 2.4, gates, r"$\sigma$", "gate", w=0.8)
    z_gate = Node(ax, 3.6, gates, r"$\sigma$", "gate", w=0.8)
    cand = Node(ax, 5.0, gates, r"$\tanh$", "candidate", w=0.9)
    for node, text in ((r_gate, "reset\n" + r"$\mathbf{R}_t$"),
                       (z_gate, "update\n" + r"$\mathbf{Z}_t$"),
                       (cand, "candidate\n" + r"$\tilde{\mathbf{H}}_t$")):
        label(ax, node.x + 0.08, node.bottom()[1] - 0.06, text, size=FONT_SIZE - 4,
              va="top", ha="left", linespacing=1.1)
    mul_r = op(ax, 2.4, 3.35, "⊙")
    mul_z = op(ax, 6.3, top, "⊙")
    add = op(ax, 7.6, top, "+")
    one_minus = op(ax, 6.7, 2.75, "1−")
    mul_c = op(ax, 7.6, 2.75, "⊙")
    # The state wire along the top, and its copy down to the gates.
    line(ax, (0.2, top), (1.2, top))
    dot(ax, 1.2, top)
    arrow(ax, (1.2, top), mul_z.left())
    arrow(ax, add.right(), (9.3, top))
    arrow(ax, mul_z.right(), add.left())
    line(ax, (1.2, top), (1.2, bus), (3.6, bus))
    dot(ax, 2.4, top)
    arrow(ax, (2.4, top), mul_r.top())
    # The input joins the state on the bus that feeds both gates.
    line(ax, (1.85, 0.0), (1.85, bus))
    dot(ax, 1.85, bus)
    dot(ax, 1.85, 0.5)
    arrow(ax, (2.4, bus), r_gate.bottom())
    dot(ax, 2.4, bus)
    arrow(ax, (3.6, bus), z_gate.bottom())
    arrow(ax, (1.85, 0.5), (5.0, 0.5), cand.bottom())
    # Reset: R ⊙ H_{t-1} enters the candidate.
    arrow(ax, r_gate.top(), mul_r.bottom())
    # Update: Z keeps the old state, 1 - Z lets the candidate in.
    line(ax, z_gate.top(), (3.6, 2.75), (6.3, 2.75))
    dot(ax, 6.3, 2.75)
    arrow(ax, (6.3, 2.75), mul_z.bottom())
    arrow(ax, (6.3, 2.75), one_minus.left())
    arrow(ax, one_minus.right(), mul_c.left())
    arrow(ax, cand.right(), (7.6, gates), mul_c.bottom())
    arrow(ax, mul_c.top(), add.bottom())
    over(ax, mul_r.right(), (5.0, 3.35), cand.top(), crossings=[(5.0, 2.75)],
         background=FILL["cell"])
    return save(fig, "gru_cell")


def lstm_cell():
    """The LSTM cell: forget, input and output gates, the memory cell, the state."""
    fig, ax = canvas(9.8, 5.5)
    top, bus, gates = 4.55, 0.95, 2.1
    cell_frame(ax, (0.85, 0.45), 7.95, 4.5)
    label(ax, 0.3, top + 0.35, r"$\mathbf{C}_{t-1}$", ha="left")
    label(ax, 9.25, top + 0.35, r"$\mathbf{C}_{t}$")
    label(ax, 0.3, bus + 0.35, r"$\mathbf{H}_{t-1}$", ha="left")
    label(ax, 9.25, bus + 0.35, r"$\mathbf{H}_{t}$")
    label(ax, 1.45, 0.1, r"$\mathbf{X}_{t}$", va="bottom", ha="right")
    names = [("forget", "F", 2.2, "gate", r"$\sigma$"),
             ("input", "I", 3.4, "gate", r"$\sigma$"),
             ("candidate", r"\tilde{C}", 4.6, "candidate", r"$\tanh$"),
             ("output", "O", 6.2, "gate", r"$\sigma$")]
    boxes = {}
    for name, symbol, x, kind, text in names:
        boxes[name] = Node(ax, x, gates, text, kind, w=0.8 if kind == "gate" else 0.9)
        arrow(ax, (x, bus), boxes[name].bottom())
        dot(ax, x, bus)
        label(ax, x + 0.08, boxes[name].bottom()[1] - 0.06,
              f"{name}\n" + rf"$\mathbf{{{symbol}}}_t$", size=FONT_SIZE - 4, va="top",
              ha="left", linespacing=1.1)
    mul_f = op(ax, 2.2, top, "⊙")
    add = op(ax, 4.6, top, "+")
    mul_i = op(ax, 4.6, 3.35, "⊙")
    tanh_c = op(ax, 7.3, 3.5, "tanh", r=0.3)
    mul_o = op(ax, 7.3, gates, "⊙")
    # The memory cell runs along the top, touched only by ⊙ and +.
    arrow(ax, (0.2, top), mul_f.left())
    arrow(ax, mul_f.right(), add.left())
    arrow(ax, add.right(), (9.7, top))
    arrow(ax, boxes["forget"].top(), mul_f.bottom())
    arrow(ax, boxes["input"].top(), (3.4, 3.35), mul_i.left())
    arrow(ax, boxes["candidate"].top(), mul_i.bottom())
    arrow(ax, mul_i.top(), add.bottom())
    # The hidden state: tanh of the cell, filtered by the output gate.
    dot(ax, 7.3, top)
    arrow(ax, (7.3, top), tanh_c.top())
    arrow(ax, tanh_c.bottom(), mul_o.top())
    arrow(ax, boxes["output"].right(), mul_o.left())
    arrow(ax, mul_o.bottom(), (7.3, bus), (9.7, bus))
    # The previous state and the input share the bus that feeds the four layers.
    line(ax, (0.2, bus), (6.2, bus))
    line(ax, (1.55, 0.0), (1.55, bus))
    dot(ax, 1.55, bus)
    return save(fig, "lstm_cell")


def deep_rnn():
    """A deep RNN: L = 2 recurrent layers stacked, unrolled over four steps."""
    fig, ax = canvas(8.6, 5.2)
    rows = [0.55, 1.9, 3.2, 4.5]  # input, layer 1, layer 2, output
    cols = [2.3, 3.95, 5.6, 7.25]
    for j, x in enumerate(cols, start=1):
        nodes = [Node(ax, x, rows[0], rf"$\mathbf{{x}}_{j}$", "input", w=1.0)]
        for layer in (1, 2):
            nodes.append(Node(ax, x, rows[layer],
                              rf"$\mathbf{{h}}_{j}^{{({layer})}}$", "hidden", w=1.0,
                              h=0.62))
        nodes.append(Node(ax, x, rows[3], rf"$\mathbf{{o}}_{j}$", "output", w=1.0))
        for below, above in zip(nodes, nodes[1:]):
            arrow(ax, below.top(), above.bottom())
        for layer in (1, 2):  # from the previous step (or from h_0 at the first)
            start_x = x - 1.65 + 0.5 if j > 1 else x - 1.15
            arrow(ax, (start_x, rows[layer]), nodes[layer].left())
    for layer, name in ((0, "input"), (1, "layer 1"), (2, "layer 2"), (3, "output")):
        label(ax, 0.15, rows[layer], name, size=FONT_SIZE - 2, ha="left", color=MUTED)
    label(ax, 1.05, rows[1] + 0.28, r"$\mathbf{h}_0^{(1)}$", size=FONT_SIZE - 4,
          color=MUTED)
    label(ax, 1.05, rows[2] + 0.28, r"$\mathbf{h}_0^{(2)}$", size=FONT_SIZE - 4,
          color=MUTED)
    return save(fig, "deep_rnn")


def birnn():
    """A bidirectional RNN: one layer reads left to right, one right to left."""
    fig, ax = canvas(8.6, 5.2)
    rows = {"x": 0.55, "fwd": 1.95, "bwd": 3.25, "o": 4.55}
    cols = [2.45, 4.15, 5.85, 7.55]
    shift = 0.42  # forward nodes sit left of the column, backward nodes right
    fwd, bwd = [], []
    for j, c in enumerate(cols, start=1):
        xn = Node(ax, c, rows["x"], rf"$\mathbf{{x}}_{j}$", "input", w=1.1)
        fn = Node(ax, c - shift, rows["fwd"],
                  rf"$\overrightarrow{{\mathbf{{h}}}}_{j}$", "hidden", w=0.78, h=0.66)
        bn = Node(ax, c + shift, rows["bwd"],
                  rf"$\overleftarrow{{\mathbf{{h}}}}_{j}$", "backward", w=0.78,
                  h=0.66)
        on = Node(ax, c, rows["o"], rf"$\mathbf{{o}}_{j}$", "output", w=1.1)
        arrow(ax, xn.top(-shift), fn.bottom())
        over(ax, xn.top(shift), bn.bottom(),
             crossings=[(c + shift, rows["fwd"])] if j < len(cols) else [])
        over(ax, fn.top(), on.bottom(-shift),
             crossings=[(c - shift, rows["bwd"])] if j > 1 else [])
        arrow(ax, bn.top(), on.bottom(shift))
        fwd.append(fn)
        bwd.append(bn)
    for a, b in zip(fwd, fwd[1:]):
        arrow(ax, a.right(), b.left())
    for a, b in zip(bwd, bwd[1:]):
        arrow(ax, b.left(), a.right())
    for layer, name in (("x", "input"), ("fwd", "forward"), ("bwd", "backward"),
                        ("o", "output")):
        label(ax, 0.15, rows[layer], name, size=FONT_SIZE - 2, ha="left", color=MUTED)
    return save(fig, "birnn")


def lm_targets():
    """A window of characters and its targets: the same characters shifted by one."""
    text = "traveller"                       # x_1 ... x_{T+1}, T = 8
    fig, ax = canvas(9.0, 3.3)
    rows = {"text": 2.55, "X": 1.55, "Y": 0.45}
    cols = [1.9 + 0.7 * i for i in range(len(text))]
    w, h = 0.56, 0.5
    for i, (x, char) in enumerate(zip(cols, text), start=1):
        Node(ax, x, rows["text"], char, "text", w=w, h=h)
        label(ax, x, rows["text"] + 0.45, rf"$x_{{{i}}}$", size=FONT_SIZE - 3,
              color=MUTED)
    for x, char in zip(cols[:-1], text[:-1]):
        Node(ax, x, rows["X"], char, "input", w=w, h=h)
    for x, char in zip(cols[1:], text[1:]):
        Node(ax, x, rows["Y"], char, "target", w=w, h=h)
    for x_in, x_out in zip(cols[:-1], cols[1:]):  # the target of each input position
        arrow(ax, (x_in + 0.06, rows["X"] - h / 2), (x_out - 0.06, rows["Y"] + h / 2),
              lw=1.2)
    for row, name in (("text", "text"), ("X", "input X"), ("Y", "target Y")):
        label(ax, 0.15, rows[row], name, size=FONT_SIZE - 2, ha="left", color=MUTED)
    label(ax, cols[-1] + 0.45, rows["X"], r"$x_1, \ldots, x_T$", size=FONT_SIZE - 2,
          ha="left")
    label(ax, cols[-1] + 0.45, rows["Y"], r"$x_2, \ldots, x_{T+1}$",
          size=FONT_SIZE - 2, ha="left")
    return save(fig, "lm_targets")


def lm_partitioning():
    """Chapter 1's toy minibatches (B = 2 rows, T = 5 steps) in both partitionings."""
    num_steps, cell, gap = 5, 0.4, 0.8
    # The first id of row b of minibatch i, as the chapter's seeded iterators print
    # them: both drew the offset 4, so both cut the windows 4-8, 9-13, ..., 29-33.
    layouts = [("random sampling: the windows in a random order",
                [[19, 29, 4], [14, 24, 9]], "reset the state"),
               ("sequential partitioning: B streams, one per row",
                [[4, 9, 14], [19, 24, 29]], "carry the state")]
    fig, ax = canvas(9.2, 4.75)
    x0 = 1.45                                # left edge of the first window
    width = num_steps * cell
    starts = [x0 + i * (width + gap) for i in range(3)]
    for panel, (title, rows, between) in enumerate(layouts):
        top = 4.4 - panel * 2.45             # the panel's title line
        label(ax, 0.15, top, title, size=FONT_SIZE - 1, ha="left")
        row_y = [top - 1.0, top - 1.5]
        for i, x in enumerate(starts):
            label(ax, x + width / 2, top - 0.5, f"minibatch {i}", size=FONT_SIZE - 3,
                  color=MUTED)
        for b, (y, firsts) in enumerate(zip(row_y, rows)):
            label(ax, 0.15, y, f"row {b}", size=FONT_SIZE - 3, ha="left", color=MUTED)
            for x, first in zip(starts, firsts):
                for t in range(num_steps):
                    Node(ax, x + (t + 0.5) * cell, y, str(first + t), "input",
                         w=cell - 0.04, h=0.42, fontsize=FONT_SIZE - 4, lw=1.1,
                         rounding=0.06)
            for i in range(2):               # between minibatch i and i + 1
                end, start = starts[i] + width, starts[i + 1]
                if panel:                    # row b goes on where it stopped
                    arrow(ax, (end + 0.08, y), (start - 0.08, y), color=INK, lw=1.4)
                else:                        # unrelated text: the state starts at 0
                    label(ax, (end + start) / 2, y, "0", size=FONT_SIZE - 4,
                          color=MUTED)
        for i in range(2):
            label(ax, starts[i] + width + gap / 2, top - 0.5,
                  between.replace(" the ", "\n"), size=FONT_SIZE - 5, color=MUTED,
                  linespacing=1.0)
    return save(fig, "lm_partitioning")


def tied_lm():
    """Chapter 7.1's WordLM with tied weights: one V x E matrix, read twice."""
    fig, ax = canvas(7.3, 6.6)
    x = 1.8
    stack = [(0.55, "word ids X", "input", "(B, T)"),
             (1.75, r"embedding: a row of $\mathbf{W}$ per id", "op", "(B, T, E)"),
             (2.95, "LSTM layer 1", "hidden", "(B, T, H)"),
             (4.15, "LSTM layer 2", "hidden", "(B, T, H)"),
             (5.35, r"decoder: $\mathbf{h}\,\mathbf{W}^{\mathsf{T}} + \mathbf{b}$", "op",
              "")]
    nodes = [Node(ax, x, y, text, kind, w=3.0, h=0.62, fontsize=FONT_SIZE - 1)
             for y, text, kind, _ in stack]
    for below, above, (_, _, _, shape) in zip(nodes, nodes[1:], stack):
        arrow(ax, below.top(), above.bottom())
        label(ax, x + 0.15, (below.top()[1] + above.bottom()[1]) / 2, shape,
              size=FONT_SIZE - 4, color=MUTED, ha="left")
    for below, above in zip(nodes[1:], nodes[2:]):   # dropout goes up the stack only
        label(ax, x - 0.15, (below.top()[1] + above.bottom()[1]) / 2, "dropout",
              size=FONT_SIZE - 4, color=MUTED, ha="right")
    arrow(ax, nodes[-1].top(), (x, 6.3))
    label(ax, x + 0.15, 6.25, "logits (B, T, V)", size=FONT_SIZE - 4, color=MUTED,
          ha="left", va="top")
    # The one matrix: V rows (one per word) of E numbers.
    mx, mw, bottom, top = 5.95, 1.0, 1.45, 5.65
    ax.add_patch(Rectangle((mx - mw / 2, bottom), mw, top - bottom,
                           facecolor=FILL["weights"], edgecolor=INK, lw=1.4, zorder=3))
    for k in range(1, 14):
        y = bottom + k * (top - bottom) / 14
        line(ax, (mx - mw / 2, y), (mx + mw / 2, y), color=MUTED, lw=0.6, zorder=3.5)
    label(ax, mx, top + 0.3, r"$\mathbf{W}$", size=FONT_SIZE)
    label(ax, mx, bottom - 0.15, "one Parameter\n(E = H)", size=FONT_SIZE - 4,
          color=MUTED, va="top", linespacing=1.1)
    label(ax, mx, top + 0.02, "E", size=FONT_SIZE - 4, color=MUTED, va="bottom")
    label(ax, mx + mw / 2 + 0.12, (bottom + top) / 2, "V rows", size=FONT_SIZE - 4,
          color=MUTED, ha="left", rotation=90)
    arrow(ax, (mx - mw / 2, nodes[1].y), nodes[1].right())
    label(ax, (mx - mw / 2 + nodes[1].right()[0]) / 2, nodes[1].y + 0.08,
          "embedding.weight", size=FONT_SIZE - 4, va="bottom")
    label(ax, (mx - mw / 2 + nodes[1].right()[0]) / 2, nodes[1].y - 0.08,
          "a row per word", size=FONT_SIZE - 4, va="top", color=MUTED)
    arrow(ax, (mx - mw / 2, nodes[4].y), nodes[4].right())
    label(ax, (mx - mw / 2 + nodes[4].right()[0]) / 2, nodes[4].y + 0.08,
          "decoder.weight", size=FONT_SIZE - 4, va="bottom")
    label(ax, (mx - mw / 2 + nodes[4].right()[0]) / 2, nodes[4].y - 0.08,
          "a score per row", size=FONT_SIZE - 4, va="top", color=MUTED)
    return save(fig, "tied_lm")


def padded_batch():
    """Reviews padded to the longest, their lengths, the mask and the last real tokens."""
    reviews = [["one", "of", "the", "best", "films", "!"],
               ["i", "loved", "every", "minute", "."],
               ["a", "waste", "."]]
    num_steps = max(map(len, reviews))
    fig, ax = canvas(8.4, 5.7)
    cell, h = 0.98, 0.46
    x0 = 1.45                                # centre of the first column
    cols = [x0 + t * cell for t in range(num_steps)]
    x_rows, mask_rows = [4.55, 4.0, 3.45], [2.1, 1.6, 1.1]
    label(ax, (cols[0] + cols[-1]) / 2, 5.25, "X  (B, T): token ids (shown as words)",
          size=FONT_SIZE - 2)
    label(ax, 7.85, 5.25, "lengths", size=FONT_SIZE - 2)
    label(ax, (cols[0] + cols[-1]) / 2, 2.65,
          "mask = valid_mask(lengths, T): the steps that pooling reads",
          size=FONT_SIZE - 2)
    for b, (tokens, y, y_mask) in enumerate(zip(reviews, x_rows, mask_rows)):
        label(ax, 0.15, y, f"review {b}", size=FONT_SIZE - 4, ha="left", color=MUTED)
        label(ax, 0.15, y_mask, f"review {b}", size=FONT_SIZE - 4, ha="left",
              color=MUTED)
        for t, x in enumerate(cols):
            real = t < len(tokens)
            last = t == len(tokens) - 1
            Node(ax, x, y, tokens[t] if real else "<pad>", "input" if real else "pad",
                 w=cell - 0.08, h=h, fontsize=FONT_SIZE - 3 if real else FONT_SIZE - 4,
                 lw=2.8 if last else 1.1, color=INK if real else MUTED, rounding=0.06)
            Node(ax, x, y_mask, "1" if real else "0", "gate" if real else "pad",
                 w=cell - 0.08, h=0.4, fontsize=FONT_SIZE - 3,
                 lw=2.8 if last else 1.1, color=INK if real else MUTED, rounding=0.06)
        label(ax, 7.85, y, str(len(tokens)), size=FONT_SIZE - 2)
    # Legend: what the bold border marks.
    Node(ax, 0.55, 0.45, "", "input", w=0.5, h=0.32, lw=2.8, rounding=0.06)
    label(ax, 0.95, 0.45, "the last real token of a review: in a packed batch the "
          "forward direction ends here,\nand the backward direction starts here",
          size=FONT_SIZE - 4, ha="left", linespacing=1.25)
    return save(fig, "padded_batch")


def ulmfit_stages():
    """ULMFiT in chapter 10: two language-model stages, then the classifier."""
    fig, ax = canvas(9.6, 5.0)
    frames = [(0.15, 2.3), (3.2, 2.3), (6.25, 3.2)]   # (left edge, width)
    titles = ["1  pretraining", "2  LM fine-tuning", "3  classifier fine-tuning"]
    data = ["WikiText-2", "review text,\nno labels", "labelled reviews"]
    rows = {"data": 0.75, "emb": 1.8, "lstm": 2.75, "top": 3.7}
    bw = 1.9                                  # box width
    boxes = []                                # each stage's nodes, from the data up
    for k, ((left, width), title, text) in enumerate(zip(frames, titles, data)):
        cell_frame(ax, (left, 0.25), width, 3.95)
        label(ax, left + 0.12, 4.5, title, size=FONT_SIZE - 2, ha="left")
        x = left + 0.2 + bw / 2
        nodes = [Node(ax, x, rows["data"], text, "input", w=bw, h=0.62,
                      fontsize=FONT_SIZE - 3),
                 Node(ax, x, rows["emb"], "embedding", "weights", w=bw, h=0.5,
                      fontsize=FONT_SIZE - 3),
                 Node(ax, x, rows["lstm"], "LSTM", "hidden", w=bw, h=0.5,
                      fontsize=FONT_SIZE - 3)]
        if k < 2:
            nodes.append(Node(ax, x, rows["top"], "decoder:\nthe next word", "output",
                              w=bw, h=0.62, fontsize=FONT_SIZE - 3))
        else:
            nodes.append(Node(ax, x, rows["top"], "new head:\nnegative / positive",
                              "output", w=bw, h=0.62, fontsize=FONT_SIZE - 3))
        for below, above in zip(nodes, nodes[1:]):
            arrow(ax, below.top(), above.bottom())
        boxes.append(nodes)
    label(ax, boxes[2][2].x + 0.1, (rows["lstm"] + rows["top"]) / 2,
          "pool: last, max, mean", size=FONT_SIZE - 5, color=MUTED, ha="left")
    # Stage 3 trains its groups at falling rates and unfreezes them from the top.
    right = boxes[2][0].x + bw / 2 + 0.12
    for row, rate, epoch in (("top", "lr", "epoch 1"), ("lstm", "lr / f", "epoch 2"),
                             ("emb", r"lr / f$^2$", "epoch 3")):
        label(ax, right, rows[row], f"{rate}\nfrom {epoch}", size=FONT_SIZE - 5,
              ha="left", linespacing=1.1)
    label(ax, frames[2][0] + frames[2][1] - 0.1, 0.42, "f = lr_factor",
          size=FONT_SIZE - 5, color=MUTED, ha="right")
    # What goes from one stage to the next.
    for k, text in ((0, "the same\nmodel"), (1, "embedding,\nLSTM")):
        gap_mid = (frames[k][0] + frames[k][1] + frames[k + 1][0]) / 2
        y = (rows["emb"] + rows["lstm"]) / 2
        arrow(ax, (frames[k][0] + frames[k][1] - 0.05, y),
              (frames[k + 1][0] + 0.05, y), lw=2.2)
        label(ax, gap_mid, y + 0.2, text, size=FONT_SIZE - 5, va="bottom",
              linespacing=1.1)
    return save(fig, "ulmfit_stages")


def ddp_allreduce():
    """Chapter 9's DDP step with W = 2: rows split by rank, gradients averaged."""
    fig, ax = canvas(9.8, 5.2)
    cell, length = 0.3, 6                    # the toy stream: B = 4 rows of 6 ids
    lanes = [3.75, 1.25]                     # y of rank 0 and rank 1
    gx = 0.55                                # centre of the grid's first column
    label(ax, gx - cell / 2, 4.85, "B = 4 rows, W = 2 ranks", size=FONT_SIZE - 3,
          ha="left", color=MUTED)
    for rank, lane in enumerate(lanes):
        for r in range(2):                   # this rank's block of B / W = 2 rows
            row = 2 * rank + r
            y = lane + 0.16 - r * cell
            for t in range(length):
                Node(ax, gx + t * cell, y, str(row * length + t), "input", w=cell - 0.03,
                     h=cell - 0.03, fontsize=FONT_SIZE - 6, lw=0.9, rounding=0.04)
        label(ax, gx - cell / 2, lane + 0.6, f"rank {rank}: rows {2 * rank}, "
              f"{2 * rank + 1}", size=FONT_SIZE - 4, ha="left")
        model = Node(ax, 3.3, lane, f"copy of the\nmodel, rank {rank}", "weights",
                     w=1.45, h=0.8, fontsize=FONT_SIZE - 3)
        label(ax, 3.3, lane - 0.52, "its rows' state", size=FONT_SIZE - 5,
              color=MUTED, va="top")
        grad = Node(ax, 5.15, lane, "loss,\nbackward: " + rf"$\mathbf{{g}}_{rank}$",
                    "loss", w=1.45, h=0.8, fontsize=FONT_SIZE - 3)
        step = Node(ax, 8.75, lane, "clip,\nSGD step", "op", w=1.3, h=0.8,
                    fontsize=FONT_SIZE - 3)
        arrow(ax, (gx + (length - 0.5) * cell + 0.12, lane), model.left())
        arrow(ax, model.right(), grad.left())
        # The gradient goes into the all-reduce, the average comes back.
        edge_y = 2.95 if rank == 0 else 2.05  # the all-reduce's top or bottom edge
        arrow(ax, grad.right(), (6.55, lane), (6.55, edge_y), color=GRAD, dashed=True,
              lw=1.4)
        arrow(ax, (7.35, edge_y), (7.35, lane), step.left(), color=GRAD, dashed=True,
              lw=1.4)
        # The step updates this rank's copy; the next window starts from it.
        edge = step.top() if rank == 0 else step.bottom()
        bend = lane + 0.75 if rank == 0 else lane - 0.75
        start = model.top() if rank == 0 else model.bottom()
        arrow(ax, edge, (step.x, bend), (model.x, bend), start, color=MUTED, lw=1.2)
        label(ax, 6.0, bend + (0.12 if rank == 0 else -0.12), "the next window",
              size=FONT_SIZE - 5, color=MUTED, va="bottom" if rank == 0 else "top")
    Node(ax, 6.95, 2.5, "all-reduce\n" + r"$(\mathbf{g}_0 + \mathbf{g}_1) / W$", "op",
         w=1.6, h=0.9, fontsize=FONT_SIZE - 3)
    label(ax, 8.75, 2.5, "=", size=FONT_SIZE + 6)
    label(ax, 8.75, 2.05, "the same\nweights", size=FONT_SIZE - 5, color=MUTED,
          va="top", linespacing=1.1)
    return save(fig, "ddp_allreduce")


FIGURES = {f.__name__: f for f in (rnn_unrolled, bptt, gru_cell, lstm_cell, deep_rnn,
                                   birnn, lm_targets, lm_partitioning, tied_lm,
                                   padded_batch, ulmfit_stages, ddp_allreduce)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", choices=[[]] + sorted(FIGURES),
                        help="figures to draw (default: all)")
    args = parser.parse_args(argv)
    plt.rcParams.update({"font.size": FONT_SIZE, "mathtext.fontset": "dejavusans",
                         "svg.hashsalt": "seqbook"})
    for name in args.names or FIGURES:
        print(FIGURES[name]().relative_to(OUT_DIR.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
