"""Pretrained word vectors for a vocabulary: the rows an embedding layer starts from.

``pretrained_matrix`` lines up a list of words and their vectors (``utils.read_glove``)
with a ``Vocab``: row ``i`` of the result is the vector of ``vocab.idx_to_token[i]``.
A word the vectors do not cover gets a small random row (or zeros), and the function
says how many were covered, since a classifier that starts from pretrained vectors
gains only on the words that have one.

This module imports no deep-learning framework: a chapter hands the NumPy matrix to
its framework's embedding layer.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .checks import check_int, check_number, check_str


def pretrained_matrix(vocab, words: Sequence[str], vectors: np.ndarray, *,
                      missing: str = "random", scale: float = 0.1, seed: int = 0,
                      zero_ids: Sequence[int] = ()) -> tuple[np.ndarray, int]:
    """An embedding matrix for ``vocab`` from pretrained ``(words, vectors)``.

    Args:
        vocab: a ``utils.Vocab`` (anything with ``idx_to_token``).
        words: the pretrained words, row ``j`` of ``vectors`` belonging to
            ``words[j]`` (the first occurrence wins when a word repeats).
        vectors: ``(N, E)`` floats.
        missing: ``"random"`` (uniform in ``±scale``) or ``"zeros"`` for the
            vocabulary's words that ``words`` lacks.
        scale: the half-width of the random rows.
        seed: seeds the random rows.
        zero_ids: ids whose row is set to zeros whatever the vectors say (the
            padding id, say).

    Returns:
        ``(matrix, covered)``: ``matrix`` is ``(len(vocab), E)`` float32, and
        ``covered`` counts the vocabulary's tokens that got a pretrained row.
    """
    tokens = getattr(vocab, "idx_to_token", None)
    if not isinstance(tokens, list) or not tokens:
        raise TypeError(f"vocab must be a Vocab (with a non-empty idx_to_token list), "
                        f"got {type(vocab).__name__}")
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise TypeError(f"words must be a list of words, got {type(words).__name__}")
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[1] < 1:
        raise ValueError(f"vectors must be (len(words), E) = ({len(words)}, E), got "
                         f"shape {vectors.shape}")
    check_str("missing", missing, ("random", "zeros"))
    scale = check_number("scale", scale, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    rows: dict[str, int] = {}
    for j, word in enumerate(words):
        rows.setdefault(word, j)
    size = vectors.shape[1]
    rng = np.random.default_rng(seed)
    matrix = (rng.uniform(-scale, scale, (len(tokens), size)) if missing == "random"
              else np.zeros((len(tokens), size))).astype(np.float32)
    covered = 0
    for i, token in enumerate(tokens):
        j = rows.get(token)
        if j is not None:
            matrix[i] = vectors[j]
            covered += 1
    for i in zero_ids:
        check_int("zero_ids[...]", i, minimum=0)
        if i >= len(tokens):
            raise ValueError(f"zero_ids holds {i}, beyond the vocabulary's "
                             f"{len(tokens)} ids")
        matrix[i] = 0.0
    return matrix, covered
