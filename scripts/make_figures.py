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
                 fontsize=FONT_SIZE, lw=1.4):
        self.x, self.y, self.w, self.h = x, y, w, h
        if round_:
            self.w = self.h = w
            ax.add_patch(Circle((x, y), w / 2, facecolor=FILL[kind], edgecolor=INK,
                                lw=lw, zorder=3))
        else:
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                        boxstyle="round,pad=0,rounding_size=0.1",
                                        facecolor=FILL[kind], edgecolor=INK, lw=lw,
                                        zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4,
                color=INK)

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


FIGURES = {f.__name__: f for f in (rnn_unrolled, bptt, gru_cell, lstm_cell, deep_rnn,
                                   birnn)}


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
