"""Where in a text a model's predictions are good: characters grouped by their context.

The book's character text is cleaned to letters and single spaces, so the contexts
that exist are the ones words make. Every function here returns one label per
character of ``text`` (numpy arrays, index ``t`` for ``text[t]``):

* ``position_in_word``: 1 for the first letter of a word, 2 for the second...; 0 for
  a space (the character that ends a word);
* ``word_length``: the length of the word the character is in (0 for a space);
* ``words_since_seen``: how many words back the same word last occurred in ``text``
  (0 for a space, -1 for a word not seen before in ``text``);
* ``after_word``: 1 along every word that follows a given word (its letters and the
  space that ends it), else 0: a feature no window inside the word can see.

``loss_by_group`` averages per-character losses over the groups of a labelling;
``colored_text_html`` renders a text with one value per character as a background
colour, for looking at what a unit of a network responds to.

Nothing here knows about a model or a framework.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np



def _check_text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text


def position_in_word(text: str) -> np.ndarray:
    """1, 2, 3... along each word's letters; 0 for every space.

    Shape:
        returns ``(len(text),)`` int64.
    """
    positions, count = np.zeros(len(_check_text(text)), dtype=np.int64), 0
    for t, char in enumerate(text):
        count = 0 if char == " " else count + 1
        positions[t] = count
    return positions


def word_length(text: str) -> np.ndarray:
    """The length of the word each letter belongs to; 0 for every space.

    Shape:
        returns ``(len(text),)`` int64.
    """
    lengths, start = np.zeros(len(_check_text(text)), dtype=np.int64), 0
    for word in text.split(" "):
        lengths[start:start + len(word)] = len(word)
        start += len(word) + 1
    return lengths


def words_since_seen(text: str) -> np.ndarray:
    """For each letter, how many words back its word last occurred in ``text``.

    1 means the word before is the same word. A word's first occurrence in ``text``
    gives -1; every space gives 0. Only ``text`` counts: a word seen in training but
    not earlier in ``text`` is "not seen before".

    Shape:
        returns ``(len(text),)`` int64.
    """
    gaps, start = np.zeros(len(_check_text(text)), dtype=np.int64), 0
    last_seen: dict[str, int] = {}
    for index, word in enumerate(text.split(" ")):
        if word:
            gaps[start:start + len(word)] = index - last_seen.get(word, index + 1)
            last_seen[word] = index
        start += len(word) + 1
    return gaps


def after_word(text: str, word: str) -> np.ndarray:
    """1 on the letters and the closing space of every word that follows ``word``.

    For ``word="the"`` in ``"the time machine"``, the characters of ``"time "`` get 1
    and all others 0.

    Shape:
        returns ``(len(text),)`` float64.
    """
    if not isinstance(word, str) or not word or " " in word:
        raise ValueError(f"word must be one non-empty word without spaces, got {word!r}")
    marks, start, previous = np.zeros(len(_check_text(text))), 0, None
    for current in text.split(" "):
        if previous == word:
            marks[start:start + len(current) + 1] = 1.0   # the slice stops at the end
        previous = current
        start += len(current) + 1
    return marks


def loss_by_group(labels, groups: dict, **losses) -> list[dict]:
    """Mean per-character losses over groups of characters.

    Args:
        labels: one label per character, ``(N,)``.
        groups: ``{name: predicate}``, each predicate mapping the label array to a
            boolean mask, e.g. ``{"first letter": lambda p: p == 1}``.
        **losses: named ``(N,)`` arrays of per-character losses (any unit), e.g.
            ``ngram=..., lstm=...``.

    Returns:
        one row per group, in the order of ``groups``: ``{"group", "count",
        "share"}`` (the fraction of all characters) and the mean of each loss.
    """
    labels = np.asarray(labels)
    rows = []
    for name, predicate in groups.items():
        mask = np.asarray(predicate(labels), dtype=bool)
        row = {"group": name, "count": int(mask.sum()),
               "share": float(mask.mean()) if len(mask) else 0.0}
        for loss_name, values in losses.items():
            values = np.asarray(values, dtype=float)
            if values.shape != labels.shape:
                raise ValueError(f"{loss_name} has shape {values.shape}, the labels "
                                 f"{labels.shape}: one loss per character")
            row[loss_name] = float(values[mask].mean()) if mask.any() else float("nan")
        rows.append(row)
    return rows


def _background(value: float, limit: float) -> str:
    """Blue for negative, red for positive, white at 0, full colour at ``±limit``."""
    strength = min(abs(value) / limit, 1.0) if limit > 0 else 0.0
    fade = round(255 * (1 - 0.75 * strength))
    return f"rgb(255,{fade},{fade})" if value > 0 else f"rgb({fade},{fade},255)"


def colored_text_html(text: str, values: Sequence[float], limit: float | None = None,
                      title: str = "") -> str:
    """HTML of ``text`` with each character's background coloured by its value.

    Red for positive values, blue for negative, white at zero; values at or beyond
    ``±limit`` (default: the largest absolute value) get the full colour. Spaces are
    shown as ``·`` so that their colour is visible. The HTML is self-contained
    (inline styles, no script), so it renders the same in Jupyter and in the book.

    Args:
        text: the characters.
        values: one number per character.
        limit: the absolute value of full colour.
        title: a caption shown above the text.
    """
    text = _check_text(text)
    values = np.asarray(values, dtype=float)
    if values.shape != (len(text),):
        raise ValueError(f"values must hold one number per character: {len(text)} "
                         f"characters, values of shape {values.shape}")
    if limit is None:
        limit = float(np.abs(values).max()) if len(values) else 1.0
    spans = "".join(
        f'<span title="{value:+.2f}" style="background:{_background(value, limit)}">'
        f'{"·" if char == " " else html.escape(char)}</span>'
        for char, value in zip(text, values))
    caption = (f'<div style="font-family:sans-serif;font-size:0.85em;'
               f'margin-bottom:2px">{html.escape(title)}</div>') if title else ""
    return (f'<div class="seqbook-colored-text" style="margin:0.5em 0">{caption}'
            f'<div style="font-family:monospace;line-height:1.5;word-break:break-all;'
            f'color:black">{spans}</div></div>')

