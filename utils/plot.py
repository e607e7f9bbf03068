"""Plots: a training curve that redraws itself in a notebook, and simple PNG figures.

Figures are shown as PNG (SVG output embeds dates and would break output comparison).
Importing this module changes no global plotting style.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "Kernel" in type(shell).__name__ or (
        shell is not None and hasattr(shell, "kernel"))


class LiveCurves:
    """Curves that grow during training and redraw in place in a notebook.

    Args:
        xlabel, ylabel, title: axis labels and title.
        legend: one name per curve.
        yscale: ``"linear"`` or ``"log"``.
        every: redraw at most every ``every`` calls of ``add`` (the last call of a run
            should be followed by ``show()``).
        png_path: if given, ``show()`` also writes the final figure there.

    Example:
        >>> curves = LiveCurves("epoch", "perplexity", ["train", "valid"])
        >>> curves.add(1, [12.3, 13.1])   # doctest: +SKIP
    """

    def __init__(self, xlabel: str, ylabel: str, legend: Sequence[str],
                 title: str = "", yscale: str = "linear", every: int = 1,
                 png_path: str | Path | None = None, figsize=(5.5, 3.5)):
        self.xlabel, self.ylabel, self.title = xlabel, ylabel, title
        self.legend, self.yscale, self.every = list(legend), yscale, max(1, every)
        self.png_path, self.figsize = png_path, figsize
        self.xs: list[list[float]] = [[] for _ in self.legend]
        self.ys: list[list[float]] = [[] for _ in self.legend]
        self._calls = 0
        self._handle = None

    def add(self, x: float, ys: Sequence[float | None]) -> None:
        """Append one point per curve (``None`` skips a curve) and maybe redraw."""
        if len(ys) != len(self.legend):
            raise ValueError(f"Expected {len(self.legend)} values ({self.legend}), "
                             f"got {len(ys)}")
        for i, y in enumerate(ys):
            if y is not None:
                self.xs[i].append(float(x))
                self.ys[i].append(float(y))
        self._calls += 1
        if self._calls % self.every == 0:
            self._draw(final=False)

    def show(self) -> None:
        """Draw the final figure (and save it when ``png_path`` was given)."""
        self._draw(final=True)

    def figure(self):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=self.figsize)
        for xs, ys, name in zip(self.xs, self.ys, self.legend):
            ax.plot(xs, ys, label=name, marker="." if len(xs) < 30 else None)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        ax.set_yscale(self.yscale)
        if self.title:
            ax.set_title(self.title)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        return fig

    def _draw(self, final: bool) -> None:
        import matplotlib.pyplot as plt

        fig = self.figure()
        if final and self.png_path is not None:
            Path(self.png_path).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(self.png_path, dpi=100)
        if _in_notebook():
            from IPython.display import display
            if self._handle is None:
                self._handle = display(fig, display_id=True)
            else:
                self._handle.update(fig)
        plt.close(fig)


def plot_lines(xs, ys_list, legend, xlabel, ylabel, title="", xscale="linear",
               yscale="linear", figsize=(5.5, 3.5)):
    """One axes with several labelled lines; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    for x, y, name in zip(xs, ys_list, legend):
        ax.plot(x, y, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, xscale=xscale, yscale=yscale, title=title)
    ax.grid(True, alpha=0.3)
    if any(legend):
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion(counts, class_names, title="", figsize=(3.8, 3.4)):
    """A confusion matrix as a labelled heat map; returns the matplotlib figure.

    Args:
        counts: ``(C, C)`` counts, row = true class, column = predicted class.
        class_names: the ``C`` class names, in label order.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.asarray(counts)
    fig, ax = plt.subplots(figsize=figsize)
    ax.imshow(counts, cmap="Blues")
    for (row, col), value in np.ndenumerate(counts):
        color = "white" if value > 0.6 * counts.max() else "black"
        ax.text(col, row, f"{value:,}", ha="center", va="center", color=color)
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=class_names,
           yticklabels=class_names, xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def perplexity_curves(title: str, png_path: str | Path | None = None) -> LiveCurves:
    """The curves of a language model's training: train and validation perplexity by
    epoch, on a log scale; ``png_path`` saves the final figure (see ``curve_path``)."""
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    return LiveCurves("epoch", "perplexity", ["train", "validation"], title=title,
                      yscale="log", png_path=png_path)


def show_saved_curves(name: str, results_dir=None) -> None:
    """Show the training curves saved beside ``name``'s medium and full records.

    In a notebook each PNG is displayed under a line naming its profile; elsewhere
    only the lines are printed. It returns nothing, so that a notebook cell ending
    with it shows no stray value; ``utils.results.saved_curves`` lists the files.
    """
    from .results import saved_curves

    found = saved_curves(name, results_dir)
    if not found:
        print(f"no training curve saved beside a medium or full record of {name} yet")
    for profile, path in found.items():
        print(f"training curve of the {profile} record ({path.name}):")
        if _in_notebook():
            from IPython.display import Image, display
            display(Image(filename=str(path)))
