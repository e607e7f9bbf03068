"""Tests of utils.plot: live training curves and simple line plots (no display)."""
from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from utils import plot  # noqa: E402  (the backend is chosen first)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_live_curves_write_a_png(tmp_path):
    path = tmp_path / "figs" / "curves.png"
    curves = plot.LiveCurves("epoch", "perplexity", ["train", "valid"],
                             title="demo", yscale="log", png_path=path)
    for epoch in range(1, 5):
        curves.add(epoch, [100 / epoch, None if epoch % 2 else 120 / epoch])
    curves.show()
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert curves.xs == [[1, 2, 3, 4], [2, 4]]


def test_live_curves_reject_the_wrong_number_of_values():
    curves = plot.LiveCurves("step", "loss", ["train", "valid"])
    with pytest.raises(ValueError, match="Expected 2 values"):
        curves.add(1, [0.5])


def test_plot_lines_labels_the_axes():
    fig = plot.plot_lines([[1, 2, 3]], [[3, 2, 1]], ["loss"], "step", "value",
                          title="t")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("step", "value", "t")
    matplotlib.pyplot.close(fig)


def test_show_saved_curves_prints_and_returns_nothing(tmp_path, capsys):
    assert plot.show_saved_curves("07-demo", tmp_path) is None
    assert "no training curve saved" in capsys.readouterr().out
    (tmp_path / "medium").mkdir()
    (tmp_path / "medium" / "07-demo.png").write_bytes(b"\x89PNG")
    assert plot.show_saved_curves("07-demo", tmp_path) is None
    assert "training curve of the medium record (07-demo.png)" in capsys.readouterr().out


def test_perplexity_curves_are_the_language_models_standard_plot(tmp_path):
    curves = plot.perplexity_curves("RNN", png_path=tmp_path / "c.png")
    assert curves.legend == ["train", "validation"] and curves.yscale == "log"
    assert curves.title == "RNN" and curves.png_path == tmp_path / "c.png"
    with pytest.raises(TypeError, match="title must be a str"):
        plot.perplexity_curves(None)
