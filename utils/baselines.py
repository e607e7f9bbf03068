"""The baselines the model chapters compare with, computed on the chapters' own data.

Every model chapter of the book shows its model beside a baseline scored on exactly
the same held-out tokens or reviews, and its checks assert that the model beats it:

* ``char_ngram_baseline``: the character n-gram of chapter 2 (additive smoothing,
  constants chosen on a slice of the training text), for the character models of
  chapters 3-6;
* ``unigram_perplexity``: the context-free model, the floor every word model must
  clear;
* the word-level Kneser-Ney n-grams live in ``utils.ngram``, the bag-of-n-grams
  classifier in ``utils.bag_of_ngrams``.

This module imports no deep-learning framework.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .ngram import NGramModel, select_eps
from .text import split_corpus

EPS_GRID = (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000)


def _check_ids(name: str, ids, vocab_size: int) -> np.ndarray:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of integer token ids, got "
                        f"{type(ids).__name__}")
    array = np.asarray(ids)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of ids, got shape "
                         f"{array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer ids, got dtype {array.dtype}")
    if array.min() < 0 or array.max() >= vocab_size:
        raise ValueError(f"{name} must hold ids in [0, {vocab_size}), got values from "
                         f"{array.min()} to {array.max()}")
    return array


def _check_vocab_size(vocab_size) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be at least 1, got {vocab_size}")
    return int(vocab_size)


def char_ngram_baseline(train_ids: Sequence[int], valid_ids: Sequence[int],
                        vocab_size: int, max_order: int = 8,
                        tune_fraction: float = 0.1,
                        eps_grid: Sequence[float] = EPS_GRID) -> dict:
    """The best additively smoothed n-gram of orders ``1 … max_order`` (chapter 2).

    Chapter 2's procedure, in one call: count on the head of the training ids, choose
    one smoothing constant per order on the tail (``tune_fraction`` of them) with
    ``select_eps``, count again on all the training ids with those constants, and
    score ``valid_ids`` with every order. Nothing is tuned on ``valid_ids``.

    Args:
        train_ids, valid_ids: token ids of the training text and the held-out text.
        vocab_size: ``V``; ids lie in ``[0, V)``.
        max_order: the largest ``n`` tried.
        tune_fraction: the share of the training ids held out to choose the constants.
        eps_grid: candidate smoothing constants (positive).

    Returns:
        ``{"val_ppl_by_order": [ppl for n = 1 … max_order], "eps": chosen constants,
        "best_order": n, "val_ppl": the best validation perplexity, "model": the
        fitted ``NGramModel`` of order ``max_order``}``; the best model's per-token
        scores are ``model.token_log_probs(ids, order=best_order)``.
    """
    vocab_size = _check_vocab_size(vocab_size)
    train = _check_ids("train_ids", train_ids, vocab_size)
    valid = _check_ids("valid_ids", valid_ids, vocab_size)
    if isinstance(max_order, bool) or not isinstance(max_order, int):
        raise TypeError(f"max_order must be an int, got {type(max_order).__name__}")
    if max_order < 1:
        raise ValueError(f"max_order must be at least 1, got {max_order}")
    if isinstance(tune_fraction, bool) or not isinstance(tune_fraction, (int, float)):
        raise TypeError(f"tune_fraction must be a number, got {tune_fraction!r}")
    if not 0.0 < tune_fraction < 1.0:
        raise ValueError(f"tune_fraction must lie in (0, 1), got {tune_fraction}")
    fit_ids, tune_ids = split_corpus(train, tune_fraction)
    tuning = NGramModel(max_order, vocab_size).fit(fit_ids)
    eps, _ = select_eps(tuning, tune_ids, list(eps_grid))
    model = NGramModel(max_order, vocab_size, eps).fit(train)
    by_order = model.perplexity_by_order(valid)
    best = int(np.argmin(by_order))
    return {"val_ppl_by_order": by_order, "eps": eps, "best_order": best + 1,
            "val_ppl": by_order[best], "model": model}


def unigram_perplexity(train_ids: Sequence[int], eval_ids: Sequence[int],
                       vocab_size: int) -> float:
    """Perplexity on ``eval_ids`` of the training frequencies, add-one smoothed.

    The model ignores the context: every token is predicted by how often it occurs in
    ``train_ids`` (plus one, so that a token never seen in training is not impossible).
    """
    vocab_size = _check_vocab_size(vocab_size)
    train = _check_ids("train_ids", train_ids, vocab_size)
    evaluate = _check_ids("eval_ids", eval_ids, vocab_size)
    counts = np.bincount(train, minlength=vocab_size) + 1.0
    nll = -np.log(counts / counts.sum())
    return math.exp(float(nll[evaluate].mean()))
