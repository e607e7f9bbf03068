"""The context labels of a letters-and-spaces text, the grouped losses, the HTML."""
from __future__ import annotations

import numpy as np
import pytest

from utils import context

TEXT = "the time machine the the cat"


def test_position_in_word_counts_letters_and_resets_at_spaces():
    assert context.position_in_word("ab cde").tolist() == [1, 2, 0, 1, 2, 3]
    assert context.position_in_word("").tolist() == []


def test_word_length_labels_every_letter_with_its_word():
    assert context.word_length("ab cde").tolist() == [2, 2, 0, 3, 3, 3]


def test_words_since_seen_counts_words_back_to_the_last_occurrence():
    gaps = context.words_since_seen(TEXT)
    words = TEXT.split(" ")                     # the, time, machine, the, the, cat
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    assert [int(gaps[s]) for s in starts] == [-1, -1, -1, 3, 1, -1]
    assert (gaps[np.array(list(TEXT)) == " "] == 0).all()


def test_after_word_marks_the_next_word_and_its_space():
    marks = context.after_word(TEXT, "the")
    marked = "".join(char for char, m in zip(TEXT, marks) if m)
    assert marked == "time " + "the " + "cat"   # after each of the three "the"
    with pytest.raises(ValueError, match="one non-empty word"):
        context.after_word(TEXT, "the time")


def test_loss_by_group_means_and_shares():
    labels = np.array([0, 1, 1, 2])
    rows = context.loss_by_group(labels, {"zero": lambda x: x == 0,
                                          "not zero": lambda x: x > 0},
                                 a=[1.0, 2.0, 4.0, 6.0], b=[0.0, 0.0, 0.0, 3.0])
    assert rows[0] == {"group": "zero", "count": 1, "share": 0.25, "a": 1.0, "b": 0.0}
    assert rows[1]["count"] == 3 and rows[1]["a"] == pytest.approx(4.0)
    assert rows[1]["b"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one loss per character"):
        context.loss_by_group(labels, {"all": lambda x: x >= 0}, a=[1.0, 2.0])


def test_colored_text_html_has_one_span_per_character_and_escapes():
    html = context.colored_text_html("a<b", [1.0, 0.0, -1.0], title="t & u")
    assert html.count("<span") == 3 and "&lt;" in html and "t &amp; u" in html
    assert "rgb(255,64,64)" in html and "rgb(64,64,255)" in html   # full red, blue
    assert "rgb(255,255,255)" in html                              # white at zero
    with pytest.raises(ValueError, match="one number per character"):
        context.colored_text_html("ab", [1.0])
