"""The book's chapters in one table, read by the intro and the profile runner.

A new chapter is its notebook in ``book/``, its row here, its teaching code, and its
entry in ``_toc.yml`` (``tests/test_chapters.py`` checks that the table of contents,
the notebooks and this table agree). The intro's headline table is built from the
``headline`` fields; ``scripts/profile_runs.py`` runs the chapters with a
``medium_seconds`` in the medium profile, cheapest first, and the ``full`` ones on a
GPU.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    """One chapter.

    Args:
        name: the notebook's name in ``book/``, also the name of its records.
        headline: ``(metric, what it measures, baseline, format)`` for the intro's
            table of headline results, or ``None``; the baseline's value is the
            record's ``baseline_<metric>``, and ``baseline=None`` shows a dash.
        medium_seconds: about how long its medium run takes on 2 CPU cores (from its
            record), or ``None`` when ``profile_runs.py`` does not run it by default.
        full: whether ``profile_runs.py`` runs its full profile by default (on a GPU).
    """

    name: str
    headline: tuple | None = None
    medium_seconds: float | None = None
    full: bool = False


CHAPTERS = (
    Chapter("01-text-preprocessing"),
    Chapter("02-ngram-language-models"),
    Chapter("03-rnn", ("val_ppl", "validation perplexity, RNN", "character 4-gram",
                       "{:.2f}"), 93, True),
    Chapter("04-gru", ("val_ppl", "validation perplexity, GRU", "best character n-gram",
                       "{:.2f}"), 128, True),
    Chapter("05-lstm", ("val_ppl", "validation perplexity, LSTM", "best character n-gram",
                        "{:.2f}"), 133, True),
    Chapter("05-long-range-memory",
            ("acc_gated_kmax", "recall of a key 32 steps back, the weaker of GRU and "
             "LSTM (equal size)", "plain RNN", "{:.1%}"), 347, True),
    Chapter("06-deep-bidirectional-rnns",
            ("val_ppl", "validation perplexity, deep LSTM", "best character n-gram",
             "{:.2f}"), 572, True),
    Chapter("07-language-models-torch",
            ("test_ppl", "PTB test perplexity, PyTorch", "Kneser–Ney n-gram", "{:.1f}"),
            1460, True),
    Chapter("07-language-models-mxnet",
            ("test_ppl", "WikiText-2 test perplexity, MXNet", "unigram", "{:.1f}"), 4102),
    Chapter("07-language-models-paddle",
            ("test_ppl", "PTB test perplexity, PaddlePaddle", "unigram", "{:.1f}"), 1398),
    Chapter("07-framework-comparison",
            ("val_ppl_spread", "spread of the validation perplexities, PyTorch / MXNet / "
             "Paddle", None, "{:.1%}")),
    Chapter("08-sentiment-torch",
            ("test_acc", "IMDB test accuracy, PyTorch BiLSTM", "bag of n-grams (NB-LR)",
             "{:.1%}"), 1344, True),
    Chapter("08-sentiment-paddle",
            ("test_acc", "IMDB test accuracy, PaddlePaddle", "bag of n-grams (NB-LR)",
             "{:.1%}"), 1115),
    Chapter("09-data-parallel",
            ("val_ppl", "PTB validation perplexity, 2 processes (DDP), same updates",
             "one process", "{:.2f}"), None, True),
    Chapter("10-transfer-learning",
            ("test_acc", "IMDB test accuracy, the fine-tuned pretrained LM and NB-LR "
             "combined, most labels", "bag of n-grams (NB-LR)", "{:.1%}"), 2273, True),
    Chapter("11-recurrence-revisited",
            ("val_ppl", "validation perplexity, minGRU trained by a parallel scan",
             "best character n-gram", "{:.2f}"), 1110, True),
)
# The pages of the book that are not chapters: front and back matter, the appendix.
OTHER_PAGES = ("intro", "results", "appendix-machinery", "references")


def headlines() -> list[tuple]:
    """The intro's rows: ``(record, page, metric, what, baseline, format)``."""
    return [(c.name, c.name, *c.headline) for c in CHAPTERS if c.headline]


def medium_chapters() -> tuple[str, ...]:
    """The chapters a medium run takes by default, the cheapest first."""
    timed = [c for c in CHAPTERS if c.medium_seconds is not None]
    return tuple(c.name for c in sorted(timed, key=lambda c: c.medium_seconds))


def full_chapters() -> tuple[str, ...]:
    """The chapters a full run takes by default (PyTorch, on a GPU)."""
    return tuple(c.name for c in CHAPTERS if c.full)
